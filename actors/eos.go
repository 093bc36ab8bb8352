package actors

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/internal/spawnlock"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// squall.guarantee=exactly-once, within one process: Flink's aligned
// barrier snapshots on the actor runtime.
//
//   - A coordinator actor per topology (eosCoordinator) runs the pure
//     checkpoint.Coordinator on the topology clock's ticks.
//   - Every task says hello when an instance of it starts, and does nothing
//     until the coordinator tells it to restore: the first start of the
//     topology and every recovery are the same path. A hello from a task
//     that had started before is a failure: everything restores.
//   - On a restore every task makes a fresh instance of its component (no
//     user object survives a rollback), loads its state from the Store,
//     rewinds (spouts: RestorePosition) or recovers (two-phase sinks:
//     Recover), drops what it buffered, and runs in the new restore epoch.
//     Batches stamped with another epoch are dropped on arrival.
//   - A spout snapshots its position on a trigger and sends a barrier on
//     every output channel, after its buffered tuples; a bolt aligns the
//     barrier over its input channels (checkpoint.Aligner), snapshots its
//     state into the Store, pre-commits a two-phase sink, forwards the
//     barrier and acks. When every task acked, the coordinator commits the
//     checkpoint to the Store (the commit point) and tells every task it
//     completed: sinks commit, spouts learn it.
//   - A failed tuple, a panic, a failed snapshot or a restarted task
//     restores every task to the last completed checkpoint.
//
// In one process the mailboxes are the channels: FIFO per sender and
// lossless, so barriers need no sequence numbers here; they come with
// barriers across nodes.

// eosRun is what the tasks of an exactly-once topology share.
type eosRun struct {
	store  state.Store
	cfg    checkpoint.Config
	budget int64
	coord  *actor.PID
	status atomic.Pointer[CheckpointStatus]
}

// CheckpointStatus is what an exactly-once topology's checkpoints look like
// now, for tests, the UI, REST and metrics.
type CheckpointStatus struct {
	Phase         string
	Epoch         uint64 // restore epoch
	LastCompleted uint64 // 0: none yet
	CompletedAt   time.Time
	Duration      time.Duration // of the last completed, trigger to commit
	Bytes         int64         // state staged by the last completed
	Alignment     time.Duration // longest alignment in the last completed
	Completed     int64
	Failed        int64 // aborted or declined checkpoints
	Restores      int64 // not counting the first start and rescales
	Rescales      int64
	LastFailure   string
	LastFailureAt time.Time
}

// Checkpoints returns the checkpoint status of an exactly-once topology,
// false for the other guarantees.
func (e *Env) Checkpoints() (CheckpointStatus, bool) {
	if e.eos == nil {
		return CheckpointStatus{}, false
	}
	if s := e.eos.status.Load(); s != nil {
		return *s, true
	}
	return CheckpointStatus{Phase: "starting"}, true
}

// StartCheckpoints opens the checkpoint store of an exactly-once topology
// and spawns its coordinator, before its tasks start; for other guarantees
// it does nothing. Close stops the coordinator.
func (e *Env) StartCheckpoints() error {
	rt := e.Topology.Runtime
	if rt.Guarantee != topology.ExactlyOnce || e.System == nil {
		return nil
	}
	if warnings, err := topology.CheckExactlyOnce(e.Topology); err != nil {
		return err
	} else {
		for _, w := range warnings {
			e.Logger.Warn("exactly-once: " + w.String())
		}
	}
	cp := rt.Checkpoints
	run := &eosRun{
		cfg:    checkpoint.Config{Interval: cp.Interval, Timeout: cp.Timeout, TolerableFailures: cp.TolerableFailures},
		budget: cp.AlignmentMaxBytes,
	}
	open := e.OpenStore
	if open == nil {
		open = state.OpenDefault
	}
	store, err := open(e.Topology)
	if err != nil {
		return fmt.Errorf("topology %q: open the checkpoint store: %w", e.Topology.Name, err)
	}
	run.store = store
	tasks := e.checkpointTasks()
	last, _ := run.store.Last()
	coord, err := checkpoint.NewCoordinator[ckptAck](run.cfg, tasks,
		checkpoint.Resume{LastCompleted: last.ID, LastTriggered: last.ID, Epoch: last.Epoch}, time.Now())
	if err != nil {
		if c, ok := store.(io.Closer); ok {
			_ = c.Close()
		}
		return fmt.Errorf("topology %q: %w", e.Topology.Name, err)
	}
	e.eos = run
	props := actor.PropsFromProducer(func() actor.Actor {
		return &eosCoordinator{env: e, run: run, c: coord, tasks: tasks, hello: map[topology.TaskID]bool{}, early: map[topology.TaskID]bool{}, pids: map[topology.TaskID]*actor.PID{}}
	})
	spawnlock.Mu.Lock()
	run.coord = e.System.Root.Spawn(props)
	spawnlock.Mu.Unlock()
	return nil
}

// Messages between tasks and the coordinator.
type (
	ckptAck struct {
		tc         state.TaskCheckpoint
		stateBytes int64
		alignment  time.Duration
	}
	// eosHello carries the task's actor: its supervisor may not have put
	// it in the directory yet when the coordinator answers.
	eosHello struct {
		task topology.TaskID
		pid  *actor.PID
	}
	eosTrigger struct {
		id    checkpoint.ID
		epoch checkpoint.Epoch
	}
	eosAck struct {
		task topology.TaskID
		id   checkpoint.ID
		ack  ckptAck
	}
	eosDecline struct {
		task   topology.TaskID
		id     checkpoint.ID
		reason error
	}
	eosFailed struct {
		task   topology.TaskID
		reason error
	}
	eosComplete struct{ id checkpoint.ID }
	eosAbort    struct{ id checkpoint.ID }
	eosRestore  struct {
		epoch checkpoint.Epoch
		from  checkpoint.ID
		tc    state.TaskCheckpoint
	}
	eosRestored struct {
		task  topology.TaskID
		epoch checkpoint.Epoch
	}
	// eosGo lets the spouts emit in epoch, once every task has restored:
	// no tuple of a new epoch may reach a task that has not restored yet.
	eosGo struct{ epoch checkpoint.Epoch }
	// eosRescale: the topology runs tasks now (a rescale in local mode).
	eosRescale struct{ tasks []topology.TaskID }
)

// eosCoordinator is the checkpoint coordinator's actor: the pure
// checkpoint.Coordinator, fed the time, with its Commands carried out.
type eosCoordinator struct {
	env   *Env
	run   *eosRun
	c     *checkpoint.Coordinator[ckptAck]
	tasks []topology.TaskID

	hello   map[topology.TaskID]bool
	pids    map[topology.TaskID]*actor.PID // from the hellos
	started bool
	// early are hellos of tasks a rescale starts, come before the rescale.
	early    map[topology.TaskID]bool
	restored map[topology.TaskID]bool
	trigger  time.Time // of the checkpoint in flight
	status   CheckpointStatus
}

var (
	errTaskRestarted = errors.New("the task restarted")
	// errPanicked: user code called for a checkpoint panicked (the panic
	// itself is in the task's errors).
	errPanicked = errors.New("panicked")
)

func (k *eosCoordinator) Receive(ctx actor.Context) {
	now := time.Now()
	var cmds []checkpoint.Command
	var err error
	switch m := ctx.Message().(type) {
	case *tickMsg:
		cmds = k.c.Tick(now)
	case *eosHello:
		if m.pid != nil {
			k.pids[m.task] = m.pid
		}
		if !slices.Contains(k.tasks, m.task) {
			k.early[m.task] = true
			break
		}
		if !k.started {
			k.hello[m.task] = true
			cmds = k.startWhenAllSaidHello(now)
			break
		}
		cmds = k.c.TaskFailed(now, m.task, errTaskRestarted)
	case *eosRescale:
		cmds, err = k.rescale(now, m.tasks)
	case *eosAck:
		cmds, err = k.c.Ack(now, m.task, m.id, m.ack)
	case *eosDecline:
		cmds, err = k.c.Decline(now, m.task, m.id, m.reason)
	case *eosFailed:
		if k.started && slices.Contains(k.tasks, m.task) {
			cmds = k.c.TaskFailed(now, m.task, m.reason)
		}
	case *eosRestored:
		if k.restored != nil && m.epoch == k.c.Status().Epoch && slices.Contains(k.tasks, m.task) {
			k.restored[m.task] = true
			if len(k.restored) == len(k.tasks) {
				k.restored = nil
				cmds = k.c.Restored(now, m.epoch)
				for _, task := range k.tasks {
					if k.env.Topology.ComponentOf(task).Kind == topology.KindSpout {
						k.send(task, &eosGo{epoch: m.epoch})
					}
				}
			}
		}
	default:
		return
	}
	if err != nil {
		k.env.Logger.Warn("checkpoint coordinator", "err", err)
	}
	k.execute(now, cmds)
	k.publish()
}

// startWhenAllSaidHello starts (restores) once every task has said hello.
func (k *eosCoordinator) startWhenAllSaidHello(now time.Time) []checkpoint.Command {
	if len(k.hello) < len(k.tasks) {
		return nil
	}
	k.started = true
	return k.c.Start(now)
}

// rescale makes tasks the ones that checkpoint: a new coordinator resumed
// where this one is, and, once the new tasks have said hello, a restore of
// every task from the last completed checkpoint at the new parallelism.
// Keyed state is stored by key group, so each task loads the groups it
// serves now: the state moves with its keys. Whatever ran after that
// checkpoint replays, as after a failure.
func (k *eosCoordinator) rescale(now time.Time, tasks []topology.TaskID) ([]checkpoint.Command, error) {
	st := k.c.Status()
	c, err := checkpoint.NewCoordinator[ckptAck](k.run.cfg, tasks,
		checkpoint.Resume{LastCompleted: st.LastCompleted, LastTriggered: st.LastTriggered, Epoch: st.Epoch}, now)
	if err != nil {
		return nil, err
	}
	hello := map[topology.TaskID]bool{}
	for _, t := range tasks {
		if slices.Contains(k.tasks, t) || k.early[t] {
			hello[t] = true
		}
	}
	k.c, k.tasks, k.hello, k.early, k.started, k.restored = c, tasks, hello, map[topology.TaskID]bool{}, false, nil
	k.status.Rescales++
	return k.startWhenAllSaidHello(now), nil
}

// RescaleCheckpoints tells the coordinator of an exactly-once topology
// which tasks run after a rescale (their routing already in place): every
// task restores at the new parallelism.
func (e *Env) RescaleCheckpoints() {
	if e.eos == nil {
		return
	}
	e.System.Root.Send(e.eos.coord, &eosRescale{tasks: e.checkpointTasks()})
}

// checkpointTasks are the spout and bolt tasks that run at the live
// parallelism: those the coordinator waits for.
func (e *Env) checkpointTasks() []topology.TaskID {
	var tasks []topology.TaskID
	for _, task := range topoaccess.RunningTasksWith(e.Topology, e.AllParallelism()) {
		if e.Topology.ComponentOf(task) != nil {
			tasks = append(tasks, task)
		}
	}
	return tasks
}

func (k *eosCoordinator) execute(now time.Time, cmds []checkpoint.Command) {
	for len(cmds) > 0 {
		cmd := cmds[0]
		cmds = cmds[1:]
		switch c := cmd.(type) {
		case checkpoint.Trigger:
			k.trigger = now
			for _, task := range k.tasks {
				if k.env.Topology.ComponentOf(task).Kind == topology.KindSpout {
					k.send(task, &eosTrigger{id: c.ID, epoch: c.Epoch})
				}
			}
		case checkpoint.Commit[ckptAck]:
			cmds = append(cmds, k.commit(now, c)...)
		case checkpoint.Resolve:
			if last, ok := k.run.store.Last(); ok && last.ID == c.ID {
				cmds = append(cmds, k.c.Committed(now, c.ID)...)
			} else {
				cmds = append(cmds, k.c.CommitFailed(now, c.ID, fmt.Errorf("checkpoint %d is not in the store", c.ID))...)
			}
		case checkpoint.Complete:
			k.status.Completed++
			k.status.LastCompleted, k.status.CompletedAt = uint64(c.ID), now
			k.status.Duration = now.Sub(k.trigger)
			k.broadcast(&eosComplete{id: c.ID})
		case checkpoint.Abort:
			k.failed(now, c.Reason)
			k.status.Failed++
			k.broadcast(&eosAbort{id: c.ID})
		case checkpoint.Restore:
			cmds = append(cmds, k.restore(now, c)...)
		}
	}
}

func (k *eosCoordinator) commit(now time.Time, c checkpoint.Commit[ckptAck]) []checkpoint.Command {
	tcs := make(map[topology.TaskID]state.TaskCheckpoint, len(c.Acks))
	var bytes int64
	var align time.Duration
	for task, a := range c.Acks {
		tcs[task] = a.tc
		bytes += a.stateBytes
		align = max(align, a.alignment)
	}
	meta, err := state.EncodeCheckpointRecord(tcs)
	if err == nil {
		err = k.run.store.Commit(c.ID, c.Epoch, meta)
	}
	if err != nil {
		return k.c.CommitFailed(now, c.ID, err)
	}
	k.status.Bytes, k.status.Alignment = bytes, align
	return k.c.Committed(now, c.ID)
}

func (k *eosCoordinator) restore(now time.Time, r checkpoint.Restore) []checkpoint.Command {
	if !errors.Is(r.Reason, checkpoint.ErrStarting) { // a start or a rescale
		k.status.Restores++
		k.failed(now, r.Reason)
		k.env.Logger.Warn("exactly-once: restoring every task to the last completed checkpoint",
			"checkpoint", r.From, "epoch", r.Epoch, "reason", r.Reason)
	}
	tcs := map[topology.TaskID]state.TaskCheckpoint{}
	err := k.run.store.Abandon()
	if last, ok := k.run.store.Last(); err == nil && ok {
		if last.ID != r.From {
			err = fmt.Errorf("the store's last completed checkpoint is %d, the coordinator's %d", last.ID, r.From)
		} else {
			tcs, err = state.DecodeCheckpointRecord(last.Meta)
		}
	}
	if err != nil {
		// Running on wrong state is worse than not running: stay in the
		// restore, reported, until someone looks.
		k.failed(now, fmt.Errorf("restore of checkpoint %d: %w", r.From, err))
		k.env.Logger.Error("exactly-once: cannot restore; the topology stops processing", "checkpoint", r.From, "err", err)
		return nil
	}
	k.restored = map[topology.TaskID]bool{}
	for _, task := range k.tasks {
		k.send(task, &eosRestore{epoch: r.Epoch, from: r.From, tc: tcs[task]})
	}
	return nil
}

func (k *eosCoordinator) failed(now time.Time, reason error) {
	if reason != nil {
		k.status.LastFailure, k.status.LastFailureAt = reason.Error(), now
	}
}

func (k *eosCoordinator) publish() {
	st := k.c.Status()
	s := k.status
	s.Phase, s.Epoch = st.Phase.String(), uint64(st.Epoch)
	if !k.started {
		s.Phase = "starting"
	}
	k.run.status.Store(&s)
}

func (k *eosCoordinator) send(task topology.TaskID, m any) {
	if pid := k.pids[task]; pid != nil {
		k.env.System.Root.Send(pid, m)
		return
	}
	if pid, ok := k.env.Directory.Local(task); ok {
		k.env.System.Root.Send(pid, m)
	}
}

func (k *eosCoordinator) broadcast(m any) {
	for _, task := range k.tasks {
		k.send(task, m)
	}
}

// eosTask is a task's side of exactly-once: its restore epoch and the
// coordinator.
type eosTask struct {
	run   *eosRun
	epoch checkpoint.Epoch // 0: not restored yet, so nothing runs
	// going: a spout may emit (eosGo came for its epoch).
	going bool
}

func (t *eosTask) on() bool { return t.run != nil }

func (t *eosTask) tell(env *Env, m any) { env.System.Root.Send(t.run.coord, m) }

// channels are the running tasks of every consumer of c's streams: a
// barrier goes to each, used or not (a direct grouping's, a
// local-or-shuffle's far ones).
func channels(env *Env, c *topology.Component) []topology.TaskID {
	var out []topology.TaskID
	for _, subs := range c.Consumers {
		for _, sub := range subs {
			out = append(out, sub.Tasks[:min(env.Parallelism(sub.Consumer), len(sub.Tasks))]...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// inputChannels are the running tasks of every component c takes a stream
// from.
func inputChannels(env *Env, c *topology.Component) []topology.TaskID {
	var out []topology.TaskID
	for _, in := range c.Inputs {
		src := env.Topology.Component(in.Source)
		out = append(out, src.Tasks[:min(env.Parallelism(src.ID), len(src.Tasks))]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// barrier sends what is buffered, then barrier id, on every output
// channel. In one process every channel is a mailbox; a channel to
// another process is an error (exactly-once runs in local mode).
func (o *output) barrier(id checkpoint.ID) error {
	o.flush()
	for _, task := range o.channels {
		pid, ok := o.env.Directory.Local(task)
		if !ok {
			return fmt.Errorf("barrier %d: task %d does not run in this process", id, task)
		}
		o.env.System.Root.Send(pid, &tupleBatch{from: o.task, epoch: o.eosEpoch, barrier: id})
	}
	return nil
}

// discard drops what is buffered: a restore rolls it back.
func (o *output) discard() {
	for _, task := range o.dirty {
		o.bufs[task-1], o.untracked[task-1], o.slabs[task-1] = nil, 0, nil
	}
	o.dirty = o.dirty[:0]
}

// dropStale drops a batch of an earlier restore epoch (or one that came
// before the task's first restore), reporting whether it did. A batch of a
// later epoch than the task's breaks the protocol (spouts emit only once
// every task restored): it is a failure, never a silent hole.
func (t *eosTask) dropStale(env *Env, stats *TaskStats, task topology.TaskID, m *tupleBatch) bool {
	if t.epoch != 0 && m.epoch == uint64(t.epoch) {
		return false
	}
	if m.epoch > uint64(t.epoch) {
		err := fmt.Errorf("task %d: a batch of restore epoch %d from task %d reached it in epoch %d", task, m.epoch, m.from, t.epoch)
		stats.recordError(err)
		t.tell(env, &eosFailed{task: task, reason: err})
	}
	stats.Dropped.Add(int64(len(m.tuples)))
	if m.untracked > 0 {
		env.inflight.Add(-m.untracked)
	}
	return true
}

// tupleSize is what a parked tuple counts against the alignment budget.
func tupleSize(t *tuple) int64 {
	n := int64(96)
	for _, v := range t.Values() {
		switch x := v.(type) {
		case string:
			n += 16 + int64(len(x))
		case []byte:
			n += 24 + int64(len(x))
		default:
			n += 16
		}
	}
	return n
}
