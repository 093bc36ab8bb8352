package actors

import (
	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/topology"
)

// streamRouter routes one output stream of an emitting task to every
// subscription of it.
type streamRouter struct {
	stream   topology.StreamID
	fields   topology.Fields
	header   *topology.TupleHeader // shared by every tuple this task emits on the stream
	direct   bool
	choosers []routing.Chooser
	edges    *streamEdges // the stream's edge counters (nil: no consumer)
	// directTasks is every task that consumes this stream with a direct
	// grouping, running or not: a direct emit to a task that does not run
	// is sent nowhere, and its tree fails by timeout and replays.
	directTasks map[topology.TaskID]bool

	// Rescaling: subs[i] is the subscription of choosers[i], built for
	// running[i] running consumer tasks at version seen of scale (nil:
	// every task runs, nothing changes).
	subs    []topology.Subscription
	running []int
	scale   *topology.Scale
	seen    *topology.ScaleTable
	tc      *topology.Context
	local   func(topology.TaskID) bool
	seed    uint64
}

// route appends the destination tasks of values to dst. When a rebalance
// changed the topology's scale since the last emit, it first rebuilds the
// choosers of the consumers whose parallelism changed: the per-emit cost
// is one atomic load and a pointer compare.
func (r *streamRouter) route(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	if r.scale != nil {
		if cur := r.scale.Load(); cur != r.seen {
			r.rescale(cur)
		}
	}
	for _, c := range r.choosers {
		if c != nil {
			dst = c.Choose(values, dst)
		}
	}
	return dst
}

// rescale rebuilds the choosers whose consumer's parallelism differs in cur.
// Custom groupings are prepared again with the new running tasks.
func (r *streamRouter) rescale(cur *topology.ScaleTable) {
	r.seen = cur
	for i, sub := range r.subs {
		if k := cur.Parallelism(sub.Consumer); k != r.running[i] {
			r.running[i] = k
			r.choosers[i] = routing.NewChooser(sub, k, r.tc, r.stream, r.local, r.seed)
		}
	}
}

// newRouters builds the routers of every output stream of the component of
// tc. When tc belongs to a compiled topology, routing follows its Scale.
func newRouters(comp *topology.Component, tc *topology.Context, local func(topology.TaskID) bool, seed uint64) map[topology.StreamID]*streamRouter {
	var scale *topology.Scale
	if t := tc.Compiled(); t != nil {
		scale = t.Scale()
	}
	out := make(map[topology.StreamID]*streamRouter, len(comp.Streams))
	for id, s := range comp.Streams {
		r := &streamRouter{stream: id, fields: s.Fields, direct: s.Direct,
			header: &topology.TupleHeader{Component: comp.ID, Task: tc.Task, Stream: id, Fields: s.Fields},
			scale:  scale, tc: tc, local: local, seed: seed}
		if scale != nil {
			r.seen = scale.Load()
		}
		for _, sub := range comp.Consumers[id] {
			if sub.Grouping.Kind == topology.KindDirect {
				if r.directTasks == nil {
					r.directTasks = map[topology.TaskID]bool{}
				}
				for _, t := range sub.Tasks {
					r.directTasks[t] = true
				}
				continue
			}
			k := len(sub.Tasks)
			if r.seen != nil {
				k = r.seen.Parallelism(sub.Consumer)
			}
			r.subs = append(r.subs, sub)
			r.running = append(r.running, k)
			r.choosers = append(r.choosers, routing.NewChooser(sub, k, tc, id, local, seed))
		}
		out[id] = r
	}
	return out
}
