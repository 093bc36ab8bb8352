package actors

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"
)

func TestHistogramBuckets(t *testing.T) {
	if bucketOf(0) != 0 || lowerBound(0) != 0 {
		t.Fatalf("bucketOf(0) = %d, lowerBound(0) = %d; want 0, 0", bucketOf(0), lowerBound(0))
	}
	// Bounds strictly increase, every bucket holds exactly
	// [lowerBound(b), lowerBound(b+1)), and no bucket is wider than 1/8 of
	// its lower bound once past the 1 µs linear ones.
	for b := range histBuckets - 1 {
		lo, hi := lowerBound(b), lowerBound(b+1)
		if hi <= lo {
			t.Fatalf("lowerBound(%d) = %d >= lowerBound(%d) = %d", b, lo, b+1, hi)
		}
		if got := bucketOf(lo); got != b {
			t.Errorf("bucketOf(lowerBound(%d) = %d) = %d", b, lo, got)
		}
		if got := bucketOf(hi - 1); got != b {
			t.Errorf("bucketOf(lowerBound(%d)-1 = %d) = %d, want %d", b+1, hi-1, got, b)
		}
		if b >= histSub && float64(hi-lo) > float64(lo)/histSub {
			t.Errorf("bucket %d [%d, %d) is wider than 1/%d of its lower bound", b, lo, hi, histSub)
		}
	}
	// The last bucket holds everything from its lower bound up.
	last := histBuckets - 1
	for _, ns := range []int64{lowerBound(last), lowerBound(last + 1), int64(time.Hour) * 100, math.MaxInt64} {
		if got := bucketOf(ns); got != last {
			t.Errorf("bucketOf(%v) = %d, want the last bucket %d", time.Duration(ns), got, last)
		}
	}
	// The range covers at least an hour at full resolution.
	if top := time.Duration(lowerBound(last)); top < time.Hour {
		t.Errorf("the last bucket starts at %v, want >= 1h", top)
	}
}

func TestHistogramBucketOfRandomValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	top := lowerBound(histBuckets - 1)
	prev := -1
	// Monotone over a sorted sweep, and every value in its bucket's bounds.
	for ns := int64(0); ns < top; ns += 1 + ns/50 + rng.Int64N(1+ns/20) {
		b := bucketOf(ns)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d < bucket %d of a smaller value", ns, b, prev)
		}
		prev = b
		if lo, hi := lowerBound(b), lowerBound(b+1); ns < lo || ns >= hi {
			t.Fatalf("bucketOf(%d) = %d, whose bounds are [%d, %d)", ns, b, lo, hi)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	uniform := func(h *Histogram) { // 1 ms .. 1000 ms, once each
		for i := 1; i <= 1000; i++ {
			h.Record(time.Duration(i) * time.Millisecond)
		}
	}
	constant := func(h *Histogram) {
		for range 500 {
			h.Record(42 * time.Millisecond)
		}
	}
	bimodal := func(h *Histogram) { // 90% at 1 ms, 10% at 250 ms
		for i := range 1000 {
			if i%10 == 0 {
				h.Record(250 * time.Millisecond)
			} else {
				h.Record(time.Millisecond)
			}
		}
	}
	microseconds := func(h *Histogram) { // 100 µs .. 10 ms
		for i := 1; i <= 100; i++ {
			h.Record(time.Duration(i) * 100 * time.Microsecond)
		}
	}
	tests := []struct {
		name string
		fill func(*Histogram)
		q    float64
		want time.Duration
	}{
		{"uniform p50", uniform, 0.5, 500 * time.Millisecond},
		{"uniform p90", uniform, 0.9, 900 * time.Millisecond},
		{"uniform p99", uniform, 0.99, 990 * time.Millisecond},
		{"uniform p100", uniform, 1, 1000 * time.Millisecond},
		{"uniform p0", uniform, 0, time.Millisecond},
		{"uniform p10", uniform, 0.1, 100 * time.Millisecond},
		{"constant p50", constant, 0.5, 42 * time.Millisecond},
		{"constant p99", constant, 0.99, 42 * time.Millisecond},
		{"bimodal p50", bimodal, 0.5, time.Millisecond},
		{"bimodal p89", bimodal, 0.89, time.Millisecond},
		{"bimodal p95", bimodal, 0.95, 250 * time.Millisecond},
		{"microseconds p50", microseconds, 0.5, 5 * time.Millisecond},
		{"microseconds p1", microseconds, 0.01, 100 * time.Microsecond},
	}
	for _, tt := range tests {
		var h Histogram
		tt.fill(&h)
		got := h.Quantile(tt.q)
		if diff := math.Abs(float64(got-tt.want)) / float64(tt.want); diff > 0.10 {
			t.Errorf("%s: Quantile(%v) = %v, want %v ±10%%", tt.name, tt.q, got, tt.want)
		}
	}
}

func TestHistogramCountMeanReset(t *testing.T) {
	var h Histogram
	if h.Count() != 0 || h.Mean() != 0 || h.Quantile(0.5) != 0 {
		t.Fatalf("empty: Count %d, Mean %v, p50 %v", h.Count(), h.Mean(), h.Quantile(0.5))
	}
	for _, d := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 6 * time.Millisecond} {
		h.Record(d)
	}
	if h.Count() != 3 {
		t.Errorf("Count = %d, want 3", h.Count())
	}
	if h.Mean() != 3*time.Millisecond { // exact: the sum is kept, not the buckets
		t.Errorf("Mean = %v, want 3ms", h.Mean())
	}
	h.Reset()
	if h.Count() != 0 || h.Mean() != 0 || h.Quantile(0.99) != 0 {
		t.Errorf("after Reset: Count %d, Mean %v, p99 %v", h.Count(), h.Mean(), h.Quantile(0.99))
	}
	h.Record(time.Second)
	if got := h.Quantile(0.5); math.Abs(float64(got-time.Second)) > 0.1*float64(time.Second) || h.Count() != 1 {
		t.Errorf("after Reset and one record: p50 %v, Count %d", got, h.Count())
	}
}

func TestTaskStatsLastError(t *testing.T) {
	var s TaskStats
	if s.LastError() != nil {
		t.Fatal("LastError is set before any error")
	}
	s.recordError(errors.New("first"))
	s.recordError(errors.New("second"))
	if r := s.LastError(); r == nil || r.Err != "second" || r.Time.IsZero() {
		t.Errorf("LastError = %+v, want second", r)
	}
	if s.Errors.Load() != 2 {
		t.Errorf("Errors = %d, want 2", s.Errors.Load())
	}
}

func TestPanicBudget(t *testing.T) {
	sec := int64(time.Second)
	tests := []struct {
		name   string
		max    int
		panics []int64 // times, in ns
		want   bool
	}{
		{"none", 3, nil, false},
		{"below max", 3, []int64{0, sec}, false},
		{"max within a minute", 3, []int64{0, 10 * sec, 59 * sec}, true},
		{"more than max within a minute", 3, []int64{0, sec, 2 * sec, 3 * sec}, true},
		{"spread over minutes", 3, []int64{0, 61 * sec, 122 * sec, 183 * sec}, false},
		{"exactly a minute apart", 2, []int64{0, 60 * sec}, false},
		{"old panics forgotten", 3, []int64{0, sec, 70 * sec, 71 * sec}, false},
		{"old panics forgotten, then a burst", 3, []int64{0, sec, 70 * sec, 71 * sec, 72 * sec}, true},
		{"max one", 1, []int64{5 * sec}, true},
		{"zero max never gives up", 0, []int64{0, 1, 2, 3, 4}, false},
	}
	for _, tt := range tests {
		b := panicBudget{max: tt.max}
		for _, at := range tt.panics {
			b.record(at)
		}
		if got := b.exceeded(); got != tt.want {
			t.Errorf("%s: exceeded() = %v, want %v (times kept %v)", tt.name, got, tt.want, b.times)
		}
	}
}

func TestPanicBudgetCrash(t *testing.T) {
	b := panicBudget{max: 2}
	b.record(0)
	b.record(1)
	defer func() {
		r := recover()
		err, ok := r.(*errCrash)
		if !ok {
			t.Fatalf("crash panicked with %T %v, want *errCrash", r, r)
		}
		if want := `bolt "count" task 3: 2 panics within 1m0s: restarting`; err.Error() != want {
			t.Errorf("crash message %q, want %q", err.Error(), want)
		}
	}()
	b.crash(`bolt "count" task 3`)
	t.Fatal("crash returned")
}

// The process-latency stamp fits in the tuple's allocation size class.
func TestTupleStaysIn96Bytes(t *testing.T) {
	if size := unsafe.Sizeof(tuple{}); size > 96 {
		t.Errorf("a tuple is %d bytes, want at most 96", size)
	}
}
