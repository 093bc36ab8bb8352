// Command bench runs squall's storm-perf shaped workloads in this process and
// prints one JSON line per run (see BENCHMARKS.md):
//
//	go tool task bench [-- -measure 10s -only ConstSpoutNullBolt]
//
// The standard suite runs each workload at its maximum rate, and the acked
// ones again at half the rate they reached, to report complete latency under
// load that is not saturating.
//
// -metrics off runs with squall.metrics.latency=false (bolts time batches,
// not tuples); -metrics both runs every step with it on, then off, back to
// back, the half-rate runs of both at half the rate reached with it on —
// the "Metrics cost" table of BENCHMARKS.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/squall-streams/squall/internal/perf"
)

func main() {
	warmup := flag.Duration("warmup", 3*time.Second, "warm-up before each measurement")
	measure := flag.Duration("measure", 10*time.Second, "measurement time per run")
	only := flag.String("only", "", "comma-separated workloads to run (default: all)")
	metrics := flag.String("metrics", "on", "squall.metrics.latency: on, off, or both (each step with it on, then off)")
	flag.Parse()
	var modes []bool // NoLatencyMetrics per run of a step
	switch *metrics {
	case "on":
		modes = []bool{false}
	case "off":
		modes = []bool{true}
	case "both":
		modes = []bool{false, true}
	default:
		fmt.Fprintf(os.Stderr, "bench: -metrics %q: use on, off or both\n", *metrics)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	want := map[string]bool{}
	for _, w := range strings.Split(*only, ",") {
		if w != "" {
			want[w] = true
		}
	}
	type step struct {
		spec     perf.Spec
		halfRate bool // also run at half the measured maximum
		desc     string
	}
	steps := []step{
		{spec: perf.Spec{Workload: perf.ConstSpoutOnly}, desc: "spout only, acks off"},
		{spec: perf.Spec{Workload: perf.ConstSpoutNullBolt}, desc: "acks off"},
		{spec: perf.Spec{Workload: perf.ConstSpoutNullBolt, Acking: true, MaxSpoutPending: 1000}, halfRate: true, desc: "acks on, max.spout.pending 1000"},
		{spec: perf.Spec{Workload: perf.ConstSpoutIDNullBolt, Acking: true, MaxSpoutPending: 1000}, halfRate: true, desc: "acks on"},
		{spec: perf.Spec{Workload: perf.FileReadWordCount}, desc: "acks off"},
		{spec: perf.Spec{Workload: perf.FileReadWordCount, Acking: true, MaxSpoutPending: 1000}, halfRate: true, desc: "acks on"},
	}
	enc := json.NewEncoder(os.Stdout)
	for _, s := range steps {
		if len(want) > 0 && !want[s.spec.Workload] {
			continue
		}
		s.spec.Warmup, s.spec.Measure = *warmup, *measure
		halfRate := 0.0
		for _, off := range modes {
			spec := s.spec
			spec.NoLatencyMetrics = off
			run := measure1(ctx, spec, s.desc)
			_ = enc.Encode(run)
			if s.halfRate && halfRate == 0 && run.TuplesPerS > 0 {
				// The rate limit applies to spout tuples; for the word count
				// the measured unit is words, so convert back to lines.
				halfRate = run.TuplesPerS / 2
				if run.Unit == "words" && run.Tuples > 0 {
					halfRate /= wordsPerLine
				}
			}
		}
		if halfRate > 0 {
			for _, off := range modes {
				half := s.spec
				half.RateLimit, half.NoLatencyMetrics = halfRate, off
				_ = enc.Encode(measure1(ctx, half, s.desc+", at half the maximum rate"))
			}
		}
	}
}

// measure1 runs spec once, exiting on error.
func measure1(ctx context.Context, spec perf.Spec, desc string) perf.Run {
	run, err := perf.Measure(ctx, spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	run.GoMaxProcs = runtime.GOMAXPROCS(0)
	run.Description = desc
	return run
}

// wordsPerLine is the mean words per generated line (4..15 words).
const wordsPerLine = 9.5
