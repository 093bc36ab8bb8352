package actors

import (
	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/topology"
)

// streamRouter routes one output stream of an emitting task to every
// subscription of it.
type streamRouter struct {
	stream topology.StreamID
	fields topology.Fields
	header *topology.TupleHeader // shared by every tuple this task emits on the stream
	direct bool
	route  *routing.Route // follows the stream's table (router.go)
	edges  *streamEdges   // the stream's edge counters (nil: no consumer)
	// directTasks is every task that consumes this stream with a direct
	// grouping, running or not: a direct emit to a task that does not run
	// is sent nowhere, and its tree fails by timeout and replays.
	directTasks map[topology.TaskID]bool
}

// newRouters builds the routers of every output stream of the component of
// tc, following the tables of env's routers.
func newRouters(env *Env, comp *topology.Component, tc *topology.Context, seed uint64) map[topology.StreamID]*streamRouter {
	out := make(map[topology.StreamID]*streamRouter, len(comp.Streams))
	for id, s := range comp.Streams {
		r := &streamRouter{stream: id, fields: s.Fields, direct: s.Direct,
			header: &topology.TupleHeader{Component: comp.ID, Task: tc.Task, Stream: id, Fields: s.Fields},
			route:  routing.NewRoute(env.route(comp.ID, id), tc, id, seed)}
		for _, sub := range comp.Consumers[id] {
			if sub.Grouping.Kind == topology.KindDirect {
				if r.directTasks == nil {
					r.directTasks = map[topology.TaskID]bool{}
				}
				for _, t := range sub.Tasks {
					r.directTasks[t] = true
				}
			}
		}
		out[id] = r
	}
	return out
}
