package topology

import (
	"fmt"
	"maps"

	"sync/atomic"
)

// Scale is the live parallelism of one running instance of a topology:
// how many of each component's tasks run now. The runtime swaps it on a
// rebalance; emitting tasks load it once per emit (one atomic load) and
// rebuild their routing when it changed. Safe for concurrent use.
type Scale struct {
	cur atomic.Pointer[ScaleTable]
}

// ScaleTable is one immutable version of a Scale.
type ScaleTable struct {
	parallelism map[ComponentID]int
}

// Parallelism is the number of running tasks of component id in this
// version (0 for an unknown component).
func (s *ScaleTable) Parallelism(id ComponentID) int { return s.parallelism[id] }

// All returns a copy of every component's parallelism.
func (s *ScaleTable) All() map[ComponentID]int { return maps.Clone(s.parallelism) }

func newScale(comps []*Component) *Scale {
	p := make(map[ComponentID]int, len(comps))
	for _, c := range comps {
		p[c.ID] = c.Parallelism
	}
	s := &Scale{}
	s.cur.Store(&ScaleTable{parallelism: p})
	return s
}

// Load returns the current version.
func (s *Scale) Load() *ScaleTable { return s.cur.Load() }

// SetParallelism makes parallelism the live parallelism of the components it names
// (the others keep theirs) and reports whether anything changed; emitting
// tasks route over the new running tasks from their next emit, so the
// caller starts tasks before and stops them after. It checks every value
// against the topology first and changes nothing on error.
func (t *Topology) SetParallelism(parallelism map[ComponentID]int) (bool, error) {
	if err := t.CheckParallelism(parallelism); err != nil {
		return false, err
	}
	s := t.scale
	for {
		old := s.Load()
		next := &ScaleTable{parallelism: maps.Clone(old.parallelism)}
		changed := false
		for id, k := range parallelism {
			if next.parallelism[id] != k {
				next.parallelism[id], changed = k, true
			}
		}
		if !changed {
			return false, nil
		}
		if s.cur.CompareAndSwap(old, next) {
			return true, nil
		}
	}
}

// CheckParallelism reports whether every component named in parallelism
// exists and may run that many tasks (1..NumTasks). Errors wrap ErrInvalid.
func (t *Topology) CheckParallelism(parallelism map[ComponentID]int) error {
	var errs []error
	for id, k := range parallelism {
		c := t.byID[id]
		switch {
		case c == nil:
			errs = append(errs, invalid("parallelism of %q: no such component (components: %v)", id, t.componentIDs()))
		case k < 1:
			errs = append(errs, invalid("%s %q: parallelism must be >= 1, got %d", c.Kind, id, k))
		case k > len(c.Tasks):
			errs = append(errs, invalid("%s %q: parallelism %d is above its NumTasks %d (the maximum, fixed when the topology was submitted)", c.Kind, id, k, len(c.Tasks)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("topology %q: %w", t.Name, joinErrors(errs))
	}
	return nil
}

func (t *Topology) componentIDs() []ComponentID {
	ids := make([]ComponentID, len(t.Components))
	for i, c := range t.Components {
		ids[i] = c.ID
	}
	return ids
}

// Scale is the live parallelism of this instance of the topology. Build
// and Deployed make a new one, starting at each component's Parallelism.
func (t *Topology) Scale() *Scale {
	return t.scale
}

// Parallelism is the number of running tasks of component id now.
func (t *Topology) Parallelism(id ComponentID) int { return t.scale.Load().Parallelism(id) }

// RunningTasks returns the tasks that run now: the first Parallelism of
// every component's tasks, then the trackers, in task order.
func (t *Topology) RunningTasks() []TaskID {
	s := t.scale.Load()
	var out []TaskID
	for _, c := range t.Components {
		out = append(out, c.Tasks[:min(max(s.Parallelism(c.ID), 0), len(c.Tasks))]...)
	}
	return append(out, t.Trackers...)
}

// RunningTasksWith returns the tasks that run when the components named
// in parallelism run that many tasks (clamped to 1..NumTasks) and the
// others their parallelism hint, then the trackers, in task order.
func (t *Topology) RunningTasksWith(parallelism map[ComponentID]int) []TaskID {
	var out []TaskID
	for _, c := range t.Components {
		k, ok := parallelism[c.ID]
		if !ok {
			k = c.Parallelism
		}
		out = append(out, c.Tasks[:min(max(k, 1), len(c.Tasks))]...)
	}
	return append(out, t.Trackers...)
}

// RunningTasks returns the task IDs of component id that run now, in
// order: the first Parallelism of ComponentTasks. It follows rebalances.
func (c *Context) RunningTasks(id ComponentID) []TaskID {
	if c.topo == nil {
		return nil
	}
	comp := c.topo.Component(id)
	if comp == nil {
		return nil
	}
	k := min(max(c.topo.Parallelism(id), 0), len(comp.Tasks))
	return append([]TaskID(nil), comp.Tasks[:k]...)
}
