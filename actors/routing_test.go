package actors

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/squall-streams/squall/topology"
)

func tasksRange(from, n int) []topology.TaskID {
	out := make([]topology.TaskID, n)
	for i := range out {
		out[i] = topology.TaskID(from + i)
	}
	return out
}

func sub(g topology.Grouping, tasks []topology.TaskID, idx ...int) topology.Subscription {
	return topology.Subscription{Consumer: "c", Grouping: g, FieldIndex: idx, Tasks: tasks}
}

// newChooser builds the chooser of sub with every consumer task running.
func newChooser(sub topology.Subscription, tc *topology.Context, stream topology.StreamID, local func(topology.TaskID) bool, seed uint64) chooser {
	return newScaledChooser(sub, len(sub.Tasks), tc, stream, local, seed)
}

// chooseOne routes values and requires exactly one destination.
func chooseOne(t *testing.T, c chooser, values topology.Values) topology.TaskID {
	t.Helper()
	got := c.choose(values, nil)
	if len(got) != 1 {
		t.Fatalf("choose(%v) = %v, want one task", values, got)
	}
	return got[0]
}

// maxOverMean is the load of the busiest task over the mean load.
func maxOverMean(load map[topology.TaskID]int, tasks int) float64 {
	total, most := 0, 0
	for _, n := range load {
		total += n
		most = max(most, n)
	}
	return float64(most) / (float64(total) / float64(tasks))
}

func TestFieldsGroupingIsStable(t *testing.T) {
	tasks := tasksRange(10, 8)
	s := sub(topology.FieldsGrouping("word"), tasks, 1)
	// Two independently built choosers (different emitters, different seeds)
	// must agree on every key: that is what makes fields grouping a grouping.
	a := newChooser(s, nil, topology.DefaultStream, nil, 1)
	b := newChooser(s, nil, topology.DefaultStream, nil, 0xdeadbeef)
	for i := range 1000 {
		key := fmt.Sprintf("key-%d", i)
		ta := chooseOne(t, a, topology.Values{i, key})
		tb := chooseOne(t, b, topology.Values{-i, key}) // field 0 is not grouped on
		if ta != tb {
			t.Fatalf("key %q: task %d from one chooser, %d from another", key, ta, tb)
		}
		if again := chooseOne(t, a, topology.Values{0, key}); again != ta {
			t.Fatalf("key %q: task %d, then %d", key, ta, again)
		}
		if !slices.Contains(tasks, ta) {
			t.Fatalf("key %q: task %d is not a consumer task", key, ta)
		}
	}
}

// Integers hash alike whatever their Go type, so a key keeps its task when a
// component switches from int to int64 (or a value crosses a node boundary).
func TestFieldsHashIntegerWidths(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 42, 1 << 31, -(1 << 31), 1<<32 - 1} {
		want := FieldsHash(topology.Values{n}, []int{0})
		same := []any{int(n)}
		if n == int64(int32(n)) {
			same = append(same, int32(n))
		}
		if n >= 0 && n == int64(uint32(n)) {
			same = append(same, uint32(n))
		}
		for _, v := range same {
			if got := FieldsHash(topology.Values{v}, []int{0}); got != want {
				t.Errorf("FieldsHash(%T %v) = %#x, want %#x as for int64", v, v, got, want)
			}
		}
	}
	// Same number, different kinds of value: these must not collide by design.
	distinct := []any{"1", []byte("1"), 1, 1.0, true, nil, []any{1}}
	seen := map[uint64]any{}
	for _, v := range distinct {
		h := FieldsHash(topology.Values{v}, []int{0})
		if prev, ok := seen[h]; ok {
			t.Errorf("FieldsHash(%#v) = FieldsHash(%#v)", v, prev)
		}
		seen[h] = v
	}
}

func TestFieldsHashSelectsFields(t *testing.T) {
	a := FieldsHash(topology.Values{"x", "user", 1}, []int{1, 2})
	b := FieldsHash(topology.Values{"y", "user", int64(1)}, []int{1, 2})
	if a != b {
		t.Errorf("values outside the grouping fields changed the hash")
	}
	if c := FieldsHash(topology.Values{"x", "user", 1}, []int{2, 1}); c == a {
		t.Errorf("field order does not change the hash")
	}
	// Field boundaries are part of the encoding: ("ab","c") != ("a","bc").
	if FieldsHash(topology.Values{"ab", "c"}, []int{0, 1}) == FieldsHash(topology.Values{"a", "bc"}, []int{0, 1}) {
		t.Errorf("(ab, c) and (a, bc) hash alike")
	}
	// An index past the values hashes as nil instead of panicking.
	if FieldsHash(topology.Values{"x"}, []int{3}) != FieldsHash(topology.Values{nil}, []int{0}) {
		t.Errorf("a missing value does not hash as nil")
	}
}

// TestFieldsHashGolden pins FieldsHash. Fields grouping sends a key to task
// index FieldsHash mod #tasks on every node of every version, so changing
// any of these values re-keys every running topology (state held per key by
// bolts ends up on the wrong task during a rolling upgrade). Do not update
// them to make the test pass: keep the encoding.
func TestFieldsHashGolden(t *testing.T) {
	tests := []struct {
		values topology.Values
		idx    []int
		want   uint64
	}{
		{topology.Values{"hello"}, []int{0}, 0x115b0f969f929fd9},
		{topology.Values{""}, []int{0}, 0x44a36e15443bb761},
		{topology.Values{int64(42)}, []int{0}, 0xbc5317a492186cb2},
		{topology.Values{-1}, []int{0}, 0x8e05917df36f6876},
		{topology.Values{3.5}, []int{0}, 0x663e6305f4da588e},
		{topology.Values{true}, []int{0}, 0x11a4520ba916ac59},
		{topology.Values{nil}, []int{0}, 0x17397ff2676b47e},
		{topology.Values{[]byte("hello")}, []int{0}, 0x7fc6c25f4d6c347},
		{topology.Values{[]any{"a", 1}}, []int{0}, 0x7c188d314cd5c37c},
		{topology.Values{"user-1", 7}, []int{0, 1}, 0x596ac5ffd4b00c10},
	}
	for _, tt := range tests {
		if got := FieldsHash(tt.values, tt.idx); got != tt.want {
			t.Errorf("FieldsHash(%#v, %v) = %#x, want %#x", tt.values, tt.idx, got, tt.want)
		}
	}
	// The documented encoding of a string: tag 's', length as 8 bytes little
	// endian, then the bytes, all hashed with xxhash64.
	enc := append([]byte{'s', 5, 0, 0, 0, 0, 0, 0, 0}, "hello"...)
	if got, want := FieldsHash(topology.Values{"hello"}, []int{0}), xxhash.Sum64(enc); got != want {
		t.Errorf("FieldsHash(hello) = %#x, xxhash64 of its encoding = %#x", got, want)
	}
}

func TestFieldsGroupingDistribution(t *testing.T) {
	tasks := tasksRange(1, 8)
	c := newChooser(sub(topology.FieldsGrouping("k"), tasks, 0), nil, topology.DefaultStream, nil, 0)
	const keys = 10000
	load := map[topology.TaskID]int{}
	for i := range keys {
		load[chooseOne(t, c, topology.Values{fmt.Sprintf("user-%d", i)})]++
	}
	mean := float64(keys) / float64(len(tasks))
	for _, task := range tasks {
		if n := float64(load[task]); n < 0.7*mean || n > 1.3*mean {
			t.Errorf("task %d got %v keys, want within 30%% of the mean %v (load %v)", task, n, mean, load)
		}
	}
}

func TestShuffleGroupingBalance(t *testing.T) {
	for _, kind := range []topology.Grouping{topology.ShuffleGrouping(), topology.NoneGrouping(), topology.LocalOrShuffleGrouping()} {
		for _, seed := range []uint64{0, 3, 0x9e3779b97f4a7c15} {
			tasks := []topology.TaskID{4, 9, 2, 7, 5}
			c := newChooser(sub(kind, tasks), nil, topology.DefaultStream, nil, seed)
			load := map[topology.TaskID]int{}
			const rounds = 1000
			for range rounds * len(tasks) {
				load[chooseOne(t, c, topology.Values{"x"})]++
			}
			want := map[topology.TaskID]int{}
			for _, task := range tasks {
				want[task] = rounds
			}
			if !maps.Equal(load, want) {
				t.Errorf("%s seed %d: load %v, want %d each", kind, seed, load, rounds)
			}
		}
	}
}

func TestAllGrouping(t *testing.T) {
	tasks := []topology.TaskID{3, 1, 2}
	c := newChooser(sub(topology.AllGrouping(), tasks), nil, topology.DefaultStream, nil, 0)
	for range 3 {
		if got := c.choose(topology.Values{"x"}, nil); !slices.Equal(got, tasks) {
			t.Errorf("choose = %v, want %v", got, tasks)
		}
	}
	// choose appends to dst.
	got := c.choose(topology.Values{"x"}, []topology.TaskID{99})
	if want := []topology.TaskID{99, 3, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("choose onto [99] = %v, want %v", got, want)
	}
}

func TestGlobalGroupingLowestTask(t *testing.T) {
	tests := [][]topology.TaskID{
		{7, 3, 9, 5},
		{3},
		{12, 11, 10},
		{1, 2, 3},
	}
	for _, tasks := range tests {
		c := newChooser(sub(topology.GlobalGrouping(), tasks), nil, topology.DefaultStream, nil, 42)
		want := slices.Min(tasks)
		for i := range 10 {
			if got := chooseOne(t, c, topology.Values{i}); got != want {
				t.Errorf("tasks %v: choose = %d, want %d", tasks, got, want)
			}
		}
	}
}

func TestPartialKeyGroupingTwoTasksPerKey(t *testing.T) {
	tasks := tasksRange(1, 8)
	c := newChooser(sub(topology.PartialKeyGrouping("k"), tasks, 0), nil, topology.DefaultStream, nil, 0)
	seen := map[string]map[topology.TaskID]bool{}
	for round := range 50 {
		for k := range 200 {
			key := fmt.Sprintf("k%d", (k*7+round)%200)
			task := chooseOne(t, c, topology.Values{key})
			if seen[key] == nil {
				seen[key] = map[topology.TaskID]bool{}
			}
			seen[key][task] = true
		}
	}
	for key, ts := range seen {
		if len(ts) > 2 {
			t.Errorf("key %q went to %d tasks %v, want at most 2", key, len(ts), slices.Collect(maps.Keys(ts)))
		}
	}
}

func TestPartialKeyGroupingBalancesSkew(t *testing.T) {
	tasks := tasksRange(1, 8)
	n := uint64(len(tasks))
	// A hot key whose two candidate tasks differ (else partial-key cannot
	// split it); found deterministically.
	hot := ""
	for i := 0; hot == ""; i++ {
		k := fmt.Sprintf("hot-%d", i)
		h := FieldsHash(topology.Values{k}, []int{0})
		if h%n != mix64(h)%n {
			hot = k
		}
	}
	pk := newChooser(sub(topology.PartialKeyGrouping("k"), tasks, 0), nil, topology.DefaultStream, nil, 0)
	fg := newChooser(sub(topology.FieldsGrouping("k"), tasks, 0), nil, topology.DefaultStream, nil, 0)
	pkLoad, fgLoad := map[topology.TaskID]int{}, map[topology.TaskID]int{}
	const total = 20000
	for i := range total {
		key := hot // half the stream is one key
		if i%2 == 1 {
			key = fmt.Sprintf("cold-%d", i%5000)
		}
		v := topology.Values{key}
		pkLoad[chooseOne(t, pk, v)]++
		fgLoad[chooseOne(t, fg, v)]++
	}
	pkSkew, fgSkew := maxOverMean(pkLoad, len(tasks)), maxOverMean(fgLoad, len(tasks))
	if fgSkew < 4 {
		t.Fatalf("fields grouping max/mean = %.2f: the hot key does not dominate, the test is wrong", fgSkew)
	}
	// Half the stream over two tasks is at best 2x the mean.
	if pkSkew >= fgSkew || pkSkew > 2.2 {
		t.Errorf("partial-key max/mean = %.2f, fields = %.2f; want partial-key lower and <= 2.2\npartial-key %v\nfields %v",
			pkSkew, fgSkew, pkLoad, fgLoad)
	}
}

func TestLocalOrShuffleGrouping(t *testing.T) {
	tasks := tasksRange(1, 6)
	tests := []struct {
		name  string
		local func(topology.TaskID) bool
		want  []topology.TaskID // the tasks used, evenly
	}{
		{"some local", func(task topology.TaskID) bool { return task%2 == 0 }, []topology.TaskID{2, 4, 6}},
		{"one local", func(task topology.TaskID) bool { return task == 5 }, []topology.TaskID{5}},
		{"none local", func(topology.TaskID) bool { return false }, tasks},
		{"all local", func(topology.TaskID) bool { return true }, tasks},
		{"no directory", nil, tasks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChooser(sub(topology.LocalOrShuffleGrouping(), tasks), nil, topology.DefaultStream, tt.local, 7)
			load := map[topology.TaskID]int{}
			for range 10 * len(tt.want) {
				load[chooseOne(t, c, nil)]++
			}
			want := map[topology.TaskID]int{}
			for _, task := range tt.want {
				want[task] = 10
			}
			if !maps.Equal(load, want) {
				t.Errorf("load %v, want %v", load, want)
			}
		})
	}
}

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

func TestCustomGrouping(t *testing.T) {
	tasks := []topology.TaskID{5, 6, 7}
	g := &recordingGrouping{}
	tc := &topology.Context{Component: "emitter", Task: 1}
	c := newChooser(sub(topology.CustomGrouping(g), tasks), tc, "words", nil, 0)
	if g.prepared != 1 || g.tc != tc || g.stream != "words" || !slices.Equal(g.targets, tasks) {
		t.Fatalf("Prepare called %d times with (%p, %q, %v), want once with (%p, words, %v)", g.prepared, g.tc, g.stream, g.targets, tc, tasks)
	}
	g.targets[0] = 99 // the grouping owns its copy
	if tasks[0] != 5 {
		t.Errorf("Prepare was given the subscription's own task slice")
	}
	g.targets[0] = 5
	for s, want := range map[string]topology.TaskID{"": 5, "a": 6, "ab": 7, "abc": 5} {
		if got := chooseOne(t, c, topology.Values{s}); got != want {
			t.Errorf("choose(%q) = %d, want %d", s, got, want)
		}
	}
	if g.chosen != 4 {
		t.Errorf("ChooseTasks called %d times, want 4", g.chosen)
	}
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

func TestNewRouters(t *testing.T) {
	g := &recordingGrouping{}
	topo := routerTopology(t, g)
	comp := topo.Component("s")
	tc := topology.NewContext(topo, comp.Tasks[0], nil)
	routers := newRouters(comp, tc, nil, 0)
	if len(routers) != 2 {
		t.Fatalf("%d routers, want 2 (default and d)", len(routers))
	}

	def := routers[topology.DefaultStream]
	if def.direct || def.directTasks != nil || !slices.Equal(def.fields, topology.Fields{"k", "v"}) || len(def.choosers) != 3 {
		t.Fatalf("default router = %+v", def)
	}
	if g.prepared != 1 || g.stream != topology.DefaultStream || !slices.Equal(g.targets, topo.Component("c-custom").Tasks) {
		t.Errorf("custom Prepare: %d calls, stream %q, targets %v", g.prepared, g.stream, g.targets)
	}
	if g.tc != tc {
		t.Errorf("custom Prepare got another context")
	}
	values := topology.Values{"x", "user"}
	got := def.route(values, nil)
	all := topo.Component("a-all").Tasks
	fields := topo.Component("b-fields").Tasks
	custom := topo.Component("c-custom").Tasks
	want := append(slices.Clone(all),
		fields[FieldsHash(values, []int{1})%uint64(len(fields))],
		custom[len("x")%len(custom)])
	if !slices.Equal(got, want) {
		t.Errorf("route(%v) = %v, want %v", values, got, want)
	}

	// A direct stream has no choosers: the emitter names the task, checked
	// against every task that consumes it with a direct grouping.
	d := routers["d"]
	if !d.direct || len(d.choosers) != 0 {
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
	if got := d.route(topology.Values{"x"}, nil); len(got) != 0 {
		t.Errorf("direct route chose %v", got)
	}
	if newChooser(sub(topology.DirectGrouping(), all), nil, "d", nil, 0) != nil {
		t.Errorf("newChooser for a direct grouping is not nil")
	}

	// A bolt that nobody consumes routes nowhere.
	sink := topo.Component("a-all")
	if rs := newRouters(sink, topology.NewContext(topo, sink.Tasks[0], nil), nil, 0); len(rs) != 0 {
		t.Errorf("a-all declares no streams but has routers %v", rs)
	}
}

// A custom grouping that returns a fresh slice, as its contract allows, must
// not drop the destinations other subscriptions of the stream chose before it.
func TestRouteCustomGroupingKeepsOtherDestinations(t *testing.T) {
	topo := routerTopology(t, &freshSliceGrouping{})
	comp := topo.Component("s")
	routers := newRouters(comp, topology.NewContext(topo, comp.Tasks[0], nil), nil, 0)
	values := topology.Values{"x", "user"}
	got := routers[topology.DefaultStream].route(values, nil)
	all := topo.Component("a-all").Tasks
	fields := topo.Component("b-fields").Tasks
	want := append(slices.Clone(all),
		fields[FieldsHash(values, []int{1})%uint64(len(fields))],
		topo.Component("c-custom").Tasks[0])
	// Regression: a custom grouping gets an empty dst (its contract) and
	// its choice is appended to what earlier subscriptions chose.
	if !slices.Equal(got, want) {
		t.Errorf("route(%v) = %v, want %v: the destinations chosen before the custom grouping were lost", values, got, want)
	}
}

func TestChooseDoesNotAllocate(t *testing.T) {
	tasks := tasksRange(1, 8)
	tests := []struct {
		name   string
		c      chooser
		values topology.Values
	}{
		{"shuffle", newChooser(sub(topology.ShuffleGrouping(), tasks), nil, topology.DefaultStream, nil, 1), topology.Values{"a"}},
		{"fields string", newChooser(sub(topology.FieldsGrouping("k"), tasks, 0), nil, topology.DefaultStream, nil, 0), topology.Values{"some-user-key"}},
		{"fields int", newChooser(sub(topology.FieldsGrouping("k"), tasks, 0), nil, topology.DefaultStream, nil, 0), topology.Values{12345}},
		{"partial-key", newChooser(sub(topology.PartialKeyGrouping("k"), tasks, 0), nil, topology.DefaultStream, nil, 0), topology.Values{"some-user-key"}},
		{"all", newChooser(sub(topology.AllGrouping(), tasks), nil, topology.DefaultStream, nil, 0), topology.Values{"a"}},
		{"global", newChooser(sub(topology.GlobalGrouping(), tasks), nil, topology.DefaultStream, nil, 0), topology.Values{"a"}},
	}
	for _, tt := range tests {
		dst := make([]topology.TaskID, 0, len(tasks))
		allocs := testing.AllocsPerRun(1000, func() {
			dst = tt.c.choose(tt.values, dst[:0])
		})
		if allocs != 0 {
			t.Errorf("%s: choose allocates %v times per call, want 0", tt.name, allocs)
		}
	}
}

// scaledRoutingTopology has a spout whose default stream goes to a bolt of max
// parallelism 8 by fields, shuffle, partial key and a custom grouping.
func scaledRoutingTopology(t *testing.T, g topology.CustomStreamGrouping) *topology.Topology {
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
	return topo.Instance()
}

// TestRouteFollowsTheScale checks that an emitting task's router routes
// only to running tasks, and picks up a rebalance at its next emit: fields
// grouping sends each key to the one running task that serves its key
// group, shuffle spreads over the running tasks, a custom grouping is
// prepared again with them.
func TestRouteFollowsTheScale(t *testing.T) {
	g := &recordingGrouping{}
	topo := scaledRoutingTopology(t, g)
	comp := topo.Component("s")
	r := newRouters(comp, topology.NewContext(topo, comp.Tasks[0], nil), nil, 0)[topology.DefaultStream]
	byComp := func(dst []topology.TaskID) map[topology.ComponentID][]topology.TaskID {
		m := map[topology.ComponentID][]topology.TaskID{}
		for _, task := range dst {
			c := topo.ComponentOf(task).ID
			m[c] = append(m[c], task)
		}
		return m
	}
	for _, k := range []int{2, 5, 8, 3, 1} {
		if _, err := topo.SetParallelism(map[topology.ComponentID]int{"f": k, "p": k, "r": k, "x": k}); err != nil {
			t.Fatal(err)
		}
		seenShuffle := map[topology.TaskID]bool{}
		for i := range 200 {
			key := fmt.Sprintf("key-%d", i)
			got := byComp(r.route(topology.Values{key}, nil))
			for _, c := range []topology.ComponentID{"f", "p", "r"} {
				if len(got[c]) != 1 {
					t.Fatalf("K=%d: %s got %v for one tuple", k, c, got[c])
				}
				if idx := int(got[c][0] - topo.Component(c).Tasks[0]); idx >= k {
					t.Fatalf("K=%d: %s routed %q to task index %d, which does not run", k, c, key, idx)
				}
			}
			f := topo.Component("f").Tasks
			want := f[topology.KeyGroupOwners(k, 8)[topology.KeyGroup(FieldsHash(topology.Values{key}, []int{0}), 8)]]
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
	}
}

// The per-emit check of the scale costs no allocation.
func TestRouteWithScaleDoesNotAllocate(t *testing.T) {
	topo := scaledRoutingTopology(t, &recordingGrouping{})
	comp := topo.Component("s")
	r := newRouters(comp, topology.NewContext(topo, comp.Tasks[0], nil), nil, 0)[topology.DefaultStream]
	dst := make([]topology.TaskID, 0, 8)
	values := topology.Values{"some-user-key"}
	dst = r.route(values, dst[:0])
	allocs := testing.AllocsPerRun(1000, func() { dst = r.route(values, dst[:0]) })
	if allocs != 0 {
		t.Errorf("route allocates %v times per call, want 0", allocs)
	}
}

// BenchmarkRouteFields is the per-emit cost of fields grouping with the
// scale check (a rebalance may change the running tasks) and without it
// (the routing before live rebalance).
func BenchmarkRouteFields(b *testing.B) {
	for _, scaled := range []bool{false, true} {
		b.Run(fmt.Sprintf("scaled=%v", scaled), func(b *testing.B) {
			bld := topology.NewBuilder("bench")
			bld.SetSpout("s", func() topology.Spout { return routingTestSpout{} }, 1).Output("k")
			bld.SetBolt("f", func() topology.Bolt { return routingTestBolt{} }, 4).NumTasks(8).FieldsGrouping("s", "k")
			topo, err := bld.Build(nil)
			if err != nil {
				b.Fatal(err)
			}
			comp := topo.Component("s")
			r := newRouters(comp, topology.NewContext(topo.Instance(), comp.Tasks[0], nil), nil, 0)[topology.DefaultStream]
			if !scaled {
				r.scale = nil
			}
			values := topology.Values{"some-user-key"}
			dst := make([]topology.TaskID, 0, 4)
			b.ReportAllocs()
			for b.Loop() {
				dst = r.route(values, dst[:0])
			}
		})
	}
}
