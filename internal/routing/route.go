package routing

import (
	"sync/atomic"

	"github.com/squall-streams/squall/topology"
)

// Route is one emitting task's routing of one output stream: its choosers,
// built from the stream's current Table. It runs on the emitting task's
// goroutine only. Its Table is read from live, which the stream's router
// swaps; the per-emit cost of following it is one atomic load and a
// pointer compare.
type Route struct {
	live     *atomic.Pointer[Table]
	seen     *Table
	choosers []Chooser
	tc       *topology.Context
	stream   topology.StreamID
	seed     uint64
}

// NewRoute returns the route of a task (tc) emitting on stream, following
// the tables stored in live (which must hold one). seed makes shuffles of
// different emitters start apart.
func NewRoute(live *atomic.Pointer[Table], tc *topology.Context, stream topology.StreamID, seed uint64) *Route {
	r := &Route{live: live, tc: tc, stream: stream, seed: seed}
	r.follow(live.Load())
	return r
}

// Choose appends the destination tasks of values on every subscription to
// dst. When the stream's table changed since the last call it first
// rebuilds the choosers whose Sub changed (a custom grouping is prepared
// again, with the new running tasks).
func (r *Route) Choose(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	if t := r.live.Load(); t != r.seen {
		r.follow(t)
	}
	for _, c := range r.choosers {
		dst = c.Choose(values, dst)
	}
	return dst
}

// Table is the table the route chose with last.
func (r *Route) Table() *Table { return r.seen }

func (r *Route) follow(t *Table) {
	old := r.seen
	r.seen = t
	choosers := make([]Chooser, len(t.Subs))
	for i, s := range t.Subs {
		if old != nil && i < len(old.Subs) && old.Subs[i] == s {
			choosers[i] = r.choosers[i]
			continue
		}
		choosers[i] = NewChooser(s, r.tc, r.stream, r.seed)
	}
	r.choosers = choosers
}
