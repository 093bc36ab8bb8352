package topology_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

func scaledTopology(t *testing.T) *topology.Topology {
	t.Helper()
	b := topology.NewBuilder("scaled")
	b.SetSpout("src", newSpout, 1).Output("k")
	b.SetBolt("count", newBolt, 2).NumTasks(6).FieldsGrouping("src", "k")
	topo, err := b.Build(topology.Config{topology.AckerExecutors: 1})
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestNumTasksIsTheMaximumParallelism(t *testing.T) {
	topo := scaledTopology(t)
	count := topo.Component("count")
	if len(count.Tasks) != 6 || count.Parallelism != 2 {
		t.Fatalf("count: %d tasks, parallelism %d; want 6 tasks, parallelism 2", len(count.Tasks), count.Parallelism)
	}
	// Tasks: count 1-6, src 7, tracker 8. Running at the hints: count's
	// first two, src, tracker.
	if got, want := topoaccess.RunningTasksWith(topo, nil), []topology.TaskID{1, 2, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("RunningTasksWith(nil) = %v, want %v", got, want)
	}
	if got, want := topoaccess.RunningTasksWith(topo, map[topology.ComponentID]int{"count": 5}), []topology.TaskID{1, 2, 3, 4, 5, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("count=5: RunningTasksWith = %v, want %v", got, want)
	}
	// Outside a runtime a Context sees the hints; a runtime makes it
	// follow the live parallelism.
	tc := topoaccess.NewContext(topo, 7, nil)
	if got := tc.RunningTasks("count"); !slices.Equal(got, []topology.TaskID{1, 2}) {
		t.Errorf("Context.RunningTasks(count) = %v, want [1 2]", got)
	}
	live := map[topology.ComponentID]int{"count": 1}
	topoaccess.SetParallelism(tc, func(id topology.ComponentID) int { return live[id] })
	if got := tc.RunningTasks("count"); !slices.Equal(got, []topology.TaskID{1}) {
		t.Errorf("Context.RunningTasks(count) at count=1 = %v, want [1]", got)
	}
	live["count"] = 4
	if got := tc.RunningTasks("count"); !slices.Equal(got, []topology.TaskID{1, 2, 3, 4}) {
		t.Errorf("Context.RunningTasks(count) at count=4 = %v, want [1 2 3 4]", got)
	}
	if tc.RunningTasks("nope") != nil {
		t.Errorf("Context.RunningTasks(nope) is not nil")
	}
}

func TestCheckParallelism(t *testing.T) {
	topo := scaledTopology(t)
	cases := []struct {
		p    map[topology.ComponentID]int
		want string
	}{
		{map[topology.ComponentID]int{"cuont": 2}, `parallelism of "cuont": no such component`},
		{map[topology.ComponentID]int{"count": 0}, `bolt "count": parallelism must be >= 1, got 0`},
		{map[topology.ComponentID]int{"count": 7}, `bolt "count": parallelism 7 is above its NumTasks 6`},
		{map[topology.ComponentID]int{"src": 2}, `spout "src": parallelism 2 is above its NumTasks 1`},
	}
	for _, c := range cases {
		err := topoaccess.CheckParallelism(topo, c.p)
		if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckParallelism(%v) = %v; want an ErrInvalid containing %q", c.p, err, c.want)
		}
	}
	if err := topoaccess.CheckParallelism(topo, map[topology.ComponentID]int{"count": 6, "src": 1}); err != nil {
		t.Errorf("CheckParallelism(count=6, src=1) = %v", err)
	}
}
