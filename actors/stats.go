package actors

import (
	"cmp"
	"maps"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/topology"
)

// TaskStats are one task's counters. The task writes them on its own
// goroutine; anyone may read them at any time. They count every tuple (no
// sampling) with one uncontended atomic add each, or once per batch. The
// topology's clock samples them for Storm UI's windows (windows.go);
// process latency is timed as timing.go explains.
type TaskStats struct {
	Task      topology.TaskID
	Component topology.ComponentID
	// Emitted counts emit calls; Transferred counts tuples sent to tasks.
	Emitted, Transferred atomic.Int64
	// Acked and Failed count trees at spouts and input tuples at bolts.
	Acked, Failed atomic.Int64
	// Executed counts input tuples given to a bolt's Execute.
	Executed atomic.Int64
	// TimedOut counts trees a spout failed because they timed out.
	TimedOut atomic.Int64
	// Errors counts ReportError calls and panics caught in user code.
	Errors atomic.Int64
	// Restarts counts restarts of the task by its supervisor, and restarts
	// inside it that its component reports (ReportRestart: a shell
	// component's new subprocess).
	Restarts atomic.Int64
	// Dropped counts tuples and tracker updates received from other
	// processes for another topology or epoch (they replay); at a tracker
	// task also inits that name no spout task of the topology and updates
	// of new trees refused by a full ledger (ledger.go).
	Dropped atomic.Int64
	// Pending is the number of trees a spout task is waiting for.
	Pending atomic.Int64
	// CompleteLatency is the time from a spout's emit to its Ack.
	CompleteLatency Histogram
	// ExecuteNanos is the time a bolt task spent executing batches of
	// Executed tuples (Execute and the runtime's few ns around it): one
	// clock read at each end of a batch, exact for the mean.
	ExecuteNanos atomic.Int64
	// ProcessNanos is the time from the start of a bolt's Execute of a
	// tuple to its Ack, over Processed tuples (Storm's process latency;
	// off with squall.metrics.latency=false).
	ProcessNanos, Processed atomic.Int64
	// CompleteNanos is the sum of complete latencies over Completed trees,
	// added once per completion batch. Unlike CompleteLatency it is never
	// reset, so windows over it stay exact.
	CompleteNanos, Completed atomic.Int64
	// gauges are what the task's component reports about itself through
	// its Context (a Kafka spout's lag per partition).
	gauges topology.Gauges

	lastError atomic.Pointer[ErrorRecord]
	started   atomic.Int64 // unix ns of the first start on this node; 0: never
	edges     atomic.Pointer[[]*edgeCounter]
	edgesMu   sync.Mutex // serialises registerEdges
	win       windows

	// restartAt and restartBefore are the unix ns of the last two
	// restarts its component reported (0: none).
	restartAt, restartBefore atomic.Int64
}

// ErrorRecord is a task's last error.
type ErrorRecord struct {
	Err  string
	Time time.Time
}

// LastError returns the task's last error, or nil.
func (s *TaskStats) LastError() *ErrorRecord { return s.lastError.Load() }

func (s *TaskStats) recordError(err error) {
	s.Errors.Add(1)
	s.lastError.Store(&ErrorRecord{Err: err.Error(), Time: time.Now()})
}

// FailingWindow is how recent the last two restarts a task's component
// reported must be for the task to be failing (Failing): a component
// that keeps crashing restarts at least every backoff's maximum (10 s by
// default), a component that crashed once is not failing.
const FailingWindow = 5 * time.Minute

// recordRestart counts a restart inside the task at now.
func (s *TaskStats) recordRestart(now time.Time) {
	s.Restarts.Add(1)
	s.restartBefore.Store(s.restartAt.Swap(now.UnixNano()))
}

// LastRestart is when the task's component last reported a restart inside
// it (ReportRestart); zero when it never did.
func (s *TaskStats) LastRestart() time.Time {
	if ns := s.restartAt.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Failing reports whether the task's component reported two restarts
// within FailingWindow of now: it keeps crashing (a Python bolt that
// raises on every tuple), though the task itself runs.
func (s *TaskStats) Failing(now time.Time) bool {
	before := s.restartBefore.Load()
	return before != 0 && now.Sub(time.Unix(0, before)) < FailingWindow
}

// ReportRestart counts a restart inside the task in its Restarts: a shell
// component's subprocess died and another starts (package multilang finds
// the method on its collector). The collector's methods are the task's,
// in bolt.go and spout.go; these two live here beside what they count.
func (b *boltTask) ReportRestart() { b.stats.recordRestart(time.Now()) }

// ReportRestart is boltTask.ReportRestart for spouts.
func (s *spoutTask) ReportRestart() { s.stats.recordRestart(time.Now()) }

// Histogram is a log-linear histogram of durations from 1 µs to ~9 h with
// 8 sub-buckets per power of two (values within 9% of their bucket). One
// goroutine records; any goroutine reads.
type Histogram struct {
	buckets [histBuckets]atomic.Int64
	count   atomic.Int64
	sum     atomic.Int64
}

const (
	histSub     = 8
	histBuckets = 33 * histSub
)

func bucketOf(ns int64) int {
	us := uint64(max(ns, 0) / 1000)
	if us < histSub {
		return int(us)
	}
	e := bits.Len64(us) - 4 // us has e+4 bits: top 4 give the exponent step and 3 the sub-bucket
	b := e*histSub + int(us>>uint(e))
	if b >= histBuckets {
		return histBuckets - 1
	}
	return b
}

// lowerBound returns the smallest duration in bucket b, in ns.
func lowerBound(b int) int64 {
	if b < histSub*2 {
		return int64(b) * 1000
	}
	e := b/histSub - 1
	m := uint64(b - e*histSub)
	return int64(m<<uint(e)) * 1000
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	h.buckets[bucketOf(int64(d))].Add(1)
	h.count.Add(1)
	h.sum.Add(int64(d))
}

// Count is the number of durations recorded.
func (h *Histogram) Count() int64 { return h.count.Load() }

// Mean is the mean duration.
func (h *Histogram) Mean() time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the q-quantile (0..1), as the midpoint of its bucket.
func (h *Histogram) Quantile(q float64) time.Duration {
	var counts [histBuckets]int64
	var total int64
	for i := range counts {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	rank = max(rank, 1)
	var seen int64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			lo := lowerBound(i)
			hi := lowerBound(i + 1)
			return time.Duration((lo + hi) / 2)
		}
	}
	return time.Duration(lowerBound(histBuckets - 1))
}

// Reset forgets every recorded duration (benchmarks use it between phases).
func (h *Histogram) Reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
	h.count.Store(0)
	h.sum.Store(0)
}

// Windows are the spans Storm's UI reports: 10 minutes, 3 hours, 1 day and
// all time (0).
var Windows = []time.Duration{10 * time.Minute, 3 * time.Hour, 24 * time.Hour, 0}

// Counts are a task's counters over a window. Latencies are sums, so means
// and capacity are exact: execute latency = ExecuteNanos/Executed,
// capacity = ExecuteNanos/Span.
type Counts struct {
	Emitted, Transferred, Acked, Failed, Executed, TimedOut int64
	// ExecuteNanos is the time spent in Execute, over Executed tuples.
	ExecuteNanos int64
	// ProcessNanos is the time from the start of a bolt's Execute of a
	// tuple to its Ack (Storm's process latency), over Processed tuples.
	ProcessNanos, Processed int64
	// CompleteNanos is the time from a spout's emit to its Ack, over
	// Completed trees.
	CompleteNanos, Completed int64
	// Span is the time the window covers: the window's length, or less
	// while the task is younger than it (see TaskStats.Window).
	Span time.Duration
}

// ExecuteLatency is the mean time in Execute.
func (c Counts) ExecuteLatency() time.Duration { return mean(c.ExecuteNanos, c.Executed) }

// ProcessLatency is the mean time from the start of Execute to the Ack.
func (c Counts) ProcessLatency() time.Duration { return mean(c.ProcessNanos, c.Processed) }

// CompleteLatency is the mean time from a spout's emit to its Ack.
func (c Counts) CompleteLatency() time.Duration { return mean(c.CompleteNanos, c.Completed) }

// Capacity is the fraction of the span a bolt task spent in Execute
// (Storm's capacity; near 1 means the bolt is the bottleneck).
func (c Counts) Capacity() float64 {
	if c.Span <= 0 {
		return 0
	}
	return float64(c.ExecuteNanos) / float64(c.Span)
}

func mean(sum, n int64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(sum / n)
}

// Plus adds o's counts to c's (summing tasks); the span is the longer.
func (c Counts) Plus(o Counts) Counts {
	return Counts{
		Emitted: c.Emitted + o.Emitted, Transferred: c.Transferred + o.Transferred,
		Acked: c.Acked + o.Acked, Failed: c.Failed + o.Failed,
		Executed: c.Executed + o.Executed, TimedOut: c.TimedOut + o.TimedOut,
		ExecuteNanos: c.ExecuteNanos + o.ExecuteNanos,
		ProcessNanos: c.ProcessNanos + o.ProcessNanos, Processed: c.Processed + o.Processed,
		CompleteNanos: c.CompleteNanos + o.CompleteNanos, Completed: c.Completed + o.Completed,
		Span: max(c.Span, o.Span),
	}
}

// minus is c - o, counter by counter (Span is not touched).
func (c Counts) minus(o Counts) Counts {
	return Counts{
		Emitted: c.Emitted - o.Emitted, Transferred: c.Transferred - o.Transferred,
		Acked: c.Acked - o.Acked, Failed: c.Failed - o.Failed,
		Executed: c.Executed - o.Executed, TimedOut: c.TimedOut - o.TimedOut,
		ExecuteNanos: c.ExecuteNanos - o.ExecuteNanos,
		ProcessNanos: c.ProcessNanos - o.ProcessNanos, Processed: c.Processed - o.Processed,
		CompleteNanos: c.CompleteNanos - o.CompleteNanos, Completed: c.Completed - o.Completed,
		Span: c.Span,
	}
}

// EdgeCount is the number of tuples a task sent on stream to consumer.
type EdgeCount struct {
	Stream      topology.StreamID
	Consumer    topology.ComponentID
	Transferred int64
}

// Gauge is a value a component reports about itself (a Kafka spout's lag
// and committed offset per partition).
type Gauge = topology.Gauge

// cumulative reads every counter the windows cover.
func (s *TaskStats) cumulative() Counts {
	return Counts{
		Emitted: s.Emitted.Load(), Transferred: s.Transferred.Load(),
		Acked: s.Acked.Load(), Failed: s.Failed.Load(), Executed: s.Executed.Load(), TimedOut: s.TimedOut.Load(),
		ExecuteNanos: s.ExecuteNanos.Load(),
		ProcessNanos: s.ProcessNanos.Load(), Processed: s.Processed.Load(),
		CompleteNanos: s.CompleteNanos.Load(), Completed: s.Completed.Load(),
	}
}

// Window returns the task's counts over the last d (0: all time). They are
// exact, not sampled: the current counters minus a copy taken at the
// window's start. The topology's clock copies the counters every 30 s for
// the 10-minute window, every 10 minutes for 3 hours and every hour for a
// day, so Span, the time actually covered, is between d less one such step
// and d (all of the task's life while it is younger than d; for d shorter
// than 30 s, the time since the last copy). Rates are counts over Span. A
// task that never started here has all-time counts and a zero Span.
func (s *TaskStats) Window(d time.Duration) Counts { return s.window(d, time.Now()) }

func (s *TaskStats) window(d time.Duration, now time.Time) Counts {
	cur := s.cumulative()
	base, ok := s.win.base(d, now)
	if !ok {
		return cur // never started here
	}
	c := cur.minus(base.counts)
	c.Span = max(now.Sub(base.at), 0)
	return c
}

// Edges returns the task's transferred counts per (stream, consumer), all
// time (rates come from differences between reads, as the UI draws them).
func (s *TaskStats) Edges() []EdgeCount {
	cur := s.edgeList()
	if len(cur) == 0 {
		return nil
	}
	out := make([]EdgeCount, len(cur))
	for i, e := range cur {
		out[i] = EdgeCount{Stream: e.stream, Consumer: e.consumer, Transferred: e.n.Load()}
	}
	return out
}

// Gauges returns the gauges the task's component set, sorted by name and
// labels.
func (s *TaskStats) Gauges() []Gauge { return s.gauges.All() }

// Started is when the task first started on this node; restarts do not
// move it. Zero when it never started here (tracker tasks: zero).
func (s *TaskStats) Started() time.Time {
	ns := s.started.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// markStarted records the task's first start, and starts its windows.
func (s *TaskStats) markStarted(now time.Time) {
	if s.started.CompareAndSwap(0, now.UnixNano()) {
		s.win.start(now)
	}
}

// edgeCounter counts the tuples one task sent on stream to consumer.
type edgeCounter struct {
	stream   topology.StreamID
	consumer topology.ComponentID
	n        atomic.Int64
}

func (s *TaskStats) edgeList() []*edgeCounter {
	if p := s.edges.Load(); p != nil {
		return *p
	}
	return nil
}

// registerEdges returns the task's edge counters, making them on the first
// call from comp's streams and their consumers, sorted. A restarted task
// gets the same counters.
func (s *TaskStats) registerEdges(comp *topology.Component) []*edgeCounter {
	s.edgesMu.Lock()
	defer s.edgesMu.Unlock()
	if p := s.edges.Load(); p != nil {
		return *p
	}
	var list []*edgeCounter
	for _, stream := range slices.Sorted(maps.Keys(comp.Consumers)) {
		for _, sub := range comp.Consumers[stream] {
			if !slices.ContainsFunc(list, func(e *edgeCounter) bool { return e.stream == stream && e.consumer == sub.Consumer }) {
				list = append(list, &edgeCounter{stream: stream, consumer: sub.Consumer})
			}
		}
	}
	slices.SortStableFunc(list, func(a, b *edgeCounter) int {
		return cmp.Or(cmp.Compare(a.stream, b.stream), cmp.Compare(a.consumer, b.consumer))
	})
	s.edges.Store(&list)
	return list
}
