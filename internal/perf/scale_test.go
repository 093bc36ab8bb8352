package perf

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The flat-cost tables of issue 13 (BENCHMARKS.md "Costs as the work
// grows"): each benchmark is one row per size, one run each; compare rows
// of one invocation.
//
//	go test -run '^$' -bench Scale -benchtime 1x ./internal/perf/

func scaleRun(b *testing.B, spec Spec) Run {
	b.Helper()
	if spec.Warmup == 0 {
		spec.Warmup, spec.Measure = time.Second, 3*time.Second
	}
	var r Run
	var err error
	for b.Loop() {
		if r, err = Measure(context.Background(), spec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.TuplesPerS, r.Unit+"/s")
	b.ReportMetric(r.Cores, "cores")
	return r
}

// BenchmarkScaleTasks: the acked word count with 1, 2, 4, 8 tasks per bolt
// on 2 cores: throughput must not fall as tasks outnumber cores.
func BenchmarkScaleTasks(b *testing.B) {
	for _, k := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("tasks=%d", k), func(b *testing.B) {
			r := scaleRun(b, Spec{Workload: FileReadWordCount, Acking: true, MaxSpoutPending: 1000, Bolts: k})
			b.ReportMetric(r.P99ms, "p99-ms")
		})
	}
}

// BenchmarkScalePending: ConstSpout -> NullBolt acked with
// max.spout.pending 10 k, 100 k, 1 M: throughput, the trees pending at the
// end, and the live heap (the spouts' pending sets and the tracker's
// ledger hold them).
func BenchmarkScalePending(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			r := scaleRun(b, Spec{Workload: ConstSpoutNullBolt, Acking: true, MaxSpoutPending: n, Heap: true})
			b.ReportMetric(float64(r.Pending), "pending")
			b.ReportMetric(r.HeapMiB, "heap-MiB")
			b.ReportMetric(r.P99ms, "p99-ms")
		})
	}
}

// BenchmarkScaleTopologies: 1 and 20 acked ConstSpout -> NullBolt
// topologies in one process at once: their summed throughput.
func BenchmarkScaleTopologies(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("topologies=%d", n), func(b *testing.B) {
			for b.Loop() {
				runs := make([]Run, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						runs[i], errs[i] = Measure(context.Background(), Spec{Workload: ConstSpoutNullBolt, Acking: true, MaxSpoutPending: 1000,
							Warmup: 2 * time.Second, Measure: 3 * time.Second})
					})
				}
				wg.Wait()
				var sum, cores float64
				for i := range n {
					if errs[i] != nil {
						b.Fatal(errs[i])
					}
					sum += runs[i].TuplesPerS
					cores = max(cores, runs[i].Cores) // process-wide: the same for every run
				}
				b.ReportMetric(sum, "tuples/s")
				b.ReportMetric(cores, "cores")
			}
		})
	}
}
