package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// boltTask runs one bolt task: it executes input tuples, keeps the ones the
// bolt holds (neither acked nor failed yet), and turns acks and fails into
// tracker updates.
type boltTask struct {
	env   *Env
	comp  *topology.Component
	task  topology.TaskID
	tc    *topology.Context
	bolt  topology.Bolt
	out   *output
	stats *TaskStats

	// held are the input tuples the bolt has not acked or failed; a tuple
	// knows its slot, so holding and releasing are O(1).
	held []*tuple
	// cur and next are the batch being executed and the index of the next
	// tuple in it, so a crash can fail the tuples it never reached.
	cur    *tupleBatch
	next   int
	ready  bool
	panics panicBudget

	tickEvery int64
	lastTick  int64
	hs        headers // of tuples received from other processes

	// batchStart is the clock read that starts a batch: its execute time
	// is one read at each end. With squall.metrics.latency (timed) the
	// timer gives process latency (timing.go).
	batchStart int64
	timed      bool
	timer      tupleTimer

	// Keyed state (keyed.go): the task's Backend, and how to find a
	// tuple's key.
	keyed keyedState
	// Exactly-once (eos.go, boltEOS below): the restore epoch, the
	// aligner of a task with several input channels, a two-phase sink.
	eos   eosTask
	align *checkpoint.Aligner[*tuple]
	sink  topology.TwoPhaseSink
	// eosFailed: this instance reported a failure in its epoch; it acks no
	// checkpoint until the restore.
	eosFailed  bool
	alignStart time.Time
	run        []*tuple // scratch: the tuples an aligner step releases
	// waiting is a barrier that reached the task while tuples before it
	// were unacked (a multilang bolt's in its subprocess, a bolt that acks
	// from its own goroutine); what arrives meanwhile is deferred, up to
	// the alignment budget.
	waiting       *waitingBarrier
	deferred      []*tupleBatch
	deferredBytes int64
	resumeQueued  bool
}

type waitingBarrier struct {
	id        checkpoint.ID
	alignment time.Duration
	drain     []*tuple // the aligner's parked tuples, after the snapshot
}

func newBoltTask(env *Env, c *topology.Component, task topology.TaskID) *boltTask {
	return &boltTask{
		env: env, comp: c, task: task, stats: env.Stats(task),
		panics:    panicBudget{max: env.Topology.Runtime.MaxTaskFailures},
		tickEvery: int64(env.Topology.Runtime.TickFreq),
		timed:     env.Topology.Runtime.MetricsLatency,
		timer:     tupleTimer{clock: env.now},
		eos:       eosTask{run: env.eos},
	}
}

// Receive implements actor.Actor.
func (b *boltTask) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *tupleBatch:
		if b.eos.on() {
			b.eosBatch(m)
		} else {
			b.executeBatch(m)
		}
	case *eosComplete:
		b.eosComplete(m)
	case *eosAbort:
		b.eosAbort(m)
	case *eosRestore:
		b.eosRestore(m)
	case *eosResume:
		b.eosResume()
	case *messages.TupleBatch:
		if !b.env.current(m.Topology, m.Epoch) {
			b.stats.Dropped.Add(int64(len(m.Tuples)))
			return
		}
		if b.hs == nil {
			b.hs = headers{}
		}
		b.executeBatch(b.env.fromWireTuples(m, b.task, b.hs, b.stats))
	case *submitted:
		if b.out.current(m) {
			b.runSubmitted(m.fn)
		}
	case *flushMsg:
		b.out.flush()
		return
	case *tickMsg:
		b.maybeTick()
	case *actor.Started:
		b.start(ctx)
	case *actor.Restarting:
		// The old instance's last message: fail what it held, clean up.
		b.out.refuseSubmit()
		b.stats.recordRestart(time.Now()) // a restart with its time: two close together mark the task failing
		b.abandon()
		b.eosForget()
		b.cleanup()
		return
	case *actor.Stopping:
		b.out.refuseSubmit()
		b.abandon()
		b.eosForget()
		b.cleanup()
		return
	}
	if b.panics.exceeded() {
		b.out.flush()
		b.panics.crash(fmt.Sprintf("bolt %q task %d", b.comp.ID, b.task))
	}
	b.out.afterMessage()
}

func (b *boltTask) start(ctx actor.Context) {
	b.tc, b.out = startComponent(b.env, b.comp, b.task, ctx.Self())
	b.keyed = newKeyedState(b.env, b.comp, b.tc)
	b.lastTick = b.env.now()
	if b.eos.on() {
		// Prepared by the coordinator's restore, with the checkpoint's state.
		b.eos.tell(b.env, &eosHello{task: b.task, pid: ctx.Self()})
		return
	}
	b.prepare(nil)
}

// prepare makes a fresh instance of the bolt, with its keyed state (groups:
// what a restore loaded; nil: empty), and prepares it. A failure crashes
// the task: the supervisor restarts it with backoff.
func (b *boltTask) prepare(groups map[uint32][]state.Record) {
	if err := b.keyed.reset(b.tc, groups); err != nil {
		b.stats.recordError(err)
		panic(fmt.Errorf("bolt %q task %d: restore state: %w", b.comp.ID, b.task, err))
	}
	b.bolt = b.comp.NewBolt()
	if err := b.bolt.Prepare(context.Background(), b.tc, b); err != nil {
		b.stats.recordError(err)
		panic(fmt.Errorf("bolt %q task %d: prepare: %w", b.comp.ID, b.task, err))
	}
	b.sink, _ = topoaccess.Inner(b.bolt).(topology.TwoPhaseSink)
	b.ready = true
}

// cleanup calls the bolt's Cleanup if it was prepared, and clears the
// gauges of this instance either way (a Prepare that failed may have set
// some).
func (b *boltTask) cleanup() {
	defer b.stats.gauges.Reset()
	if !b.ready {
		return
	}
	b.ready = false
	defer func() {
		if r := recover(); r != nil {
			b.stats.recordError(fmt.Errorf("bolt %q task %d: Cleanup panicked: %v", b.comp.ID, b.task, r))
		}
	}()
	if err := b.bolt.Cleanup(); err != nil {
		b.stats.recordError(err)
	}
}

func (b *boltTask) executeBatch(m *tupleBatch) {
	b.cur = m
	b.batchStart = b.env.now()
	b.timer.startBatch(b.batchStart)
	for b.next = 0; b.next < len(m.tuples); {
		t := m.tuples[b.next]
		b.next++
		if b.timed {
			b.timer.before(t)
			b.execute(t)
			if !b.timer.afterAcked() {
				b.timer.afterSlow(t)
			}
		} else {
			b.execute(t)
		}
		if b.panics.exceeded() {
			// Leave the rest of the batch to abandon(), run on restart.
			return
		}
	}
	b.finishBatch()
}

func (b *boltTask) finishBatch() {
	if b.cur == nil {
		return
	}
	if b.cur.untracked > 0 && !b.eos.on() {
		// (In exactly-once a tuple counts until it is acked: eosReleased.)
		b.env.inflight.Add(-b.cur.untracked)
	}
	now := b.env.now()
	b.stats.Executed.Add(int64(b.next))
	b.stats.ExecuteNanos.Add(now - b.batchStart)
	if ns, n := b.timer.endBatch(now); n > 0 {
		b.stats.ProcessNanos.Add(ns)
		b.stats.Processed.Add(n)
	}
	b.cur, b.next = nil, 0
}

func (b *boltTask) execute(t *tuple) {
	// In exactly-once every tuple is held until acked: a barrier passes
	// the task only once everything before it is acked (eos.go).
	if len(t.anchors) > 0 || (b.eos.on() && !topology.IsTick(t)) {
		t.held = int32(len(b.held))
		b.held = append(b.held, t)
	}
	defer func() {
		if r := recover(); r != nil {
			b.stats.recordError(fmt.Errorf("bolt %q task %d: Execute panicked on %s: %v", b.comp.ID, b.task, topology.Describe(t), r))
			b.panics.record(b.env.now())
			b.Fail(t)
		}
	}()
	if b.keyed.backend != nil {
		b.keyed.setKey(t, b.stats)
	}
	b.bolt.Execute(t)
}

func (b *boltTask) runSubmitted(fn func()) {
	if !b.ready {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			b.stats.recordError(fmt.Errorf("bolt %q task %d: submitted function panicked: %v", b.comp.ID, b.task, r))
			b.panics.record(b.env.now())
		}
	}()
	fn()
}

// abandon fails every tuple the task holds or never reached: their trees
// fail at once and replay, instead of waiting for the timeout.
func (b *boltTask) abandon() {
	if b.cur != nil {
		for _, t := range b.cur.tuples[b.next:] {
			for _, e := range t.anchors {
				b.out.trackFail(e.root)
			}
		}
		if b.eos.on() {
			b.env.inflight.Add(-int64(len(b.cur.tuples) - b.next)) // never executed
		}
		b.next = len(b.cur.tuples)
		b.finishBatch()
	}
	for len(b.held) > 0 {
		b.Fail(b.held[len(b.held)-1])
	}
	if b.out != nil {
		b.out.flush()
	}
}

func (b *boltTask) release(t *tuple) bool {
	i := t.held
	if i < 0 || int(i) >= len(b.held) || b.held[i] != t {
		return false
	}
	last := len(b.held) - 1
	b.held[i] = b.held[last]
	b.held[i].held = i
	b.held[last] = nil
	b.held = b.held[:last]
	t.held = -1
	return true
}

// processed counts the process time of t, acked. The common cases — t
// acked inside its own Execute, or not timed at all (latency off, ticks)
// — are inlined.
func (b *boltTask) processed(t *tuple) {
	if t == b.timer.executing {
		b.timer.acked = true
		return
	}
	if t.received != 0 {
		b.processedLater(t)
	}
}

func (b *boltTask) processedLater(t *tuple) {
	if ns, delayed := b.timer.ack(t); delayed {
		b.stats.ProcessNanos.Add(ns)
		b.stats.Processed.Add(1)
	}
}

var tickHeader = &topology.TupleHeader{Component: topology.SystemComponent, Task: topology.SystemTask, Stream: topology.TickStream, Fields: topology.Fields{"rate_secs"}}

func (b *boltTask) maybeTick() {
	if b.tickEvery <= 0 || !b.ready {
		return
	}
	now := b.env.now()
	if now-b.lastTick < b.tickEvery {
		return
	}
	b.lastTick = now
	t := &tuple{TupleData: topoaccess.MakeTupleData(tickHeader, topology.Values{int64(b.tickEvery / 1e9)}), held: -1}
	b.execute(t)
}

// OutputCollector.

func (b *boltTask) Emit(values topology.Values, anchors ...topology.Tuple) {
	b.out.emitAnchored(topology.DefaultStream, values, anchors, 0)
}

func (b *boltTask) EmitStream(stream topology.StreamID, values topology.Values, anchors ...topology.Tuple) {
	b.out.emitAnchored(stream, values, anchors, 0)
}

func (b *boltTask) EmitDirect(task topology.TaskID, stream topology.StreamID, values topology.Values, anchors ...topology.Tuple) {
	if task == 0 {
		panic(fmt.Errorf("bolt %q: EmitDirect to task 0", b.comp.ID))
	}
	b.out.emitAnchored(stream, values, anchors, task)
}

// EmitStreamTasks implements topology.TaskReporter.
func (b *boltTask) EmitStreamTasks(stream topology.StreamID, values topology.Values, anchors ...topology.Tuple) []topology.TaskID {
	b.out.emitAnchored(stream, values, anchors, 0)
	return b.out.targets
}

var _ topology.TaskReporter = (*boltTask)(nil)

func (b *boltTask) Ack(t topology.Tuple) {
	rt, ok := t.(*tuple)
	if !ok {
		return
	}
	if b.eos.on() && !topology.IsTick(rt) {
		if b.release(rt) {
			b.env.inflight.Add(-1)
			b.stats.Acked.Add(1)
			b.processed(rt)
			b.eosReleased()
		}
		return
	}
	if len(rt.anchors) == 0 {
		if !topology.IsTick(rt) {
			b.stats.Acked.Add(1)
			b.processed(rt)
		}
		return
	}
	if !b.release(rt) {
		return // acked or failed already
	}
	for _, e := range rt.anchors {
		b.out.trackAck(e.root, e.id^rt.ackVal)
	}
	b.stats.Acked.Add(1)
	b.processed(rt)
}

func (b *boltTask) Fail(t topology.Tuple) {
	rt, ok := t.(*tuple)
	if !ok {
		return
	}
	b.timer.fail(rt)
	if b.eos.on() && !topology.IsTick(rt) {
		// Nothing replays one tuple in exactly-once: everything rolls back.
		if !b.release(rt) {
			return
		}
		b.env.inflight.Add(-1)
		b.stats.Failed.Add(1)
		b.eosFail(fmt.Errorf("bolt %q task %d failed %s", b.comp.ID, b.task, topology.Describe(rt)))
		return
	}
	if len(rt.anchors) == 0 {
		if !topology.IsTick(rt) {
			b.stats.Failed.Add(1)
		}
		return
	}
	if !b.release(rt) {
		return
	}
	for _, e := range rt.anchors {
		b.out.trackFail(e.root)
	}
	b.stats.Failed.Add(1)
}

func (b *boltTask) ResetTimeout(t topology.Tuple) {
	rt, ok := t.(*tuple)
	if !ok || rt.held < 0 {
		return
	}
	for _, e := range rt.anchors {
		b.out.trackReset(e.root)
	}
}

func (b *boltTask) ReportError(err error) { b.stats.recordError(err) }

var _ topology.OutputCollector = (*boltTask)(nil)

// Exactly-once (eos.go).

// eosBatch runs a batch in exactly-once: stale epochs dropped, tuples
// through the aligner when the task has several input channels, and the
// barrier that may follow them.
func (b *boltTask) eosBatch(m *tupleBatch) {
	if b.eos.dropStale(b.env, b.stats, b.task, m) {
		return
	}
	if b.waiting != nil {
		b.deferred = append(b.deferred, m)
		for _, t := range m.tuples {
			b.deferredBytes += tupleSize(t)
		}
		if b.deferredBytes > b.env.eos.budget {
			id := b.waiting.id
			err := fmt.Errorf("bolt %q task %d: %w: %d bytes arrived while tuples before barrier %d were unacked",
				b.comp.ID, b.task, checkpoint.ErrAlignmentOverflow, b.deferredBytes, id)
			b.eos.tell(b.env, &eosDecline{task: b.task, id: id, reason: err})
			b.resume(false)
		}
		return
	}
	if b.align == nil {
		if len(m.tuples) > 0 || m.untracked > 0 {
			b.executeBatch(m)
		}
		if m.barrier != 0 {
			b.snapshot(m.barrier, 0)
		}
		return
	}
	run := b.run[:0]
	for _, t := range m.tuples {
		step, err := b.align.Tuple(m.from, t, tupleSize(t))
		if err != nil {
			b.eosFail(fmt.Errorf("bolt %q task %d: %w", b.comp.ID, b.task, err))
			return
		}
		run = append(run, step.Process...)
	}
	if !b.executeScratch(run, m.untracked) || m.barrier == 0 {
		return
	}
	if id, _, _ := b.align.Aligning(); id == 0 {
		b.alignStart = time.Now()
	}
	step, err := b.align.Barrier(m.from, m.barrier)
	if err != nil {
		b.eosFail(fmt.Errorf("bolt %q task %d: %w", b.comp.ID, b.task, err))
		return
	}
	b.alignStep(step)
}

// alignStep carries out what the aligner said, in its order.
func (b *boltTask) alignStep(step checkpoint.Step[*tuple]) {
	b.executeCopy(step.Process)
	if step.Declined != 0 {
		b.eos.tell(b.env, &eosDecline{task: b.task, id: step.Declined, reason: step.Reason})
	}
	if step.Snapshot != 0 {
		b.snapshot(step.Snapshot, time.Since(b.alignStart))
		if b.waiting != nil {
			b.waiting.drain = append(b.waiting.drain[:0], step.Drain...)
			return
		}
		b.executeCopy(step.Drain)
	}
}

// executeCopy executes tuples the aligner owns (valid until its next call).
func (b *boltTask) executeCopy(ts []*tuple) {
	if len(ts) == 0 {
		return
	}
	b.executeScratch(append(b.run[:0], ts...), 0)
}

// executeScratch executes run, the task's scratch slice, and reports
// whether the whole of it ran; if not (the task is about to crash), the
// scratch stays the abandoned batch's.
func (b *boltTask) executeScratch(run []*tuple, untracked int64) bool {
	b.executeBatch(&tupleBatch{tuples: run, untracked: untracked})
	if b.cur != nil {
		b.run = nil
		return false
	}
	clear(run)
	b.run = run[:0]
	return true
}

// snapshot is the barrier of checkpoint id passing the task: its state
// staged, a sink pre-committed, the barrier forwarded, the ack sent.
func (b *boltTask) snapshot(id checkpoint.ID, alignment time.Duration) {
	if b.eosFailed || !b.ready {
		return
	}
	if len(b.held) > 0 {
		b.waiting = &waitingBarrier{id: id, alignment: alignment}
		return
	}
	b.takeSnapshot(id, alignment)
}

// eosReleased is an ack or fail in exactly-once: the last one a waiting
// barrier needs lets it pass, in a turn of its own (the ack may come from
// inside Execute or a submitted function).
func (b *boltTask) eosReleased() {
	if b.waiting != nil && len(b.held) == 0 && !b.resumeQueued {
		b.resumeQueued = true
		b.env.System.Root.Send(b.out.self, theResume)
	}
}

func (b *boltTask) eosResume() {
	b.resumeQueued = false
	if b.waiting != nil && len(b.held) == 0 {
		b.resume(true)
	}
}

// resume lets the waiting barrier pass — snapshotted, or not when the
// checkpoint was declined or aborted meanwhile — then runs what waited
// behind it, in order, until another barrier has to wait.
func (b *boltTask) resume(snapshot bool) {
	w := b.waiting
	b.waiting = nil
	if snapshot {
		b.takeSnapshot(w.id, w.alignment)
	}
	b.executeCopy(w.drain)
	msgs := b.deferred
	b.deferred, b.deferredBytes = nil, 0
	for _, m := range msgs {
		b.eosBatch(m) // defers again behind a barrier that has to wait
	}
}

func (b *boltTask) takeSnapshot(id checkpoint.ID, alignment time.Duration) {
	ack := ckptAck{alignment: alignment}
	if b.keyed.backend != nil {
		n, err := b.env.eos.store.Stage(b.comp.ID, b.task, b.keyed.backend.Snapshot(id, state.Groups))
		if err != nil {
			// The changes the snapshot swapped out are durable nowhere now.
			b.eosFail(fmt.Errorf("bolt %q task %d: checkpoint %d: stage state: %w", b.comp.ID, b.task, id, err))
			return
		}
		ack.stateBytes = n
	}
	if b.sink != nil {
		err := errPanicked
		b.runSubmitted(func() { ack.tc.Committable, err = b.sink.PreCommit(uint64(id)) })
		if err != nil {
			err = fmt.Errorf("bolt %q task %d: checkpoint %d: pre-commit: %w", b.comp.ID, b.task, id, err)
			b.stats.recordError(err)
			b.eos.tell(b.env, &eosDecline{task: b.task, id: id, reason: err})
			return
		}
	}
	if err := b.out.barrier(id); err != nil {
		b.eosFail(fmt.Errorf("bolt %q task %d: %w", b.comp.ID, b.task, err))
		return
	}
	b.eos.tell(b.env, &eosAck{task: b.task, id: id, ack: ack})
}

func (b *boltTask) eosComplete(m *eosComplete) {
	if b.sink == nil || !b.ready || b.eos.epoch == 0 {
		return
	}
	err := errPanicked
	b.runSubmitted(func() { err = b.sink.Commit(uint64(m.id)) })
	if err != nil {
		b.eosFail(fmt.Errorf("bolt %q task %d: commit of checkpoint %d: %w", b.comp.ID, b.task, m.id, err))
	}
}

func (b *boltTask) eosAbort(m *eosAbort) {
	if b.waiting != nil && b.waiting.id == m.id {
		b.resume(false)
	}
	if b.align != nil && b.eos.epoch != 0 {
		b.alignStep(b.align.Abort(m.id))
	}
}

// eosRestore rolls the task back to checkpoint m.from: a fresh instance of
// the bolt on the checkpoint's state, a sink recovered, nothing buffered,
// running in epoch m.epoch. A failure crashes the task, which restarts
// with backoff and restores again.
func (b *boltTask) eosRestore(m *eosRestore) {
	b.eos.epoch, b.out.eosEpoch, b.eosFailed = m.epoch, uint64(m.epoch), false
	b.eosForget()
	b.out.discard()
	b.out.channels = channels(b.env, b.comp) // the parallelism may have changed (a rescale)
	b.cur, b.next = nil, 0
	b.align = nil
	if in := inputChannels(b.env, b.comp); len(in) > 1 {
		a, err := checkpoint.NewAligner[*tuple](in, b.env.eos.budget, m.from)
		if err != nil {
			panic(fmt.Errorf("bolt %q task %d: %w", b.comp.ID, b.task, err))
		}
		b.align = a
	}
	if b.ready {
		b.cleanup()
	}
	b.tc = b.out.instanceContext()
	var groups map[uint32][]state.Record
	if b.keyed.on() {
		var err error
		if groups, err = b.env.eos.store.Load(b.comp.ID, b.task, b.keyed.groups()); err != nil {
			err = fmt.Errorf("bolt %q task %d: load checkpoint %d: %w", b.comp.ID, b.task, m.from, err)
			b.stats.recordError(err)
			panic(err)
		}
		if groups == nil {
			groups = map[uint32][]state.Record{}
		}
	}
	b.prepare(groups)
	if b.sink != nil {
		err := errPanicked
		b.runSubmitted(func() { err = b.sink.Recover(uint64(m.from), m.tc.Committable) })
		if err != nil {
			err = fmt.Errorf("bolt %q task %d: recover checkpoint %d: %w", b.comp.ID, b.task, m.from, err)
			b.stats.recordError(err)
			panic(err)
		}
	}
	b.eos.tell(b.env, &eosRestored{task: b.task, epoch: m.epoch})
}

// eosFail reports a failure that only a restore can repair, once per
// epoch; the task acks no checkpoint until the restore comes.
func (b *boltTask) eosFail(err error) {
	if b.eosFailed || b.eos.epoch == 0 {
		return
	}
	b.eosFailed = true
	b.stats.recordError(err)
	b.eos.tell(b.env, &eosFailed{task: b.task, reason: err})
}

// eosForget drops every tuple the task holds, parks or defers, releasing
// their flow-control credit: a restore rolls them back, a crash or a stop
// loses them (the restore that follows replays them).
func (b *boltTask) eosForget() {
	if !b.eos.on() {
		return
	}
	n := int64(len(b.held))
	for _, t := range b.held {
		t.held = -1
	}
	clear(b.held)
	b.held = b.held[:0]
	if b.align != nil {
		_, parked, _ := b.align.Aligning()
		n += int64(parked)
		b.align.Reset(0)
	}
	if b.waiting != nil {
		n += int64(len(b.waiting.drain))
	}
	for _, m := range b.deferred {
		n += m.untracked
	}
	b.waiting, b.deferred, b.deferredBytes = nil, nil, 0
	if n > 0 {
		b.env.inflight.Add(-n)
	}
}
