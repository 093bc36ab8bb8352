// Package perf holds the storm-perf shaped workloads (ConstSpoutOnly,
// ConstSpout->NullBolt, ConstSpout->IdBolt->NullBolt, FileReadWordCount) and
// a runner that measures them in-process: tuples per second, complete
// latency percentiles, CPU cores used and resident memory. cmd/bench prints
// one JSON line per run; perf_test.go wraps the same runs as Go benchmarks.
package perf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/supervisor"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// Workload names, as storm-perf calls its topologies.
const (
	ConstSpoutOnly       = "ConstSpoutOnly"
	ConstSpoutNullBolt   = "ConstSpoutNullBolt"
	ConstSpoutIDNullBolt = "ConstSpoutIdBoltNullBolt"
	FileReadWordCount    = "FileReadWordCount"
)

// Run is one measured run.
type Run struct {
	Workload        string  `json:"workload"`
	Acking          bool    `json:"acking"`
	MaxSpoutPending int     `json:"max_spout_pending"`
	RateLimit       float64 `json:"rate_limit_per_sec,omitempty"`
	Spouts          int     `json:"spouts"`
	Bolts           int     `json:"bolts_per_component"`
	// MetricsLatency is squall.metrics.latency: every tuple timed at bolts.
	MetricsLatency bool `json:"metrics_latency"`
	// Measured.
	Seconds    float64 `json:"seconds"`
	Tuples     int64   `json:"tuples"`
	TuplesPerS float64 `json:"tuples_per_sec"`
	Unit       string  `json:"unit"`
	P50ms      float64 `json:"complete_latency_p50_ms"`
	P99ms      float64 `json:"complete_latency_p99_ms"`
	P999ms     float64 `json:"complete_latency_p999_ms"`
	Cores      float64 `json:"cores_used"`
	RSSMiB     float64 `json:"rss_mib"`
	Failed     int64   `json:"failed"`
	// AllocsPerTuple is the process's heap allocations in the measurement
	// window per tuple counted (the whole process: the runtime, the
	// components, the measuring itself).
	AllocsPerTuple float64 `json:"allocs_per_tuple"`
	// Pending is the trees the spouts waited for at the end of the window;
	// HeapMiB the live heap then (after a GC), for the flat-cost tables.
	Pending     int64   `json:"pending,omitempty"`
	HeapMiB     float64 `json:"heap_mib,omitempty"`
	GoMaxProcs  int     `json:"gomaxprocs,omitempty"`
	Description string  `json:"description,omitempty"`
}

// Spec says what to run.
type Spec struct {
	// Heap: measure the live heap at the end of the window (a GC, which
	// pauses the run: for the flat-cost tables only).
	Heap            bool
	Workload        string
	Acking          bool
	MaxSpoutPending int     // 0: squall's default (1000)
	RateLimit       float64 // tuples/s over all spout tasks; 0: as fast as possible
	Spouts, Bolts   int     // parallelism; 0: 1
	Warmup, Measure time.Duration
	// NoLatencyMetrics sets squall.metrics.latency=false: bolts time
	// batches, not tuples (no process latency).
	NoLatencyMetrics bool
}

// pacer is what the workloads' spouts share: it emits at most rate tuples
// a second (0: unlimited), numbered from 1, the number as message id when
// acking.
type pacer struct {
	out   topology.SpoutCollector
	ack   bool
	rate  float64 // per task
	start time.Time
	seq   int64
}

func (p *pacer) open(c topology.SpoutCollector) { p.out, p.start = c, time.Now() }

// due reports whether the rate allows another tuple now.
func (p *pacer) due() bool {
	return p.rate <= 0 || p.seq < int64(time.Since(p.start).Seconds()*p.rate)
}

func (p *pacer) emit(values topology.Values) {
	p.seq++
	if p.ack {
		p.out.Emit(values, p.seq)
	} else {
		p.out.Emit(values, nil)
	}
}

// ConstSpout emits the same string forever, with a message id when acking.
type ConstSpout struct {
	topology.BaseSpout
	pacer
	value topology.Values
}

func (s *ConstSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.open(c)
	s.value = topology.Values{"some data"}
	return nil
}

func (s *ConstSpout) NextTuple() {
	if s.due() {
		s.emit(s.value)
	}
}

// NullBolt acks and drops every tuple, counting them.
type NullBolt struct {
	out  topology.OutputCollector
	seen *atomic.Int64
	n    int64
}

func (b *NullBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *NullBolt) Execute(t topology.Tuple) {
	b.out.Ack(t)
	b.n++
	if b.n&255 == 0 {
		b.seen.Add(256)
	}
}

func (b *NullBolt) Cleanup() error { return nil }

// IDBolt re-emits every tuple anchored to it and acks it.
type IDBolt struct{ out topology.OutputCollector }

func (b *IDBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *IDBolt) Execute(t topology.Tuple) {
	b.out.Emit(t.Values(), t)
	b.out.Ack(t)
}

func (b *IDBolt) Cleanup() error { return nil }

// FileReadSpout emits lines of a (generated) file round and round.
type FileReadSpout struct {
	topology.BaseSpout
	pacer // rate in lines/s
	lines []string
	i     int
}

func (s *FileReadSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.open(c)
	return nil
}

func (s *FileReadSpout) NextTuple() {
	if !s.due() {
		return
	}
	line := s.lines[s.i]
	s.i = (s.i + 1) % len(s.lines)
	s.emit(topology.Values{line})
}

// SplitBolt emits the words of a line, anchored.
type SplitBolt struct{ out topology.OutputCollector }

func (b *SplitBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *SplitBolt) Execute(t topology.Tuple) {
	for _, w := range wordcount.Words(t.Values()[0].(string)) {
		b.out.Emit(topology.Values{w}, t)
	}
	b.out.Ack(t)
}

func (b *SplitBolt) Cleanup() error { return nil }

// Build returns the topology of spec and the counter its sink bolt advances.
func Build(spec Spec) (*topology.Topology, *atomic.Int64, error) {
	spouts, bolts := max(spec.Spouts, 1), max(spec.Bolts, 1)
	seen := &atomic.Int64{}
	conf := topology.Config{}
	if !spec.Acking {
		conf[topology.AckerExecutors] = 0
	}
	if spec.MaxSpoutPending > 0 {
		conf[topology.MaxSpoutPending] = spec.MaxSpoutPending
	}
	if spec.NoLatencyMetrics {
		conf[topology.MetricsLatency] = false
	}
	rate := spec.RateLimit / float64(spouts)
	b := topology.NewBuilder(spec.Workload)
	switch spec.Workload {
	case ConstSpoutOnly:
		b.SetSpout("spout", func() topology.Spout { return &ConstSpout{pacer: pacer{ack: spec.Acking, rate: rate}} }, spouts).Output("str")
	case ConstSpoutNullBolt:
		b.SetSpout("spout", func() topology.Spout { return &ConstSpout{pacer: pacer{ack: spec.Acking, rate: rate}} }, spouts).Output("str")
		b.SetBolt("bolt", func() topology.Bolt { return &NullBolt{seen: seen} }, bolts).LocalOrShuffleGrouping("spout")
	case ConstSpoutIDNullBolt:
		b.SetSpout("spout", func() topology.Spout { return &ConstSpout{pacer: pacer{ack: spec.Acking, rate: rate}} }, spouts).Output("str")
		b.SetBolt("bolt1", func() topology.Bolt { return &IDBolt{} }, bolts).LocalOrShuffleGrouping("spout").Output("str")
		b.SetBolt("bolt2", func() topology.Bolt { return &NullBolt{seen: seen} }, bolts).LocalOrShuffleGrouping("bolt1")
	case FileReadWordCount:
		lines := wordcount.GenerateLines(20000, 7)
		b.SetSpout("spout", func() topology.Spout { return &FileReadSpout{pacer: pacer{ack: spec.Acking, rate: rate}, lines: lines} }, spouts).Output("sentence")
		b.SetBolt("split", func() topology.Bolt { return &SplitBolt{} }, bolts).LocalOrShuffleGrouping("spout").Output("word")
		b.SetBolt("count", func() topology.Bolt { return &wordcount.CountBolt{Executed: seen} }, bolts).FieldsGrouping("split", "word")
	default:
		return nil, nil, fmt.Errorf("unknown workload %q", spec.Workload)
	}
	t, err := b.Build(conf)
	return t, seen, err
}

// Measure runs spec and measures it.
func Measure(ctx context.Context, spec Spec) (Run, error) {
	t, seen, err := Build(spec)
	if err != nil {
		return Run{}, err
	}
	c, err := local.Start(ctx, t)
	if err != nil {
		return Run{}, err
	}
	stop := func() error {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return c.Stop(stopCtx)
	}
	r := c.Topology()
	if err := sleepCtx(ctx, spec.Warmup); err != nil {
		return Run{}, errors.Join(err, stop())
	}
	spouts := spoutStats(r)
	count := func() (int64, int64) {
		var acked, emitted, failed int64
		for _, s := range spouts {
			acked += s.Acked.Load()
			emitted += s.Emitted.Load()
			failed += s.Failed.Load()
		}
		switch {
		case spec.Workload == ConstSpoutOnly:
			return emitted, failed
		case spec.Acking:
			if spec.Workload == FileReadWordCount {
				return seen.Load(), failed // words counted
			}
			return acked, failed
		default:
			return seen.Load(), failed
		}
	}
	for _, s := range spouts {
		s.CompleteLatency.Reset()
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	n0, f0 := count()
	cpu0 := cpuTime()
	start := time.Now()
	measureErr := sleepCtx(ctx, spec.Measure)
	n1, f1 := count()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	run := Run{
		Workload: spec.Workload, Acking: spec.Acking, RateLimit: spec.RateLimit, MetricsLatency: t.Runtime.MetricsLatency,
		MaxSpoutPending: t.Runtime.MaxSpoutPending, Spouts: max(spec.Spouts, 1), Bolts: max(spec.Bolts, 1),
		Seconds: elapsed.Seconds(), Tuples: n1 - n0, TuplesPerS: float64(n1-n0) / elapsed.Seconds(),
		Cores: cpu.Seconds() / elapsed.Seconds(), RSSMiB: rssMiB(), Failed: f1 - f0, Unit: "tuples",
	}
	if n1 > n0 {
		run.AllocsPerTuple = float64(ms1.Mallocs-ms0.Mallocs) / float64(n1-n0)
	}
	for _, sp := range spouts {
		run.Pending += sp.Pending.Load()
	}
	if spec.Heap {
		runtime.GC()
		var hs runtime.MemStats
		runtime.ReadMemStats(&hs)
		run.HeapMiB = float64(hs.HeapAlloc) / (1 << 20)
	}
	if spec.Workload == FileReadWordCount {
		run.Unit = "words"
	}
	if spec.Acking {
		p50, p99, p999 := latencies(spouts)
		run.P50ms, run.P99ms, run.P999ms = ms(p50), ms(p99), ms(p999)
	}
	if err := stop(); err != nil {
		return run, err
	}
	return run, measureErr
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// spoutStats are the statistics of r's spout tasks.
func spoutStats(r *supervisor.Running) []*actors.TaskStats {
	var out []*actors.TaskStats
	for _, s := range r.Stats() {
		if comp := r.Topology.Component(s.Component); comp != nil && comp.Kind == topology.KindSpout {
			out = append(out, s)
		}
	}
	return out
}

// latencies merges the spouts' histograms (one spout task is the common
// case; with more the worst task's percentiles are reported).
func latencies(spouts []*actors.TaskStats) (p50, p99, p999 time.Duration) {
	for _, s := range spouts {
		h := &s.CompleteLatency
		p50 = max(p50, h.Quantile(0.5))
		p99 = max(p99, h.Quantile(0.99))
		p999 = max(p999, h.Quantile(0.999))
	}
	return
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMiB reads the current resident set size from /proc (Linux), else 0.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
