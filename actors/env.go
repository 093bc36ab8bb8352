package actors

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// Directory resolves a task to where it runs. Implementations must be safe
// for concurrent use and must not block: tasks call it once per batch they
// send. The local runner has an in-process directory; the cluster
// implements one over its assignment and its transport.
type Directory interface {
	// Local returns the actor of task when task runs in this process.
	Local(task topology.TaskID) (*actor.PID, bool)
	// SendRemote sends a batch (a *messages.TupleBatch, TrackerBatch or
	// CompletionBatch) to task in another process. It reports false when
	// task runs nowhere known or the batch cannot be queued; what it carried
	// then times out and replays.
	SendRemote(task topology.TaskID, batch proto.Message) bool
}

// Env is what the tasks of one topology on one node share: the compiled
// topology, the directory, the task statistics and the flow-control counter.
// Every field is set before the first task starts and read-only afterwards;
// the live parallelism and every stream's routing table are swapped
// atomically by Reroute (router.go).
type Env struct {
	Topology  *topology.Topology
	System    *actor.ActorSystem
	Directory Directory
	Logger    *slog.Logger
	// OpenStore opens an exactly-once topology's checkpoint store (nil:
	// squall.state.dir, else memory). Set before StartCheckpoints.
	OpenStore state.Opener

	stats []*TaskStats // by task-1
	// inflight counts tuples outside any tree that are queued and not yet
	// executed; spouts pause while it exceeds the receive buffer size.
	inflight atomic.Int64
	// wake is set by an idle spout task to be sent a next at the clock's next pulse.
	wake  []atomic.Bool // by task-1
	start time.Time
	// epoch is the current assignment's epoch: batches from other nodes
	// that carry another epoch are dropped (their trees replay).
	epoch atomic.Uint64
	// active is the topology's activation state: spout tasks call NextTuple
	// only while it is set. It outlives task restarts.
	active atomic.Bool

	// parallelism is every component's live parallelism (immutable maps).
	parallelism atomic.Pointer[map[topology.ComponentID]int]
	routes      map[streamKey]*streamRouting // fixed after NewEnv
	// eos is set by StartCheckpoints for squall.guarantee=exactly-once.
	eos       *eosRun
	closeOnce sync.Once
	closed    atomic.Bool
}

// Epoch is the current assignment epoch.
func (e *Env) Epoch() uint64 { return e.epoch.Load() }

// SetEpoch moves the tasks to a new assignment epoch.
func (e *Env) SetEpoch(epoch uint64) { e.epoch.Store(epoch) }

// SetActive activates or deactivates the topology's spouts. The caller then
// sends every spout task an Activate or Deactivate message.
func (e *Env) SetActive(on bool) { e.active.Store(on) }

// Active reports whether the topology's spouts are active.
func (e *Env) Active() bool { return e.active.Load() }

// NewEnv prepares the shared state of an instance of t's tasks, each
// component at its parallelism hint, and starts the router of every stream
// on sys (nil: no routers; Reroute builds the tables itself). The live
// parallelism and routing belong to the Env, so rebalancing it changes no
// other running copy of t. Close stops the routers.
func NewEnv(t *topology.Topology, epoch uint64, sys *actor.ActorSystem, dir Directory, logger *slog.Logger) *Env {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Env{
		Topology: t, System: sys, Directory: dir,
		Logger: logger.With("topology", t.Name),
		stats:  make([]*TaskStats, t.NumTasks()),
		wake:   make([]atomic.Bool, t.NumTasks()),
		start:  time.Now(),
	}
	e.epoch.Store(epoch)
	e.initRouting(epoch)
	for i := range e.stats {
		task := topology.TaskID(i + 1)
		comp := topology.TrackerComponent
		if c := t.ComponentOf(task); c != nil {
			comp = c.ID
		}
		e.stats[i] = &TaskStats{Task: task, Component: comp}
	}
	return e
}

// Stats returns the statistics of task.
func (e *Env) Stats(task topology.TaskID) *TaskStats { return e.stats[task-1] }

// AllStats returns the statistics of every task, in task order.
func (e *Env) AllStats() []*TaskStats { return e.stats }

// Inflight is the number of untracked tuples queued and not yet executed.
func (e *Env) Inflight() int64 { return e.inflight.Load() }

// now is monotonic nanoseconds since the env was made.
func (e *Env) now() int64 { return int64(time.Since(e.start)) }

// Producer returns the actor producer of task: a spout, bolt or tracker task.
// The supervisor spawns it; a restart calls it again for a fresh instance
// with the same statistics.
func (e *Env) Producer(task topology.TaskID) actor.Producer {
	c := e.Topology.ComponentOf(task)
	switch {
	case c == nil:
		return func() actor.Actor { return newTracker(e, task) }
	case c.Kind == topology.KindSpout:
		return func() actor.Actor { return newSpoutTask(e, c, task) }
	default:
		return func() actor.Actor { return newBoltTask(e, c, task) }
	}
}

// TickInterval is how often the clock sends tasks a tick: timeouts are
// checked and tick tuples are due at this resolution.
func (e *Env) TickInterval() time.Duration {
	d := e.Topology.Runtime.MessageTimeout / 16
	if d <= 0 || d > 100*time.Millisecond {
		d = 100 * time.Millisecond
	}
	return max(d, 5*time.Millisecond)
}

// RunClock drives the topology's time until ctx is done: every millisecond
// it wakes idle spouts (Storm's spout wait strategy sleeps 1 ms too), and
// every TickInterval it sends every task a tick. The caller owns the
// goroutine that runs it.
func (e *Env) RunClock(ctx context.Context) {
	pulse := time.NewTicker(time.Millisecond)
	defer pulse.Stop()
	tickEvery := e.TickInterval()
	nextTick := time.Now().Add(tickEvery)
	root := e.System.Root
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-pulse.C:
			for i := range e.wake {
				if e.wake[i].Load() && e.wake[i].CompareAndSwap(true, false) {
					if pid, ok := e.Directory.Local(topology.TaskID(i + 1)); ok {
						root.Send(pid, theNext)
					}
				}
			}
			if now.Before(nextTick) {
				continue
			}
			nextTick = now.Add(tickEvery)
			e.sampleWindows(now) // windows.go: copies counters for the 10m/3h/1d windows
			if e.eos != nil {
				root.Send(e.eos.coord, theTick)
			}
			for i := range e.stats {
				if pid, ok := e.Directory.Local(topology.TaskID(i + 1)); ok {
					root.Send(pid, theTick)
				}
			}
		}
	}
}
