package state_test

import (
	"fmt"
	"os"

	"github.com/squall-streams/squall/state"
)

// A keyed word count: the executor sets the current key (the word, in its
// key group) before each tuple; the bolt reads and writes its Value; at the
// barrier the task snapshots, stages the snapshot in the state directory
// and acks; the coordinator commits. After a crash, a new task restores the
// last completed checkpoint.
func Example() {
	dir, _ := os.MkdirTemp("", "squall-state")
	defer os.RemoveAll(dir)
	store, _ := state.OpenDir(dir)

	const keyGroups = 4
	keyGroup := func(word string) int { return len(word) % keyGroups } // routing's hash, in squall
	b := state.NewBackend([]int{0, 1, 2, 3})
	count, _ := state.NewValue(b, "count", state.Int64)
	execute := func(word string) int64 {
		b.SetCurrentKey(keyGroup(word), []byte(word))
		n, _, _ := count.Get()
		count.Set(n + 1)
		return n + 1
	}

	for _, w := range []string{"storm", "flink", "storm"} {
		execute(w)
	}
	store.Stage("count", 7, b.Snapshot(1, state.Groups)) // at barrier 1; then ack
	store.Commit(1, 0, nil)                              // the coordinator's Commit
	execute("storm")                                     // after checkpoint 1: lost in the crash

	// A new task after the crash.
	store, _ = state.OpenDir(dir)
	b = state.NewBackend([]int{0, 1, 2, 3})
	count, _ = state.NewValue(b, "count", state.Int64)
	groups, _ := store.Load("count", 7, b.KeyGroups())
	b.Restore(groups)
	fmt.Println("storm:", execute("storm"))
	fmt.Println("flink:", execute("flink"))
	// Output:
	// storm: 3
	// flink: 2
}
