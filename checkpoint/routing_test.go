package checkpoint_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/internal/routing"
)

// squallPlacement is a placement with the owner table squall's routing
// really uses (the key groups live rebalance moves).
func squallPlacement(p, m int) checkpoint.Placement {
	return checkpoint.Placement{Component: "count", Tasks: tasks(10, m), Parallelism: p, Owners: routing.KeyGroupOwners(p, m)}
}

// TestRescaleWithRoutingOwnersGolden pins the moves of the live
// rebalance of a stateful count 2 -> 5 -> 1 over 8 key groups, on routing's
// owner tables (testdata/rescale-routing.golden). Routing moves only the
// key groups that must move: growing, groups go only to the new tasks;
// shrinking, only from the stopped ones.
func TestRescaleWithRoutingOwnersGolden(t *testing.T) {
	var b strings.Builder
	steps := []int{2, 5, 1}
	for i := 1; i < len(steps); i++ {
		then, now := squallPlacement(steps[i-1], 8), squallPlacement(steps[i], 8)
		r, err := checkpoint.PlanRescale(then, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, mv := range r.Moves {
			grow := steps[i] > steps[i-1]
			if grow && !contains(r.Started, mv.To) || !grow && !contains(r.Stopped, mv.From) {
				t.Errorf("%d -> %d: key group %d moves %d -> %d, between tasks that both run before and after", steps[i-1], steps[i], mv.KeyGroup, mv.From, mv.To)
			}
		}
		fmt.Fprintf(&b, "# %d -> %d\n%s", steps[i-1], steps[i], formatRescale(r))
	}
	golden := "testdata/rescale-routing.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("rescale plan differs from %s\n--- got\n%s--- want\n%s", golden, b.String(), want)
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
