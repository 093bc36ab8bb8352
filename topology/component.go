package topology

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Spout is a source of tuples. The runtime calls every method of one Spout
// from one goroutine at a time (its task's actor), so a Spout needs no locks
// of its own. None of its methods may block for long: NextTuple in particular
// should return soon when it has nothing to emit (the task then waits a little
// before calling it again), and blocking I/O belongs on a goroutine the spout
// owns, handing results over through a channel that NextTuple polls.
type Spout interface {
	// Open is called once when the task starts, before any other method.
	// An error stops the task, which its supervisor restarts with backoff.
	Open(ctx context.Context, tc *Context, c SpoutCollector) error
	// NextTuple emits zero or more tuples through the collector.
	NextTuple()
	// Ack is called when the tree of the tuple emitted with msgID completed.
	Ack(msgID any)
	// Fail is called when that tree failed or timed out; the spout may replay.
	Fail(msgID any)
	// Activate is called when the topology is activated (after Open too).
	Activate()
	// Deactivate is called when the topology is deactivated: NextTuple is not
	// called until Activate, but Ack and Fail still are.
	Deactivate()
	// Close is called when the task stops. It is not called when the process dies.
	Close() error
}

// Bolt processes tuples. Like a Spout, one Bolt is called from one goroutine
// at a time; Execute must not block for long.
type Bolt interface {
	// Prepare is called once when the task starts, before Execute.
	Prepare(ctx context.Context, tc *Context, c OutputCollector) error
	// Execute processes one input tuple. Every tuple must eventually be acked
	// or failed through the collector (BasicBolt does that for you).
	Execute(t Tuple)
	// Cleanup is called when the task stops.
	Cleanup() error
}

// BasicBolt is the common bolt shape: every tuple it emits while executing an
// input is anchored to that input, and the input is acked when Execute
// returns nil, failed when it returns an error. Wrap it with Basic.
type BasicBolt interface {
	Prepare(ctx context.Context, tc *Context) error
	Execute(t Tuple, c BasicCollector) error
	Cleanup() error
}

// SpoutCollector is how a spout emits. It is valid from Open until Close, and
// only on the spout's own goroutine.
type SpoutCollector interface {
	// Emit emits values on the default stream. A non-nil msgID starts a tuple
	// tree: the spout's Ack or Fail is called with msgID when it completes.
	Emit(values Values, msgID any)
	// EmitStream emits on the named stream.
	EmitStream(stream StreamID, values Values, msgID any)
	// EmitDirect emits to one task of a bolt that consumes stream with a
	// direct grouping; the stream must have been declared direct.
	EmitDirect(task TaskID, stream StreamID, values Values, msgID any)
	// ReportError records err as the component's last error.
	ReportError(err error)
}

// OutputCollector is how a bolt emits, acks and fails. It is valid from
// Prepare until Cleanup, and only on the bolt's own goroutine.
type OutputCollector interface {
	// Emit emits values on the default stream, anchored to anchors (none:
	// the new tuple is not part of any tree). The collector does not keep
	// the anchors slice: callers may reuse it.
	Emit(values Values, anchors ...Tuple)
	// EmitStream emits on the named stream.
	EmitStream(stream StreamID, values Values, anchors ...Tuple)
	// EmitDirect emits to one task of a direct-grouped consumer of stream.
	EmitDirect(task TaskID, stream StreamID, values Values, anchors ...Tuple)
	// Ack acks t: its part of every tree it belongs to is done.
	Ack(t Tuple)
	// Fail fails every tree t belongs to; the spouts see Fail at once.
	Fail(t Tuple)
	// ResetTimeout restarts the timeout of every tree t belongs to.
	ResetTimeout(t Tuple)
	// ReportError records err as the component's last error.
	ReportError(err error)
}

// TaskReporter is implemented by the runtime's collectors: EmitStreamTasks
// emits like EmitStream and returns the tasks the tuple went to (Storm's
// emit return value, which multilang's need_task_ids needs). The slice is
// valid until the next emit. Spout collectors take a message id instead of
// anchors: see SpoutTaskReporter.
type TaskReporter interface {
	EmitStreamTasks(stream StreamID, values Values, anchors ...Tuple) []TaskID
}

// SpoutTaskReporter is TaskReporter for spout collectors.
type SpoutTaskReporter interface {
	EmitStreamTasks(stream StreamID, values Values, msgID any) []TaskID
}

// BasicCollector is the collector a BasicBolt emits through: every emit is
// anchored to the input being executed.
type BasicCollector interface {
	Emit(values Values)
	EmitStream(stream StreamID, values Values)
	EmitDirect(task TaskID, stream StreamID, values Values)
	ReportError(err error)
}

// Context tells a task who it is.
type Context struct {
	// Topology is the running topology's name.
	Topology string
	// TopologyID is the deployment's id, the same on every node (Storm's
	// topology id): connectors write it into what they persist, such as
	// Kafka commit metadata.
	TopologyID string
	// Component is this task's component.
	Component ComponentID
	// Task is this task's ID; TaskIndex is its index among its component's tasks.
	Task      TaskID
	TaskIndex int
	// Config is the topology's configuration (read only).
	Config Config
	// Logger logs with the topology, component and task as fields.
	Logger *slog.Logger
	// topo answers the questions below.
	topo *Topology
	// submit is set by the runtime; see Submit.
	submit func(fn func()) bool
	gauges *Gauges
	// parallelism is the live parallelism, set by the runtime (nil: each
	// component's hint); see RunningTasks.
	parallelism func(ComponentID) int
	// state is the task's keyed state, set by the runtime for a bolt that
	// declares state (package state's Of reads it).
	state any
}

// Submit runs fn on the task's own goroutine, between calls of the
// component's methods, so fn may use the collector. It is safe to call from
// any goroutine and never blocks; functions run in the order submitted. Use
// it to hand results from a component's own I/O goroutine back to the task
// (a subprocess reader, a client callback). Submitted functions that have
// not run when the task stops are dropped. It reports false when the
// runtime cannot run fn (no runtime, or the task is stopping).
func (c *Context) Submit(fn func()) bool {
	if c.submit == nil {
		return false
	}
	return c.submit(fn)
}

// newContext returns the context of task of topology t; runtimes call it
// (internal/topoaccess).
func newContext(t *Topology, task TaskID, logger *slog.Logger) *Context {
	c := t.componentOfTask(task)
	idx := 0
	for i, id := range c.Tasks {
		if id == task {
			idx = i
		}
	}
	return &Context{
		Topology:   t.Name,
		TopologyID: t.ID,
		Component:  c.ID,
		Task:       task,
		TaskIndex:  idx,
		Config:     t.Config,
		Logger:     logger,
		topo:       t,
		gauges:     &Gauges{},
	}
}

// Gauges returns the task's gauges: values the component reports about
// itself, such as a Kafka spout's lag per partition. The runtime exposes
// them with the task's counters (Prometheus at /metrics, the REST API).
func (c *Context) Gauges() *Gauges {
	if c.gauges == nil {
		c.gauges = &Gauges{}
	}
	return c.gauges
}

// Compiled returns the compiled topology the task belongs to (nil outside
// a runtime). It is immutable.
func (c *Context) Compiled() *Topology { return c.topo }

// ComponentTasks returns the task IDs of component id, in order.
func (c *Context) ComponentTasks(id ComponentID) []TaskID {
	if comp := c.topo.Component(id); comp != nil {
		return append([]TaskID(nil), comp.Tasks...)
	}
	return nil
}

// BaseSpout gives a Spout no-op defaults for every method but NextTuple;
// embed it and override what you need.
type BaseSpout struct{}

func (BaseSpout) Open(context.Context, *Context, SpoutCollector) error { return nil }
func (BaseSpout) Ack(any)                                              {}
func (BaseSpout) Fail(any)                                             {}
func (BaseSpout) Activate()                                            {}
func (BaseSpout) Deactivate()                                          {}
func (BaseSpout) Close() error                                         { return nil }

// BaseBolt gives a Bolt or BasicBolt no-op Prepare and Cleanup.
type BaseBolt struct{}

func (BaseBolt) Cleanup() error { return nil }

// BoltFunc adapts a function to a BasicBolt with no-op Prepare and Cleanup.
type BoltFunc func(t Tuple, c BasicCollector) error

func (f BoltFunc) Prepare(context.Context, *Context) error { return nil }
func (f BoltFunc) Execute(t Tuple, c BasicCollector) error { return f(t, c) }
func (f BoltFunc) Cleanup() error                          { return nil }

var _ BasicBolt = BoltFunc(nil)

// Basic turns a BasicBolt factory into a Bolt factory: the returned bolt
// anchors every emit to its input and acks the input when Execute returns nil,
// fails it when Execute returns an error or panics.
func Basic(factory func() BasicBolt) func() Bolt {
	return func() Bolt { return &basicBolt{inner: factory()} }
}

type basicBolt struct {
	inner BasicBolt
	out   OutputCollector
	input Tuple
	anch  [1]Tuple
}

var _ Bolt = (*basicBolt)(nil)

func (b *basicBolt) Prepare(ctx context.Context, tc *Context, c OutputCollector) error {
	b.out = c
	return b.inner.Prepare(ctx, tc)
}

func (b *basicBolt) Execute(t Tuple) {
	b.input = t
	b.anch[0] = t
	ok := false
	defer func() {
		b.input, b.anch[0] = nil, nil
		if !ok {
			b.out.Fail(t)
		}
	}()
	if err := b.inner.Execute(t, b); err != nil {
		b.out.ReportError(err)
		return
	}
	ok = true
	b.out.Ack(t)
}

func (b *basicBolt) Cleanup() error { return b.inner.Cleanup() }

// DeclareOutputFields passes the declaration on when the wrapped BasicBolt
// declares its own streams.
func (b *basicBolt) DeclareOutputFields(d OutputFieldsDeclarer) {
	if od, ok := b.inner.(OutputDeclarer); ok {
		od.DeclareOutputFields(d)
	}
}

// The basic bolt is its own BasicCollector; the anchor slice is reused so an
// emit allocates nothing beyond the tuple.
func (b *basicBolt) Emit(values Values) { b.out.EmitStream(DefaultStream, values, b.anch[:]...) }
func (b *basicBolt) EmitStream(stream StreamID, values Values) {
	b.out.EmitStream(stream, values, b.anch[:]...)
}
func (b *basicBolt) EmitDirect(task TaskID, stream StreamID, values Values) {
	b.out.EmitDirect(task, stream, values, b.anch[:]...)
}
func (b *basicBolt) ReportError(err error) { b.out.ReportError(err) }

// Gauge is one value a component reports about itself. Labels tell apart
// the gauges of one name (a Kafka spout's lag has topic and partition).
type Gauge struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Gauges are the gauges of one task. The component sets them from its task
// goroutine, or any other; metrics endpoints read them at any time. Safe for
// concurrent use.
type Gauges struct {
	mu     sync.Mutex
	m      map[string]Gauge // by name and labels
	byName map[string]int   // how many gauges each name has
}

// MaxGaugesPerName bounds the gauges of one name a task keeps: labels
// taken from data (a word, a user id) must not grow a task's gauges, and
// the metrics series made from them, without bound.
const MaxGaugesPerName = 1000

// Set sets the gauge name with the given labels, as key, value pairs
// ("topic", "words", "partition", "3"), to value. A trailing key without a
// value gets "". It reports false, and keeps nothing, for a new gauge of a
// name that has MaxGaugesPerName already.
func (g *Gauges) Set(name string, value float64, labels ...string) bool {
	key := gaugeKey(name, labels)
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.m[key]; ok {
		old.Value = value
		g.m[key] = old
		return true
	}
	if g.byName[name] >= MaxGaugesPerName {
		return false
	}
	if g.m == nil {
		g.m, g.byName = make(map[string]Gauge), make(map[string]int)
	}
	g.byName[name]++
	lm := make(map[string]string, len(labels)/2+1)
	for i := 0; i < len(labels); i += 2 {
		v := ""
		if i+1 < len(labels) {
			v = labels[i+1]
		}
		lm[labels[i]] = v
	}
	g.m[key] = Gauge{Name: name, Labels: lm, Value: value}
	return true
}

// Delete removes the gauge name with the given labels, as Set named it
// (a partition the spout no longer owns).
func (g *Gauges) Delete(name string, labels ...string) {
	key := gaugeKey(name, labels)
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.m[key]; ok {
		delete(g.m, key)
		g.byName[name]--
	}
}

// Reset removes every gauge. Runtimes call it when a task stops or
// restarts: gauges describe one instance of the component.
func (g *Gauges) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	clear(g.m)
	clear(g.byName)
}

// All returns a copy of every gauge, sorted by name and labels.
func (g *Gauges) All() []Gauge {
	g.mu.Lock()
	keys := slices.Sorted(maps.Keys(g.m))
	out := make([]Gauge, len(keys))
	for i, k := range keys {
		v := g.m[k]
		v.Labels = maps.Clone(v.Labels)
		out[i] = v
	}
	g.mu.Unlock()
	return out
}

// Get returns the value of the gauge name with the given labels.
func (g *Gauges) Get(name string, labels ...string) (value float64, ok bool) {
	key := gaugeKey(name, labels)
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.m[key]
	return v.Value, ok
}

// gaugeKey is name and labels with their keys sorted, so the order labels
// are passed in does not matter.
func gaugeKey(name string, labels []string) string {
	type kv struct{ k, v string }
	pairs := make([]kv, 0, len(labels)/2+1)
	for i := 0; i < len(labels); i += 2 {
		p := kv{k: labels[i]}
		if i+1 < len(labels) {
			p.v = labels[i+1]
		}
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
	var b strings.Builder
	b.WriteString(name)
	for _, p := range pairs {
		b.WriteByte(0)
		b.WriteString(p.k)
		b.WriteByte(0)
		b.WriteString(p.v)
	}
	return b.String()
}
