package state

import (
	"fmt"
	"slices"

	"github.com/squall-streams/squall/checkpoint"
)

// KeyValueState is Storm's KeyValueState: a map of the task's own, not
// scoped to the current key, for bolts ported from Storm's IStatefulBolt.
// It is checkpointed like keyed state but belongs to the task index, so a
// component that uses it cannot change its parallelism
// (checkpoint.ErrTaskStateRescale).
type KeyValueState[K, V any] struct {
	b      *Backend
	name   string
	keys   Codec[K]
	values Codec[V]
}

// NewKeyValueState registers a task-scoped map under name.
func NewKeyValueState[K, V any](b *Backend, name string, keys Codec[K], values Codec[V]) (*KeyValueState[K, V], error) {
	if err := b.register(name, false); err != nil {
		return nil, err
	}
	return &KeyValueState[K, V]{b: b, name: name, keys: keys, values: values}, nil
}

func (s *KeyValueState[K, V]) entry(k K) (entry, error) {
	sub, err := s.keys.Append(nil, k)
	if err != nil {
		return entry{}, fmt.Errorf("key-value state %q: key: %w", s.name, err)
	}
	return entry{s.name, "", string(sub)}, nil
}

// Put sets k to v.
func (s *KeyValueState[K, V]) Put(k K, v V) error {
	e, err := s.entry(k)
	if err != nil {
		return err
	}
	raw, err := s.values.Append(nil, v)
	if err != nil {
		return fmt.Errorf("key-value state %q: %w", s.name, err)
	}
	s.b.put(TaskScope, e, raw)
	return nil
}

// Get returns k's value and whether there is one.
func (s *KeyValueState[K, V]) Get(k K) (V, bool, error) {
	var zero V
	e, err := s.entry(k)
	if err != nil {
		return zero, false, err
	}
	raw, ok := s.b.get(TaskScope, e)
	if !ok {
		return zero, false, nil
	}
	v, err := s.values.Decode(raw)
	if err != nil {
		return zero, false, fmt.Errorf("key-value state %q: %w", s.name, err)
	}
	return v, true, nil
}

// GetOr returns k's value, or def when there is none (Storm's get(key,
// defaultValue)).
func (s *KeyValueState[K, V]) GetOr(k K, def V) (V, error) {
	v, ok, err := s.Get(k)
	if err != nil || !ok {
		return def, err
	}
	return v, nil
}

// Delete removes k.
func (s *KeyValueState[K, V]) Delete(k K) error {
	e, err := s.entry(k)
	if err != nil {
		return err
	}
	s.b.del(TaskScope, e)
	return nil
}

// Range calls fn for every entry in the order of the encoded keys until fn
// returns false (Storm's iterator).
func (s *KeyValueState[K, V]) Range(fn func(K, V) bool) error {
	gr := s.b.groups[TaskScope]
	var subs []string
	for e := range gr {
		if e.state == s.name {
			subs = append(subs, e.sub)
		}
	}
	slices.Sort(subs)
	for _, sub := range subs {
		k, err := s.keys.Decode([]byte(sub))
		if err != nil {
			return fmt.Errorf("key-value state %q: key: %w", s.name, err)
		}
		v, err := s.values.Decode(gr[entry{s.name, "", sub}])
		if err != nil {
			return fmt.Errorf("key-value state %q: %w", s.name, err)
		}
		if !fn(k, v) {
			return nil
		}
	}
	return nil
}

// StatefulBolt is Storm's IStatefulBolt: the runtime hands the bolt its
// state once, before the first tuple and again after every restore.
// InitState is called from the task's goroutine.
type StatefulBolt[S any] interface {
	InitState(state S)
}

// CheckpointHooks are Storm's IStatefulComponent hooks, optional: a
// StatefulBolt that also implements them is called at each step of the
// checkpoint, from the task's goroutine, and must not block.
type CheckpointHooks interface {
	// PrePrepare runs at barrier id, before the state is snapshotted: flush
	// what the bolt holds outside its state.
	PrePrepare(id checkpoint.ID)
	// PreCommit runs when checkpoint id completed.
	PreCommit(id checkpoint.ID)
	// PreRollback runs before the state rolls back to the last completed
	// checkpoint.
	PreRollback()
}

// Stateful drives a Storm-style stateful bolt through the checkpoint
// lifecycle on its task's Backend: the shape of Storm's
// StatefulBoltExecutor, with barriers instead of $checkpoint tuples. The
// executor owns it and calls it from the task's goroutine.
type Stateful[S any] struct {
	bolt  StatefulBolt[S]
	hooks CheckpointHooks // nil when the bolt has none
	b     *Backend
	state S
}

// NewStateful wraps bolt, whose state is state (handles registered on b).
func NewStateful[S any](bolt StatefulBolt[S], b *Backend, state S) *Stateful[S] {
	h, _ := bolt.(CheckpointHooks)
	return &Stateful[S]{bolt: bolt, hooks: h, b: b, state: state}
}

// Init hands the bolt its state (Storm's INITSTATE): call it once the
// backend holds the restored state, before the first tuple.
func (s *Stateful[S]) Init() { s.bolt.InitState(s.state) }

// Prepare runs PrePrepare and snapshots checkpoint id with contents
// (Storm's PREPARE).
func (s *Stateful[S]) Prepare(id checkpoint.ID, contents Contents) *Snapshot {
	if s.hooks != nil {
		s.hooks.PrePrepare(id)
	}
	return s.b.Snapshot(id, contents)
}

// Commit runs PreCommit when checkpoint id completed (Storm's COMMIT).
func (s *Stateful[S]) Commit(id checkpoint.ID) {
	if s.hooks != nil {
		s.hooks.PreCommit(id)
	}
}

// Rollback runs PreRollback, restores groups (the last completed
// checkpoint's state of this task) and hands the bolt its state again
// (Storm's ROLLBACK then INITSTATE).
func (s *Stateful[S]) Rollback(groups map[uint32][]Record) error {
	if s.hooks != nil {
		s.hooks.PreRollback()
	}
	if err := s.b.Restore(groups); err != nil {
		return err
	}
	s.Init()
	return nil
}
