package routing

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/squall-streams/squall/topology"
)

// streamSubs are the subscriptions of one stream: consumers f (fields), p
// (partial key), r (shuffle), l (local-or-shuffle), d (direct) and x
// (custom), each with 8 tasks.
func streamSubs(custom topology.CustomStreamGrouping) []topology.Subscription {
	return []topology.Subscription{
		{Consumer: "f", Grouping: topology.FieldsGrouping("k"), FieldIndex: []int{0}, Tasks: tasksRange(1, 8)},
		{Consumer: "p", Grouping: topology.PartialKeyGrouping("k"), FieldIndex: []int{0}, Tasks: tasksRange(11, 8)},
		{Consumer: "r", Grouping: topology.ShuffleGrouping(), Tasks: tasksRange(21, 8)},
		{Consumer: "l", Grouping: topology.LocalOrShuffleGrouping(), Tasks: tasksRange(31, 8)},
		{Consumer: "d", Grouping: topology.DirectGrouping(), Tasks: tasksRange(41, 8)},
		{Consumer: "x", Grouping: topology.CustomGrouping(custom), Tasks: tasksRange(51, 8)},
	}
}

func parallelismOf(p map[topology.ComponentID]int) func(topology.ComponentID) int {
	return func(id topology.ComponentID) int { return p[id] }
}

func TestNewTable(t *testing.T) {
	subs := streamSubs(&recordingGrouping{})
	odd := func(task topology.TaskID) bool { return task%2 == 1 }
	p := map[topology.ComponentID]int{"f": 3, "p": 5, "r": 2, "l": 4, "d": 8, "x": 0}
	tab := NewTable(7, subs, parallelismOf(p), odd, nil)
	if tab.Epoch != 7 || len(tab.Subs) != 5 {
		t.Fatalf("table: epoch %d, %d subs; want 7 and 5 (the direct one left out)", tab.Epoch, len(tab.Subs))
	}
	tests := []struct {
		consumer topology.ComponentID
		running  int
		near     []topology.TaskID
	}{
		{"f", 3, nil}, {"p", 5, nil}, {"r", 2, nil}, {"l", 4, []topology.TaskID{31, 33}}, {"x", 1, nil},
	}
	for i, tt := range tests {
		s := tab.Subs[i]
		if s.Consumer != tt.consumer || s.Running != tt.running || !slices.Equal(s.Near, tt.near) {
			t.Errorf("sub %d: %s running %d near %v; want %s running %d near %v", i, s.Consumer, s.Running, s.Near, tt.consumer, tt.running, tt.near)
		}
		if got := s.RunningTasks(); !slices.Equal(got, s.Tasks[:tt.running]) {
			t.Errorf("%s: running tasks %v", s.Consumer, got)
		}
	}
	for i := range 100 {
		h := FieldsHash(topology.Values{fmt.Sprint(i)}, []int{0})
		if got, want := tab.Subs[0].ByGroup[KeyGroup(h, 8)], TaskOfKey(h, subs[0].Tasks, 3); got != want {
			t.Fatalf("fields key group table sends hash %#x to %d, want %d", h, got, want)
		}
	}
	if !slices.Equal(tab.Subs[1].Owners, KeyGroupOwners(5, 8)) {
		t.Errorf("partial-key owners %v, want %v", tab.Subs[1].Owners, KeyGroupOwners(5, 8))
	}

	// A new table keeps the Sub of every subscription that routes alike.
	p2 := map[topology.ComponentID]int{"f": 3, "p": 6, "r": 2, "l": 4, "d": 1, "x": 0}
	next := NewTable(8, subs, parallelismOf(p2), odd, tab)
	for i, s := range next.Subs {
		if same, want := s == tab.Subs[i], s.Consumer != "p"; same != want {
			t.Errorf("%s: Sub reused = %v, want %v", s.Consumer, same, want)
		}
	}
	// The directory snapshot is part of local-or-shuffle's routing.
	none := NewTable(9, subs, parallelismOf(p2), nil, next)
	if none.Subs[3] == next.Subs[3] || len(none.Subs[3].Near) != 0 {
		t.Errorf("local-or-shuffle kept its near tasks %v without a directory", none.Subs[3].Near)
	}
}

// TestRouteFollowsTheTable checks that an emitting task's route chooses
// only among running tasks and picks up a new table at its next emit:
// fields grouping sends each key to the one running task that serves its
// key group, shuffle spreads over the running tasks, a custom grouping is
// prepared again with them, and unchanged subscriptions keep their chooser.
func TestRouteFollowsTheTable(t *testing.T) {
	g := &recordingGrouping{}
	subs := streamSubs(g)
	byConsumer := map[topology.TaskID]topology.ComponentID{}
	for _, s := range subs {
		for _, task := range s.Tasks {
			byConsumer[task] = s.Consumer
		}
	}
	var live atomic.Pointer[Table]
	p := map[topology.ComponentID]int{"f": 8, "p": 8, "r": 8, "l": 8, "x": 8}
	live.Store(NewTable(1, subs, parallelismOf(p), nil, nil))
	tc := &topology.Context{Component: "s", Task: 99}
	r := NewRoute(&live, tc, topology.DefaultStream, 3)
	if g.prepared != 1 || g.tc != tc {
		t.Fatalf("custom grouping prepared %d times (context %p), want once with %p", g.prepared, g.tc, tc)
	}
	for epoch, k := range []int{2, 5, 8, 3, 1} {
		for _, c := range []topology.ComponentID{"f", "p", "r", "x"} {
			p[c] = k
		}
		prepared := g.prepared
		live.Store(NewTable(uint64(epoch+2), subs, parallelismOf(p), nil, live.Load()))
		seenShuffle := map[topology.TaskID]bool{}
		for i := range 200 {
			key := fmt.Sprintf("key-%d", i)
			got := map[topology.ComponentID][]topology.TaskID{}
			for _, task := range r.Choose(topology.Values{key}, nil) {
				got[byConsumer[task]] = append(got[byConsumer[task]], task)
			}
			for _, s := range subs[:3] {
				if len(got[s.Consumer]) != 1 || int(got[s.Consumer][0]-s.Tasks[0]) >= k {
					t.Fatalf("K=%d: %s got %v for %q, want one of its first %d tasks", k, s.Consumer, got[s.Consumer], key, k)
				}
			}
			if want := TaskOfKey(FieldsHash(topology.Values{key}, []int{0}), subs[0].Tasks, k); got["f"][0] != want {
				t.Fatalf("K=%d: fields grouping sent %q to %d, want %d", k, key, got["f"][0], want)
			}
			if len(got["l"]) != 1 || len(got["d"]) != 0 {
				t.Fatalf("K=%d: local-or-shuffle got %v, direct %v", k, got["l"], got["d"])
			}
			seenShuffle[got["r"][0]] = true
		}
		if len(seenShuffle) != k {
			t.Errorf("K=%d: shuffle reached %d tasks", k, len(seenShuffle))
		}
		if want := subs[5].Tasks[:k]; !slices.Equal(g.targets, want) || g.prepared != prepared+1 {
			t.Errorf("K=%d: custom grouping prepared %d more times with %v, want once with %v", k, g.prepared-prepared, g.targets, want)
		}
		if r.Table() != live.Load() {
			t.Errorf("K=%d: the route did not take the new table", k)
		}
	}
	// A table that changes nothing for the custom grouping does not
	// prepare it again.
	prepared := g.prepared
	p["f"] = 4
	live.Store(NewTable(9, subs, parallelismOf(p), nil, live.Load()))
	r.Choose(topology.Values{"x"}, nil)
	if g.prepared != prepared {
		t.Errorf("custom grouping prepared again when only another consumer changed")
	}
}

// The per-emit check of the table costs no allocation.
func TestRouteDoesNotAllocate(t *testing.T) {
	subs := streamSubs(&recordingGrouping{})[:4]
	var live atomic.Pointer[Table]
	live.Store(NewTable(1, subs, func(topology.ComponentID) int { return 4 }, nil, nil))
	r := NewRoute(&live, nil, topology.DefaultStream, 0)
	dst := make([]topology.TaskID, 0, 8)
	values := topology.Values{"some-user-key"}
	allocs := testing.AllocsPerRun(1000, func() { dst = r.Choose(values, dst[:0]) })
	if allocs != 0 {
		t.Errorf("Choose allocates %v times per call, want 0", allocs)
	}
}

// BenchmarkRouteFields is the per-emit cost of fields grouping, the table
// check included.
func BenchmarkRouteFields(b *testing.B) {
	subs := streamSubs(nil)[:1]
	var live atomic.Pointer[Table]
	live.Store(NewTable(1, subs, func(topology.ComponentID) int { return 4 }, nil, nil))
	r := NewRoute(&live, nil, topology.DefaultStream, 0)
	values := topology.Values{"some-user-key"}
	dst := make([]topology.TaskID, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Choose(values, dst[:0])
	}
}
