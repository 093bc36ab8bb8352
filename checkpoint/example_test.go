package checkpoint_test

import (
	"fmt"
	"time"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/topology"
)

// A bolt task with two input channels (from tasks 1 and 2) checks their
// sequence numbers and aligns barrier 1: the tuple task 1 sends after its
// barrier waits until task 2's barrier arrived and the task snapshotted.
func ExampleAligner() {
	a, _ := checkpoint.NewAligner[string]([]topology.TaskID{1, 2}, 64<<20, 0)
	recv := map[topology.TaskID]*checkpoint.Receiver{1: checkpoint.NewReceiver(1, 0), 2: checkpoint.NewReceiver(2, 0)}
	do := func(step checkpoint.Step[string]) {
		for _, t := range step.Process {
			fmt.Println("execute", t)
		}
		if step.Snapshot != 0 {
			fmt.Println("snapshot, forward and ack barrier", step.Snapshot)
		}
		for _, t := range step.Drain {
			fmt.Println("execute", t)
		}
	}
	type elem struct {
		from    topology.TaskID
		seq     checkpoint.Seq
		tuple   string
		barrier checkpoint.ID
	}
	for _, e := range []elem{{1, 1, "a", 0}, {1, 2, "", 1}, {1, 3, "b", 0}, {2, 1, "c", 0}, {2, 2, "", 1}} {
		if ok, err := recv[e.from].Accept(0, e.seq); !ok {
			fmt.Println("decline and restore:", err)
			return
		}
		var step checkpoint.Step[string]
		if e.barrier != 0 {
			step, _ = a.Barrier(e.from, e.barrier)
		} else {
			step, _ = a.Tuple(e.from, e.tuple, int64(len(e.tuple)))
		}
		do(step)
	}
	// Output:
	// execute a
	// execute c
	// snapshot, forward and ack barrier 1
	// execute b
}

// The coordinator's shell feeds it time and events and executes its
// commands; here every task acks at once and the store's write succeeds.
func ExampleCoordinator() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tasks := []topology.TaskID{1, 2}
	c, _ := checkpoint.NewCoordinator[string](checkpoint.DefaultConfig(), tasks, checkpoint.Resume{}, start)
	var exec func(now time.Time, cmds []checkpoint.Command)
	exec = func(now time.Time, cmds []checkpoint.Command) {
		for _, cmd := range cmds {
			switch cmd := cmd.(type) {
			case checkpoint.Trigger:
				fmt.Println("trigger", cmd.ID)
				for _, t := range tasks { // in a topology: the spouts inject barriers, every task acks
					more, _ := c.Ack(now, t, cmd.ID, fmt.Sprint("position of task ", t))
					exec(now, more)
				}
			case checkpoint.Commit[string]:
				fmt.Println("commit", cmd.ID, "with", len(cmd.Acks), "acks")
				exec(now, c.Committed(now, cmd.ID)) // after the store's write returned
			case checkpoint.Complete:
				fmt.Println("complete", cmd.ID)
			}
		}
	}
	for now := start; now.Before(start.Add(2500 * time.Millisecond)); now = now.Add(100 * time.Millisecond) {
		exec(now, c.Tick(now))
	}
	// Output:
	// trigger 1
	// commit 1 with 2 acks
	// complete 1
	// trigger 2
	// commit 2 with 2 acks
	// complete 2
}
