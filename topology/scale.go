package topology

import "fmt"

// checkParallelism reports whether every component named in parallelism
// exists and may run that many tasks (1..NumTasks). Errors wrap ErrInvalid.
func (t *Topology) checkParallelism(parallelism map[ComponentID]int) error {
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

// runningTasksWith returns the tasks that run when the components named
// in parallelism run that many tasks (clamped to 1..NumTasks) and the
// others their parallelism hint, then the trackers, in task order.
func (t *Topology) runningTasksWith(parallelism map[ComponentID]int) []TaskID {
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
	k := comp.Parallelism
	if c.parallelism != nil {
		k = c.parallelism(id)
	}
	k = min(max(k, 0), len(comp.Tasks))
	return append([]TaskID(nil), comp.Tasks[:k]...)
}
