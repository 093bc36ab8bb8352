package topology_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/squall-streams/squall/topology"
)

// TestKeyGroupsLandOnExactlyOneRunningTask checks, for every max
// parallelism M and parallelism K <= M, that every key group is served by
// one running index in [0, K), that running tasks serve numbers of key
// groups within one of each other, and that with K = M task i serves key
// group i (hash mod M, the routing before key groups).
func TestKeyGroupsLandOnExactlyOneRunningTask(t *testing.T) {
	for m := 1; m <= 64; m++ {
		for k := 1; k <= m; k++ {
			owners := topology.KeyGroupOwners(k, m)
			if len(owners) != m {
				t.Fatalf("M=%d K=%d: %d owners", m, k, len(owners))
			}
			served := make([]int, k)
			for g, i := range owners {
				if i < 0 || i >= k {
					t.Fatalf("M=%d K=%d: key group %d -> index %d, outside [0,%d)", m, k, g, i, k)
				}
				if k == m && i != g {
					t.Fatalf("M=%d K=M: key group %d is served by %d, want task index %d (hash mod M)", m, g, i, g)
				}
				served[i]++
			}
			if lo, hi := slices.Min(served), slices.Max(served); hi-lo > 1 {
				t.Fatalf("M=%d K=%d: key groups per running task %v, want within one of each other", m, k, served)
			}
		}
	}
}

// TestRescaleMovesOnlyKeyGroupsThatMust checks that K -> K' moves only key
// groups between a task that stops or starts and the others: growing, a
// group moves only to a new task; shrinking, only away from a stopped one.
// So the number moved is exactly what the new or stopped tasks serve.
func TestRescaleMovesOnlyKeyGroupsThatMust(t *testing.T) {
	for m := 1; m <= 48; m++ {
		for k := 1; k <= m; k++ {
			before := topology.KeyGroupOwners(k, m)
			for k2 := k + 1; k2 <= m; k2++ {
				after := topology.KeyGroupOwners(k2, m)
				moved, onNew := 0, 0
				for g := range m {
					if after[g] >= k {
						onNew++
					}
					if before[g] != after[g] {
						moved++
						if after[g] < k {
							t.Fatalf("M=%d %d->%d: key group %d moved from task %d to task %d, which ran before", m, k, k2, g, before[g], after[g])
						}
					}
				}
				if moved != onNew {
					t.Fatalf("M=%d %d->%d: %d key groups moved, but the new tasks serve %d", m, k, k2, moved, onNew)
				}
			}
		}
	}
}

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
