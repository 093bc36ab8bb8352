package perf

// The ceiling: the storm-perf shapes as a plain goroutine + channel pipeline
// with no framework (issue 13). Spout goroutines send tuples one by one on
// channels to bolt goroutines; with acking, every spout tells one acker
// goroutine the tree's first edge, every bolt tells it the XOR of its input
// edge and the edges it emitted, and the acker tells the spout when a tree's
// XOR is back to zero, so the spout keeps at most MaxSpoutPending trees in
// flight, as Storm's and squall's do. It does what a framework must do
// (random edge ids, a pending set at the spout, a ledger at the acker, a
// complete latency per tree) and nothing else: no batching, no routing
// table, no serialisation, no timeouts or replays (nothing fails here). On
// this box it is the rate no framework can beat with the same semantics.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/topologies/wordcount"
)

// ceilingQueue is the capacity of every channel between goroutines.
const ceilingQueue = 1024

// ceilTuple is one tuple on a channel: its one value and, when acking, the
// root of its tree and the id of the edge it travels on.
type ceilTuple struct {
	value      string
	root, edge uint64
}

// ackMsg is what the acker receives: the XOR of edges of one tree, from its
// spout (first, with the spout's index) or from a bolt.
type ackMsg struct {
	root, xor uint64
	spout     int32 // the spout task, when init
	init      bool
}

// ids draws edge ids (splitmix64): one per goroutine, never zero.
type ids struct{ s uint64 }

func (g *ids) next() uint64 {
	for {
		g.s += 0x9e3779b97f4a7c15
		z := g.s
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		if z != 0 {
			return z
		}
	}
}

// ceiling is one running pipeline.
type ceiling struct {
	spec       Spec
	maxPending int
	lines      []string

	stop    chan struct{}
	stopped atomic.Bool
	wg      sync.WaitGroup

	// Counters, read by Measure while the pipeline runs.
	emitted, acked, seen atomic.Int64
	latency              actors.Histogram
	// strays counts acks of trees the acker did not know: always 0 when
	// the pipeline is right (tests check it).
	strays atomic.Int64
	// After Stop: the tuples each spout sent (sent), the most trees a spout
	// had pending (peak), the trees the acker still tracked (left) and the
	// count bolts' maps (word count only).
	sent   []int64
	peak   []int
	left   int
	comps  []chan uint64
	counts []map[string]int64
}

// startCeiling starts spec's pipeline; stop it with Stop.
func startCeiling(spec Spec) (*ceiling, error) {
	spouts, bolts := max(spec.Spouts, 1), max(spec.Bolts, 1)
	c := &ceiling{spec: spec, maxPending: spec.MaxSpoutPending, stop: make(chan struct{}),
		sent: make([]int64, spouts), peak: make([]int, spouts)}
	if c.maxPending <= 0 {
		c.maxPending = 1000 // squall's and Storm's default
	}
	var ack chan ackMsg
	var comps []chan uint64
	if spec.Acking {
		ack = make(chan ackMsg, ceilingQueue)
		for range spouts {
			// Room for every pending tree: the acker never blocks on a spout.
			comps = append(comps, make(chan uint64, c.maxPending))
		}
		c.comps = comps
	}
	var senders sync.WaitGroup // everything that sends to ack
	chans := func(n int) []chan ceilTuple {
		out := make([]chan ceilTuple, n)
		for i := range out {
			out[i] = make(chan ceilTuple, ceilingQueue)
		}
		return out
	}
	// closeAfter closes outs once every goroutine of wg is done.
	closeAfter := func(wg *sync.WaitGroup, outs []chan ceilTuple) {
		c.wg.Go(func() {
			wg.Wait()
			for _, o := range outs {
				close(o)
			}
		})
	}
	var first []chan ceilTuple // the spouts' destinations; nil: spout only
	var value func(i int) []string
	switch spec.Workload {
	case ConstSpoutOnly:
	case ConstSpoutNullBolt:
		first = chans(bolts)
		var sinks sync.WaitGroup
		for i := range bolts {
			senders.Add(1)
			sinks.Go(func() { defer senders.Done(); c.nullBolt(first[i], ack) })
		}
		c.wg.Go(sinks.Wait)
	case ConstSpoutIDNullBolt:
		first = chans(bolts)
		second := chans(bolts)
		var ids, sinks sync.WaitGroup
		for i := range bolts {
			senders.Add(2)
			ids.Go(func() { defer senders.Done(); c.idBolt(uint64(i), first[i], second, ack) })
			sinks.Go(func() { defer senders.Done(); c.nullBolt(second[i], ack) })
		}
		closeAfter(&ids, second)
		c.wg.Go(sinks.Wait)
	case FileReadWordCount:
		c.lines = wordcount.GenerateLines(20000, 7)
		first = chans(bolts)
		words := chans(bolts)
		c.counts = make([]map[string]int64, bolts)
		var splits, counts sync.WaitGroup
		for i := range bolts {
			senders.Add(2)
			splits.Go(func() { defer senders.Done(); c.splitBolt(uint64(i), first[i], words, ack) })
			counts.Go(func() { defer senders.Done(); c.counts[i] = c.countBolt(words[i], ack) })
		}
		closeAfter(&splits, words)
		c.wg.Go(counts.Wait)
	default:
		return nil, fmt.Errorf("unknown workload %q", spec.Workload)
	}
	if spec.Workload == FileReadWordCount {
		value = func(int) []string { return c.lines }
	} else {
		value = func(int) []string { return []string{"some data"} }
	}
	var spoutsWG sync.WaitGroup
	for i := range spouts {
		var comp chan uint64
		if comps != nil {
			comp = comps[i]
		}
		senders.Add(1)
		spoutsWG.Go(func() { defer senders.Done(); c.spout(int32(i), value(i), first, ack, comp) })
	}
	closeAfter(&spoutsWG, first)
	if ack != nil {
		c.wg.Go(func() { senders.Wait(); close(ack) })
		c.wg.Go(func() { c.acker(ack, comps) })
	}
	return c, nil
}

// Stop stops the spouts, lets the bolts and the acker drain what is in
// flight, and waits for every goroutine. It is safe to call twice.
func (c *ceiling) Stop() {
	if c.stopped.CompareAndSwap(false, true) {
		close(c.stop)
	}
	c.wg.Wait()
}

// spout emits values round and round to outs (round robin, as a shuffle
// to tasks in one process is), at the spec's rate, keeping at most
// maxPending trees in flight when acking.
func (c *ceiling) spout(task int32, values []string, outs []chan ceilTuple, ack chan<- ackMsg, comp <-chan uint64) {
	g := ids{s: uint64(task)<<32 | 0x51}
	rate := c.spec.RateLimit / float64(max(c.spec.Spouts, 1))
	start := time.Now()
	born := map[uint64]int64{} // root -> emit time (ns since start), when acking
	var seq uint64
	var emitted int64
	next := 0 // index into outs
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	defer func() {
		c.emitted.Add(emitted & 255)
		if outs != nil {
			c.sent[task] = emitted
		}
	}()
	complete := func(root uint64) {
		if t, ok := born[root]; ok {
			delete(born, root)
			c.latency.Record(time.Since(start) - time.Duration(t))
			c.acked.Add(1)
		}
	}
	for {
		if comp != nil {
			// Take every completion that has arrived, without blocking.
		drain:
			for {
				select {
				case r := <-comp:
					complete(r)
				default:
					break drain
				}
			}
			if len(born) >= c.maxPending {
				select {
				case r := <-comp:
					complete(r)
				case <-c.stop:
					return
				}
				continue
			}
		}
		if rate > 0 {
			due := time.Duration(float64(seq+1) / rate * float64(time.Second))
			if wait := due - time.Since(start); wait > 0 {
				timer.Reset(wait)
				select {
				case r := <-comp: // nil when not acking: never ready
					complete(r)
				case <-timer.C:
				case <-c.stop:
					return
				}
				continue
			}
		}
		if emitted&63 == 0 && c.stopped.Load() {
			return
		}
		seq++
		emitted++
		if emitted&255 == 0 {
			c.emitted.Add(256)
		}
		v := values[int(seq%uint64(len(values)))]
		if outs == nil {
			continue
		}
		t := ceilTuple{value: v}
		if comp != nil {
			t.root = seq<<8 | uint64(task)&0xff
			t.edge = g.next()
			born[t.root] = int64(time.Since(start))
			c.peak[task] = max(c.peak[task], len(born))
			// The init goes to the acker before the tuple goes out, so the
			// acker (one FIFO channel) sees it before any bolt's ack.
			ack <- ackMsg{root: t.root, xor: t.edge, spout: task, init: true}
		}
		outs[next] <- t
		if next++; next == len(outs) {
			next = 0
		}
	}
}

// nullBolt acks and drops every tuple, counting them.
func (c *ceiling) nullBolt(in <-chan ceilTuple, ack chan<- ackMsg) {
	var n int64
	for t := range in {
		if ack != nil {
			ack <- ackMsg{root: t.root, xor: t.edge}
		}
		if n++; n&255 == 0 {
			c.seen.Add(256)
		}
	}
	c.seen.Add(n & 255)
}

// idBolt re-emits every tuple anchored to it, then acks it.
func (c *ceiling) idBolt(task uint64, in <-chan ceilTuple, outs []chan ceilTuple, ack chan<- ackMsg) {
	g := ids{s: task<<32 | 0x1d}
	next := 0
	for t := range in {
		out := ceilTuple{value: t.value, root: t.root}
		if ack != nil {
			out.edge = g.next()
		}
		outs[next] <- out
		if next++; next == len(outs) {
			next = 0
		}
		if ack != nil {
			ack <- ackMsg{root: t.root, xor: t.edge ^ out.edge}
		}
	}
}

// splitBolt emits the words of a line by the word's hash (a fields
// grouping), anchored, then acks the line.
func (c *ceiling) splitBolt(task uint64, in <-chan ceilTuple, outs []chan ceilTuple, ack chan<- ackMsg) {
	g := ids{s: task<<32 | 0x5b}
	for t := range in {
		xor := t.edge
		for _, w := range wordcount.Words(t.value) {
			out := ceilTuple{value: w, root: t.root}
			if ack != nil {
				out.edge = g.next()
				xor ^= out.edge
			}
			outs[fnv64a(w)%uint64(len(outs))] <- out
		}
		if ack != nil {
			ack <- ackMsg{root: t.root, xor: xor}
		}
	}
}

// countBolt counts words and acks them; it returns its counts.
func (c *ceiling) countBolt(in <-chan ceilTuple, ack chan<- ackMsg) map[string]int64 {
	counts := map[string]int64{}
	var n int64
	for t := range in {
		counts[t.value]++
		if ack != nil {
			ack <- ackMsg{root: t.root, xor: t.edge}
		}
		if n++; n&255 == 0 {
			c.seen.Add(256)
		}
	}
	c.seen.Add(n & 255)
	return counts
}

// acker XORs every tree's edges and tells its spout when they are back to
// zero: Storm's acker, without timeouts.
func (c *ceiling) acker(in <-chan ackMsg, comps []chan uint64) {
	type entry struct {
		xor   uint64
		spout int32
	}
	pending := map[uint64]entry{}
	for m := range in {
		e, ok := pending[m.root]
		switch {
		case m.init:
			e.spout = m.spout
		case !ok:
			c.strays.Add(1)
			continue
		}
		e.xor ^= m.xor
		if e.xor == 0 {
			delete(pending, m.root)
			comps[e.spout] <- m.root
			continue
		}
		pending[m.root] = e
	}
	c.left = len(pending)
}

// fnv64a is FNV-1a of s, without the allocation of hash/fnv's Write.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// MeasureCeiling runs spec on the ceiling and measures it as Measure
// measures squall: the same warm-up, window, units and fields (squall's
// latency metrics do not apply: MetricsLatency is false).
func MeasureCeiling(ctx context.Context, spec Spec) (Run, error) {
	c, err := startCeiling(spec)
	if err != nil {
		return Run{}, err
	}
	defer c.Stop()
	if err := sleepCtx(ctx, spec.Warmup); err != nil {
		return Run{}, err
	}
	count := func() int64 {
		switch {
		case spec.Workload == ConstSpoutOnly:
			return c.emitted.Load()
		case spec.Acking && spec.Workload != FileReadWordCount:
			return c.acked.Load()
		default:
			return c.seen.Load() // words counted, or tuples at the sink
		}
	}
	c.latency.Reset()
	n0 := count()
	cpu0 := cpuTime()
	start := time.Now()
	measureErr := sleepCtx(ctx, spec.Measure)
	n1 := count()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	run := Run{
		Workload: spec.Workload, Acking: spec.Acking, RateLimit: spec.RateLimit,
		MaxSpoutPending: c.maxPending, Spouts: max(spec.Spouts, 1), Bolts: max(spec.Bolts, 1),
		Seconds: elapsed.Seconds(), Tuples: n1 - n0, TuplesPerS: float64(n1-n0) / elapsed.Seconds(),
		Cores: cpu.Seconds() / elapsed.Seconds(), RSSMiB: rssMiB(), Unit: "tuples",
	}
	if spec.Workload == FileReadWordCount {
		run.Unit = "words"
	}
	if spec.Acking {
		run.P50ms = ms(c.latency.Quantile(0.5))
		run.P99ms = ms(c.latency.Quantile(0.99))
		run.P999ms = ms(c.latency.Quantile(0.999))
	}
	return run, measureErr
}
