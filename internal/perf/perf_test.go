package perf

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestWorkloadsRun checks every workload builds and moves tuples (no timing
// is asserted: figures come from go tool task bench).
func TestWorkloadsRun(t *testing.T) {
	for _, w := range []string{ConstSpoutOnly, ConstSpoutNullBolt, ConstSpoutIDNullBolt, FileReadWordCount} {
		for _, acking := range []bool{false, true} {
			r, err := Measure(context.Background(), Spec{Workload: w, Acking: acking, Warmup: 50 * time.Millisecond, Measure: 200 * time.Millisecond})
			if err != nil {
				t.Fatalf("%s acking=%v: %v", w, acking, err)
			}
			if r.Tuples <= 0 {
				t.Errorf("%s acking=%v: no tuples in 200 ms", w, acking)
			}
			if r.Failed != 0 {
				t.Errorf("%s acking=%v: %d failed", w, acking, r.Failed)
			}
		}
	}
}

func benchmark(b *testing.B, spec Spec) {
	spec.Warmup, spec.Measure = time.Second, 3*time.Second
	var r Run
	var err error
	for b.Loop() {
		r, err = Measure(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.TuplesPerS, r.Unit+"/s")
	if spec.Acking {
		b.ReportMetric(r.P50ms, "p50-ms")
		b.ReportMetric(r.P99ms, "p99-ms")
	}
	b.ReportMetric(r.Cores, "cores")
	b.ReportMetric(r.AllocsPerTuple, "allocs/tuple")
}

func BenchmarkConstSpoutNullBoltAcked(b *testing.B) {
	benchmark(b, Spec{Workload: ConstSpoutNullBolt, Acking: true})
}

func BenchmarkConstSpoutNullBoltUnacked(b *testing.B) {
	benchmark(b, Spec{Workload: ConstSpoutNullBolt})
}

func BenchmarkConstSpoutIdBoltNullBoltAcked(b *testing.B) {
	benchmark(b, Spec{Workload: ConstSpoutIDNullBolt, Acking: true})
}

func BenchmarkFileReadWordCountAcked(b *testing.B) {
	benchmark(b, Spec{Workload: FileReadWordCount, Acking: true})
}

// The same with squall.metrics.latency=false: the cost of timing every tuple.
func BenchmarkConstSpoutNullBoltAckedLatencyOff(b *testing.B) {
	benchmark(b, Spec{Workload: ConstSpoutNullBolt, Acking: true, NoLatencyMetrics: true})
}

func BenchmarkConstSpoutIdBoltNullBoltAckedLatencyOff(b *testing.B) {
	benchmark(b, Spec{Workload: ConstSpoutIDNullBolt, Acking: true, NoLatencyMetrics: true})
}

// A run cancelled during its warm-up stops the topology it started
// (TestMain's leak check fails otherwise).
func TestMeasureCancelledInWarmupStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Measure(ctx, Spec{Workload: ConstSpoutNullBolt, Warmup: time.Minute, Measure: time.Second})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Measure = %v, want context.DeadlineExceeded", err)
	}
}
