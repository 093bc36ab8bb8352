package routing

import (
	"fmt"
	"maps"
	"slices"
	"testing"

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
func newChooser(sub topology.Subscription, tc *topology.Context, stream topology.StreamID, local func(topology.TaskID) bool, seed uint64) Chooser {
	return chooserAt(sub, len(sub.Tasks), tc, stream, local, seed)
}

// chooserAt builds the chooser of sub with its first running tasks
// running, those local reports (nil: none) in this process.
func chooserAt(sub topology.Subscription, running int, tc *topology.Context, stream topology.StreamID, local func(topology.TaskID) bool, seed uint64) Chooser {
	if sub.Grouping.Kind == topology.KindDirect {
		return NewChooser(&Sub{Subscription: sub, Running: len(sub.Tasks)}, tc, stream, seed)
	}
	return NewChooser(newSub(sub, running, local), tc, stream, seed)
}

// chooseOne routes values and requires exactly one destination.
func chooseOne(t *testing.T, c Chooser, values topology.Values) topology.TaskID {
	t.Helper()
	got := c.Choose(values, nil)
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
		if got := c.Choose(topology.Values{"x"}, nil); !slices.Equal(got, tasks) {
			t.Errorf("choose = %v, want %v", got, tasks)
		}
	}
	// choose appends to dst.
	got := c.Choose(topology.Values{"x"}, []topology.TaskID{99})
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
		if h%n != Mix64(h)%n {
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

func TestChooseDoesNotAllocate(t *testing.T) {
	tasks := tasksRange(1, 8)
	tests := []struct {
		name   string
		c      Chooser
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
			dst = tt.c.Choose(tt.values, dst[:0])
		})
		if allocs != 0 {
			t.Errorf("%s: choose allocates %v times per call, want 0", tt.name, allocs)
		}
	}
}

func TestDirectGroupingHasNoChooser(t *testing.T) {
	if c := newChooser(sub(topology.DirectGrouping(), tasksRange(1, 3)), nil, "d", nil, 0); c != nil {
		t.Errorf("the chooser of a direct grouping = %v, want nil: the emitter names the task", c)
	}
}

// TestChoosersUseRunningTasksOnly: with K of M tasks running, every grouping
// chooses among the first K, and running is clamped to [1, M].
func TestChoosersUseRunningTasksOnly(t *testing.T) {
	tasks := tasksRange(1, 8)
	groupings := []topology.Grouping{topology.ShuffleGrouping(), topology.FieldsGrouping("k"), topology.AllGrouping(),
		topology.GlobalGrouping(), topology.LocalOrShuffleGrouping(), topology.PartialKeyGrouping("k")}
	for _, g := range groupings {
		for _, tt := range []struct{ running, want int }{{3, 3}, {0, 1}, {-2, 1}, {8, 8}, {20, 8}} {
			c := chooserAt(sub(g, tasks, 0), tt.running, nil, topology.DefaultStream, nil, 5)
			reached := map[topology.TaskID]bool{}
			for i := range 400 {
				for _, task := range c.Choose(topology.Values{fmt.Sprint("k", i)}, nil) {
					if int(task) > tt.want {
						t.Fatalf("%s running=%d: chose task %d, beyond the %d running", g, tt.running, task, tt.want)
					}
					reached[task] = true
				}
			}
			want := tt.want
			if g.Kind == topology.KindGlobal {
				want = 1
			}
			if len(reached) != want {
				t.Errorf("%s running=%d: reached %d tasks, want %d", g, tt.running, len(reached), want)
			}
		}
	}
}
