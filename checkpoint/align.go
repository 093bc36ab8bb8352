package checkpoint

import (
	"errors"
	"fmt"

	"github.com/squall-streams/squall/topology"
)

// Reasons an Aligner gives up a checkpoint (Step.Reason). Match with
// errors.Is.
var (
	// ErrAlignmentOverflow: the tuples parked on blocked channels would pass
	// the byte budget. The checkpoint is declined and every channel unblocked
	// (Heron's "discard markers"): a skewed input costs one checkpoint, never
	// unbounded memory. It counts toward the tolerable failures.
	ErrAlignmentOverflow = errors.New("checkpoint: alignment buffer over budget")
	// ErrBarrierOvertaken: a barrier of a later checkpoint arrived while this
	// one was still aligning, so this one was aborted upstream or elsewhere.
	ErrBarrierOvertaken = errors.New("checkpoint: a later barrier arrived before alignment finished")
	// ErrAborted: the coordinator aborted the checkpoint.
	ErrAborted = errors.New("checkpoint: aborted by the coordinator")
)

// Errors an Aligner returns for input that breaks its contract. The channel
// is not FIFO any more: decline and restore.
var (
	// ErrUnknownChannel: an element from a task that is not an input.
	ErrUnknownChannel = errors.New("checkpoint: element from a task that is not an input channel")
	// ErrBarrierDuplicate: barrier n arrived twice on one channel.
	ErrBarrierDuplicate = errors.New("checkpoint: barrier arrived twice on one channel")
)

// Step is what the task must do after one event, in this order:
//
//  1. process the tuples of Process, in order;
//  2. if Snapshot is not 0: snapshot the task's state for that checkpoint,
//     forward barrier Snapshot on every output channel, ack it to the
//     coordinator;
//  3. process the tuples of Drain, in order (the tuples parked while
//     aligning, which belong after the snapshot).
//
// If Declined is not 0 the task declines that checkpoint to the coordinator
// with Reason; its parked tuples are in Process, since no snapshot will
// separate them from what came before.
//
// The slices are owned by the Aligner and valid until its next call.
type Step[T any] struct {
	Process  []T
	Snapshot ID
	Drain    []T
	Declined ID
	Reason   error
}

type parked[T any] struct {
	t    T
	size int64
}

// Aligner aligns checkpoint barriers at one task with several input
// channels (Flink's aligned checkpoints): barrier n on a channel blocks it,
// the channel's later tuples are parked, and when n arrived on every input
// the task snapshots and then drains what was parked, in arrival order. So
// the snapshot of n reflects exactly the tuples before barrier n on every
// channel. One checkpoint aligns at a time (the coordinator never has two in
// flight); barriers of checkpoints already done are stale and ignored.
//
// T is the shell's tuple type; the Aligner never looks inside it. Not safe
// for concurrent use: the task's actor owns it.
type Aligner[T any] struct {
	index    map[topology.TaskID]int
	maxBytes int64

	current  ID     // checkpoint aligning now, 0 = none
	done     ID     // the highest checkpoint snapshotted or given up
	blocked  []bool // by channel index, for current
	nblocked int
	parked   []parked[T]
	bytes    int64

	out, spare []T // Step slices, reused
}

// NewAligner makes the aligner of a task whose input channels come from
// inputs (every upstream task of every subscribed stream, the idle ones
// too). maxBytes bounds what is parked (checkpoint.alignment.max.bytes);
// size is whatever the shell measures per tuple, usually its encoded bytes.
// done is the last checkpoint the task knows finished (0 at the start, the
// restored one after a restore): barriers up to it are ignored.
func NewAligner[T any](inputs []topology.TaskID, maxBytes int64, done ID) (*Aligner[T], error) {
	if len(inputs) == 0 {
		return nil, errors.New("checkpoint: an aligner needs at least one input channel")
	}
	if maxBytes <= 0 {
		return nil, fmt.Errorf("checkpoint: alignment budget must be > 0 bytes, got %d", maxBytes)
	}
	index := make(map[topology.TaskID]int, len(inputs))
	for i, t := range inputs {
		if _, dup := index[t]; dup {
			return nil, fmt.Errorf("checkpoint: input channel from task %d listed twice", t)
		}
		index[t] = i
	}
	return &Aligner[T]{index: index, maxBytes: maxBytes, done: done, blocked: make([]bool, len(inputs))}, nil
}

// Aligning returns the checkpoint being aligned and how many tuples and
// bytes are parked for it.
func (a *Aligner[T]) Aligning() (id ID, tuples int, bytes int64) {
	return a.current, len(a.parked), a.bytes
}

// Tuple handles tuple t of size bytes from channel from. On the fast path
// (the channel is not blocked) Step.Process is just t.
func (a *Aligner[T]) Tuple(from topology.TaskID, t T, size int64) (Step[T], error) {
	ch, ok := a.index[from]
	if !ok {
		return Step[T]{}, fmt.Errorf("%w: task %d", ErrUnknownChannel, from)
	}
	if a.current == 0 || !a.blocked[ch] {
		a.out = append(a.out[:0], t)
		return Step[T]{Process: a.out}, nil
	}
	if a.bytes+size > a.maxBytes {
		id := a.current
		reason := fmt.Errorf("%w: checkpoint %d at %d parked tuples, %d bytes, +%d > %d", ErrAlignmentOverflow, id, len(a.parked), a.bytes, size, a.maxBytes)
		step := a.giveUp(reason)
		step.Process = append(step.Process, t)
		return step, nil
	}
	a.parked = append(a.parked, parked[T]{t: t, size: size})
	a.bytes += size
	return Step[T]{}, nil
}

// Barrier handles barrier id from channel from.
func (a *Aligner[T]) Barrier(from topology.TaskID, id ID) (Step[T], error) {
	ch, ok := a.index[from]
	if !ok {
		return Step[T]{}, fmt.Errorf("%w: task %d (barrier %d)", ErrUnknownChannel, from, id)
	}
	switch {
	case id <= a.done || (a.current != 0 && id < a.current):
		return Step[T]{}, nil // stale: a checkpoint already done or skipped
	case a.current == id && a.blocked[ch]:
		return Step[T]{}, fmt.Errorf("%w: barrier %d from task %d", ErrBarrierDuplicate, id, from)
	}
	var step Step[T]
	if a.current != 0 && id > a.current {
		step = a.giveUp(fmt.Errorf("%w: checkpoint %d, barrier %d from task %d", ErrBarrierOvertaken, a.current, id, from))
	}
	if a.current == 0 {
		a.current = id
	}
	a.blocked[ch] = true
	a.nblocked++
	if a.nblocked < len(a.blocked) {
		return step, nil
	}
	// Aligned.
	step.Snapshot = id
	a.spare = a.spare[:0]
	for _, p := range a.parked {
		a.spare = append(a.spare, p.t)
	}
	step.Drain = a.spare
	a.done = id
	a.reset()
	return step, nil
}

// Abort gives up checkpoint id because the coordinator aborted it: parked
// tuples are released in Process and later barriers of id are ignored.
// Aborting a checkpoint that is not aligning only marks it done.
func (a *Aligner[T]) Abort(id ID) Step[T] {
	if a.current == id && id != 0 {
		step := a.giveUp(fmt.Errorf("%w: checkpoint %d", ErrAborted, id))
		step.Declined, step.Reason = 0, nil // the coordinator knows
		return step
	}
	a.done = max(a.done, id)
	return Step[T]{}
}

// Reset drops everything parked and forgets the alignment in progress: the
// task is restoring to checkpoint restored, and everything after it will be
// replayed.
func (a *Aligner[T]) Reset(restored ID) {
	a.reset()
	a.done = max(a.done, restored)
}

// giveUp declines the current checkpoint and releases its parked tuples.
func (a *Aligner[T]) giveUp(reason error) Step[T] {
	a.out = a.out[:0]
	for _, p := range a.parked {
		a.out = append(a.out, p.t)
	}
	step := Step[T]{Process: a.out, Declined: a.current, Reason: reason}
	a.done = a.current
	a.reset()
	return step
}

func (a *Aligner[T]) reset() {
	a.current = 0
	clear(a.blocked)
	a.nblocked = 0
	clear(a.parked) // let the parked tuples be collected
	a.parked = a.parked[:0]
	a.bytes = 0
}
