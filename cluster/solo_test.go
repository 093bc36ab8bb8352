package cluster_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// seqSpout emits 0..n-1 once each; its checkpointed position is the next
// number, so it runs in exactly-once topologies.
type seqSpout struct {
	topology.BaseSpout
	n, next int64
	out     topology.SpoutCollector
}

func (s *seqSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *seqSpout) NextTuple() {
	if s.next < s.n {
		s.out.Emit(topology.Values{s.next, fmt.Sprintf("k%d", s.next%7)}, s.next)
		s.next++
	}
}

func (s *seqSpout) SnapshotPosition(uint64) ([]byte, error) {
	return binary.AppendVarint(nil, s.next), nil
}

func (s *seqSpout) RestorePosition(pos []byte) error {
	if pos == nil {
		s.next = 0
		return nil
	}
	v, k := binary.Varint(pos)
	if k <= 0 {
		return fmt.Errorf("position % x: not a varint", pos)
	}
	s.next = v
	return nil
}

func (s *seqSpout) CheckpointComplete(uint64) {}

// eoFactory builds an exactly-once-capable topology: seqSpout and a bolt
// that counts what it executes.
func eoFactory(executed *atomic.Int64) map[string]cluster.Factory {
	return map[string]cluster.Factory{"eo": cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		b := topology.NewBuilder("eo")
		b.SetSpout("seq", func() topology.Spout { return &seqSpout{n: 10_000} }, 1).Output("n", "key")
		b.SetBasicBolt("sink", func() topology.BasicBolt {
			return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error {
				executed.Add(1)
				return nil
			})
		}, 2).FieldsGrouping("seq", "key")
		return b.Build(conf)
	})}
}

var eoConf = map[string]string{topology.GuaranteeKey: "exactly-once", topology.CheckpointIntervalMs: "20"}

// TestSoloRunsExactlyOnce: a Solo node accepts an exactly-once topology and
// runs it; its REST topology page, its summary row and /metrics show the
// checkpoints completing, the last completed id advancing.
func TestSoloRunsExactlyOnce(t *testing.T) {
	var executed atomic.Int64
	c := clustertest.NewWithConfig(t, 1, eoFactory(&executed), func(_ int, cfg *cluster.Config) { cfg.Solo = true })
	n := c.Node(0)
	if err := n.Submit("eo", "eo", eoConf); err != nil {
		t.Fatalf("exactly-once submit on a Solo node: %v", err)
	}
	base := "http://" + n.HTTPAddr()
	id := ""
	poll.Until(t, 30*time.Second, "the topology in the summary", func() bool {
		var sum struct{ Topologies []map[string]any }
		getJSON(t, base+"/api/v1/topology/summary", &sum)
		if len(sum.Topologies) == 1 {
			id, _ = sum.Topologies[0]["id"].(string)
		}
		return id != ""
	})

	page := func() map[string]any {
		var tp map[string]any
		getJSON(t, base+"/api/v1/topology/"+id, &tp)
		cp, _ := tp["squallCheckpoints"].(map[string]any)
		return cp
	}
	var first float64
	poll.Until(t, 60*time.Second, "two checkpoints completed", func() bool {
		cp := page()
		first, _ = cp["lastCompleted"].(float64)
		done, _ := cp["completed"].(float64)
		return done >= 2 && first > 0
	})
	var cp map[string]any
	poll.Until(t, 60*time.Second, "the last completed checkpoint to advance", func() bool {
		cp = page()
		last, _ := cp["lastCompleted"].(float64)
		return last > first
	})
	if ts, _ := cp["completedAt"].(float64); ts <= 0 {
		t.Errorf("completedAt = %v, want a time", cp["completedAt"])
	}
	if age, ok := cp["ageMs"].(float64); !ok || age < 0 {
		t.Errorf("ageMs = %#v, want a non-negative number", cp["ageMs"])
	}
	if cp["phase"] == "" || cp["phase"] == "not running" {
		t.Errorf("phase = %v, want the coordinator's", cp["phase"])
	}

	var sum struct{ Topologies []map[string]any }
	getJSON(t, base+"/api/v1/topology/summary", &sum)
	row, _ := sum.Topologies[0]["squallCheckpoints"].(map[string]any)
	if last, _ := row["lastCompleted"].(float64); sum.Topologies[0]["squallGuarantee"] != "exactly-once" || last <= first {
		t.Errorf("summary row: guarantee %v, squallCheckpoints %v; want exactly-once, last completed after %v", sum.Topologies[0]["squallGuarantee"], row, first)
	}

	m := samples(t, base+"/metrics")
	for _, name := range []string{"squall_checkpoint_completed_total", "squall_checkpoint_last_completed_id"} {
		if v, ok := m[name+`{topology="eo"}`]; !ok || v < 2 {
			t.Errorf("%s = %v (present %v), want ≥ 2", name, v, ok)
		}
	}
	for _, name := range []string{"squall_checkpoint_failed_total", "squall_checkpoint_restores_total", "squall_checkpoint_last_duration_seconds",
		"squall_checkpoint_last_bytes", "squall_checkpoint_last_alignment_seconds", "squall_checkpoint_age_seconds"} {
		if _, ok := m[name+`{topology="eo"}`]; !ok {
			t.Errorf("no %s for topology eo", name)
		}
	}
	if executed.Load() == 0 {
		t.Error("the sink executed nothing")
	}
}

// TestClusterRefusesExactlyOnce: a node that may have peers refuses an
// exactly-once topology at submit, with ErrExactlyOnceUnavailable.
func TestClusterRefusesExactlyOnce(t *testing.T) {
	var executed atomic.Int64
	c := clustertest.New(t, 1, eoFactory(&executed))
	err := c.Node(0).Submit("eo", "eo", eoConf)
	if !errors.Is(err, topology.ErrExactlyOnceUnavailable) || !errors.Is(err, cluster.ErrConfig) {
		t.Fatalf("exactly-once submit on a node that is not Solo = %v, want ErrExactlyOnceUnavailable", err)
	}
	if n := len(c.Node(0).LocalTopologies()); n != 0 {
		t.Errorf("node runs %d topologies, want none", n)
	}
}

// TestSoloHasNoPeers: Start refuses a Solo node with Join addresses, and a
// node that tries to join a Solo node (with the right gossip key) fails,
// leaving the Solo node alone.
func TestSoloHasNoPeers(t *testing.T) {
	var executed atomic.Int64
	c := clustertest.NewWithConfig(t, 1, eoFactory(&executed), func(_ int, cfg *cluster.Config) { cfg.Solo = true })
	solo := c.Node(0)

	cfg := cluster.LocalConfig()
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.Insecure, cfg.GossipKey = "other", "127.0.0.1:0", "", true, c.Key()
	cfg.Join = []string{solo.GossipAddr()}
	cfg.Solo = true
	if n, err := cluster.Start(context.Background(), cfg); !errors.Is(err, cluster.ErrConfig) || !strings.Contains(err.Error(), "Solo") {
		if n != nil {
			_ = n.Shutdown(context.Background())
		}
		t.Fatalf("Start of a Solo node with Join = %v, want ErrConfig", err)
	}

	cfg.Solo = false
	other, err := cluster.Start(context.Background(), cfg)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = other.Shutdown(ctx)
		t.Fatal("a node joined a Solo node")
	}
	t.Logf("join refused: %v", err)
	if ms := solo.Members(); len(ms) != 1 || ms[0].Name != "node-0" {
		t.Errorf("Solo node's members = %v, want itself alone", ms)
	}
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// samples reads /metrics' samples: series (name{labels}) -> value.
func samples(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); i > 0 && err == nil {
			out[line[:i]] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
