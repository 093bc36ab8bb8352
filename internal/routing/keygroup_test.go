package routing

import (
	"slices"
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
			owners := KeyGroupOwners(k, m)
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
			before := KeyGroupOwners(k, m)
			for k2 := k + 1; k2 <= m; k2++ {
				after := KeyGroupOwners(k2, m)
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

// TestKeyGroupOwnersGolden pins which running task serves each key group.
// A key's task is its key group's owner on every node, and a live
// rebalance moves state by these tables: changing them re-keys running
// topologies. Do not update them to make the test pass.
func TestKeyGroupOwnersGolden(t *testing.T) {
	tests := []struct {
		k, m int
		want []int
	}{
		{1, 4, []int{0, 0, 0, 0}},
		{2, 4, []int{0, 1, 0, 1}},
		{3, 4, []int{0, 1, 2, 1}},
		{4, 4, []int{0, 1, 2, 3}},
		{2, 6, []int{0, 1, 0, 0, 1, 1}},
		{3, 6, []int{0, 1, 2, 0, 1, 2}},
		{5, 6, []int{0, 1, 2, 3, 4, 2}},
		{3, 8, []int{0, 1, 2, 0, 0, 1, 2, 1}},
		{5, 8, []int{0, 1, 2, 3, 4, 1, 2, 3}},
		{7, 12, []int{0, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5}},
		// Out of range: parallelism is clamped to [1, M].
		{0, 4, []int{0, 0, 0, 0}},
		{9, 4, []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		if got := KeyGroupOwners(tt.k, tt.m); !slices.Equal(got, tt.want) {
			t.Errorf("KeyGroupOwners(%d, %d) = %v, want %v", tt.k, tt.m, got, tt.want)
		}
	}
}

func TestKeyGroup(t *testing.T) {
	tests := []struct {
		hash uint64
		m    int
		want int
	}{
		{0, 1, 0}, {7, 1, 0}, {7, 4, 3}, {8, 4, 0}, {^uint64(0), 6, int(^uint64(0) % 6)},
		{0x115b0f969f929fd9, 8, int(0x115b0f969f929fd9 % 8)},
	}
	for _, tt := range tests {
		if got := KeyGroup(tt.hash, tt.m); got != tt.want {
			t.Errorf("KeyGroup(%#x, %d) = %d, want %d", tt.hash, tt.m, got, tt.want)
		}
	}
}

// TestTaskOfKey: a key goes to the owner of its key group among the
// running tasks, and with every task running to task hash mod M.
func TestTaskOfKey(t *testing.T) {
	tasks := []topology.TaskID{11, 12, 13, 14, 15, 16}
	h := FieldsHash(topology.Values{"hello"}, []int{0}) // 0x115b0f969f929fd9
	if got, want := TaskOfKey(h, tasks, 6), tasks[h%6]; got != want {
		t.Errorf("TaskOfKey at full parallelism = %d, want %d", got, want)
	}
	for k := 1; k <= 6; k++ {
		want := tasks[KeyGroupOwners(k, 6)[KeyGroup(h, 6)]]
		if got := TaskOfKey(h, tasks, k); got != want || got >= tasks[0]+topology.TaskID(k) {
			t.Errorf("K=%d: TaskOfKey = %d, want %d among the first %d", k, got, want, k)
		}
	}
}
