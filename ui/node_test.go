package ui_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// splitCommand is what the test word count's split bolt says it runs: as
// a multilang shell bolt would, so the topology page must show it.
var splitCommand = []string{"python3", "split.py", "--lang", "en us"}

// splitTraceback is the error each split task reports once, as a crashed
// Python component's last error reads (its stderr's traceback): many
// lines, deep indentation and one very long unbroken line, which the UI
// must show readably within its cell. splitException is its last line,
// what the UI shows as the error's headline.
var (
	splitException = "ValueError: cannot split line " + strings.Repeat("x", 400)
	splitTraceback = strings.Join([]string{
		"Traceback (most recent call last):",
		`  File "/srv/squall/venv/lib/python3.11/site-packages/pystorm/component.py", line 488, in run`,
		"    self._run()",
		`  File "/srv/squall/venv/lib/python3.11/site-packages/pystorm/bolt.py", line 198, in _run`,
		"    self.process(tup)",
		`  File "split.py", line 12, in process`,
		`    raise ValueError(f"cannot split line {line}")`,
		splitException,
	}, "\n")
)

// startNode starts a one-node cluster running endlessWordCount as
// "wordcount", the way `node --insecure [--admin-token TOKEN]` does: with
// a token the HTTP API and the UI need it (a cookie session for the
// browser), without one the node is open. It is shut down when t ends.
func startNode(t *testing.T, name, token string) *cluster.Node {
	t.Helper()
	cfg := cluster.LocalConfig()
	cfg.Name = name
	cfg.Bind = clustertest.FreeAddr(t)
	cfg.HTTP = "127.0.0.1:0"
	cfg.Insecure = true // no gossip key and certificates: a throwaway cluster, and the UI says so
	cfg.AdminToken = token
	cfg.Topologies = map[string]cluster.Factory{"wordcount": cluster.Simple(endlessWordCount)}
	n, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	if err := n.Submit("wordcount", "wordcount", nil); err != nil {
		t.Fatal(err)
	}
	return n
}

// endlessWordCount is a word count shaped like examples/wordcount (lines
// -> split -> count, fields-grouped on the word) whose spout never runs
// out: it emits generated lines over and over at a bounded rate, so the
// test sees the counts grow for as long as it needs, and when the spout
// stops it is the deactivation's doing, not the end of the input. Its
// split bolt declares a command line (splitCommand, a CommandRunner) as
// a shell bolt would, though it splits in Go, and each split task reports
// splitTraceback once, as a crashed Python bolt would; a bolt "top"
// subscribes to count, which emits nothing, so top's latencies are never
// measured. Its components are the test's own, so the example can change
// freely.
func endlessWordCount(conf topology.Config) (*topology.Topology, error) {
	lines := wordcount.GenerateLines(1000, 42)
	b := topology.NewBuilder("wordcount")
	b.SetSpout("lines", func() topology.Spout { return &endlessLines{lines: lines, perSec: 1000} }, 1).Output("line")
	split := topology.Basic(func() topology.BasicBolt {
		reported := false
		return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
			if !reported { // once per task: the tuple itself is split and acked
				reported = true
				c.ReportError(errors.New(splitTraceback))
			}
			for _, w := range wordcount.Words(topology.String(t, "line")) {
				c.Emit(topology.Values{w})
			}
			return nil
		})
	})
	b.SetBolt("split", func() topology.Bolt { return commandBolt{Bolt: split(), argv: splitCommand} }, 2).
		ShuffleGrouping("lines").Output("word")
	b.SetBasicBolt("count", func() topology.BasicBolt {
		counts := map[string]int{}
		return topology.BoltFunc(func(t topology.Tuple, _ topology.BasicCollector) error {
			counts[topology.String(t, "word")]++
			return nil
		})
	}, 2).NumTasks(4).FieldsGrouping("split", "word").Output("word", "count") // up to 4 by rebalance; emits nothing
	// top consumes what count never emits: it never executes a tuple, so
	// its latencies are never measured and the UI must show "–".
	b.SetBasicBolt("top", func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
	}, 1).ShuffleGrouping("count").Output("word")
	// flaky never prepares: restarted with backoff again and again, it
	// shows as failing (a badge beside ACTIVE), while it receives nothing
	// and so fails no tree.
	b.SetBolt("flaky", func() topology.Bolt { return neverPrepares{} }, 1).ShuffleGrouping("top")
	return b.Build(conf)
}

// neverPrepares is a bolt whose Prepare always fails.
type neverPrepares struct{ topology.BaseBolt }

func (neverPrepares) Prepare(context.Context, *topology.Context, topology.OutputCollector) error {
	return errors.New("flaky: not ready")
}
func (neverPrepares) Execute(topology.Tuple) {}

// commandBolt is a bolt that says it runs argv (topology.CommandRunner).
type commandBolt struct {
	topology.Bolt
	argv []string
}

func (c commandBolt) CommandLine() []string { return c.argv }

// endlessLines emits lines round and round, perSec a second at most.
type endlessLines struct {
	topology.BaseSpout
	lines  []string
	perSec int
	out    topology.SpoutCollector
	next   time.Time // when the next line is due
	sent   int
}

func (s *endlessLines) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *endlessLines) NextTuple() {
	now := time.Now()
	if now.Before(s.next) {
		return // ahead of the rate: the runtime calls again at its next pulse
	}
	// No catching up after a pause (deactivated) beyond a 100 ms burst.
	if earliest := now.Add(-100 * time.Millisecond); s.next.Before(earliest) {
		s.next = earliest
	}
	s.next = s.next.Add(time.Second / time.Duration(s.perSec))
	s.out.Emit(topology.Values{s.lines[s.sent%len(s.lines)]}, s.sent)
	s.sent++
}
