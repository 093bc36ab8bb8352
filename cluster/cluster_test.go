package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/replay"
	"github.com/squall-streams/squall/topology"
)

// source is the ids topology's input (replayable, like a Kafka topic) and
// what its sink saw.
type source struct {
	*replay.Source
	mu   sync.Mutex
	seen map[int]int // executions per id at the sink
}

func newSource(n int) *source { return &source{Source: replay.NewSource(n), seen: map[int]int{}} }

type sinkBolt struct {
	src *source
	out topology.OutputCollector
}

func (b *sinkBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *sinkBolt) Execute(t topology.Tuple) {
	id, _ := topology.Int64(t, "id")
	b.src.mu.Lock()
	b.src.seen[int(id)]++
	b.src.mu.Unlock()
	b.out.Ack(t)
}

func (b *sinkBolt) Cleanup() error { return nil }

// idsTopology is the ids topology: a replay spout over src, relays relay
// tasks shuffle-grouped on it, and sinks tasks made by sink grouped on the
// key.
func idsTopology(src *source, relays, sinks int, sink func() topology.Bolt, conf topology.Config) (*topology.Topology, error) {
	b := topology.NewBuilder("ids")
	b.SetSpout("ids", func() topology.Spout {
		return src.Spout(func(id int) topology.Values { return topology.Values{int64(id), fmt.Sprintf("k%d", id%97)} })
	}, 1).Output("id", "key")
	b.SetBasicBolt("relay", func() topology.BasicBolt {
		return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
			c.Emit(t.Values())
			return nil
		})
	}, relays).ShuffleGrouping("ids").Output("id", "key")
	b.SetBolt("sink", sink, sinks).FieldsGrouping("relay", "key")
	return b.Build(conf)
}

// factory is the ids topology of the cluster tests: 3 relays, 4 sinks,
// 2 ackers, a 3 s timeout.
func factory(src *source) cluster.Factory {
	return cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		return idsTopology(src, 3, 4, func() topology.Bolt { return &sinkBolt{src: src} },
			topology.Config{topology.MessageTimeoutSecs: 3, topology.MaxSpoutPending: 200, topology.AckerExecutors: 2}.Merge(conf))
	})
}

func TestClusterRunsATopologyAcrossNodes(t *testing.T) {
	const n = 3000
	src := newSource(n)
	c := clustertest.New(t, 3, map[string]cluster.Factory{"ids": factory(src)})
	// A long message timeout: a tree can only fail here by being lost.
	if err := c.Node(0).Submit("ids", "ids", map[string]string{topology.MessageTimeoutSecs: "30"}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "every id acked", func() bool { return src.Acked() == n })
	// Every node got tasks: 1+3+4+2 = 10 tasks over 3 nodes, at most
	// ceil(10/3) = 4 each, so at least 2 each.
	total := 0
	for _, m := range c.Node(1).Members() {
		total += m.Tasks
		if m.Tasks < 2 || m.Tasks > 4 {
			t.Errorf("member %s has %d tasks, want 2..4", m.Name, m.Tasks)
		}
	}
	if total != 10 {
		t.Errorf("members hold %d tasks, want 10", total)
	}
	// Every node exposes its tasks' counters to Prometheus; summed over
	// the nodes, the spout's acked counter is the number of ids.
	var ackedSum float64
	for i := range 3 {
		body := scrape(t, c.Node(i).HTTPAddr())
		if !strings.Contains(body, "go_goroutines") {
			t.Errorf("node %d: no Go runtime metrics", i)
		}
		ackedSum += metricValue(body, `squall_task_acked_total{component="ids",task="`)
	}
	if ackedSum < n {
		t.Errorf("spout acked counters sum to %v over the nodes, want >= %d", ackedSum, n)
	}
	infos := c.Node(2).Topologies(context.Background())
	if len(infos) != 1 || infos[0].Status != "ACTIVE" || len(infos[0].Spouts) != 1 || infos[0].Spouts[0].Acked < n {
		t.Fatalf("topologies = %+v", infos)
	}
	// The nodes started their tasks at different moments; batches that
	// reached a node before their task started there waited for it
	// (parking) instead of being lost, so no tree failed.
	if f := infos[0].Spouts[0].Failed; f != 0 {
		t.Errorf("%d trees failed", f)
	}
	if err := c.Node(1).Kill(context.Background(), "ids", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "every node stopped the topology", func() bool {
		for i := range 3 {
			if len(c.Node(i).LocalTopologies()) != 0 {
				return false
			}
		}
		return true
	})
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s %v", addr, resp.Status, err)
	}
	return string(b)
}

// metricValue sums the samples whose line starts with prefix.
func metricValue(body, prefix string) float64 {
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				sum += v
			}
		}
	}
	return sum
}

func TestClusterRecoversFromAKilledNode(t *testing.T) {
	const n = 20000
	src := newSource(n)
	c := clustertest.New(t, 3, map[string]cluster.Factory{"ids": factory(src)})
	if err := c.Node(0).Submit("ids", "ids", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "some ids acked", func() bool { return src.Acked() > n/10 })
	// Node 1 sends tuples to both other nodes: one connection each.
	peers := func() float64 { return metricValue(scrape(t, c.Node(1).HTTPAddr()), "squall_transport_peers ") }
	poll.Until(t, 10*time.Second, "node 1 connected to 2 peers", func() bool { return peers() == 2 })
	// Kill the node the topology was submitted to: the topology lives in
	// the gossiped state, not on that node.
	c.Kill(0)
	killed := time.Now()
	poll.Until(t, 120*time.Second, "every id acked after the kill", func() bool { return src.Acked() == n })
	poll.Until(t, 10*time.Second, "node 1 forgot the dead node's connection", func() bool { return peers() == 1 })
	took := time.Since(killed)
	t.Logf("all %d ids acked %v after the kill; spout opened %d times", n, took.Round(time.Millisecond), src.Opens())
	src.mu.Lock()
	dups := 0
	for id := range n {
		if src.seen[id] == 0 {
			t.Errorf("id %d never reached the sink", id)
		}
		dups += max(src.seen[id]-1, 0)
	}
	src.mu.Unlock()
	t.Logf("%d duplicate executions at the sink", dups)
	// The killed node comes back under its name, learns the topology from
	// its peers and gets tasks again.
	c.Restart(0)
	c.WaitMembers(3)
	poll.Until(t, 30*time.Second, "the restarted node runs tasks", func() bool {
		return len(c.Node(0).LocalTopologies()) == 1
	})
	// The restarted node listens at a new transport address: node 1 has
	// one connection to it, none left to its previous life.
	poll.Until(t, 10*time.Second, "node 1 connected to 2 peers again", func() bool { return peers() == 2 })
}
