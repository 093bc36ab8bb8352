package actors

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// maxBatch is how many tuples (or tracker updates) a task buffers for one
// destination before it sends them without waiting for its mailbox to drain.
const maxBatch = 256

// output is the sending half of a task: it routes emitted tuples, creates
// their edges, and buffers tuples per destination task and tracker updates
// per tracker task. Buffers are sent when they are full and, at the latest,
// when the task's mailbox has drained the messages that were queued when the
// first tuple was buffered (a flush message the task sends itself). So a
// busy task sends large batches and an idle one adds no delay.
type output struct {
	env        *Env
	task       topology.TaskID
	comp       topology.ComponentID
	self       *actor.PID
	stats      *TaskStats
	routers    map[topology.StreamID]*streamRouter
	lastRouter *streamRouter     // the router of the last emit's stream
	targets    []topology.TaskID // scratch for routing
	// emitted and transferred are counted here and added to the task's
	// statistics once per batch sent (publishCounts), not per emit.
	emitted, transferred int64

	bufs      [][]*tuple // by task-1
	slabs     [][]tuple  // by task-1: where the next batch's tuples are made
	untracked []int64    // by task-1
	dirty     []topology.TaskID
	// sizes remembers the last batch size per destination (tuples by
	// task-1, tracker updates by tracker index, completions by task-1), so a
	// new batch is allocated once at about the size it will reach.
	sizes    []int
	trkSizes []int

	trackers []topology.TaskID
	trk      []*trackerBatch // by tracker index
	spout    bool            // the task is a spout's: it sends inits, not acks
	trkDirty []int

	// completions go from a tracker to spout tasks.
	done      [][]completion // by task-1
	doneDirty []topology.TaskID

	// In exactly-once (eos.go): every output channel, and the restore
	// epoch the task's batches carry.
	channels []topology.TaskID
	eosEpoch uint64

	// gen is the generation of the component's instance (bind): written
	// and read on the task's goroutine; Submit closures capture it.
	gen uint64

	flushQueued bool
	// stopping is set when the task stops or restarts: Submit refuses then.
	stopping atomic.Bool
}

// streamEdges are the edge counters of one output stream, kept by its
// router: the one counter of its only consumer, or the counter of each
// destination task's consumer.
type streamEdges struct {
	one    *atomic.Int64
	byTask []*atomic.Int64 // by task-1
}

func newOutput(env *Env, c *topology.Component, task topology.TaskID, tc *topology.Context) *output {
	o := &output{
		env: env, task: task, stats: env.Stats(task),
		bufs:      make([][]*tuple, env.Topology.NumTasks()),
		slabs:     make([][]tuple, env.Topology.NumTasks()),
		untracked: make([]int64, env.Topology.NumTasks()),
		trackers:  env.Topology.Trackers,
		trk:       make([]*trackerBatch, len(env.Topology.Trackers)),
		sizes:     make([]int, env.Topology.NumTasks()),
		trkSizes:  make([]int, len(env.Topology.Trackers)),
	}
	if c != nil {
		o.comp, o.spout = c.ID, c.Kind == topology.KindSpout
		o.routers = newRouters(env, c, tc, uint64(task)*0x9e3779b97f4a7c15)
		if env.eos != nil {
			o.channels = channels(env, c)
		}
		for stream, se := range newStreamEdges(env.Topology, c, o.stats.registerEdges(c)) {
			if r := o.routers[stream]; r != nil {
				r.edges = se
			}
		}
	}
	return o
}

// startComponent makes the Context and output of a spout or bolt task
// starting as self, and points the task's stats at this instance.
func startComponent(env *Env, c *topology.Component, task topology.TaskID, self *actor.PID) (*topology.Context, *output) {
	tc := newContext(env, c.ID, task)
	out := newOutput(env, c, task, tc)
	out.self = self
	out.bind(tc)
	out.stats.markStarted(time.Now())
	return tc, out
}

// bind makes tc the Context of a new instance of the task's component:
// its Submit carries the instance's generation.
func (o *output) bind(tc *topology.Context) {
	o.gen++
	gen := o.gen
	topoaccess.SetSubmit(tc, func(fn func()) bool { return o.submit(fn, gen) })
	topoaccess.SetGauges(tc, &o.stats.gauges) // emptied when the instance stops (cleanup, close)
}

// instanceContext is a fresh Context for a new instance of the task's
// component, so that nothing the old instance still holds reaches the new
// one (exactly-once restores).
func (o *output) instanceContext() *topology.Context {
	tc := newContext(o.env, o.comp, o.task)
	o.bind(tc)
	return tc
}

// newContext is a Context of task, following the live parallelism.
func newContext(env *Env, comp topology.ComponentID, task topology.TaskID) *topology.Context {
	tc := topoaccess.NewContext(env.Topology, task, env.Logger.With("component", comp, "task", task))
	topoaccess.SetParallelism(tc, env.Parallelism)
	return tc
}

// current reports whether m comes from the component's current instance.
func (o *output) current(m *submitted) bool { return m.gen == o.gen }

func newStreamEdges(t *topology.Topology, c *topology.Component, counters []*edgeCounter) map[topology.StreamID]*streamEdges {
	find := func(stream topology.StreamID, consumer topology.ComponentID) *atomic.Int64 {
		for _, e := range counters {
			if e.stream == stream && e.consumer == consumer {
				return &e.n
			}
		}
		return nil
	}
	out := make(map[topology.StreamID]*streamEdges, len(c.Consumers))
	for stream, subs := range c.Consumers {
		se := &streamEdges{}
		consumers := map[topology.ComponentID]bool{}
		for _, sub := range subs {
			consumers[sub.Consumer] = true
		}
		if len(consumers) == 1 {
			se.one = find(stream, subs[0].Consumer)
		} else {
			se.byTask = make([]*atomic.Int64, t.NumTasks())
			for _, sub := range subs {
				for _, task := range sub.Tasks {
					se.byTask[task-1] = find(stream, sub.Consumer)
				}
			}
		}
		out[stream] = se
	}
	return out
}

// count counts the tuples of one emit on their edges (nil: a stream
// nobody consumes).
func (se *streamEdges) count(targets []topology.TaskID) {
	if se == nil || len(targets) == 0 {
		return
	}
	if se.one != nil {
		se.one.Add(int64(len(targets)))
		return
	}
	for _, task := range targets {
		if int(task) <= len(se.byTask) {
			if c := se.byTask[task-1]; c != nil {
				c.Add(1)
			}
		}
	}
}

// randID returns a random non-zero 64-bit id (root and edge ids).
func randID() uint64 {
	for {
		if id := rand.Uint64(); id != 0 {
			return id
		}
	}
}

// router returns the router of stream, panicking with a clear message when
// the component did not declare it (the task recovers, counts and reports it).
func (o *output) router(stream topology.StreamID) *streamRouter {
	if r := o.lastRouter; r != nil && r.stream == stream {
		return r // most components emit on one stream: no map lookup per emit
	}
	r := o.routers[stream]
	if r == nil {
		panic(fmt.Errorf("component %q: emit on undeclared stream %q", o.comp, stream))
	}
	o.lastRouter = r
	return r
}

// routeTo computes the destination tasks of an emit.
func (o *output) routeTo(r *streamRouter, values topology.Values, direct topology.TaskID) []topology.TaskID {
	if direct != 0 {
		if !r.direct {
			panic(fmt.Errorf("component %q: EmitDirect on stream %q, which is not declared direct", o.comp, r.stream))
		}
		if !r.directTasks[direct] {
			panic(fmt.Errorf("component %q: EmitDirect to task %d, which does not consume stream %q with a direct grouping", o.comp, direct, r.stream))
		}
		o.targets = append(o.targets[:0], direct)
		return o.targets
	}
	if r.direct {
		panic(fmt.Errorf("component %q: Emit on direct stream %q (use EmitDirect)", o.comp, r.stream))
	}
	if len(values) != len(r.fields) {
		panic(fmt.Errorf("component %q: emitted %d values on stream %q, which declares %d fields %v", o.comp, len(values), r.stream, len(r.fields), []string(r.fields)))
	}
	o.targets = r.route.Choose(values, o.targets[:0])
	return o.targets
}

// newTuple makes a tuple for task from the slab of task's next batch: one
// allocation per batch, not per tuple. A slab lives as long as any of its
// tuples (a bolt holding one unacked keeps its batch's, at most maxBatch
// tuples of 96 bytes).
func (o *output) newTuple(task topology.TaskID, r *streamRouter, values topology.Values) *tuple {
	i := task - 1
	slab := o.slabs[i]
	if len(slab) == cap(slab) {
		slab = make([]tuple, 0, sizeHint(o.sizes[i]))
	}
	slab = append(slab, tuple{TupleData: topoaccess.MakeTupleData(r.header, values), held: -1})
	o.slabs[i] = slab
	return &slab[len(slab)-1]
}

// emitRoot emits a spout tuple that starts tree root (0: untracked) and
// returns the XOR of the edges created and the number of tuples sent. The
// tasks it went to are in o.targets until the next emit.
func (o *output) emitRoot(stream topology.StreamID, values topology.Values, root uint64, direct topology.TaskID) (xor uint64, n int) {
	r := o.router(stream)
	targets := o.routeTo(r, values, direct)
	for _, task := range targets {
		t := o.newTuple(task, r, values)
		if root != 0 {
			e := randID()
			xor ^= e
			t.inline[0] = edge{root: root, id: e}
			t.anchors = t.inline[:1]
		}
		o.buffer(task, t)
	}
	o.emitted++
	o.transferred += int64(len(targets))
	r.edges.count(targets)
	return xor, len(targets)
}

// emitAnchored emits a bolt tuple anchored to anchors: for every destination
// and every anchor in a tree, a new edge id is XORed into the anchor's ack
// value and into the new tuple's id for each of the anchor's roots.
func (o *output) emitAnchored(stream topology.StreamID, values topology.Values, anchors []topology.Tuple, direct topology.TaskID) {
	r := o.router(stream)
	targets := o.routeTo(r, values, direct)
	for _, task := range targets {
		t := o.newTuple(task, r, values)
		for _, a := range anchors {
			at, ok := a.(*tuple)
			if !ok || len(at.anchors) == 0 || at.held < 0 {
				continue
			}
			e := randID()
			at.ackVal ^= e
			for _, ae := range at.anchors {
				t.addAnchor(ae.root, e)
			}
		}
		o.buffer(task, t)
	}
	o.emitted++
	o.transferred += int64(len(targets))
	r.edges.count(targets)
}

// publishCounts adds what was emitted since the last call to the task's
// statistics.
func (o *output) publishCounts() {
	if o.emitted > 0 {
		o.stats.Emitted.Add(o.emitted)
		o.emitted = 0
	}
	if o.transferred > 0 {
		o.stats.Transferred.Add(o.transferred)
		o.transferred = 0
	}
}

func (o *output) buffer(task topology.TaskID, t *tuple) {
	i := task - 1
	if len(o.bufs[i]) == 0 {
		o.dirty = append(o.dirty, task)
		o.bufs[i] = make([]*tuple, 0, sizeHint(o.sizes[i]))
	}
	o.bufs[i] = append(o.bufs[i], t)
	if len(t.anchors) == 0 {
		o.untracked[i]++
	}
	if len(o.bufs[i]) >= maxBatch {
		o.sendTuples(task)
	}
}

func (o *output) sendTuples(task topology.TaskID) {
	o.publishCounts()
	i := task - 1
	b := &tupleBatch{tuples: o.bufs[i], untracked: o.untracked[i], from: o.task, epoch: o.eosEpoch}
	o.sizes[i] = len(b.tuples)
	o.bufs[i], o.untracked[i], o.slabs[i] = nil, 0, nil
	if pid, ok := o.env.Directory.Local(task); ok {
		if b.untracked > 0 {
			o.env.inflight.Add(b.untracked)
		}
		o.env.System.Root.Send(pid, b)
		return
	}
	// Untracked tuples to another process are not counted: nothing reports
	// their execution back (flow control across nodes is by
	// max.spout.pending only). If the send fails, tracked tuples time out
	// and replay.
	o.env.Directory.SendRemote(task, o.wireTuples(b, task))
}

// trackerOf is the tracker shard that owns tree root.
func (o *output) trackerOf(root uint64) int {
	return int(routing.Mix64(root) % uint64(len(o.trackers)))
}

func (o *output) trackerBuf(i int) *trackerBatch {
	b := o.trk[i]
	if b == nil {
		// One kind of update dominates each task (inits at spouts, acks at
		// bolts): size that one.
		n := sizeHint(o.trkSizes[i])
		if o.spout {
			b = &trackerBatch{inits: make([]trackerInit, 0, n)}
		} else {
			b = &trackerBatch{acks: make([]trackerAck, 0, n)}
		}
		o.trk[i] = b
		o.trkDirty = append(o.trkDirty, i)
	}
	return b
}

func (o *output) trackInit(root, xor uint64) {
	i := o.trackerOf(root)
	b := o.trackerBuf(i)
	b.inits = append(b.inits, trackerInit{root: root, xor: xor, spout: o.task})
	o.maybeSendTracker(i, b)
}

func (o *output) trackAck(root, xor uint64) {
	i := o.trackerOf(root)
	b := o.trackerBuf(i)
	b.acks = append(b.acks, trackerAck{root: root, xor: xor})
	o.maybeSendTracker(i, b)
}

func (o *output) trackFail(root uint64) {
	i := o.trackerOf(root)
	b := o.trackerBuf(i)
	b.fails = append(b.fails, root)
	o.maybeSendTracker(i, b)
}

func (o *output) trackReset(root uint64) {
	i := o.trackerOf(root)
	b := o.trackerBuf(i)
	b.resets = append(b.resets, root)
	o.maybeSendTracker(i, b)
}

func (o *output) maybeSendTracker(i int, b *trackerBatch) {
	if len(b.inits)+len(b.acks)+len(b.fails)+len(b.resets) >= maxBatch {
		o.sendTracker(i)
	}
}

func (o *output) sendTracker(i int) {
	b := o.trk[i]
	if b == nil {
		return
	}
	o.trkSizes[i] = len(b.inits) + len(b.acks) + len(b.fails) + len(b.resets)
	o.trk[i] = nil
	tracker := o.trackers[i]
	if pid, ok := o.env.Directory.Local(tracker); ok {
		o.env.System.Root.Send(pid, b)
	} else {
		o.env.Directory.SendRemote(tracker, o.wireTracker(b, tracker))
	}
}

// complete buffers a completion for a spout task (trackers only).
func (o *output) complete(spout topology.TaskID, root uint64, kind completionKind) {
	i := spout - 1
	if int(i) < 0 || int(i) >= len(o.done) {
		return
	}
	if len(o.done[i]) == 0 {
		o.doneDirty = append(o.doneDirty, spout)
		o.done[i] = make([]completion, 0, sizeHint(o.sizes[i]))
	}
	o.done[i] = append(o.done[i], completion{root: root, kind: kind})
	if len(o.done[i]) >= maxBatch {
		o.sendCompletions(spout)
	}
}

func (o *output) sendCompletions(spout topology.TaskID) {
	i := spout - 1
	if len(o.done[i]) == 0 {
		return
	}
	b := &completionBatch{done: o.done[i]}
	o.sizes[i] = len(b.done)
	o.done[i] = nil
	if pid, ok := o.env.Directory.Local(spout); ok {
		o.env.System.Root.Send(pid, b)
	} else {
		o.env.Directory.SendRemote(spout, o.wireCompletions(b, spout))
	}
}

// refuseSubmit makes Submit refuse from now on: the task is stopping or
// restarting. Safe on a task that never started (nil).
func (o *output) refuseSubmit() {
	if o != nil {
		o.stopping.Store(true)
	}
}

// submit sends fn, from instance gen, to the task's own mailbox
// (Context.Submit), unless the task is stopping.
func (o *output) submit(fn func(), gen uint64) bool {
	if o.stopping.Load() {
		return false
	}
	o.env.System.Root.Send(o.self, &submitted{fn: fn, gen: gen})
	return true
}

// sizeHint is the capacity of a new batch after one of last elements.
func sizeHint(last int) int { return min(max(last+last/4, 8), maxBatch) }

// afterMessage queues a flush behind what is in the mailbox now, if anything
// is buffered and no flush is queued yet.
func (o *output) afterMessage() {
	if o.flushQueued {
		return
	}
	if len(o.dirty) == 0 && len(o.trkDirty) == 0 && len(o.doneDirty) == 0 {
		o.publishCounts() // what went nowhere (a stream nobody consumes) counts too
		return
	}
	o.flushQueued = true
	o.env.System.Root.Send(o.self, theFlush)
}

// flush sends everything buffered.
func (o *output) flush() {
	o.flushQueued = false
	o.publishCounts()
	for _, task := range o.dirty {
		if len(o.bufs[task-1]) > 0 {
			o.sendTuples(task)
		}
	}
	o.dirty = o.dirty[:0]
	for _, i := range o.trkDirty {
		o.sendTracker(i)
	}
	o.trkDirty = o.trkDirty[:0]
	for _, s := range o.doneDirty {
		o.sendCompletions(s)
	}
	o.doneDirty = o.doneDirty[:0]
}
