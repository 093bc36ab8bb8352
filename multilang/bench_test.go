package multilang

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// quotaSpout emits generated lines, each its own tree, while it has quota.
type quotaSpout struct {
	topology.BaseSpout
	lines   []string
	quota   *atomic.Int64
	acked   *atomic.Int64
	out     topology.SpoutCollector
	emitted int64
}

func (s *quotaSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *quotaSpout) NextTuple() {
	if s.emitted >= s.quota.Load() {
		return
	}
	s.out.Emit(topology.Values{s.lines[s.emitted%int64(len(s.lines))]}, s.emitted)
	s.emitted++
}

func (s *quotaSpout) Ack(any)  { s.acked.Add(1) }
func (s *quotaSpout) Fail(any) { s.acked.Add(1) } // counted too: a failure must not hang the benchmark

// countBolt counts words and counts them; the Go half of the word count.
type countBolt struct {
	out    topology.OutputCollector
	counts map[string]int64
	words  *atomic.Int64
}

func (b *countBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out, b.counts = c, map[string]int64{}
	return nil
}

func (b *countBolt) Execute(t topology.Tuple) {
	if w, ok := t.Values()[0].(string); ok {
		b.counts[w]++
	}
	b.words.Add(1)
	b.out.Ack(t)
}

func (b *countBolt) Cleanup() error { return nil }

// goSplit is SplitBolt in Go: the same str.split().
type goSplit struct{ out topology.OutputCollector }

func (b *goSplit) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *goSplit) Execute(t topology.Tuple) {
	for _, w := range strings.Fields(t.Values()[0].(string)) {
		b.out.Emit(topology.Values{w}, t)
	}
	b.out.Ack(t)
}

func (b *goSplit) Cleanup() error { return nil }

// BenchmarkWordCount: a Go spout of lines -> split (pystorm SplitBolt over
// JSON or msgpack, or the same in Go) -> a Go count bolt, every line acked.
// It reports lines/s, words/s, the complete latency and the bytes through
// the pipes. Run with a fixed count, e.g. -benchtime 20000x.
func BenchmarkWordCount(b *testing.B) {
	cases := []struct {
		name    string
		ser     string // "": all in Go
		splits  int
		pending int // topology.max.spout.pending; 0: the default (1000)
	}{
		{"go", "", 1, 0},
		{"python-json", "json", 1, 0},
		{"python-msgpack", "msgpack", 1, 0},
		{"python-json-x2", "json", 2, 0},
		{"python-msgpack-x2", "msgpack", 2, 0},
		// Few lines in flight: the latency of the pipe, not of a queue.
		{"go-pending10", "", 1, 10},
		{"python-json-pending10", "json", 1, 10},
		{"python-msgpack-pending10", "msgpack", 1, 10},
	}
	lines := wordcount.GenerateLines(5000, 7)
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var quota, acked, words atomic.Int64
			bld := topology.NewBuilder("bench")
			bld.SetSpout("lines", func() topology.Spout {
				return &quotaSpout{lines: lines, quota: &quota, acked: &acked}
			}, 1).Output("line")
			if tc.ser == "" {
				bld.SetBolt("split", func() topology.Bolt { return &goSplit{} }, tc.splits).LocalOrShuffleGrouping("lines").Output("word")
			} else {
				argv := []string{pythonPath(b), "wordcount.py", "SplitBolt", "-s", tc.ser}
				bld.SetBolt("split", BoltFactory(argv, WithDir(resourcesDir(b)), WithSerializer(tc.ser), Output("word")), tc.splits).
					LocalOrShuffleGrouping("lines")
			}
			bld.SetBolt("count", func() topology.Bolt { return &countBolt{words: &words} }, 1).FieldsGrouping("split", "word")
			conf := topology.Config{topology.MessageTimeoutSecs: 60}
			if tc.pending > 0 {
				conf[topology.MaxSpoutPending] = tc.pending
			}
			topo, err := bld.Build(conf)
			if err != nil {
				b.Fatal(err)
			}
			c, err := local.Start(context.Background(), topo)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := c.Stop(ctx); err != nil {
					b.Error(err)
				}
			}()
			// Warm up: the subprocesses start and the JIT-less Python settles.
			quota.Store(500)
			poll.Until(b, 60*time.Second, "warm-up lines acked", func() bool { return acked.Load() == 500 })
			var spout = c.Topology().Stats()[topo.Component("lines").Tasks[0]-1]
			spout.CompleteLatency.Reset()
			w0, r0, words0 := pipeBytes.written.Load(), pipeBytes.read.Load(), words.Load()
			b.ResetTimer()
			start := time.Now()
			quota.Add(int64(b.N))
			poll.Until(b, 10*time.Minute, "every line acked", func() bool { return acked.Load() == 500+int64(b.N) })
			elapsed := time.Since(start)
			b.StopTimer()
			secs := elapsed.Seconds()
			b.ReportMetric(float64(b.N)/secs, "lines/s")
			b.ReportMetric(float64(words.Load()-words0)/secs, "words/s")
			b.ReportMetric(float64(spout.CompleteLatency.Quantile(0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(spout.CompleteLatency.Quantile(0.99).Microseconds())/1000, "p99-ms")
			if tc.ser != "" {
				piped := pipeBytes.written.Load() - w0 + pipeBytes.read.Load() - r0
				b.ReportMetric(float64(piped)/secs/1e6, "pipe-MB/s")
			}
			if f := spout.Failed.Load(); f > 0 {
				b.Errorf("%d lines failed", f)
			}
		})
	}
}

// BenchmarkSpout: a pystorm spout (SentenceSpout) emitting b.N tuples, each
// acked by a Go bolt; "next" commands in flight 1 (Storm's way) or 8.
func BenchmarkSpout(b *testing.B) {
	for _, inflight := range []int{1, 8} {
		for _, ser := range []string{"json", "msgpack"} {
			b.Run(fmt.Sprintf("%s-inflight%d", ser, inflight), func(b *testing.B) {
				sentences := make([]any, b.N)
				for i := range sentences {
					sentences[i] = fmt.Sprintf("sentence %d", i)
				}
				var words atomic.Int64
				bld := topology.NewBuilder("spoutbench")
				argv := []string{pythonPath(b), "wordcount.py", "SentenceSpout", "-s", ser}
				bld.SetSpout("py", SpoutFactory(argv, WithDir(resourcesDir(b)), WithSerializer(ser), Output("sentence"),
					WithNextInFlight(inflight)), 1)
				bld.SetBolt("count", func() topology.Bolt { return &countBolt{words: &words} }, 1).ShuffleGrouping("py")
				topo, err := bld.Build(topology.Config{"test.sentences": sentences})
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				start := time.Now()
				c, err := local.Start(context.Background(), topo)
				if err != nil {
					b.Fatal(err)
				}
				spout := c.Topology().Stats()[topo.Component("py").Tasks[0]-1]
				poll.Until(b, 10*time.Minute, "every tuple acked", func() bool { return spout.Acked.Load() == int64(b.N) })
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tuples/s")
				b.ReportMetric(float64(spout.CompleteLatency.Quantile(0.5).Microseconds())/1000, "p50-ms")
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := c.Stop(ctx); err != nil {
					b.Error(err)
				}
			})
		}
	}
}
