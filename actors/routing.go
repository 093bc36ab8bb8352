package actors

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/squall-streams/squall/topology"
)

// A chooser decides, for one subscription of a stream, which of the
// consumer's tasks a tuple goes to. Choosers are pure and owned by one
// emitting task: they run on its goroutine, on the per-tuple path, and must
// not allocate.
type chooser interface {
	// choose appends the chosen tasks to dst and returns it.
	choose(values topology.Values, dst []topology.TaskID) []topology.TaskID
}

// newScaledChooser builds the chooser of sub for the task emitting on
// stream, when the first running of the consumer's tasks run. Fields and
// partial-key groupings hash over all the consumer's tasks (its key groups)
// and map key groups to running tasks; the other groupings choose among the
// running tasks only. local reports whether a consumer task runs in the
// emitter's process, for local-or-shuffle. seed makes shuffles of different
// emitters start apart.
func newScaledChooser(sub topology.Subscription, running int, tc *topology.Context, stream topology.StreamID, local func(topology.TaskID) bool, seed uint64) chooser {
	all := sub.Tasks
	running = min(max(running, 1), len(all))
	tasks := all[:running]
	switch sub.Grouping.Kind {
	case topology.KindFields:
		owners := topology.KeyGroupOwners(running, len(all))
		byGroup := make([]topology.TaskID, len(all))
		for g, i := range owners {
			byGroup[g] = tasks[i]
		}
		return &fieldsChooser{byGroup: byGroup, idx: sub.FieldIndex}
	case topology.KindAll:
		return allChooser{tasks: tasks}
	case topology.KindGlobal:
		return globalChooser{task: slices.Min(tasks)}
	case topology.KindDirect:
		return nil // the emitter names the task
	case topology.KindLocalOrShuffle:
		var near []topology.TaskID
		for _, t := range tasks {
			if local != nil && local(t) {
				near = append(near, t)
			}
		}
		if len(near) > 0 {
			return &shuffleChooser{tasks: near, next: seed}
		}
		return &shuffleChooser{tasks: tasks, next: seed}
	case topology.KindPartialKey:
		return &partialKeyChooser{tasks: tasks, owners: topology.KeyGroupOwners(running, len(all)), idx: sub.FieldIndex, load: make([]uint64, len(tasks))}
	case topology.KindCustom:
		sub.Grouping.Custom.Prepare(tc, stream, append([]topology.TaskID(nil), tasks...))
		return &customChooser{g: sub.Grouping.Custom}
	default: // shuffle, none
		return &shuffleChooser{tasks: tasks, next: seed}
	}
}

// shuffleChooser is round robin from a per-emitter starting point: perfectly
// balanced over any window of len(tasks) tuples, and cheaper than random.
type shuffleChooser struct {
	tasks []topology.TaskID
	next  uint64
}

func (c *shuffleChooser) choose(_ topology.Values, dst []topology.TaskID) []topology.TaskID {
	t := c.tasks[c.next%uint64(len(c.tasks))]
	c.next++
	return append(dst, t)
}

type allChooser struct{ tasks []topology.TaskID }

func (c allChooser) choose(_ topology.Values, dst []topology.TaskID) []topology.TaskID {
	return append(dst, c.tasks...)
}

type globalChooser struct{ task topology.TaskID }

func (c globalChooser) choose(_ topology.Values, dst []topology.TaskID) []topology.TaskID {
	return append(dst, c.task)
}

// fieldsChooser sends a key to the running task that serves its key group,
// hash(fields) mod #key groups: the same key reaches the same task on
// every node and after every restart, for a given parallelism.
type fieldsChooser struct {
	byGroup []topology.TaskID // the running task serving each key group
	idx     []int
	h       xxhash.Digest
}

func (c *fieldsChooser) choose(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	h := hashFields(&c.h, values, c.idx)
	return append(dst, c.byGroup[h%uint64(len(c.byGroup))])
}

// partialKeyChooser is Storm's PartialKeyGrouping: two candidate key
// groups per key, and of the running tasks serving them the one this
// emitter has sent fewer tuples goes.
type partialKeyChooser struct {
	tasks  []topology.TaskID // running
	owners []int             // running index per key group
	idx    []int
	load   []uint64 // by running index
	h      xxhash.Digest
}

func (c *partialKeyChooser) choose(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	h1 := hashFields(&c.h, values, c.idx)
	h2 := mix64(h1)
	n := uint64(len(c.owners))
	a, b := c.owners[h1%n], c.owners[h2%n]
	if c.load[b] < c.load[a] {
		a = b
	}
	c.load[a]++
	return append(dst, c.tasks[a])
}

// customChooser gives the user's grouping an empty scratch slice, as its
// contract says, and appends its choice to what other subscriptions chose.
type customChooser struct {
	g       topology.CustomStreamGrouping
	scratch []topology.TaskID
}

func (c *customChooser) choose(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	c.scratch = c.g.ChooseTasks(values, c.scratch[:0])
	return append(dst, c.scratch...)
}

// FieldsHash is the hash fields grouping uses: xxhash64 over a canonical,
// typed encoding of the selected values. It is the same on every platform,
// process and run. Exported for tests and tools that need to predict routing.
func FieldsHash(values topology.Values, idx []int) uint64 {
	var d xxhash.Digest
	return hashFields(&d, values, idx)
}

func hashFields(d *xxhash.Digest, values topology.Values, idx []int) uint64 {
	d.Reset()
	var buf [9]byte
	for _, i := range idx {
		var v any
		if i < len(values) {
			v = values[i]
		}
		writeCanonical(d, &buf, v)
	}
	return d.Sum64()
}

// writeCanonical writes a type tag and the value's bytes. Integers of every
// Go width hash alike (as int64), so a key keeps its task whatever integer
// type a component happens to use.
func writeCanonical(d *xxhash.Digest, buf *[9]byte, v any) {
	switch x := v.(type) {
	case string:
		buf[0] = 's'
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(x)))
		d.Write(buf[:])
		d.WriteString(x)
	case []byte:
		buf[0] = 'b'
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(x)))
		d.Write(buf[:])
		d.Write(x)
	case int:
		putTagged(d, buf, 'i', uint64(x))
	case int64:
		putTagged(d, buf, 'i', uint64(x))
	case int32:
		putTagged(d, buf, 'i', uint64(int64(x)))
	case uint32:
		putTagged(d, buf, 'i', uint64(x))
	case float64:
		putTagged(d, buf, 'f', math.Float64bits(x))
	case float32:
		putTagged(d, buf, 'f', math.Float64bits(float64(x)))
	case bool:
		b := uint64(0)
		if x {
			b = 1
		}
		putTagged(d, buf, 't', b)
	case nil:
		buf[0] = 'n'
		d.Write(buf[:1])
	case []any:
		putTagged(d, buf, 'l', uint64(len(x)))
		for _, e := range x {
			writeCanonical(d, buf, e)
		}
	default:
		// Other types cannot cross nodes anyway; hash their printed form so
		// routing is still deterministic (this path allocates).
		s := fmt.Sprintf("%T:%v", x, x)
		buf[0] = 'o'
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(s)))
		d.Write(buf[:])
		d.WriteString(s)
	}
}

func putTagged(d *xxhash.Digest, buf *[9]byte, tag byte, v uint64) {
	buf[0] = tag
	binary.LittleEndian.PutUint64(buf[1:], v)
	d.Write(buf[:])
}

// mix64 is the splitmix64 finalizer: a second, independent hash from the first.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return bits.RotateLeft64(x, 17)
}

// streamRouter routes one output stream of an emitting task to every
// subscription of it.
type streamRouter struct {
	stream   topology.StreamID
	fields   topology.Fields
	header   *topology.TupleHeader // shared by every tuple this task emits on the stream
	direct   bool
	choosers []chooser
	edges    *streamEdges // the stream's edge counters (nil: no consumer)
	// directTasks is every task that consumes this stream with a direct
	// grouping, running or not: a direct emit to a task that does not run
	// is sent nowhere, and its tree fails by timeout and replays.
	directTasks map[topology.TaskID]bool

	// Rescaling: subs[i] is the subscription of choosers[i], built for
	// running[i] running consumer tasks at version seen of scale (nil:
	// every task runs, nothing changes).
	subs    []topology.Subscription
	running []int
	scale   *topology.Scale
	seen    *topology.ScaleTable
	tc      *topology.Context
	local   func(topology.TaskID) bool
	seed    uint64
}

// route appends the destination tasks of values to dst. When a rebalance
// changed the topology's scale since the last emit, it first rebuilds the
// choosers of the consumers whose parallelism changed: the per-emit cost
// is one atomic load and a pointer compare.
func (r *streamRouter) route(values topology.Values, dst []topology.TaskID) []topology.TaskID {
	if r.scale != nil {
		if cur := r.scale.Load(); cur != r.seen {
			r.rescale(cur)
		}
	}
	for _, c := range r.choosers {
		if c != nil {
			dst = c.choose(values, dst)
		}
	}
	return dst
}

// rescale rebuilds the choosers whose consumer's parallelism differs in cur.
// Custom groupings are prepared again with the new running tasks.
func (r *streamRouter) rescale(cur *topology.ScaleTable) {
	r.seen = cur
	for i, sub := range r.subs {
		if k := cur.Parallelism(sub.Consumer); k != r.running[i] {
			r.running[i] = k
			r.choosers[i] = newScaledChooser(sub, k, r.tc, r.stream, r.local, r.seed)
		}
	}
}

// newRouters builds the routers of every output stream of the component of
// tc. When tc belongs to a compiled topology, routing follows its Scale.
func newRouters(comp *topology.Component, tc *topology.Context, local func(topology.TaskID) bool, seed uint64) map[topology.StreamID]*streamRouter {
	var scale *topology.Scale
	if t := tc.Compiled(); t != nil {
		scale = t.Scale()
	}
	out := make(map[topology.StreamID]*streamRouter, len(comp.Streams))
	for id, s := range comp.Streams {
		r := &streamRouter{stream: id, fields: s.Fields, direct: s.Direct,
			header: &topology.TupleHeader{Component: comp.ID, Task: tc.Task, Stream: id, Fields: s.Fields},
			scale:  scale, tc: tc, local: local, seed: seed}
		if scale != nil {
			r.seen = scale.Load()
		}
		for _, sub := range comp.Consumers[id] {
			if sub.Grouping.Kind == topology.KindDirect {
				if r.directTasks == nil {
					r.directTasks = map[topology.TaskID]bool{}
				}
				for _, t := range sub.Tasks {
					r.directTasks[t] = true
				}
				continue
			}
			k := len(sub.Tasks)
			if r.seen != nil {
				k = r.seen.Parallelism(sub.Consumer)
			}
			r.subs = append(r.subs, sub)
			r.running = append(r.running, k)
			r.choosers = append(r.choosers, newScaledChooser(sub, k, tc, id, local, seed))
		}
		out[id] = r
	}
	return out
}
