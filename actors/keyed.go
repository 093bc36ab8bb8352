package actors

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// keyedState is a bolt task's keyed state (package state), for a bolt that
// declares state (topology.StateDeclarer): its Backend, serving the key
// groups the fields grouping routes to this task, and the key of every
// tuple it executes. In exactly-once the Backend is snapshotted at each
// barrier and rebuilt from the checkpoint on a restore (eos.go); in the
// other guarantees it lives as long as the task instance.
type keyedState struct {
	env     *Env
	comp    *topology.Component
	index   int // the task's index among its component's tasks
	backend *state.Backend
	// fields are the grouping fields' positions per input stream; a tuple
	// of a stream not here (a tick) has no current key.
	fields map[inputKey][]int
	buf    []byte
	eos    bool
}

type inputKey struct {
	source topology.ComponentID
	stream topology.StreamID
}

func newKeyedState(env *Env, c *topology.Component, tc *topology.Context) keyedState {
	st := c.Capabilities.State
	if len(st.Keyed) == 0 && len(st.Task) == 0 {
		return keyedState{}
	}
	k := keyedState{env: env, comp: c, index: tc.TaskIndex, fields: map[inputKey][]int{}, eos: env.eos != nil}
	for _, in := range c.Inputs {
		for _, sub := range env.Topology.Component(in.Source).Consumers[in.Stream] {
			if sub.Consumer == c.ID && sub.Grouping.Kind == topology.KindFields {
				k.fields[inputKey{in.Source, in.Stream}] = sub.FieldIndex
			}
		}
	}
	return k
}

func (k *keyedState) on() bool { return k.comp != nil }

// groups are the key groups the task serves at the live parallelism.
func (k *keyedState) groups() []int {
	owners := routing.KeyGroupOwners(k.env.Parallelism(k.comp.ID), len(k.comp.Tasks))
	var out []int
	for g, o := range owners {
		if o == k.index {
			out = append(out, g)
		}
	}
	return out
}

// reset gives tc a new Backend with groups' state (nil: empty), before the
// bolt's Prepare registers its handles on it.
func (k *keyedState) reset(tc *topology.Context, groups map[uint32][]state.Record) error {
	if !k.on() {
		return nil
	}
	k.backend = state.NewBackend(k.groups())
	if groups != nil {
		if err := k.backend.Restore(groups); err != nil {
			return err
		}
	}
	topoaccess.SetState(tc, k.backend)
	return nil
}

// setKey makes t's grouping key the current key.
func (k *keyedState) setKey(t *tuple, stats *TaskStats) {
	idx, ok := k.fields[inputKey{t.SourceComponent(), t.Stream()}]
	if !ok {
		k.backend.ClearCurrentKey()
		return
	}
	k.buf = routing.AppendCanonical(k.buf[:0], t.Values(), idx)
	g := routing.KeyGroup(xxhash.Sum64(k.buf), len(k.comp.Tasks))
	err := k.backend.SetCurrentKey(g, k.buf)
	if errors.Is(err, state.ErrNotOwned) && !k.eos {
		// A live rebalance moved the key group here; outside exactly-once
		// its state does not move with it, so it starts empty.
		if err = k.backend.Acquire(g, nil); err == nil {
			err = k.backend.SetCurrentKey(g, k.buf)
		}
	}
	if err != nil {
		stats.recordError(fmt.Errorf("bolt %q task index %d: key group %d of %v: %w (serving %v)",
			k.comp.ID, k.index, g, slices.Clone(t.Values()), err, k.backend.KeyGroups()))
	}
}
