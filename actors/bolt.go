package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/messages"
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
}

func newBoltTask(env *Env, c *topology.Component, task topology.TaskID) *boltTask {
	return &boltTask{
		env: env, comp: c, task: task, stats: env.Stats(task),
		panics:    panicBudget{max: env.Topology.Runtime.MaxTaskFailures},
		tickEvery: int64(env.Topology.Runtime.TickFreq),
		timed:     env.Topology.Runtime.MetricsLatency,
		timer:     tupleTimer{clock: env.now},
	}
}

// Receive implements actor.Actor.
func (b *boltTask) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *tupleBatch:
		b.executeBatch(m)
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
		b.runSubmitted(m.fn)
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
		b.cleanup()
		return
	case *actor.Stopping:
		b.out.refuseSubmit()
		b.abandon()
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
	b.bolt = b.comp.NewBolt()
	b.lastTick = b.env.now()
	if err := b.bolt.Prepare(context.Background(), b.tc, b); err != nil {
		b.stats.recordError(err)
		panic(fmt.Errorf("bolt %q task %d: prepare: %w", b.comp.ID, b.task, err))
	}
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
	if b.cur.untracked > 0 {
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
	if len(t.anchors) > 0 {
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
