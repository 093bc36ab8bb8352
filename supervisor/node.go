package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/internal/spawnlock"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// ErrTopologyExists is returned when a topology of that name already runs.
var ErrTopologyExists = errors.New("topology already running")

// ErrNotFound is returned for a topology the node does not run.
var ErrNotFound = errors.New("no such topology")

// ErrStopped is returned by a Node after Shutdown.
var ErrStopped = errors.New("node stopped")

// Node runs topologies in this process. Safe for concurrent use.
type Node struct {
	system *actor.ActorSystem
	logger *slog.Logger

	mu         sync.Mutex
	topologies map[string]*Running
	stopped    bool
	once       sync.Once
}

// NewNode starts an actor system for topologies. logger may be nil.
func NewNode(logger *slog.Logger) *Node {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sys := actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger.With("lib", "protoactor") }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond),
	)
	return &Node{system: sys, logger: logger, topologies: map[string]*Running{}}
}

// System is the node's actor system.
func (n *Node) System() *actor.ActorSystem { return n.system }

// Assignment is the part of a topology a node runs.
type Assignment struct {
	// Epoch numbers the assignment; batches from other nodes carrying
	// another epoch are dropped.
	Epoch uint64
	// Instance names this node's incarnation in actor names (the cluster
	// uses the node's boot id), so messages meant for a previous process
	// never reach this one. See TaskPID.
	Instance string
	// Tasks are the tasks to run on this node.
	Tasks []topology.TaskID
	// Directory resolves every task of the topology, here or elsewhere.
	// Nil: every task runs here (local mode).
	Directory actors.Directory
	// Active is whether the spouts start active.
	Active bool
	// Parallelism sets the number of running tasks of the components it
	// names (nil: as they are); Tasks must be among the running tasks.
	Parallelism map[topology.ComponentID]int
	// Linger keeps bolt and tracker tasks that leave this node running this
	// long after emitters stopped routing to them, so tuples already on
	// their way (queued here, or sent by nodes that have not applied the
	// assignment yet) are executed rather than replayed. Spout tasks stop
	// at once: a lingering spout would emit alongside its successor. 0:
	// stop at once.
	Linger time.Duration
	// Store opens an exactly-once topology's checkpoint store (nil: as the
	// topology's settings say, squall.state.dir or memory).
	Store state.Opener
}

// The actor names of a topology's actors on a node: its supervisor is
// "<topology>/<instance>", each task the supervisor's child "t<task>", so
// a task's full name is "<topology>/<instance>/t<task>". Only this file
// builds them; other layers address tasks by wire.TaskAddr (the instance
// is TaskAddr.Boot).
func supervisorName(topologyName, instance string) string { return topologyName + "/" + instance }

func taskChildName(task topology.TaskID) string { return "t" + strconv.Itoa(int(task)) }

func taskActorName(a wire.TaskAddr) string {
	// One concatenation, one allocation: Deliver builds it per batch.
	return a.Topology + "/" + a.Boot + "/t" + strconv.Itoa(int(a.Task))
}

// TaskPID is the PID of the task actor at a on this node (a names this
// node's incarnation: Assignment.Instance). The actor need not run yet:
// a PID is only an address.
func (n *Node) TaskPID(a wire.TaskAddr) *actor.PID {
	return actor.NewPID(n.system.Address(), taskActorName(a))
}

// Deliver hands payload (a batch from another node) to the task actor at
// a; it reports false when no such actor runs here (yet), or a is not a
// valid address. It never blocks: task mailboxes are unbounded.
func (n *Node) Deliver(a wire.TaskAddr, payload any) bool {
	if !a.Valid() {
		return false
	}
	name := taskActorName(a)
	proc, ok := n.system.ProcessRegistry.GetLocal(name)
	if !ok {
		return false
	}
	// What Root.Send does after its own lookup (squall has no sender
	// middleware): one registry lookup per batch, not two.
	proc.SendUserMessage(actor.NewPID(n.system.Address(), name), payload)
	return true
}

// Start runs every running task of t on this node (the first Parallelism
// of each component's tasks, and the trackers) and activates its spouts
// (local mode).
func (n *Node) Start(ctx context.Context, t *topology.Topology) (*Running, error) {
	return n.StartLocal(ctx, t, nil)
}

// StartLocal runs every task of t here, with an exactly-once topology's
// checkpoints in the store open returns (nil: as its settings say).
func (n *Node) StartLocal(ctx context.Context, t *topology.Topology, open state.Opener) (*Running, error) {
	return n.StartAssigned(ctx, t, Assignment{Epoch: 1, Instance: "local", Tasks: topoaccess.RunningTasksWith(t, nil), Active: true, Store: open})
}

// StartAssigned runs the tasks of t that a is about on this node.
func (n *Node) StartAssigned(ctx context.Context, t *topology.Topology, a Assignment) (*Running, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return nil, ErrStopped
	}
	if n.topologies[t.Name] != nil {
		return nil, fmt.Errorf("%w: %q", ErrTopologyExists, t.Name)
	}
	r, err := start(ctx, n.system, t, n.logger, a)
	if err != nil {
		return nil, err
	}
	n.topologies[t.Name] = r
	r.onStop = func() {
		n.mu.Lock()
		if n.topologies[t.Name] == r {
			delete(n.topologies, t.Name)
		}
		n.mu.Unlock()
	}
	return r, nil
}

// Get returns the running topology called name.
func (n *Node) Get(name string) (*Running, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r := n.topologies[name]; r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
}

// Running lists the running topologies.
func (n *Node) Running() []*Running {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*Running, 0, len(n.topologies))
	for _, r := range n.topologies {
		out = append(out, r)
	}
	return out
}

// Shutdown drains every topology (bounded by ctx), stops them and the actor
// system. It is safe to call more than once.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.once.Do(func() {
		n.mu.Lock()
		n.stopped = true // no topology starts after this
		n.mu.Unlock()
		var errs []error
		for _, r := range n.Running() {
			errs = append(errs, r.Kill(ctx))
		}
		n.system.Shutdown()
		err = errors.Join(errs...)
	})
	return err
}

// Running is one topology running on a node.
type Running struct {
	Topology *topology.Topology
	env      *actors.Env
	local    *localDirectory // nil in a cluster: the cluster's directory resolves
	sup      *actor.PID
	backoff  *Backoff
	system   *actor.ActorSystem
	stopClk  context.CancelFunc
	clkDone  chan struct{}
	onStop   func()
	stopOnce sync.Once
	stopped  atomic.Bool

	mu    sync.Mutex
	tasks []topology.TaskID // what the last apply made run, sorted
	gen   uint64            // counts assignments, for stopLater

	applyMu  sync.Mutex  // serialises Apply and the stop of lingering tasks
	linger   *time.Timer // stops lingering tasks; see Assignment.Linger
	lingerWG sync.WaitGroup
}

// localDirectory is the in-process task -> PID table of one topology.
type localDirectory struct {
	pids []atomic.Pointer[actor.PID] // by task-1
}

func (d *localDirectory) Local(task topology.TaskID) (*actor.PID, bool) {
	if task < 1 || int(task) > len(d.pids) {
		return nil, false
	}
	pid := d.pids[task-1].Load()
	return pid, pid != nil
}

// SendRemote implements actors.Directory: in local mode nothing is remote.
func (d *localDirectory) SendRemote(topology.TaskID, proto.Message) bool { return false }

func start(ctx context.Context, sys *actor.ActorSystem, t *topology.Topology, logger *slog.Logger, a Assignment) (*Running, error) {
	var dir actors.Directory
	var local *localDirectory
	if a.Directory == nil {
		local = &localDirectory{pids: make([]atomic.Pointer[actor.PID], t.NumTasks())}
		dir = local
	} else {
		dir = a.Directory
	}
	env := actors.NewEnv(t, a.Epoch, sys, dir, logger)
	env.OpenStore = a.Store
	if err := env.Reroute(ctx, a.Epoch, a.Parallelism); err != nil {
		env.Close()
		return nil, err
	}
	// Exactly-once: the store and the coordinator, before any task says hello.
	if err := env.StartCheckpoints(); err != nil {
		env.Close()
		return nil, err
	}
	r := &Running{Topology: t, env: env, local: local, backoff: DefaultBackoff(), system: sys, clkDone: make(chan struct{})}
	props := actor.PropsFromProducer(func() actor.Actor {
		return &topologySupervisor{r: r, tasks: map[topology.TaskID]*actor.PID{}, stopping: map[topology.TaskID]*actor.Future{}}
	}, actor.WithSupervisor(r.backoff))
	// Tasks are the supervisor's children, so their names are the
	// supervisor's plus "/t<task>": taskActorName.
	spawnlock.Mu.Lock()
	pid, err := sys.Root.SpawnNamed(props, supervisorName(t.Name, a.Instance))
	spawnlock.Mu.Unlock()
	if err != nil {
		env.Close()
		return nil, fmt.Errorf("topology %q: spawn supervisor: %w", t.Name, err)
	}
	r.sup = pid
	if err := r.apply(ctx, a.Tasks); err != nil {
		sys.Root.Stop(pid)
		env.Close()
		return nil, err
	}
	// The routing tables take the directory snapshot with the tasks spawned.
	if err := env.Reroute(ctx, a.Epoch, nil); err != nil {
		sys.Root.Stop(pid)
		env.Close()
		return nil, err
	}
	clkCtx, cancel := context.WithCancel(context.Background())
	r.stopClk = cancel
	go func() {
		defer close(r.clkDone)
		env.RunClock(clkCtx)
	}()
	// Spouts start inactive and are activated once every task is spawned,
	// so no tuple is routed to a task that does not exist yet.
	r.setActive(a.Active)
	return r, nil
}

// topologySupervisor is the parent of a topology's task actors on this
// node; its props carry the Backoff strategy that restarts them. It spawns
// and stops tasks as assignments change.
type topologySupervisor struct {
	r     *Running
	tasks map[topology.TaskID]*actor.PID
	// stopping holds the stop of each task stopped by an earlier setTasks:
	// a stop is asynchronous, and the task's name is free only once it
	// completed, so a later spawn of the same task waits for it.
	stopping map[topology.TaskID]*actor.Future
}

// setTasks asks the supervisor to run exactly these tasks.
type setTasks struct{ tasks []topology.TaskID }

func (s *topologySupervisor) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*setTasks)
	if !ok {
		return
	}
	want := map[topology.TaskID]bool{}
	for _, task := range m.tasks {
		want[task] = true
	}
	for task, pid := range s.tasks {
		if !want[task] {
			s.stopping[task] = ctx.StopFuture(pid)
			delete(s.tasks, task)
			if s.r.local != nil {
				s.r.local.pids[task-1].Store(nil)
			}
		}
	}
	var err error
	for _, task := range m.tasks {
		if s.tasks[task] != nil {
			continue
		}
		if f, ok := s.stopping[task]; ok {
			// Bounded by the future's timeout; a stop that did not finish
			// makes the spawn below fail with an error, as it would anyway.
			_ = f.Wait()
			delete(s.stopping, task)
		}
		props := actor.PropsFromProducer(s.r.env.Producer(task), actor.WithMailbox(actor.Unbounded()))
		spawnlock.Mu.Lock()
		pid, serr := ctx.SpawnNamed(props, taskChildName(task))
		spawnlock.Mu.Unlock()
		if serr != nil {
			err = errors.Join(err, fmt.Errorf("topology %q: spawn task %d: %w", s.r.Topology.Name, task, serr))
			continue
		}
		s.tasks[task] = pid
		if s.r.local != nil {
			s.r.local.pids[task-1].Store(pid)
		}
	}
	ctx.Respond(err)
}

// apply makes the node run exactly tasks, waiting until they are spawned.
func (r *Running) apply(ctx context.Context, tasks []topology.TaskID) error {
	f := r.system.Root.RequestFuture(r.sup, &setTasks{tasks: tasks}, 30*time.Second)
	done := make(chan struct{})
	var res any
	var ferr error
	go func() {
		res, ferr = f.Result()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if ferr != nil {
		return fmt.Errorf("topology %q: apply assignment: %w", r.Topology.Name, ferr)
	}
	if err, ok := res.(error); ok && err != nil {
		return err
	}
	r.mu.Lock()
	r.tasks = slices.Sorted(slices.Values(tasks))
	r.mu.Unlock()
	return nil
}

// Apply moves the topology on this node to a new assignment: tasks that
// left are stopped (what they held fails and replays), new ones are
// spawned, the rest keep running under the new epoch. A change of
// parallelism spawns the new tasks before emitters route to them, and
// stops the removed ones after emitters stopped routing to them.
func (r *Running) Apply(ctx context.Context, a Assignment) error {
	if err := topoaccess.CheckParallelism(r.Topology, a.Parallelism); err != nil {
		return err
	}
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	r.env.SetEpoch(a.Epoch)
	r.mu.Lock()
	r.gen++
	gen := r.gen
	both := slices.Clone(a.Tasks)
	var linger []topology.TaskID
	for _, t := range r.tasks {
		if !slices.Contains(both, t) {
			both = append(both, t)
			if c := r.Topology.ComponentOf(t); a.Linger > 0 && (c == nil || c.Kind != topology.KindSpout) {
				linger = append(linger, t)
			}
		}
	}
	r.mu.Unlock()
	if len(a.Parallelism) > 0 {
		// Spawn the new tasks first, keeping the ones that will stop.
		if err := r.apply(ctx, both); err != nil {
			return err
		}
		if err := r.env.Reroute(ctx, a.Epoch, a.Parallelism); err != nil {
			return err
		}
	}
	if err := r.apply(ctx, append(slices.Clone(a.Tasks), linger...)); err != nil {
		return err
	}
	// The routing tables take the new epoch and directory snapshot.
	if err := r.env.Reroute(ctx, a.Epoch, nil); err != nil {
		return err
	}
	r.setActive(a.Active)
	if len(linger) > 0 {
		r.stopLater(gen, a.Tasks, a.Linger)
	}
	return nil
}

// stopLater stops the lingering tasks after d: it applies tasks then,
// unless another assignment came in the meantime (generation gen is not
// the latest), which already decided about them.
func (r *Running) stopLater(gen uint64, tasks []topology.TaskID, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped.Load() {
		return
	}
	if r.linger != nil && r.linger.Stop() {
		r.lingerWG.Done()
	}
	r.lingerWG.Add(1)
	r.linger = time.AfterFunc(d, func() {
		defer r.lingerWG.Done()
		r.applyMu.Lock()
		defer r.applyMu.Unlock()
		r.mu.Lock()
		latest := r.gen == gen
		r.mu.Unlock()
		if !latest || r.stopped.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.apply(ctx, tasks); err != nil {
			r.env.Logger.Warn("stopping lingering tasks", "err", err)
		}
	})
}

// localLinger is how long Rescale keeps stopped bolt tasks running: in one
// process, tuples already routed to them are in their mailboxes.
const localLinger = 200 * time.Millisecond

// ErrNotLocal is returned by Rescale for a topology placed by a cluster.
var ErrNotLocal = errors.New("rescale is for local mode: in a cluster, rebalance (cluster.Node.Rebalance)")

// Rescale changes the number of running tasks of the components named in
// parallelism (each 1..NumTasks) while the topology runs in local mode:
// new tasks start before emitters route to them; stopped bolt tasks run on
// briefly to execute what was already routed to them. An exactly-once
// topology then restores every task from its last completed checkpoint at
// the new parallelism, so keyed state moves to the tasks that now serve its
// key groups (task-scoped state cannot move: such a component keeps its
// parallelism).
func (r *Running) Rescale(ctx context.Context, parallelism map[topology.ComponentID]int) error {
	if r.local == nil {
		return ErrNotLocal
	}
	if err := topoaccess.CheckParallelism(r.Topology, parallelism); err != nil {
		return err
	}
	all := r.env.AllParallelism()
	for c, k := range parallelism {
		if comp := r.Topology.Component(c); r.Topology.Runtime.Guarantee == topology.ExactlyOnce && k != all[c] {
			switch {
			case comp.Kind == topology.KindSpout:
				return fmt.Errorf("%w: spout %q: in exactly-once a spout's position belongs to its task: keep its parallelism", topology.ErrInvalid, c)
			case len(comp.Capabilities.State.Task) > 0:
				return fmt.Errorf("%w: component %q keeps task-scoped state %v, which belongs to a task index and cannot move: keep its parallelism",
					topology.ErrInvalid, c, comp.Capabilities.State.Task)
			}
		}
		all[c] = k
	}
	if err := r.Apply(ctx, Assignment{Epoch: r.env.Epoch(), Tasks: topoaccess.RunningTasksWith(r.Topology, all), Active: r.env.Active(), Parallelism: parallelism, Linger: localLinger}); err != nil {
		return err
	}
	// Exactly-once: every task restores from the last completed checkpoint
	// at the new parallelism; keyed state moves with its key groups.
	r.env.RescaleCheckpoints()
	return nil
}

// Tasks are the tasks running on this node, in task order.
func (r *Running) Tasks() []topology.TaskID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tasks)
}

// Env is the topology's shared task state (statistics, flow control).
func (r *Running) Env() *actors.Env { return r.env }

// Stats returns every task's statistics, in task order.
func (r *Running) Stats() []*actors.TaskStats { return r.env.AllStats() }

// Activate lets the spouts call NextTuple.
func (r *Running) Activate() { r.setActive(true) }

// Deactivate stops the spouts' NextTuple calls; trees in flight still complete.
func (r *Running) Deactivate() { r.setActive(false) }

func (r *Running) setActive(on bool) {
	r.env.SetActive(on)
	var msg any = &actors.Deactivate{}
	if on {
		msg = &actors.Activate{}
	}
	for _, c := range r.Topology.Components {
		if c.Kind != topology.KindSpout {
			continue
		}
		for _, task := range c.Tasks {
			if pid, ok := r.env.Directory.Local(task); ok {
				r.system.Root.Send(pid, msg)
			}
		}
	}
}

// InFlight is the number of trees pending at the spout tasks running here
// plus untracked tuples not yet executed.
func (r *Running) InFlight() int64 {
	n := r.env.Inflight()
	for _, task := range r.Tasks() {
		if c := r.Topology.ComponentOf(task); c != nil && c.Kind == topology.KindSpout {
			n += r.env.Stats(task).Pending.Load()
		}
	}
	return n
}

// Drain deactivates the spouts and waits until nothing is in flight or ctx
// is done (then it returns ctx's error; what was in flight replays).
func (r *Running) Drain(ctx context.Context) error {
	r.Deactivate()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for r.InFlight() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("topology %q: drain: %d in flight: %w", r.Topology.Name, r.InFlight(), ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// Stop stops every task (closing spouts, cleaning up bolts) and waits for
// them, bounded by ctx. It does not drain: use Kill for that. Safe twice.
func (r *Running) Stop(ctx context.Context) error {
	var err error
	r.stopOnce.Do(func() {
		r.stopped.Store(true)
		r.mu.Lock()
		if r.linger != nil && r.linger.Stop() {
			r.lingerWG.Done()
		}
		r.mu.Unlock()
		r.lingerWG.Wait()
		r.stopClk()
		<-r.clkDone
		r.backoff.Close()
		f := r.system.Root.StopFuture(r.sup)
		done := make(chan error, 1)
		go func() { done <- f.Wait() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			err = fmt.Errorf("topology %q: stop: %w", r.Topology.Name, ctx.Err())
		}
		r.env.Close()
		if r.onStop != nil {
			r.onStop()
		}
	})
	return err
}

// Kill drains (bounded by ctx) and then stops the topology, like `storm kill`.
func (r *Running) Kill(ctx context.Context) error {
	derr := r.Drain(ctx)
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return errors.Join(derr, r.Stop(stopCtx))
}
