package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// idSpout emits the ids 0..n-1 once each, with the id as message id, and
// counts the Ack and Fail calls it gets.
type idSpout struct {
	topology.BaseSpout
	n           int
	next        int
	acks, fails *atomic.Int64
	out         topology.SpoutCollector
}

func (s *idSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *idSpout) NextTuple() {
	if s.next < s.n {
		s.out.Emit(topology.Values{int64(s.next), fmt.Sprintf("k%d", s.next%31)}, s.next)
		s.next++
	}
}

func (s *idSpout) Ack(any)  { s.acks.Add(1) }
func (s *idSpout) Fail(any) { s.fails.Add(1) }

// TestAtMostOnceAcrossNodes: an at-most-once topology spread over two nodes
// delivers every tuple (nothing is lost on a healthy cluster), runs no
// tracker task on either node, and its spout sees no Ack and no Fail; the
// REST summary shows the mode. exactly-once with a spout that cannot
// snapshot is refused at submit.
func TestAtMostOnceAcrossNodes(t *testing.T) {
	const n = 2000
	var acks, fails atomic.Int64
	var mu sync.Mutex
	seen := map[int64]int{}
	build := func(conf topology.Config) (*topology.Topology, error) {
		b := topology.NewBuilder("amo")
		b.SetSpout("ids", func() topology.Spout { return &idSpout{n: n, acks: &acks, fails: &fails} }, 1).Output("id", "key")
		b.SetBasicBolt("relay", func() topology.BasicBolt {
			return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
				c.Emit(t.Values())
				return nil
			})
		}, 2).ShuffleGrouping("ids").Output("id", "key")
		b.SetBasicBolt("sink", func() topology.BasicBolt {
			return topology.BoltFunc(func(t topology.Tuple, _ topology.BasicCollector) error {
				id, _ := topology.Int64(t, "id")
				mu.Lock()
				seen[id]++
				mu.Unlock()
				return nil
			})
		}, 2).FieldsGrouping("relay", "key")
		return b.Build(topology.Config{topology.MaxSpoutPending: 1}.Merge(conf))
	}
	c := clustertest.New(t, 2, map[string]cluster.Factory{"amo": cluster.Simple(build)})

	err := c.Node(0).Submit("eo", "amo", map[string]string{topology.GuaranteeKey: "exactly-once"})
	if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), `spout "ids" cannot snapshot its position`) {
		t.Fatalf("exactly-once submit = %v, want refused: the spout is not checkpointed", err)
	}

	if err := c.Node(0).Submit("amo", "amo", map[string]string{topology.GuaranteeKey: "at-most-once"}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "every id at the sinks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
	mu.Lock()
	for id, k := range seen {
		if k != 1 {
			t.Errorf("id %d executed %d times at the sinks, want once", id, k)
		}
	}
	mu.Unlock()
	if a, f := acks.Load(), fails.Load(); a != 0 || f != 0 {
		t.Errorf("spout got %d acks and %d fails, want none", a, f)
	}
	nodes := map[string]bool{}
	for i := range 2 {
		for _, lt := range c.Node(i).LocalTopologies() {
			for _, ti := range lt.TaskStats {
				nodes[ti.Node] = true
				if ti.Kind == "tracker" {
					t.Errorf("node %d runs tracker task %d", i, ti.Task)
				}
				if ti.Kind == "spout" {
					all := ti.Windows[len(ti.Windows)-1]
					if all.Acked != 0 || all.Failed != 0 || ti.Pending != 0 {
						t.Errorf("spout task %d: acked %d, failed %d, pending %d; want none", ti.Task, all.Acked, all.Failed, ti.Pending)
					}
				}
			}
		}
	}
	if len(nodes) != 2 {
		t.Errorf("tasks ran on %d nodes, want the topology spread over both", len(nodes))
	}

	resp, err := http.Get("http://" + c.Node(1).HTTPAddr() + "/api/v1/topology/summary")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum struct{ Topologies []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("topology summary: %s %v", resp.Status, err)
	}
	if len(sum.Topologies) != 1 || sum.Topologies[0]["squallGuarantee"] != "at-most-once" {
		t.Errorf("topology summary = %v, want one topology, at-most-once", sum.Topologies)
	}
}
