package checkpoint

import (
	"errors"
	"fmt"
	"slices"

	"github.com/squall-streams/squall/topology"
)

// Errors of recovery and rescale planning. Each means the topology must
// stop rather than run on wrong state. Match with errors.Is.
var (
	// ErrBadAssignment: an owner table does not fit its component.
	ErrBadAssignment = errors.New("checkpoint: key-group assignment does not fit the component")
	// ErrMissingAck: the completed record lacks the ack of a task that ran
	// when it was taken, so the state of that task's key groups is unknown.
	ErrMissingAck = errors.New("checkpoint: completed record lacks a task's ack")
	// ErrTaskStateRescale: a component with task-scoped state (Storm's
	// KeyValueState) changed its running tasks; only keyed state moves.
	ErrTaskStateRescale = errors.New("checkpoint: task-scoped state cannot move to a different set of tasks")
)

// Completed is the record of a completed checkpoint, as the store keeps it.
type Completed[A any] struct {
	ID    ID
	Epoch Epoch
	Acks  map[topology.TaskID]A
}

// Placement is how one component's key groups sat on its tasks at one time.
// Tasks are all the component's tasks, in order (len = its max parallelism
// M = its number of key groups); the first Parallelism of them run, and
// Owners[g] is the index among those running tasks that serves key group g
// (the shell passes the routing package's KeyGroupOwners(Parallelism, M)).
type Placement struct {
	Component   topology.ComponentID
	Tasks       []topology.TaskID
	Parallelism int
	Owners      []int
	// TaskScoped says the component also has task-scoped state, which
	// cannot move: its running tasks may not change across a restore.
	TaskScoped bool
}

func (p Placement) check() error {
	m := len(p.Tasks)
	switch {
	case m == 0:
		return fmt.Errorf("%w: component %q has no tasks", ErrBadAssignment, p.Component)
	case p.Parallelism < 1 || p.Parallelism > m:
		return fmt.Errorf("%w: component %q: parallelism %d outside 1..%d", ErrBadAssignment, p.Component, p.Parallelism, m)
	case len(p.Owners) != m:
		return fmt.Errorf("%w: component %q: %d owners for %d key groups", ErrBadAssignment, p.Component, len(p.Owners), m)
	}
	for g, i := range p.Owners {
		if i < 0 || i >= p.Parallelism {
			return fmt.Errorf("%w: component %q: key group %d served by running index %d, outside 0..%d", ErrBadAssignment, p.Component, g, i, p.Parallelism-1)
		}
	}
	return nil
}

// owner is the task serving key group g.
func (p Placement) owner(g int) topology.TaskID { return p.Tasks[p.Owners[g]] }

// Move is one key group whose state changes hands.
type Move struct {
	KeyGroup int
	From, To topology.TaskID
}

// Rescale is what changing a component's parallelism moves.
type Rescale struct {
	Component topology.ComponentID
	// Moves are the key groups that change owner, by key group.
	Moves []Move
	// Gains and Losses are the same moves by task: the key groups each
	// task loads from the checkpoint, and those it hands off and drops.
	Gains, Losses map[topology.TaskID][]int
	// Stopped are the tasks that ran before and do not now; Started the
	// reverse.
	Stopped, Started []topology.TaskID
}

// PlanRescale says which key groups' state moves to which task when a
// component goes from placement then to placement now, both at one
// checkpoint boundary. The key groups (the component's tasks) are fixed for
// the topology's lifetime; only their owners change.
func PlanRescale(then, now Placement) (Rescale, error) {
	if err := then.check(); err != nil {
		return Rescale{}, err
	}
	if err := now.check(); err != nil {
		return Rescale{}, err
	}
	if then.Component != now.Component || !slices.Equal(then.Tasks, now.Tasks) {
		return Rescale{}, fmt.Errorf("%w: component %q with tasks %v cannot rescale into %q with tasks %v (the key groups are fixed)", ErrBadAssignment, then.Component, then.Tasks, now.Component, now.Tasks)
	}
	if then.TaskScoped && then.Parallelism != now.Parallelism {
		return Rescale{}, fmt.Errorf("%w: component %q from %d to %d tasks", ErrTaskStateRescale, now.Component, then.Parallelism, now.Parallelism)
	}
	r := Rescale{Component: now.Component, Gains: map[topology.TaskID][]int{}, Losses: map[topology.TaskID][]int{}}
	for g := range now.Owners {
		from, to := then.owner(g), now.owner(g)
		if from == to {
			continue
		}
		r.Moves = append(r.Moves, Move{KeyGroup: g, From: from, To: to})
		r.Gains[to] = append(r.Gains[to], g)
		r.Losses[from] = append(r.Losses[from], g)
	}
	r.Stopped = slices.Clone(then.Tasks[min(now.Parallelism, then.Parallelism):then.Parallelism])
	r.Started = slices.Clone(now.Tasks[min(now.Parallelism, then.Parallelism):now.Parallelism])
	return r, nil
}

// Recovery is what every task restores after a failure: the checkpoint,
// and per running task what it acked then and which key groups it serves
// now with where their state was.
type Recovery[A any] struct {
	Epoch Epoch // the restore epoch to run in
	From  ID    // the checkpoint restored; 0 = start from nothing
	Tasks map[topology.TaskID]TaskRestore[A]
}

// TaskRestore is one running task's part of a Recovery.
type TaskRestore[A any] struct {
	// Ack is what this task acked at the checkpoint (a spout's source
	// position, task-scoped state); HasAck is false for a task that did not
	// run then, or when starting from nothing.
	Ack    A
	HasAck bool
	// KeyGroups are the key groups the task serves now, ascending, each
	// with the task whose ack holds its state at the checkpoint.
	KeyGroups []KeyGroupSource
}

// KeyGroupSource says where a key group's state is in a checkpoint.
type KeyGroupSource struct {
	KeyGroup int
	From     topology.TaskID // the task that served it when the checkpoint was taken
}

// PlanRecovery plans the global restore of epoch to the last completed
// checkpoint last (nil: none completed, start from nothing). running are
// the tasks that run after the restore; keyed lists, for every component
// with keyed state, its placement when last was taken and now (they may
// differ: a rescale or a moved task).
//
// There is no fallback to an older checkpoint: a completed checkpoint's
// transactions may be committed, and restoring an earlier one would emit
// its output twice. A record that cannot be restored is an error and the
// topology must stop.
func PlanRecovery[A any](epoch Epoch, last *Completed[A], running []topology.TaskID, keyed [][2]Placement) (Recovery[A], error) {
	rec := Recovery[A]{Epoch: epoch, Tasks: make(map[topology.TaskID]TaskRestore[A], len(running))}
	if last != nil {
		rec.From = last.ID
	}
	isRunning := make(map[topology.TaskID]bool, len(running))
	for _, t := range running {
		isRunning[t] = true
		var tr TaskRestore[A]
		if last != nil {
			tr.Ack, tr.HasAck = last.Acks[t]
		}
		rec.Tasks[t] = tr
	}
	for _, pair := range keyed {
		then, now := pair[0], pair[1]
		if _, err := PlanRescale(then, now); err != nil {
			return Recovery[A]{}, err
		}
		for g := range now.Owners {
			to := now.owner(g)
			if !isRunning[to] {
				return Recovery[A]{}, fmt.Errorf("%w: component %q: key group %d is placed on task %d, which does not run", ErrBadAssignment, now.Component, g, to)
			}
			src := KeyGroupSource{KeyGroup: g, From: then.owner(g)}
			if last != nil {
				if _, ok := last.Acks[src.From]; !ok {
					return Recovery[A]{}, fmt.Errorf("%w: checkpoint %d: component %q: task %d served key group %d but did not ack", ErrMissingAck, last.ID, now.Component, src.From, g)
				}
			}
			tr := rec.Tasks[to]
			tr.KeyGroups = append(tr.KeyGroups, src)
			rec.Tasks[to] = tr
		}
	}
	return rec, nil
}
