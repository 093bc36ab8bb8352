package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// spoutRound is how many NextTuple calls a spout task makes per next
// message before it lets the rest of its mailbox (acks, control) in.
const spoutRound = 64

type pendingTree struct {
	msgID any
}

// spoutTask runs one spout task: it calls NextTuple while it has credit
// (pending trees below max.spout.pending, untracked tuples below the receive
// buffer), starts a tree at the tracker for every tuple emitted with a
// message id, and calls Ack or Fail when the tracker, or its own timeout,
// says the tree is done.
type spoutTask struct {
	env   *Env
	comp  *topology.Component
	task  topology.TaskID
	tc    *topology.Context
	spout topology.Spout
	out   *output
	stats *TaskStats

	pending    *expiring[pendingTree]
	maxPending int
	timeout    int64
	active     bool
	nextQueued bool
	// emittedNow counts tuples emitted by the current NextTuple call.
	emittedNow int
	// acked holds message ids to ack right after NextTuple returns (no
	// trackers, or no consumer): Storm never calls Ack from inside an emit.
	acked []any
	// atMostOnce: squall.guarantee=at-most-once, which runs no tracker;
	// message ids are dropped, so Ack and Fail are never called.
	atMostOnce bool
	opened     bool
	// eos: squall.guarantee=exactly-once (eos.go); message ids are dropped
	// too, CheckpointComplete replaces Ack.
	eos    eosTask
	panics panicBudget
}

func newSpoutTask(env *Env, c *topology.Component, task topology.TaskID) *spoutTask {
	s := &spoutTask{
		env: env, comp: c, task: task, stats: env.Stats(task),
		pending:    newExpiring[pendingTree](),
		maxPending: env.Topology.Runtime.MaxSpoutPending,
		timeout:    int64(env.Topology.Runtime.MessageTimeout),
		panics:     panicBudget{max: env.Topology.Runtime.MaxTaskFailures},
		atMostOnce: env.Topology.Runtime.Guarantee == topology.AtMostOnce,
		eos:        eosTask{run: env.eos},
	}
	return s
}

// Receive implements actor.Actor.
func (s *spoutTask) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *nextMsg:
		s.nextQueued = false
		s.run()
	case *completionBatch:
		s.completed(m)
	case *messages.CompletionBatch:
		if !s.env.current(m.Topology, m.Epoch) {
			s.stats.Dropped.Add(int64(len(m.Completions)))
			break
		}
		s.completed(fromWireCompletions(m))
	case *submitted:
		if !s.out.current(m) {
			break
		}
		s.emittedNow = 0
		s.call("submitted function", m.fn)
		s.ackImmediate()
		if s.emittedNow > 0 {
			// It emitted: the spout is not idle, call NextTuple again now
			// rather than at the clock's next pulse.
			s.env.wake[s.task-1].Store(false)
		}
	case *flushMsg:
		s.out.flush()
		return
	case *tickMsg:
		s.expire()
	case *eosTrigger:
		s.checkpoint(m)
	case *eosComplete:
		if s.opened && s.eos.epoch != 0 {
			cs := s.spout.(topology.CheckpointedSpout)
			s.call("CheckpointComplete", func() { cs.CheckpointComplete(uint64(m.id)) })
		}
	case *eosRestore:
		s.restore(m)
	case *eosGo:
		s.eos.going = m.epoch == s.eos.epoch
	case *Activate, *Deactivate:
		s.syncActive()
	case *actor.Started:
		s.start(ctx)
		s.syncActive()
	case *actor.Restarting:
		s.stats.recordRestart(time.Now())
		s.out.refuseSubmit()
		s.close()
		return
	case *actor.Stopping:
		s.out.refuseSubmit()
		s.close()
		return
	}
	if s.panics.exceeded() {
		s.out.flush()
		s.panics.crash(fmt.Sprintf("spout %q task %d", s.comp.ID, s.task))
	}
	s.schedule()
	s.out.afterMessage()
}

func (s *spoutTask) start(ctx actor.Context) {
	s.tc, s.out = startComponent(s.env, s.comp, s.task, ctx.Self())
	if s.eos.on() {
		// Opened by the coordinator's restore, which rewinds it first.
		s.eos.tell(s.env, &eosHello{task: s.task, pid: ctx.Self()})
		return
	}
	s.open()
}

func (s *spoutTask) open() {
	s.spout = s.comp.NewSpout()
	if err := s.spout.Open(context.Background(), s.tc, s); err != nil {
		s.stats.recordError(err)
		// Crash: the supervisor restarts the task with backoff.
		panic(fmt.Errorf("spout %q task %d: open: %w", s.comp.ID, s.task, err))
	}
	s.opened = true
}

// syncActive follows the topology's activation state, which outlives a
// restart of the task.
func (s *spoutTask) syncActive() {
	want := s.env.active.Load() && s.opened
	switch {
	case want && !s.active:
		s.active = true
		s.call("Activate", s.spout.Activate)
	case !want && s.active:
		s.active = false
		s.call("Deactivate", s.spout.Deactivate)
	}
}

// close calls the spout's Close if it was opened, and clears the gauges
// of this instance either way (an Open that failed may have set some;
// Close may set them last, as a Kafka spout's final commit does).
func (s *spoutTask) close() {
	defer s.stats.gauges.Reset()
	if !s.opened {
		return
	}
	s.opened = false
	s.call("Close", func() {
		if err := s.spout.Close(); err != nil {
			s.stats.recordError(err)
		}
	})
}

// canEmit reports whether the task has credit for another NextTuple call.
func (s *spoutTask) canEmit() bool {
	if s.eos.on() && !s.eos.going {
		return false
	}
	if s.maxPending > 0 && s.pending.len() >= s.maxPending {
		return false
	}
	return s.env.inflight.Load() < int64(s.env.Topology.Runtime.ReceiveBufferSize)
}

// run makes up to spoutRound NextTuple calls.
func (s *spoutTask) run() {
	if !s.active || !s.opened {
		return
	}
	for range spoutRound {
		if !s.canEmit() {
			break
		}
		s.emittedNow = 0
		s.call("NextTuple", s.spout.NextTuple)
		s.ackImmediate()
		if s.emittedNow == 0 {
			// Nothing to emit: wait for the clock's next pulse.
			s.env.wake[s.task-1].Store(true)
			return
		}
	}
}

// schedule queues the next round when the task is active and has credit.
func (s *spoutTask) schedule() {
	if s.nextQueued || !s.active || !s.opened || s.env.wake[s.task-1].Load() {
		return
	}
	if !s.canEmit() {
		if s.pending.len() == 0 || s.maxPending == 0 {
			// Blocked on untracked tuples: no ack will wake us.
			s.env.wake[s.task-1].Store(true)
		}
		return
	}
	s.nextQueued = true
	s.env.System.Root.Send(s.out.self, theNext)
}

func (s *spoutTask) ackImmediate() {
	for i, id := range s.acked {
		s.acked[i] = nil
		s.stats.Acked.Add(1)
		s.call("Ack", func() { s.spout.Ack(id) })
	}
	s.acked = s.acked[:0]
}

func (s *spoutTask) completed(b *completionBatch) {
	now := s.env.now()
	var sum, n int64 // complete latencies, added to the stats once per batch
	for _, c := range b.done {
		if c.kind == treeReset {
			if p, ok := s.pending.get(c.root); ok {
				s.pending.put(c.root, p, now)
			}
			continue
		}
		p, born, ok := s.pending.take(c.root)
		if !ok {
			continue // timed out already, or from before a restart
		}
		if c.kind == treeFailed {
			s.stats.Failed.Add(1)
			s.call("Fail", func() { s.spout.Fail(p.msgID) })
		} else {
			s.stats.Acked.Add(1)
			s.stats.CompleteLatency.Record(time.Duration(now - born))
			sum += now - born
			n++
			s.call("Ack", func() { s.spout.Ack(p.msgID) })
		}
	}
	if n > 0 {
		s.stats.CompleteNanos.Add(sum)
		s.stats.Completed.Add(n)
	}
	s.stats.Pending.Store(int64(s.pending.len()))
}

func (s *spoutTask) expire() {
	if s.timeout <= 0 {
		return
	}
	s.pending.expire(s.env.now()-s.timeout, func(_ uint64, p pendingTree) {
		s.stats.Failed.Add(1)
		s.stats.TimedOut.Add(1)
		s.call("Fail", func() { s.spout.Fail(p.msgID) })
	})
	s.stats.Pending.Store(int64(s.pending.len()))
}

// call runs user code, turning a panic into a counted error.
func (s *spoutTask) call(what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.recordError(fmt.Errorf("spout %q task %d: %s panicked: %v", s.comp.ID, s.task, what, r))
			s.panics.record(s.env.now())
		}
	}()
	fn()
}

// SpoutCollector.

func (s *spoutTask) Emit(values topology.Values, msgID any) {
	s.emit(topology.DefaultStream, values, msgID, 0)
}

func (s *spoutTask) EmitStream(stream topology.StreamID, values topology.Values, msgID any) {
	s.emit(stream, values, msgID, 0)
}

func (s *spoutTask) EmitDirect(task topology.TaskID, stream topology.StreamID, values topology.Values, msgID any) {
	if task == 0 {
		panic(fmt.Errorf("spout %q: EmitDirect to task 0", s.comp.ID))
	}
	s.emit(stream, values, msgID, task)
}

func (s *spoutTask) ReportError(err error) { s.stats.recordError(err) }

// EmitStreamTasks implements topology.SpoutTaskReporter.
func (s *spoutTask) EmitStreamTasks(stream topology.StreamID, values topology.Values, msgID any) []topology.TaskID {
	s.emit(stream, values, msgID, 0)
	return s.out.targets
}

var _ topology.SpoutTaskReporter = (*spoutTask)(nil)

func (s *spoutTask) emit(stream topology.StreamID, values topology.Values, msgID any, direct topology.TaskID) {
	s.emittedNow++
	if msgID == nil {
		s.out.emitRoot(stream, values, 0, direct)
		return
	}
	if len(s.out.trackers) == 0 {
		// No trackers: at-most-once (the id is dropped, like Storm's emit
		// without a message id), exactly-once (checkpoints replace acks),
		// or topology.acker.executors=0 (Storm's: acked at once).
		s.out.emitRoot(stream, values, 0, direct)
		if !s.atMostOnce && !s.eos.on() {
			s.acked = append(s.acked, msgID)
		}
		return
	}
	root := randID()
	xor, n := s.out.emitRoot(stream, values, root, direct)
	if n == 0 {
		s.acked = append(s.acked, msgID) // nobody consumes it: the tree is complete
		return
	}
	s.pending.put(root, pendingTree{msgID: msgID}, s.env.now())
	s.stats.Pending.Store(int64(s.pending.len()))
	s.out.trackInit(root, xor)
}

var _ topology.SpoutCollector = (*spoutTask)(nil)

// checkpoint snapshots the spout's position at a trigger and sends the
// barrier after everything it emitted (exactly-once).
func (s *spoutTask) checkpoint(m *eosTrigger) {
	if !s.opened || m.epoch != s.eos.epoch {
		return // a trigger of an epoch a restore replaced
	}
	cs := s.spout.(topology.CheckpointedSpout)
	var pos []byte
	err := errPanicked
	s.call("SnapshotPosition", func() { pos, err = cs.SnapshotPosition(uint64(m.id)) })
	if err == nil {
		err = s.out.barrier(m.id)
	}
	if err != nil {
		s.stats.recordError(fmt.Errorf("spout %q task %d: checkpoint %d: %w", s.comp.ID, s.task, m.id, err))
		s.eos.tell(s.env, &eosDecline{task: s.task, id: m.id, reason: err})
		return
	}
	s.eos.tell(s.env, &eosAck{task: s.task, id: m.id, ack: ckptAck{tc: state.TaskCheckpoint{Position: pos}}})
}

// restore makes a fresh instance of the spout, rewound to the checkpoint's
// position, running in the restore's epoch.
func (s *spoutTask) restore(m *eosRestore) {
	if s.opened {
		s.active = false
		s.close()
	}
	s.out.discard()
	s.out.channels = channels(s.env, s.comp) // the parallelism may have changed (a rescale)
	s.eos.epoch, s.out.eosEpoch, s.eos.going = m.epoch, uint64(m.epoch), false
	s.acked = s.acked[:0]
	s.tc = s.out.instanceContext()
	s.open() // a failure crashes the task: restarted with backoff, it says hello, and everything restores again
	err := errPanicked
	s.call("RestorePosition", func() { err = s.spout.(topology.CheckpointedSpout).RestorePosition(m.tc.Position) })
	if err != nil {
		err = fmt.Errorf("spout %q task %d: restore of checkpoint %d: %w", s.comp.ID, s.task, m.from, err)
		s.stats.recordError(err)
		panic(err)
	}
	s.syncActive()
	s.eos.tell(s.env, &eosRestored{task: s.task, epoch: m.epoch})
}
