// Command bench runs squall's storm-perf shaped workloads in this process and
// prints one JSON line per run (see BENCHMARKS.md):
//
//	go tool task bench [-- -measure 10s -only ConstSpoutNullBolt]
//
// The standard suite runs each workload at its maximum rate, and the acked
// ones again at half the rate they reached, to report complete latency under
// load that is not saturating.
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
	flag.Parse()
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
		run, err := perf.Measure(ctx, s.spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		run.GoMaxProcs = runtime.GOMAXPROCS(0)
		run.Description = s.desc
		_ = enc.Encode(run)
		if s.halfRate && run.TuplesPerS > 0 {
			half := s.spec
			// The rate limit applies to spout tuples; for the word count the
			// measured unit is words, so convert back to lines.
			rate := run.TuplesPerS / 2
			if run.Unit == "words" && run.Tuples > 0 {
				rate = rate / wordsPerLine
			}
			half.RateLimit = rate
			r2, err := perf.Measure(ctx, half)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				os.Exit(1)
			}
			r2.GoMaxProcs = runtime.GOMAXPROCS(0)
			r2.Description = s.desc + ", at half the maximum rate"
			_ = enc.Encode(r2)
		}
	}
}

// wordsPerLine is the mean words per generated line (4..15 words).
const wordsPerLine = 9.5
