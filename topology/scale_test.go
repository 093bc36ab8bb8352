package topology_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

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
	if len(count.Tasks) != 6 || count.Parallelism != 2 || topo.Parallelism("count") != 2 {
		t.Fatalf("count: %d tasks, parallelism %d (live %d); want 6 tasks, parallelism 2", len(count.Tasks), count.Parallelism, topo.Parallelism("count"))
	}
	// Tasks: count 1-6, src 7, tracker 8. Running: count's first two, src, tracker.
	if got, want := topo.RunningTasks(), []topology.TaskID{1, 2, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("RunningTasks = %v, want %v", got, want)
	}
	changed, err := topo.SetParallelism(map[topology.ComponentID]int{"count": 5})
	if err != nil || !changed {
		t.Fatalf("SetParallelism(count=5) = %v, %v", changed, err)
	}
	if got, want := topo.RunningTasks(), []topology.TaskID{1, 2, 3, 4, 5, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("after count=5: RunningTasks = %v, want %v", got, want)
	}
	if changed, err := topo.SetParallelism(map[topology.ComponentID]int{"count": 5}); changed || err != nil {
		t.Errorf("setting the same parallelism again = %v, %v; want no change", changed, err)
	}
	// An instance has its own scale, starting where its origin is.
	inst := topo.Instance()
	if _, err := inst.SetParallelism(map[topology.ComponentID]int{"count": 1}); err != nil {
		t.Fatal(err)
	}
	if topo.Parallelism("count") != 5 || inst.Parallelism("count") != 1 {
		t.Errorf("instance and origin share their scale: origin %d, instance %d", topo.Parallelism("count"), inst.Parallelism("count"))
	}
	tc := topology.NewContext(inst, 7, nil)
	if got := tc.RunningTasks("count"); !slices.Equal(got, []topology.TaskID{1}) {
		t.Errorf("Context.RunningTasks(count) = %v, want [1]", got)
	}
	if got, want := inst.RunningTasks(), []topology.TaskID{1, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("instance at count=1: RunningTasks = %v, want %v", got, want)
	}
}

func TestSetParallelismValidates(t *testing.T) {
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
		changed, err := topo.SetParallelism(c.p)
		if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), c.want) || changed {
			t.Errorf("SetParallelism(%v) = %v, %v; want an ErrInvalid containing %q", c.p, changed, err, c.want)
		}
	}
	if topo.Parallelism("count") != 2 {
		t.Errorf("a rejected change changed the parallelism to %d", topo.Parallelism("count"))
	}
}
