package checkpoint_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/topology"
)

// rangeOwners is Flink's contiguous key-group ranges (KeyGroupRangeAssignment):
// key group g is served by running index g*p/m. The planner takes any owner
// table; squall's routing passes its own (routing.KeyGroupOwners).
func rangeOwners(p, m int) []int {
	o := make([]int, m)
	for g := range o {
		o[g] = g * p / m
	}
	return o
}

func tasks(first, n int) []topology.TaskID {
	out := make([]topology.TaskID, n)
	for i := range out {
		out[i] = topology.TaskID(first + i)
	}
	return out
}

func placement(p, m int) checkpoint.Placement {
	return checkpoint.Placement{Component: "count", Tasks: tasks(10, m), Parallelism: p, Owners: rangeOwners(p, m)}
}

// TestRangeOwnersMatchFlink pins the helper to Flink's golden vector:
// maxP 128, p 3 gives [0,42] [43,85] [86,127].
func TestRangeOwnersMatchFlink(t *testing.T) {
	o := rangeOwners(3, 128)
	for g, want := range map[int]int{0: 0, 42: 0, 43: 1, 85: 1, 86: 2, 127: 2} {
		if o[g] != want {
			t.Errorf("key group %d: owner %d, want %d", g, o[g], want)
		}
	}
}

func formatRescale(r checkpoint.Rescale) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: started %v stopped %v, %d moves\n", r.Component, r.Started, r.Stopped, len(r.Moves))
	for _, m := range r.Moves {
		fmt.Fprintf(&b, "  kg %d: %d -> %d\n", m.KeyGroup, m.From, m.To)
	}
	for _, side := range []struct {
		name string
		m    map[topology.TaskID][]int
	}{{"gains", r.Gains}, {"losses", r.Losses}} {
		keys := make([]topology.TaskID, 0, len(side.m))
		for k := range side.m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  task %d %s %v\n", k, side.name, side.m[k])
		}
	}
	return b.String()
}

// TestRescaleGolden pins the moves of a stateful count rescaled 2 -> 5 -> 1
// over 8 key groups (testdata/rescale.golden).
func TestRescaleGolden(t *testing.T) {
	var b strings.Builder
	steps := []int{2, 5, 1, 8, 8}
	for i := 1; i < len(steps); i++ {
		r, err := checkpoint.PlanRescale(placement(steps[i-1], 8), placement(steps[i], 8))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "# %d -> %d\n%s", steps[i-1], steps[i], formatRescale(r))
	}
	golden := "testdata/rescale.golden"
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

// TestRescaleMovesExactlyTheChangedOwners checks, for every pair of
// parallelisms, that after applying the moves every key group sits on its
// new owner and that nothing that stays put is moved.
func TestRescaleMovesExactlyTheChangedOwners(t *testing.T) {
	const m = 12
	for p1 := 1; p1 <= m; p1++ {
		for p2 := 1; p2 <= m; p2++ {
			then, now := placement(p1, m), placement(p2, m)
			r, err := checkpoint.PlanRescale(then, now)
			if err != nil {
				t.Fatal(err)
			}
			at := make([]topology.TaskID, m)
			for g := range at {
				at[g] = then.Tasks[then.Owners[g]]
			}
			for _, mv := range r.Moves {
				if at[mv.KeyGroup] != mv.From {
					t.Fatalf("%d->%d: move of kg %d from %d, but it is on %d", p1, p2, mv.KeyGroup, mv.From, at[mv.KeyGroup])
				}
				if mv.From == mv.To {
					t.Fatalf("%d->%d: kg %d moves to where it is", p1, p2, mv.KeyGroup)
				}
				at[mv.KeyGroup] = mv.To
			}
			for g := range at {
				if want := now.Tasks[now.Owners[g]]; at[g] != want {
					t.Fatalf("%d->%d: kg %d ends on %d, want %d", p1, p2, g, at[g], want)
				}
			}
			for _, s := range r.Stopped {
				var served []int
				for g := range m {
					if then.Tasks[then.Owners[g]] == s {
						served = append(served, g)
					}
				}
				if !slices.Equal(r.Losses[s], served) {
					t.Fatalf("%d->%d: stopped task %d loses %v, but it served %v", p1, p2, s, r.Losses[s], served)
				}
			}
			if len(r.Started) != max(p2-p1, 0) || len(r.Stopped) != max(p1-p2, 0) {
				t.Fatalf("%d->%d: started %v stopped %v", p1, p2, r.Started, r.Stopped)
			}
		}
	}
}

func TestPlanRescaleRejects(t *testing.T) {
	bad := placement(2, 8)
	bad.Owners = bad.Owners[:7]
	outOfRange := placement(2, 8)
	outOfRange.Owners = slices.Clone(outOfRange.Owners)
	outOfRange.Owners[3] = 2
	other := placement(2, 8)
	other.Tasks = tasks(20, 8)
	scoped := placement(2, 8)
	scoped.TaskScoped = true
	tests := []struct {
		name      string
		then, now checkpoint.Placement
		want      error
	}{
		{"short owner table", bad, placement(2, 8), checkpoint.ErrBadAssignment},
		{"owner outside running tasks", placement(2, 8), outOfRange, checkpoint.ErrBadAssignment},
		{"parallelism above max", placement(2, 8), checkpoint.Placement{Component: "count", Tasks: tasks(10, 8), Parallelism: 9, Owners: rangeOwners(8, 8)}, checkpoint.ErrBadAssignment},
		{"different tasks", placement(2, 8), other, checkpoint.ErrBadAssignment},
		{"task-scoped state", scoped, placement(3, 8), checkpoint.ErrTaskStateRescale},
	}
	for _, tt := range tests {
		if _, err := checkpoint.PlanRescale(tt.then, tt.now); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := checkpoint.PlanRescale(scoped, scoped); err != nil {
		t.Errorf("task-scoped state at the same parallelism: %v", err)
	}
}

func TestPlanRecovery(t *testing.T) {
	// Topology: spout task 1, count tasks 10..13 (4 key groups), running 2 at
	// checkpoint 7, running 4 after the restore.
	then, now := placement(2, 4), placement(4, 4)
	last := &checkpoint.Completed[string]{ID: 7, Epoch: 3, Acks: map[topology.TaskID]string{1: "offset=42", 10: "kg0,kg1", 11: "kg2,kg3"}}
	running := []topology.TaskID{1, 10, 11, 12, 13}
	rec, err := checkpoint.PlanRecovery(4, last, running, [][2]checkpoint.Placement{{then, now}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, task := range running {
		tr := rec.Tasks[task]
		fmt.Fprintf(&b, "%d ack=%q/%v kgs=%v;", task, tr.Ack, tr.HasAck, tr.KeyGroups)
	}
	const want = `1 ack="offset=42"/true kgs=[];10 ack="kg0,kg1"/true kgs=[{0 10}];11 ack="kg2,kg3"/true kgs=[{1 10}];12 ack=""/false kgs=[{2 11}];13 ack=""/false kgs=[{3 11}];`
	if got := b.String(); got != want || rec.From != 7 || rec.Epoch != 4 {
		t.Fatalf("recovery from %d epoch %d:\n got %s\nwant %s", rec.From, rec.Epoch, got, want)
	}

	fresh, err := checkpoint.PlanRecovery[string](1, nil, running, [][2]checkpoint.Placement{{now, now}})
	if err != nil || fresh.From != 0 || fresh.Tasks[1].HasAck || len(fresh.Tasks[13].KeyGroups) != 1 {
		t.Fatalf("recovery from nothing = %+v, %v", fresh, err)
	}

	delete(last.Acks, 11)
	if _, err := checkpoint.PlanRecovery(4, last, running, [][2]checkpoint.Placement{{then, now}}); !errors.Is(err, checkpoint.ErrMissingAck) {
		t.Fatalf("record without task 11's ack: err = %v, want ErrMissingAck", err)
	}
	if _, err := checkpoint.PlanRecovery[string](4, nil, []topology.TaskID{1, 10}, [][2]checkpoint.Placement{{then, now}}); !errors.Is(err, checkpoint.ErrBadAssignment) {
		t.Fatalf("key groups placed on tasks that do not run: err = %v, want ErrBadAssignment", err)
	}
}
