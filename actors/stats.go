package actors

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/topology"
)

// TaskStats are one task's counters. The task writes them on its own
// goroutine; anyone may read them at any time. They count every tuple (no
// sampling) with one uncontended atomic add each.
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
	// Restarts counts restarts of the task by its supervisor.
	Restarts atomic.Int64
	// Dropped counts tuples and tracker updates received from other
	// processes for another topology or epoch (they replay).
	Dropped atomic.Int64
	// Pending is the number of trees a spout task is waiting for.
	Pending atomic.Int64
	// CompleteLatency is the time from a spout's emit to its Ack.
	CompleteLatency Histogram
	lastError       atomic.Pointer[ErrorRecord]
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
	// ProcessNanos is the time from a bolt receiving a tuple to acking or
	// failing it, over Processed tuples.
	ProcessNanos, Processed int64
	// CompleteNanos is the time from a spout's emit to its Ack, over
	// Completed trees.
	CompleteNanos, Completed int64
	// Span is the time the window covers: the window's length, or less
	// while the task is younger than it.
	Span time.Duration
}

// EdgeCount is the number of tuples a task sent on stream to consumer.
type EdgeCount struct {
	Stream      topology.StreamID
	Consumer    topology.ComponentID
	Transferred int64
}

// Gauge is a value a component reports about itself (a Kafka spout's lag
// and committed offset per partition).
type Gauge struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Window returns the task's counts over the last d (0: all time).
// TODO(metrics): windows; this returns all-time counts.
func (s *TaskStats) Window(d time.Duration) Counts {
	return Counts{
		Emitted: s.Emitted.Load(), Transferred: s.Transferred.Load(),
		Acked: s.Acked.Load(), Failed: s.Failed.Load(), Executed: s.Executed.Load(), TimedOut: s.TimedOut.Load(),
		CompleteNanos: s.CompleteLatency.sum.Load(), Completed: s.CompleteLatency.Count(),
	}
}

// Edges returns the task's transferred counts per (stream, consumer).
// TODO(metrics): count them.
func (s *TaskStats) Edges() []EdgeCount { return nil }

// Gauges returns the gauges the task's component registered.
// TODO(metrics): registration from the component's Context.
func (s *TaskStats) Gauges() []Gauge { return nil }

// Started is when the task first started on this node.
// TODO(metrics): set it.
func (s *TaskStats) Started() time.Time { return time.Time{} }
