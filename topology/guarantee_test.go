package topology_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/topology"
)

func TestParseGuarantee(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want topology.Guarantee
	}{
		{"at-least-once", topology.AtLeastOnce},
		{"exactly-once", topology.ExactlyOnce},
		{"at-most-once", topology.AtMostOnce},
		{" At-Most-Once ", topology.AtMostOnce},
		{"at_least_once", topology.AtLeastOnce}, // the design brief's spelling
		{"EXACTLY_ONCE", topology.ExactlyOnce},
	} {
		got, err := topology.ParseGuarantee(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseGuarantee(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "once", "at-least-twice", "exactly once"} {
		_, err := topology.ParseGuarantee(in)
		if err == nil {
			t.Errorf("ParseGuarantee(%q) accepted", in)
			continue
		}
		for _, want := range []string{topology.GuaranteeKey, "at-least-once", "exactly-once", "at-most-once"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseGuarantee(%q): error %q does not name %q", in, err, want)
			}
		}
	}
}

func TestConfigGuarantee(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf topology.Config
		want topology.Guarantee
		bad  bool
	}{
		{"unset", topology.Config{}, topology.AtLeastOnce, false},
		{"nil config", nil, topology.AtLeastOnce, false},
		{"typed", topology.Config{topology.GuaranteeKey: topology.AtMostOnce}, topology.AtMostOnce, false},
		{"--set string", topology.Config{topology.GuaranteeKey: "exactly-once"}, topology.ExactlyOnce, false},
		{"unknown", topology.Config{topology.GuaranteeKey: "maybe"}, "", true},
		{"not a string", topology.Config{topology.GuaranteeKey: 1}, "", true},
	} {
		got, err := tc.conf.Guarantee()
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%s: Guarantee() = %q, %v; want %q (error: %v)", tc.name, got, err, tc.want, tc.bad)
		}
	}
	c := topology.Config{}
	if err := c.Set("squall.guarantee=at-most-once"); err != nil {
		t.Fatal(err)
	}
	if g, err := c.Guarantee(); err != nil || g != topology.AtMostOnce {
		t.Errorf("after --set: %q, %v", g, err)
	}
}

func oneBolt(name string) *topology.Builder {
	b := topology.NewBuilder(name)
	b.SetSpout("s", newSpout, 1).Output("n")
	b.SetBolt("b", newBolt, 1).ShuffleGrouping("s")
	return b
}

// TestBuildGuarantee: the guarantee is in the compiled Runtime and in the
// configuration (canonical), at-most-once runs no tracker, and a bad value
// fails Build naming the key.
func TestBuildGuarantee(t *testing.T) {
	for _, tc := range []struct {
		name     string
		conf     topology.Config
		want     topology.Guarantee
		trackers int
	}{
		{"default", nil, topology.AtLeastOnce, 1},
		{"at-least-once with two ackers", topology.Config{topology.GuaranteeKey: "at-least-once", topology.AckerExecutors: 2}, topology.AtLeastOnce, 2},
		{"at-least-once without ackers", topology.Config{topology.AckerExecutors: 0}, topology.AtLeastOnce, 0},
		{"at-most-once", topology.Config{topology.GuaranteeKey: "At_Most_Once"}, topology.AtMostOnce, 0},
		{"at-most-once, ackers 0 said", topology.Config{topology.GuaranteeKey: "at-most-once", topology.AckerExecutors: "0"}, topology.AtMostOnce, 0},
		// A Storm configuration's acker count (a Flux file's, sparse's):
		// the mode sets it.
		{"at-most-once over two ackers", topology.Config{topology.GuaranteeKey: "at-most-once", topology.AckerExecutors: 2}, topology.AtMostOnce, 0},
	} {
		topo, err := oneBolt("g").Build(tc.conf)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if topo.Runtime.Guarantee != tc.want || topo.Config[topology.GuaranteeKey] != string(tc.want) {
			t.Errorf("%s: guarantee %q, config %v; want %q", tc.name, topo.Runtime.Guarantee, topo.Config[topology.GuaranteeKey], tc.want)
		}
		if len(topo.Trackers) != tc.trackers || topo.Runtime.Trackers != tc.trackers {
			t.Errorf("%s: %d trackers (runtime %d), want %d", tc.name, len(topo.Trackers), topo.Runtime.Trackers, tc.trackers)
		}
		if tc.want == topology.AtMostOnce {
			if n, _ := topo.Config.Int(topology.AckerExecutors, -1); n != 0 {
				t.Errorf("%s: config says %s=%d, want 0", tc.name, topology.AckerExecutors, n)
			}
		}
	}
	for _, tc := range []struct {
		name string
		conf topology.Config
		want []string
	}{
		{"unknown value", topology.Config{topology.GuaranteeKey: "twice"}, []string{topology.GuaranteeKey, `"twice"`, "at-most-once"}},
		{"not a string", topology.Config{topology.GuaranteeKey: 3}, []string{topology.GuaranteeKey, "3 (int)", "at-least-once"}},
	} {
		_, err := oneBolt("g").Build(tc.conf)
		if !errors.Is(err, topology.ErrInvalid) {
			t.Errorf("%s: Build = %v, want ErrInvalid", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// The capabilities exactly-once asks for.

type snapSpout struct{ nopSpout }

func (snapSpout) SnapshotPosition(uint64) ([]byte, error) { return nil, nil }
func (snapSpout) RestorePosition([]byte) error            { return nil }
func (snapSpout) CheckpointComplete(uint64)               {}

var _ topology.CheckpointedSpout = snapSpout{}

type keyedBolt struct{ nopBolt }

func (keyedBolt) DeclareState() topology.State { return topology.State{Keyed: []string{"count"}} }

type taskStateBolt struct{ nopBolt }

func (taskStateBolt) DeclareState() topology.State { return topology.State{Task: []string{"kv"}} }

type sinkBolt struct{ nopBolt }

func (sinkBolt) PreCommit(uint64) ([]byte, error) { return nil, nil }
func (sinkBolt) Commit(uint64) error              { return nil }
func (sinkBolt) Recover(uint64, []byte) error     { return nil }

var (
	_ topology.StateDeclarer = keyedBolt{}
	_ topology.TwoPhaseSink  = sinkBolt{}
)

// keyedBasic is a BasicBolt with keyed state: Basic's wrapper must not
// hide it.
type keyedBasic struct{ topology.BaseBolt }

func (keyedBasic) Prepare(context.Context, *topology.Context) error      { return nil }
func (keyedBasic) Execute(topology.Tuple, topology.BasicCollector) error { return nil }
func (keyedBasic) DeclareState() topology.State                          { return topology.State{Keyed: []string{"seen"}} }

func snap() topology.Spout { return snapSpout{} }
func keyed() topology.Bolt { return keyedBolt{} }
func sink() topology.Bolt  { return sinkBolt{} }

func TestCheckExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		build    func(b *topology.Builder)
		errs     []string // each a substring of one problem, in order
		warnings []topology.ComponentID
	}{
		{
			name: "keyed count into a transactional sink",
			build: func(b *topology.Builder) {
				b.SetSpout("words", snap, 2).Output("word")
				b.SetBolt("count", keyed, 3).FieldsGrouping("words", "word").Output("word", "n")
				b.SetBolt("out", sink, 1).ShuffleGrouping("count")
			},
		},
		{
			name: "a sink that is not transactional is only a warning",
			build: func(b *topology.Builder) {
				b.SetSpout("words", snap, 1).Output("word")
				b.SetBolt("count", keyed, 2).FieldsGrouping("words", "word").Output("word", "n")
				b.SetBolt("print", newBolt, 1).ShuffleGrouping("count")
				b.SetBolt("log", newBolt, 1).ShuffleGrouping("count")
			},
			warnings: []topology.ComponentID{"log", "print"},
		},
		{
			name: "a spout that cannot snapshot its position",
			build: func(b *topology.Builder) {
				b.SetSpout("good", snap, 1).Output("n")
				b.SetSpout("plain", newSpout, 1).Output("n")
				b.SetBolt("out", sink, 1).ShuffleGrouping("good").ShuffleGrouping("plain")
			},
			errs: []string{`spout "plain" cannot snapshot its position`},
		},
		{
			name: "keyed state behind a shuffle and a partial-key grouping",
			build: func(b *topology.Builder) {
				b.SetSpout("a", snap, 1).Output("k")
				b.SetSpout("b", snap, 1).Output("k")
				b.SetBolt("count", keyed, 2).ShuffleGrouping("a").PartialKeyGrouping("b", "k")
				b.SetBolt("ok", keyed, 2).FieldsGrouping("a", "k")
			},
			errs: []string{
				`bolt "count" keeps keyed state [count], but takes stream "default" of "a" through shuffle grouping`,
				`bolt "count" keeps keyed state [count], but takes stream "default" of "b" with a partial-key grouping`,
			},
			warnings: []topology.ComponentID{"count", "ok"},
		},
		{
			name: "a keyed BasicBolt is seen through Basic",
			build: func(b *topology.Builder) {
				b.SetSpout("s", snap, 1).Output("k")
				b.SetBasicBolt("seen", func() topology.BasicBolt { return keyedBasic{} }, 1).AllGrouping("s")
			},
			errs:     []string{`bolt "seen" keeps keyed state [seen], but takes stream "default" of "s" through all grouping`},
			warnings: []topology.ComponentID{"seen"},
		},
		{
			name: "task-scoped state takes any grouping",
			build: func(b *topology.Builder) {
				b.SetSpout("s", snap, 1).Output("k")
				b.SetBolt("kv", func() topology.Bolt { return taskStateBolt{} }, 2).ShuffleGrouping("s").Output("k")
				b.SetBolt("out", sink, 1).GlobalGrouping("kv")
			},
		},
		{
			name: "a cycle",
			build: func(b *topology.Builder) {
				b.SetSpout("s", snap, 1).Output("n")
				b.SetBolt("a", newBolt, 1).ShuffleGrouping("s").ShuffleGrouping("c").Output("n")
				b.SetBolt("b", newBolt, 1).ShuffleGrouping("a").Output("n")
				b.SetBolt("c", newBolt, 1).ShuffleGrouping("b").Output("n")
				b.SetBolt("out", sink, 1).ShuffleGrouping("b")
			},
			errs: []string{`bolt "a" is on a cycle ("a" -> "b" -> "c" -> "a")`},
		},
		{
			name: "a bolt that feeds itself, and two problems at once",
			build: func(b *topology.Builder) {
				b.SetSpout("s", newSpout, 1).Output("n")
				b.SetBolt("loop", newBolt, 1).ShuffleGrouping("s").Input("loop", "back", topology.ShuffleGrouping()).
					Output("n").OutputStream("back", "n")
				b.SetBolt("out", sink, 1).ShuffleGrouping("loop")
			},
			errs: []string{
				`spout "s" cannot snapshot its position`,
				`bolt "loop" is on a cycle ("loop" -> "loop")`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := topology.NewBuilder("eo")
			tc.build(b)
			topo, err := b.Build(nil) // at-least-once: the check is asked for directly
			if err != nil {
				t.Fatal(err)
			}
			warnings, err := topology.CheckExactlyOnce(topo)
			var got []string
			if err != nil {
				if !errors.Is(err, topology.ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
				got = strings.Split(err.Error(), "\n")
			}
			if len(got) != len(tc.errs) {
				t.Fatalf("problems:\n%s\nwant %d: %q", strings.Join(got, "\n"), len(tc.errs), tc.errs)
			}
			for i, want := range tc.errs {
				if !strings.Contains(got[i], want) {
					t.Errorf("problem %d = %q, want it to say %q", i, got[i], want)
				}
			}
			var warned []topology.ComponentID
			for _, w := range warnings {
				warned = append(warned, w.Component)
				if !strings.Contains(w.String(), "at-least-once") || !strings.Contains(w.String(), string(w.Component)) {
					t.Errorf("warning %q names neither the component nor what it weakens", w)
				}
			}
			if !slices.Equal(warned, tc.warnings) {
				t.Errorf("warnings for %v, want %v", warned, tc.warnings)
			}
		})
	}
}

// TestBuildChecksExactlyOnce: Build accepts an exactly-once topology that
// passes the check, with no tracker, and refuses one that does not, naming
// the component.
func TestBuildChecksExactlyOnce(t *testing.T) {
	conf := topology.Config{topology.GuaranteeKey: "exactly-once", topology.AckerExecutors: 3}
	good := topology.NewBuilder("good")
	good.SetSpout("words", snap, 1).Output("word")
	good.SetBolt("count", keyed, 2).FieldsGrouping("words", "word").Output("word", "n")
	good.SetBolt("print", newBolt, 1).ShuffleGrouping("count")
	topo, err := good.Build(conf)
	if err != nil {
		t.Fatalf("Build = %v, want the topology", err)
	}
	if topo.Runtime.Guarantee != topology.ExactlyOnce || len(topo.Trackers) != 0 || topo.Config[topology.AckerExecutors] != 0 {
		t.Errorf("guarantee %q with %d trackers, acker.executors %v; want exactly-once, no tracker, 0",
			topo.Runtime.Guarantee, len(topo.Trackers), topo.Config[topology.AckerExecutors])
	}

	_, err = oneBolt("bad").Build(conf)
	if !errors.Is(err, topology.ErrInvalid) {
		t.Fatalf("Build = %v, want ErrInvalid", err)
	}
	for _, want := range []string{"fails exactly-once validation", `spout "s" cannot snapshot its position`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestCheckpointSettings(t *testing.T) {
	rt, err := topology.Config{topology.CheckpointIntervalMs: 250, topology.StateDir: "/var/lib/x", topology.CheckpointTolerableFailures: 2}.Runtime()
	if err != nil || rt.Checkpoints.Interval != 250*time.Millisecond || rt.Checkpoints.StateDir != "/var/lib/x" || rt.Checkpoints.TolerableFailures != 2 {
		t.Errorf("Runtime = %+v, %v", rt.Checkpoints, err)
	}
	for _, bad := range []topology.Config{
		{topology.CheckpointIntervalMs: 5},
		{topology.CheckpointTimeoutMs: 0},
		{topology.CheckpointTolerableFailures: -1},
		{topology.AlignmentMaxBytes: 0},
		{topology.StateDir: 7},
	} {
		_, err := bad.Runtime()
		for k := range bad {
			if err == nil || !strings.Contains(err.Error(), k) {
				t.Errorf("%v: %v, want an error naming %s", bad, err, k)
			}
		}
	}
}
