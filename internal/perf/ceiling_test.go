package perf

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topologies/wordcount"
)

// runCeiling starts spec's pipeline, waits until its sink has seen at least
// n tuples (or, for the spout alone, n were emitted), and stops it: after
// Stop every tuple a spout sent has been through every bolt and the acker.
func runCeiling(t *testing.T, spec Spec, n int64) *ceiling {
	t.Helper()
	c, err := startCeiling(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	poll.Until(t, 30*time.Second, "the pipeline moves tuples", func() bool {
		if spec.Workload == ConstSpoutOnly {
			return c.emitted.Load() >= n
		}
		return c.seen.Load() >= n
	})
	c.Stop()
	return c
}

// TestCeilingCountsAndAcks checks each shape delivers every tuple its spout
// sent exactly once and, when acking, completes every tree exactly once:
// once stopped and drained, the acker tracks no tree, never saw an ack of a
// tree it did not know, and its completions equal the trees sent.
func TestCeilingCountsAndAcks(t *testing.T) {
	for _, w := range []string{ConstSpoutNullBolt, ConstSpoutIDNullBolt, FileReadWordCount} {
		for _, acking := range []bool{false, true} {
			for _, par := range []int{1, 3} {
				spec := Spec{Workload: w, Acking: acking, MaxSpoutPending: 1000, Spouts: par, Bolts: par}
				c := runCeiling(t, spec, 20000)
				var sent int64
				for _, n := range c.sent {
					sent += n
				}
				name := func() string { return w + map[bool]string{false: " unacked", true: " acked"}[acking] }
				if w == FileReadWordCount {
					// Spout task i sends lines seq = 1, 2, ...: the counts are
					// the words of exactly those lines.
					want := map[string]int64{}
					var words int64
					for _, n := range c.sent {
						for seq := int64(1); seq <= n; seq++ {
							for _, word := range wordcount.Words(c.lines[seq%int64(len(c.lines))]) {
								want[word]++
								words++
							}
						}
					}
					got := map[string]int64{}
					for _, m := range c.counts {
						for k, v := range m {
							got[k] += v
						}
					}
					if !maps.Equal(got, want) {
						t.Errorf("%s par %d: counts differ from the words of the %d lines sent", name(), par, sent)
					}
					if c.seen.Load() != words {
						t.Errorf("%s par %d: %d words seen, want %d", name(), par, c.seen.Load(), words)
					}
				} else if c.seen.Load() != sent {
					t.Errorf("%s par %d: sink saw %d tuples, spouts sent %d", name(), par, c.seen.Load(), sent)
				}
				if !acking {
					continue
				}
				completed := c.acked.Load()
				for _, comp := range c.comps {
					completed += int64(len(comp)) // completions the stopped spouts did not take
				}
				if completed != sent || c.left != 0 || c.strays.Load() != 0 {
					t.Errorf("%s par %d: %d trees sent, %d completed, %d left in the acker, %d stray acks",
						name(), par, sent, completed, c.left, c.strays.Load())
				}
				if c.latency.Count() != c.acked.Load() {
					t.Errorf("%s par %d: %d latencies for %d acked trees", name(), par, c.latency.Count(), c.acked.Load())
				}
			}
		}
	}
}

// TestCeilingMaxSpoutPending checks no spout ever has more trees in flight
// than max.spout.pending, and that trees still flow with a small limit.
func TestCeilingMaxSpoutPending(t *testing.T) {
	for _, w := range []string{ConstSpoutNullBolt, ConstSpoutIDNullBolt, FileReadWordCount} {
		c := runCeiling(t, Spec{Workload: w, Acking: true, MaxSpoutPending: 7, Spouts: 2, Bolts: 2}, 5000)
		for i, p := range c.peak {
			if p > 7 {
				t.Errorf("%s: spout %d had %d trees pending, limit 7", w, i, p)
			}
		}
	}
}

// TestCeilingRateLimit checks a rate-limited spout sends no more than its
// rate allows (an upper bound that holds however slow the machine is).
func TestCeilingRateLimit(t *testing.T) {
	const rate = 2000.0
	start := time.Now()
	c := runCeiling(t, Spec{Workload: ConstSpoutNullBolt, Acking: true, RateLimit: rate}, 200)
	elapsed := time.Since(start)
	if limit := int64(rate*elapsed.Seconds()) + 1; c.sent[0] > limit {
		t.Errorf("sent %d tuples in %v at %v/s: more than %d", c.sent[0], elapsed, rate, limit)
	}
}

// TestMeasureCeiling checks every shape measures tuples and nothing fails
// (no timing is asserted: figures come from cmd/bench -impl ceiling).
func TestMeasureCeiling(t *testing.T) {
	for _, w := range []string{ConstSpoutOnly, ConstSpoutNullBolt, ConstSpoutIDNullBolt, FileReadWordCount} {
		for _, acking := range []bool{false, true} {
			r, err := MeasureCeiling(context.Background(), Spec{Workload: w, Acking: acking, Warmup: 50 * time.Millisecond, Measure: 200 * time.Millisecond})
			if err != nil {
				t.Fatalf("%s acking=%v: %v", w, acking, err)
			}
			if r.Tuples <= 0 || r.Failed != 0 {
				t.Errorf("%s acking=%v: %d tuples, %d failed", w, acking, r.Tuples, r.Failed)
			}
			if acking && w != ConstSpoutOnly && r.P50ms <= 0 {
				t.Errorf("%s acked: no complete latency", w)
			}
		}
	}
	if _, err := MeasureCeiling(context.Background(), Spec{Workload: "nope"}); err == nil {
		t.Error("an unknown workload measured without error")
	}
}
