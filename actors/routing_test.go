package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// recordingGrouping is a CustomStreamGrouping that records Prepare and sends
// every tuple to the task named by its first value's length.
type recordingGrouping struct {
	prepared int
	tc       *topology.Context
	stream   topology.StreamID
	targets  []topology.TaskID
	chosen   int
}

func (g *recordingGrouping) Prepare(tc *topology.Context, stream topology.StreamID, targets []topology.TaskID) {
	g.prepared++
	g.tc, g.stream, g.targets = tc, stream, targets
}

func (g *recordingGrouping) ChooseTasks(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	g.chosen++
	s, _ := values[0].(string)
	return append(dst, g.targets[len(s)%len(g.targets)])
}

// freshSliceGrouping returns a new slice instead of appending to dst, which
// CustomStreamGrouping's contract allows ("it may append to dst").
type freshSliceGrouping struct{ targets []topology.TaskID }

func (g *freshSliceGrouping) Prepare(_ *topology.Context, _ topology.StreamID, targets []topology.TaskID) {
	g.targets = targets
}

func (g *freshSliceGrouping) ChooseTasks(topology.Values, []topology.TaskID) []topology.TaskID {
	return []topology.TaskID{g.targets[0]}
}

// routerTopology is a spout "s" with a default stream [k v] and a direct
// stream "d" [k], consumed by one bolt per grouping.
func routerTopology(t *testing.T, custom topology.CustomStreamGrouping) *topology.Topology {
	t.Helper()
	spout := func() topology.Spout { return routingTestSpout{} }
	bolt := func() topology.Bolt { return routingTestBolt{} }
	b := topology.NewBuilder("routing")
	b.SetSpout("s", spout, 1).Output("k", "v").DirectStream("d", "k")
	b.SetBolt("a-all", bolt, 2).AllGrouping("s")
	b.SetBolt("b-fields", bolt, 3).FieldsGrouping("s", "v")
	b.SetBolt("c-custom", bolt, 2).CustomGrouping("s", custom)
	b.SetBolt("d-direct", bolt, 2).DirectGrouping("s", "d")
	b.SetBolt("e-direct", bolt, 1).DirectGrouping("s", "d")
	topo, err := b.Build(topology.Config{topology.AckerExecutors: 1})
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

type routingTestSpout struct{ topology.BaseSpout }

func (routingTestSpout) NextTuple() {}

type routingTestBolt struct{ topology.BaseBolt }

func (routingTestBolt) Prepare(context.Context, *topology.Context, topology.OutputCollector) error {
	return nil
}
func (routingTestBolt) Execute(topology.Tuple) {}

// nowhere is a Directory where no task runs in this process.
type nowhere struct{}

func (nowhere) Local(topology.TaskID) (*actor.PID, bool)       { return nil, false }
func (nowhere) SendRemote(topology.TaskID, proto.Message) bool { return false }

// routersOf builds the routers of comp's task in a new Env of topo without
// router actors.
func routersOf(topo *topology.Topology, comp *topology.Component) (map[topology.StreamID]*streamRouter, *topology.Context) {
	tc := topoaccess.NewContext(topo, comp.Tasks[0], nil)
	return newRouters(NewEnv(topo, 1, nil, nowhere{}, nil), comp, tc, 0), tc
}

func TestNewRouters(t *testing.T) {
	g := &recordingGrouping{}
	topo := routerTopology(t, g)
	comp := topo.Component("s")
	routers, tc := routersOf(topo, comp)
	if len(routers) != 2 {
		t.Fatalf("%d routers, want 2 (default and d)", len(routers))
	}

	def := routers[topology.DefaultStream]
	if def.direct || def.directTasks != nil || !slices.Equal(def.fields, topology.Fields{"k", "v"}) || len(def.route.Table().Subs) != 3 {
		t.Fatalf("default router = %+v", def)
	}
	if g.prepared != 1 || g.stream != topology.DefaultStream || !slices.Equal(g.targets, topo.Component("c-custom").Tasks) {
		t.Errorf("custom Prepare: %d calls, stream %q, targets %v", g.prepared, g.stream, g.targets)
	}
	if g.tc != tc {
		t.Errorf("custom Prepare got another context")
	}
	values := topology.Values{"x", "user"}
	got := def.route.Choose(values, nil)
	all := topo.Component("a-all").Tasks
	fields := topo.Component("b-fields").Tasks
	custom := topo.Component("c-custom").Tasks
	want := append(slices.Clone(all),
		fields[routing.FieldsHash(values, []int{1})%uint64(len(fields))],
		custom[len("x")%len(custom)])
	if !slices.Equal(got, want) {
		t.Errorf("route(%v) = %v, want %v", values, got, want)
	}

	// A direct stream has no choosers: the emitter names the task, checked
	// against every task that consumes it with a direct grouping.
	d := routers["d"]
	if !d.direct || len(d.route.Table().Subs) != 0 {
		t.Fatalf("direct router = %+v", d)
	}
	wantDirect := map[topology.TaskID]bool{}
	for _, id := range []topology.ComponentID{"d-direct", "e-direct"} {
		for _, task := range topo.Component(id).Tasks {
			wantDirect[task] = true
		}
	}
	if !maps.Equal(d.directTasks, wantDirect) {
		t.Errorf("directTasks = %v, want %v", d.directTasks, wantDirect)
	}
	if got := d.route.Choose(topology.Values{"x"}, nil); len(got) != 0 {
		t.Errorf("direct route chose %v", got)
	}

	// A bolt that nobody consumes routes nowhere.
	sink := topo.Component("a-all")
	if rs, _ := routersOf(topo, sink); len(rs) != 0 {
		t.Errorf("a-all declares no streams but has routers %v", rs)
	}
}

// A custom grouping that returns a fresh slice, as its contract allows, must
// not drop the destinations other subscriptions of the stream chose before it.
func TestRouteCustomGroupingKeepsOtherDestinations(t *testing.T) {
	topo := routerTopology(t, &freshSliceGrouping{})
	routers, _ := routersOf(topo, topo.Component("s"))
	values := topology.Values{"x", "user"}
	got := routers[topology.DefaultStream].route.Choose(values, nil)
	all := topo.Component("a-all").Tasks
	fields := topo.Component("b-fields").Tasks
	want := append(slices.Clone(all),
		fields[routing.FieldsHash(values, []int{1})%uint64(len(fields))],
		topo.Component("c-custom").Tasks[0])
	// Regression: a custom grouping gets an empty dst (its contract) and
	// its choice is appended to what earlier subscriptions chose.
	if !slices.Equal(got, want) {
		t.Errorf("route(%v) = %v, want %v: the destinations chosen before the custom grouping were lost", values, got, want)
	}
}

// scaledRoutingTopology has a spout whose default stream goes to a bolt of max
// parallelism 8 by fields, shuffle, partial key and a custom grouping.
func scaledRoutingTopology(t testing.TB, g topology.CustomStreamGrouping) *topology.Topology {
	t.Helper()
	b := topology.NewBuilder("scaled")
	b.SetSpout("s", func() topology.Spout { return routingTestSpout{} }, 1).Output("k")
	b.SetBolt("f", func() topology.Bolt { return routingTestBolt{} }, 2).NumTasks(8).FieldsGrouping("s", "k")
	b.SetBolt("p", func() topology.Bolt { return routingTestBolt{} }, 2).NumTasks(8).PartialKeyGrouping("s", "k")
	b.SetBolt("r", func() topology.Bolt { return routingTestBolt{} }, 2).NumTasks(8).ShuffleGrouping("s")
	b.SetBolt("x", func() topology.Bolt { return routingTestBolt{} }, 2).NumTasks(8).CustomGrouping("s", g)
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// TestRerouteSwapsTheTables runs the router actors: after Reroute returns,
// an emitting task's router routes only to running tasks at its next emit
// (fields grouping by key group, shuffle over the running tasks, a custom
// grouping prepared again with them), the tables carry the epoch, and
// Context.RunningTasks follows. A rejected parallelism changes nothing.
func TestRerouteSwapsTheTables(t *testing.T) {
	g := &recordingGrouping{}
	topo := scaledRoutingTopology(t, g)
	sys := actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond),
	)
	env := NewEnv(topo, 1, sys, nowhere{}, nil)
	defer env.Close()
	comp := topo.Component("s")
	tc := topoaccess.NewContext(topo, comp.Tasks[0], nil)
	topoaccess.SetParallelism(tc, env.Parallelism)
	r := newRouters(env, comp, tc, 0)[topology.DefaultStream]
	byComp := func(dst []topology.TaskID) map[topology.ComponentID][]topology.TaskID {
		m := map[topology.ComponentID][]topology.TaskID{}
		for _, task := range dst {
			c := topo.ComponentOf(task).ID
			m[c] = append(m[c], task)
		}
		return m
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, k := range []int{2, 5, 8, 3, 1} {
		epoch := uint64(i + 2)
		if err := env.Reroute(ctx, epoch, map[topology.ComponentID]int{"f": k, "p": k, "r": k, "x": k}); err != nil {
			t.Fatal(err)
		}
		seenShuffle := map[topology.TaskID]bool{}
		for i := range 200 {
			key := fmt.Sprintf("key-%d", i)
			got := byComp(r.route.Choose(topology.Values{key}, nil))
			for _, c := range []topology.ComponentID{"f", "p", "r"} {
				if len(got[c]) != 1 {
					t.Fatalf("K=%d: %s got %v for one tuple", k, c, got[c])
				}
				if idx := int(got[c][0] - topo.Component(c).Tasks[0]); idx >= k {
					t.Fatalf("K=%d: %s routed %q to task index %d, which does not run", k, c, key, idx)
				}
			}
			f := topo.Component("f").Tasks
			want := f[routing.KeyGroupOwners(k, 8)[routing.KeyGroup(routing.FieldsHash(topology.Values{key}, []int{0}), 8)]]
			if got["f"][0] != want {
				t.Fatalf("K=%d: fields grouping sent %q to %d, want %d", k, key, got["f"][0], want)
			}
			seenShuffle[got["r"][0]] = true
		}
		if len(seenShuffle) != k {
			t.Errorf("K=%d: shuffle reached %d tasks", k, len(seenShuffle))
		}
		if want := topo.Component("x").Tasks[:k]; !slices.Equal(g.targets, want) {
			t.Errorf("K=%d: custom grouping prepared with %v, want %v", k, g.targets, want)
		}
		if got := r.route.Table().Epoch; got != epoch {
			t.Errorf("K=%d: table of epoch %d, want %d", k, got, epoch)
		}
		if got, want := tc.RunningTasks("f"), topo.Component("f").Tasks[:k]; !slices.Equal(got, want) {
			t.Errorf("K=%d: Context.RunningTasks(f) = %v, want %v", k, got, want)
		}
		if env.Parallelism("f") != k || env.Parallelism("s") != 1 {
			t.Errorf("K=%d: live parallelism %v", k, env.AllParallelism())
		}
	}
	before := r.route.Table()
	err := env.Reroute(ctx, 99, map[topology.ComponentID]int{"f": 9, "r": 2})
	if !errors.Is(err, topology.ErrInvalid) {
		t.Fatalf("Reroute(f=9) = %v, want ErrInvalid", err)
	}
	r.route.Choose(topology.Values{"x"}, nil)
	if r.route.Table() != before || env.Parallelism("r") != 1 {
		t.Errorf("a rejected Reroute changed the routing")
	}
	want := map[topology.ComponentID]int{"s": 1, "f": 1, "p": 1, "r": 1, "x": 1}
	if got := env.AllParallelism(); !maps.Equal(got, want) {
		t.Errorf("AllParallelism = %v, want %v", got, want)
	}
	// Once closed, the routers are gone: Reroute fails, Close again is safe.
	env.Close()
	env.Close()
	if err := env.Reroute(ctx, 100, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Reroute after Close = %v, want ErrClosed", err)
	}
}

// Two Envs of one topology route independently: rescaling one running
// copy does not touch another.
func TestEnvsRouteIndependently(t *testing.T) {
	topo := scaledRoutingTopology(t, &recordingGrouping{})
	a, b := NewEnv(topo, 1, nil, nowhere{}, nil), NewEnv(topo, 1, nil, nowhere{}, nil)
	if err := a.Reroute(context.Background(), 2, map[topology.ComponentID]int{"f": 7}); err != nil {
		t.Fatal(err)
	}
	if a.Parallelism("f") != 7 || b.Parallelism("f") != 2 {
		t.Errorf("parallelism of f: %d and %d, want 7 and 2", a.Parallelism("f"), b.Parallelism("f"))
	}
	if got := b.route("s", topology.DefaultStream).Load().Subs[0].Running; got != 2 {
		t.Errorf("the other Env's table runs %d tasks of f, want 2", got)
	}
}

// The per-emit check of the table costs no allocation.
func TestRouteWithTableDoesNotAllocate(t *testing.T) {
	topo := scaledRoutingTopology(t, &recordingGrouping{})
	r, _ := routersOf(topo, topo.Component("s"))
	route := r[topology.DefaultStream].route
	dst := make([]topology.TaskID, 0, 8)
	values := topology.Values{"some-user-key"}
	dst = route.Choose(values, dst[:0])
	allocs := testing.AllocsPerRun(1000, func() { dst = route.Choose(values, dst[:0]) })
	if allocs != 0 {
		t.Errorf("route allocates %v times per call, want 0", allocs)
	}
}

// BenchmarkRouteFields is the per-emit cost of fields grouping, the
// table check included.
func BenchmarkRouteFields(b *testing.B) {
	bld := topology.NewBuilder("bench")
	bld.SetSpout("s", func() topology.Spout { return routingTestSpout{} }, 1).Output("k")
	bld.SetBolt("f", func() topology.Bolt { return routingTestBolt{} }, 4).NumTasks(8).FieldsGrouping("s", "k")
	topo, err := bld.Build(nil)
	if err != nil {
		b.Fatal(err)
	}
	rs, _ := routersOf(topo, topo.Component("s"))
	r := rs[topology.DefaultStream].route
	values := topology.Values{"some-user-key"}
	dst := make([]topology.TaskID, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Choose(values, dst[:0])
	}
}
