package routing

import (
	"slices"

	"github.com/squall-streams/squall/topology"
)

// Table is one immutable version of the routing of one output stream on
// one node: for every subscription of the stream (but direct ones, where
// the emitter names the task), the consumer's running tasks and what its
// grouping needs to choose among them. The stream's router builds a new
// Table on every assignment and rescale and swaps it in; the emitting
// tasks' Routes pick it up at their next emit.
type Table struct {
	// Epoch is the assignment epoch the table was built for.
	Epoch uint64
	// Subs are the stream's subscriptions but direct ones, in order.
	Subs []*Sub
}

// Sub is how one subscription is routed in a Table. It is immutable and
// shared by every emitting task of the stream; a new Table reuses the Sub
// of a subscription whose routing did not change, so emitters keep their
// chooser (and its state: a shuffle's position, partial key's loads, a
// custom grouping's Prepare) for it.
type Sub struct {
	topology.Subscription
	// Running is how many of the consumer's tasks run: the first Running
	// of Subscription.Tasks.
	Running int
	// ByGroup is, for fields grouping, the running task serving each key
	// group.
	ByGroup []topology.TaskID
	// Owners is, for partial-key grouping, the running index serving each
	// key group (KeyGroupOwners).
	Owners []int
	// Near is, for local-or-shuffle, the running tasks in this process
	// when the table was built (the directory snapshot); empty: none is.
	Near []topology.TaskID
}

// RunningTasks are the consumer tasks that run, in order.
func (s *Sub) RunningTasks() []topology.TaskID { return s.Tasks[:s.Running] }

// NewTable builds the table of subs at epoch: parallelism gives each
// consumer's running tasks (clamped to 1..NumTasks) and local reports
// whether a task runs in this process (nil: none does). A subscription
// whose routing is the same as in prev (nil: none) keeps prev's Sub.
func NewTable(epoch uint64, subs []topology.Subscription, parallelism func(topology.ComponentID) int, local func(topology.TaskID) bool, prev *Table) *Table {
	t := &Table{Epoch: epoch}
	for _, sub := range subs {
		if sub.Grouping.Kind == topology.KindDirect {
			continue
		}
		s := newSub(sub, parallelism(sub.Consumer), local)
		if prev != nil && len(t.Subs) < len(prev.Subs) {
			if p := prev.Subs[len(t.Subs)]; p.sameRouting(s) {
				s = p
			}
		}
		t.Subs = append(t.Subs, s)
	}
	return t
}

func newSub(sub topology.Subscription, running int, local func(topology.TaskID) bool) *Sub {
	running = min(max(running, 1), len(sub.Tasks))
	s := &Sub{Subscription: sub, Running: running}
	tasks := s.RunningTasks()
	switch sub.Grouping.Kind {
	case topology.KindFields:
		owners := KeyGroupOwners(running, len(sub.Tasks))
		s.ByGroup = make([]topology.TaskID, len(sub.Tasks))
		for g, i := range owners {
			s.ByGroup[g] = tasks[i]
		}
	case topology.KindPartialKey:
		s.Owners = KeyGroupOwners(running, len(sub.Tasks))
	case topology.KindLocalOrShuffle:
		if local != nil {
			for _, task := range tasks {
				if local(task) {
					s.Near = append(s.Near, task)
				}
			}
		}
	}
	return s
}

// sameRouting reports whether s and o route alike: the same consumer at
// the same parallelism, and for local-or-shuffle the same near tasks.
func (s *Sub) sameRouting(o *Sub) bool {
	return s.Consumer == o.Consumer && s.Grouping.Kind == o.Grouping.Kind && s.Running == o.Running && slices.Equal(s.Near, o.Near)
}
