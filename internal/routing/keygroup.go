package routing

import (
	"slices"
	"sync"

	"github.com/squall-streams/squall/topology"
)

// Key groups: a component's NumTasks is its maximum parallelism M, fixed
// when the topology is built, and every one of its M tasks owns one key
// group. Its parallelism K (1 <= K <= M) is how many of those tasks run:
// the first K of Component.Tasks. Fields and partial-key groupings hash a
// key to a key group (hash mod M) and the key group to the running task
// that serves it (KeyGroupOwners), so a key always lands on exactly one
// running task. Running tasks serve numbers of key groups that differ by
// at most one, and changing K moves only the key groups that must move:
// growing from K to K' moves groups only from the first K tasks to the new
// ones, shrinking only from the stopped tasks to the survivors. With K = M
// (the default) task i serves key group i, so a key goes to task hash mod
// M, as before key groups existed.

// KeyGroup is the key group of a key hash among maxParallelism groups.
func KeyGroup(hash uint64, maxParallelism int) int {
	return int(hash % uint64(maxParallelism))
}

// KeyGroupOwners returns, for each of maxParallelism key groups, the index
// among the running tasks (0..parallelism-1) that serves it when the first
// parallelism tasks run. parallelism is clamped to [1, maxParallelism].
// The result is shared: do not modify it.
//
// It grows a chain from one running task: every task that starts takes
// groups (the highest-labelled first) from the most loaded earlier task
// while that task serves at least two more than it does. So the owners at
// K+1 differ from those at K only in groups that moved to task K, and the
// loads stay within one. The chain's labels are then renamed so that at
// K = M task i serves key group i.
func KeyGroupOwners(parallelism, maxParallelism int) []int {
	m := max(maxParallelism, 1)
	k := min(max(parallelism, 1), m)
	key := [2]int{k, m}
	ownersMu.Lock()
	defer ownersMu.Unlock()
	if o, ok := ownersCache[key]; ok {
		return o
	}
	chainK, full := keyGroupChain(k, m)
	// full[label] is the task serving label at K = M: a permutation. Key
	// group g is the label that task g serves at K = M.
	labelOf := make([]int, m)
	for label, task := range full {
		labelOf[task] = label
	}
	owners := make([]int, m)
	for g := range owners {
		owners[g] = chainK[labelOf[g]]
	}
	if len(ownersCache) > 1024 {
		clear(ownersCache)
	}
	ownersCache[key] = owners
	return owners
}

var (
	ownersMu    sync.Mutex
	ownersCache = map[[2]int][]int{}
)

// keyGroupChain returns the chain's owners of m labels at k running tasks
// and at m.
func keyGroupChain(k, m int) (atK, atM []int) {
	owner := make([]int, m)
	held := make([][]int, m) // labels per task, ascending
	for l := range m {
		held[0] = append(held[0], l)
	}
	load := make([]int, m)
	load[0] = m
	if k == 1 {
		atK = slices.Clone(owner)
	}
	for t := 1; t < m; t++ {
		for {
			j := 0
			for i := 1; i < t; i++ {
				if load[i] > load[j] {
					j = i
				}
			}
			if load[j] <= load[t]+1 {
				break
			}
			l := held[j][len(held[j])-1]
			held[j] = held[j][:len(held[j])-1]
			load[j]--
			owner[l] = t
			held[t] = append(held[t], l)
			load[t]++
		}
		slices.Sort(held[t])
		if t+1 == k {
			atK = slices.Clone(owner)
		}
	}
	return atK, owner
}

// TaskOfKey is the running task a key of hash goes to by fields grouping,
// when the first parallelism of tasks (a component's tasks, NumTasks of
// them) run.
func TaskOfKey(hash uint64, tasks []topology.TaskID, parallelism int) topology.TaskID {
	return tasks[KeyGroupOwners(parallelism, len(tasks))[KeyGroup(hash, len(tasks))]]
}
