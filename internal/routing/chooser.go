package routing

import (
	"slices"

	"github.com/squall-streams/squall/topology"
)

// A Chooser decides, for one subscription of a stream, which of the
// consumer's tasks a tuple goes to. A Chooser is owned by one emitting
// task: it runs on that task's goroutine, on the per-tuple path, and does
// not allocate (a custom grouping may). It is not safe for concurrent use.
type Chooser interface {
	// Choose appends the chosen tasks to dst and returns it.
	Choose(values topology.Values, dst []topology.TaskID) []topology.TaskID
}

// NewChooser builds the chooser of s for a task emitting on stream.
// Fields and partial-key groupings hash over all the consumer's tasks (its
// key groups) and map key groups to running tasks; the other groupings
// choose among the running tasks only; local-or-shuffle among the near
// ones if there are any. seed makes shuffles of different emitters start
// apart. A custom grouping is prepared here, with tc and a copy of the
// running tasks. A direct grouping has no chooser (nil): the emitter names
// the task.
func NewChooser(s *Sub, tc *topology.Context, stream topology.StreamID, seed uint64) Chooser {
	tasks := s.RunningTasks()
	switch s.Grouping.Kind {
	case topology.KindFields:
		return &fieldsChooser{byGroup: s.ByGroup, idx: s.FieldIndex}
	case topology.KindAll:
		return allChooser{tasks: tasks}
	case topology.KindGlobal:
		return globalChooser{task: slices.Min(tasks)}
	case topology.KindDirect:
		return nil
	case topology.KindLocalOrShuffle:
		if len(s.Near) > 0 {
			return &shuffleChooser{tasks: s.Near, next: seed}
		}
		return &shuffleChooser{tasks: tasks, next: seed}
	case topology.KindPartialKey:
		return &partialKeyChooser{tasks: tasks, owners: s.Owners, idx: s.FieldIndex, load: make([]uint64, len(tasks))}
	case topology.KindCustom:
		s.Grouping.Custom.Prepare(tc, stream, slices.Clone(tasks))
		return &customChooser{g: s.Grouping.Custom}
	default: // shuffle, none
		return &shuffleChooser{tasks: tasks, next: seed}
	}
}

// shuffleChooser is round robin from a per-emitter starting point: perfectly
// balanced over any window of len(tasks) tuples, and cheaper than random.
type shuffleChooser struct {
	tasks []topology.TaskID
	next  uint64
}

func (c *shuffleChooser) Choose(_ topology.Values, dst []topology.TaskID) []topology.TaskID {
	t := c.tasks[c.next%uint64(len(c.tasks))]
	c.next++
	return append(dst, t)
}

type allChooser struct{ tasks []topology.TaskID }

func (c allChooser) Choose(_ topology.Values, dst []topology.TaskID) []topology.TaskID {
	return append(dst, c.tasks...)
}

type globalChooser struct{ task topology.TaskID }

func (c globalChooser) Choose(_ topology.Values, dst []topology.TaskID) []topology.TaskID {
	return append(dst, c.task)
}

// fieldsChooser sends a key to the running task that serves its key group,
// hash(fields) mod #key groups: the same key reaches the same task on
// every node and after every restart, for a given parallelism.
type fieldsChooser struct {
	byGroup []topology.TaskID // the running task serving each key group
	idx     []int
	h       Hasher
}

func (c *fieldsChooser) Choose(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	h := c.h.Sum(values, c.idx)
	return append(dst, c.byGroup[KeyGroup(h, len(c.byGroup))])
}

// partialKeyChooser is Storm's PartialKeyGrouping: two candidate key
// groups per key, and of the running tasks serving them the one this
// emitter has sent fewer tuples goes.
type partialKeyChooser struct {
	tasks  []topology.TaskID // running
	owners []int             // running index per key group
	idx    []int
	load   []uint64 // by running index
	h      Hasher
}

func (c *partialKeyChooser) Choose(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	h1 := c.h.Sum(values, c.idx)
	h2 := Mix64(h1)
	n := len(c.owners)
	a, b := c.owners[KeyGroup(h1, n)], c.owners[KeyGroup(h2, n)]
	if c.load[b] < c.load[a] {
		a = b
	}
	c.load[a]++
	return append(dst, c.tasks[a])
}

// customChooser gives the user's grouping an empty scratch slice, as its
// contract says, and appends its choice to what other subscriptions chose.
type customChooser struct {
	g       topology.CustomStreamGrouping
	scratch []topology.TaskID
}

func (c *customChooser) Choose(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	c.scratch = c.g.ChooseTasks(values, c.scratch[:0])
	return append(dst, c.scratch...)
}
