package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/internal/spawnlock"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// Routing has one home per stream: the router actor of each (topology,
// output stream) on this node owns the stream's routing table — the
// subscriptions and their groupings, the consumers' live parallelism and
// key-group owners, the directory snapshot local-or-shuffle reads, the
// epoch. On an assignment or rescale (Env.Reroute) it builds a new
// immutable routing.Table and swaps it into the stream's pointer; every
// task emitting on the stream reads that pointer once per emit and rebuilds
// the choosers whose part changed. The per-tuple choice stays a pure
// function on the emitting task's goroutine: no tuple passes through a
// router's mailbox.

// streamKey names one output stream of one component.
type streamKey struct {
	comp   topology.ComponentID
	stream topology.StreamID
}

// streamRouting is one stream's current table and its router actor.
type streamRouting struct {
	subs []topology.Subscription
	live atomic.Pointer[routing.Table]
	pid  *actor.PID // nil until spawned, and for an Env without an actor system
}

// router is the actor of one stream's routing table. It is its only
// writer; Receive runs on one goroutine at a time.
type router struct {
	env *Env
	sr  *streamRouting
}

// reroute asks a router for a table at epoch with parallelism (every
// component's, immutable); it signals done once the table is in place.
type reroute struct {
	epoch       uint64
	parallelism map[topology.ComponentID]int
	done        chan<- struct{} // buffered for every router: never blocks
}

func (r *router) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*reroute); ok {
		r.sr.live.Store(r.env.table(r.sr, m.epoch, m.parallelism))
		m.done <- struct{}{}
	}
}

// table builds sr's table at epoch for parallelism, over its last one.
func (e *Env) table(sr *streamRouting, epoch uint64, parallelism map[topology.ComponentID]int) *routing.Table {
	return routing.NewTable(epoch, sr.subs, func(id topology.ComponentID) int { return parallelism[id] }, e.isLocal, sr.live.Load())
}

// isLocal reports whether task runs in this process: the directory
// snapshot a table takes for local-or-shuffle.
func (e *Env) isLocal(task topology.TaskID) bool {
	_, ok := e.Directory.Local(task)
	return ok
}

// initRouting builds every stream's first table (each component at its
// parallelism hint) and, with an actor system, spawns the routers.
func (e *Env) initRouting(epoch uint64) {
	p := make(map[topology.ComponentID]int, len(e.Topology.Components))
	for _, c := range e.Topology.Components {
		p[c.ID] = c.Parallelism
	}
	e.parallelism.Store(&p)
	e.routes = map[streamKey]*streamRouting{}
	for _, c := range e.Topology.Components {
		for _, id := range slices.Sorted(maps.Keys(c.Streams)) {
			sr := &streamRouting{subs: c.Consumers[id]}
			sr.live.Store(e.table(sr, epoch, p))
			e.routes[streamKey{c.ID, id}] = sr
			if e.System != nil {
				spawnlock.Mu.Lock()
				sr.pid = e.System.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &router{env: e, sr: sr} }))
				spawnlock.Mu.Unlock()
			}
		}
	}
}

// route is the table pointer of an output stream of comp.
func (e *Env) route(comp topology.ComponentID, stream topology.StreamID) *atomic.Pointer[routing.Table] {
	return &e.routes[streamKey{comp, stream}].live
}

// Parallelism is the number of running tasks of component id now (0 for
// an unknown component).
func (e *Env) Parallelism(id topology.ComponentID) int { return (*e.parallelism.Load())[id] }

// AllParallelism returns a copy of every component's parallelism now.
func (e *Env) AllParallelism() map[topology.ComponentID]int { return maps.Clone(*e.parallelism.Load()) }

// ErrClosed is returned by Reroute once the Env is closed.
var ErrClosed = errors.New("topology instance closed")

// Reroute makes parallelism the live parallelism of the components it
// names (the others keep theirs) and has every stream's router build its
// table for epoch, then waits until every table is in place: emitting
// tasks route over the new running tasks from their next emit, so the
// caller starts tasks before and stops them after. It also takes a new
// directory snapshot, so call it after an assignment's tasks are spawned.
// It checks parallelism against the topology first and changes nothing on
// error; the wait is bounded by ctx. Calls must not overlap each other or
// Close (the supervisor serialises assignments and stops).
func (e *Env) Reroute(ctx context.Context, epoch uint64, parallelism map[topology.ComponentID]int) error {
	if e.closed.Load() {
		return fmt.Errorf("topology %q: reroute: %w", e.Topology.Name, ErrClosed)
	}
	if err := topoaccess.CheckParallelism(e.Topology, parallelism); err != nil {
		return err
	}
	next := maps.Clone(*e.parallelism.Load())
	maps.Copy(next, parallelism)
	e.parallelism.Store(&next)
	done := make(chan struct{}, len(e.routes))
	m := &reroute{epoch: epoch, parallelism: next, done: done}
	waiting := 0
	for _, sr := range e.routes {
		if sr.pid == nil {
			sr.live.Store(e.table(sr, epoch, next))
			continue
		}
		e.System.Root.Send(sr.pid, m)
		waiting++
	}
	for range waiting {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("topology %q: reroute: %w", e.Topology.Name, ctx.Err())
		}
	}
	return nil
}

// Close stops the routers and waits for them. Tasks must be stopped
// first. Safe twice.
func (e *Env) Close() {
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		if e.eos != nil {
			_ = e.System.Root.StopFuture(e.eos.coord).Wait()
			if c, ok := e.eos.store.(io.Closer); ok {
				if err := c.Close(); err != nil {
					e.Logger.Warn("exactly-once: close the checkpoint store", "err", err)
				}
			}
		}
		for _, sr := range e.routes {
			if sr.pid != nil {
				_ = e.System.Root.StopFuture(sr.pid).Wait()
			}
		}
	})
}
