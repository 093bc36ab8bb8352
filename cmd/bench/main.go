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
//
// -impl squall,ceiling,storm runs the same steps side by side (issue 13),
// interleaved step by step, -runs times over, each line tagged with its
// "impl": squall; the ceiling, a plain goroutine + channel pipeline with the
// same XOR acking and no framework (internal/perf.MeasureCeiling); and
// Apache Storm 2.8.3's LocalCluster (bench/storm, built once with Maven into
// the git-ignored .cache/m2, one JVM per run, -storm-warmup before its
// window). Each half-rate run is at half what that implementation reached.
// Unless -impl is squall alone, squall's and the ceiling's runs are each a
// child process of this command, so a run's RSS and cores are its own, as
// Storm's JVM's are:
//
//	go tool task bench:compare [-- -runs 3 -measure 6s]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/squall-streams/squall/internal/perf"
	"github.com/squall-streams/squall/topologies/wordcount"
)

// The implementations -impl names.
const (
	implSquall  = "squall"
	implCeiling = "ceiling"
	implStorm   = "storm"
)

// line is one JSON line: a run and what ran it.
type line struct {
	Impl string `json:"impl"`
	// Round is the run's round (1..-runs) when -runs > 1.
	Round int `json:"run,omitempty"`
	perf.Run
	StormVersion string `json:"storm_version,omitempty"`
}

// child is what a parent asks a child process (-one) to measure.
type child struct {
	Impl string    `json:"impl"`
	Spec perf.Spec `json:"spec"`
}

func main() {
	warmup := flag.Duration("warmup", 3*time.Second, "warm-up before each measurement (squall and the ceiling)")
	measure := flag.Duration("measure", 10*time.Second, "measurement time per run")
	only := flag.String("only", "", "comma-separated workloads to run (default: all); a workload/acked or workload/unacked picks one of its steps")
	metrics := flag.String("metrics", "on", "squall.metrics.latency: on, off, or both (each step with it on, then off)")
	impls := flag.String("impl", implSquall, "comma-separated implementations to run side by side: squall, ceiling, storm")
	runs := flag.Int("runs", 1, "rounds of the whole suite, implementations interleaved step by step")
	half := flag.Bool("half", true, "also run acked steps at half the maximum rate reached")
	stormWarmup := flag.Duration("storm-warmup", 10*time.Second, "warm-up of Storm's runs (its JIT and LocalCluster start-up)")
	stormDir := flag.String("storm-dir", "bench/storm", "the Maven project of Storm's runs")
	stormRepo := flag.String("storm-m2", ".cache/m2", "Maven's local repository for Storm's build (git-ignored)")
	stormJVM := flag.String("storm-jvm", "-Xms512m -Xmx1g -XX:+UseG1GC -XX:ActiveProcessorCount=2", "JVM options of Storm's runs")
	one := flag.String("one", "", "internal: measure one run described in JSON and print it (a child of -impl)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *one != "" {
		os.Exit(runChild(ctx, *one))
	}
	var modes []bool // NoLatencyMetrics per run of a step
	switch *metrics {
	case "on":
		modes = []bool{false}
	case "off":
		modes = []bool{true}
	case "both":
		modes = []bool{false, true}
	default:
		fail(2, "-metrics %q: use on, off or both", *metrics)
	}
	var chosen []string
	for _, s := range strings.Split(*impls, ",") {
		switch s = strings.TrimSpace(s); s {
		case implSquall, implCeiling, implStorm:
			chosen = append(chosen, s)
		case "":
		default:
			fail(2, "-impl %q: use squall, ceiling and storm, comma-separated", s)
		}
	}
	if len(chosen) == 0 || *runs < 1 {
		fail(2, "-impl names no implementation, or -runs < 1")
	}
	if len(modes) > 1 && (len(chosen) > 1 || chosen[0] != implSquall) {
		fail(2, "-metrics both is squall's alone: use it with -impl squall")
	}
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
	picked := func(s perf.Spec) bool {
		ack := "/unacked"
		if s.Acking {
			ack = "/acked"
		}
		return len(want) == 0 || want[s.Workload] || want[s.Workload+ack]
	}
	b := &bench{
		inProcess: len(chosen) == 1 && chosen[0] == implSquall,
		storm:     stormRunner{dir: *stormDir, repo: *stormRepo, jvm: strings.Fields(*stormJVM), warmup: *stormWarmup},
	}
	if slices.Contains(chosen, implStorm) {
		err := b.storm.build(ctx)
		defer b.storm.close()
		if err != nil {
			b.storm.close()
			fail(1, "%v", err)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	emit := func(round int, impl string, spec perf.Spec, desc string) line {
		l, err := b.measure1(ctx, impl, spec, desc)
		if err != nil {
			b.storm.close()
			fail(1, "%s: %v", impl, err)
		}
		if *runs > 1 {
			l.Round = round
		}
		_ = enc.Encode(l)
		return l
	}
	for round := 1; round <= *runs; round++ {
		for _, s := range steps {
			if !picked(s.spec) {
				continue
			}
			s.spec.Warmup, s.spec.Measure = *warmup, *measure
			halfRate := map[string]float64{}
			for _, impl := range chosen {
				for _, off := range modes {
					spec := s.spec
					spec.NoLatencyMetrics = off
					l := emit(round, impl, spec, s.desc)
					if *half && s.halfRate && halfRate[impl] == 0 && l.TuplesPerS > 0 {
						// The rate limit applies to spout tuples; for the word count
						// the measured unit is words, so convert back to lines.
						halfRate[impl] = l.TuplesPerS / 2
						if l.Unit == "words" && l.Tuples > 0 {
							halfRate[impl] /= wordsPerLine
						}
					}
				}
			}
			for _, impl := range chosen {
				if halfRate[impl] == 0 {
					continue
				}
				for _, off := range modes {
					spec := s.spec
					spec.RateLimit, spec.NoLatencyMetrics = halfRate[impl], off
					emit(round, impl, spec, s.desc+", at half the maximum rate")
				}
			}
		}
	}
}

// bench runs single measurements of any implementation.
type bench struct {
	inProcess bool // squall's runs in this process (-impl squall alone)
	storm     stormRunner
}

// measure1 runs spec once on impl.
func (b *bench) measure1(ctx context.Context, impl string, spec perf.Spec, desc string) (line, error) {
	var l line
	var err error
	switch {
	case impl == implStorm:
		l, err = b.storm.measure(ctx, spec, desc)
	case impl == implSquall && b.inProcess:
		l.Run, err = perf.Measure(ctx, spec)
		l.Impl, l.GoMaxProcs = impl, runtime.GOMAXPROCS(0)
	default:
		l, err = measureChild(ctx, impl, spec)
	}
	l.Description = desc
	return l, err
}

// measureChild runs spec on impl in a child process of this command.
func measureChild(ctx context.Context, impl string, spec perf.Spec) (line, error) {
	exe, err := os.Executable()
	if err != nil {
		return line{}, err
	}
	arg, err := json.Marshal(child{Impl: impl, Spec: spec})
	if err != nil {
		return line{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "-one", string(arg))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return line{}, fmt.Errorf("child run: %w", err)
	}
	return lastLine(out)
}

// runChild measures one run (the -one flag) and prints it; it returns the
// exit code.
func runChild(ctx context.Context, arg string) int {
	var c child
	if err := json.Unmarshal([]byte(arg), &c); err != nil {
		fmt.Fprintln(os.Stderr, "bench: -one:", err)
		return 2
	}
	var run perf.Run
	var err error
	switch c.Impl {
	case implSquall:
		run, err = perf.Measure(ctx, c.Spec)
	case implCeiling:
		run, err = perf.MeasureCeiling(ctx, c.Spec)
	default:
		err = fmt.Errorf("-one: impl %q runs in this process only as squall or ceiling", c.Impl)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	run.GoMaxProcs = runtime.GOMAXPROCS(0)
	_ = json.NewEncoder(os.Stdout).Encode(line{Impl: c.Impl, Run: run})
	return 0
}

// lastLine decodes the last JSON line of out.
func lastLine(out []byte) (line, error) {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	last := lines[len(lines)-1]
	var l line
	if err := json.Unmarshal(last, &l); err != nil {
		return line{}, fmt.Errorf("reading %q: %w", last, err)
	}
	return l, nil
}

// stormRunner builds bench/storm once and runs one JVM per measurement.
type stormRunner struct {
	dir, repo string
	jvm       []string
	warmup    time.Duration
	classpath string
	lines     string // the word count's input, internal/perf's lines
}

// build compiles bench/storm with Maven (dependencies into the local
// repository, downloaded on the first build) and writes the word count's
// input file.
func (s *stormRunner) build(ctx context.Context) error {
	repo, err := filepath.Abs(s.repo)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: building %s with Maven (local repository %s)\n", s.dir, repo)
	mvn := exec.CommandContext(ctx, "mvn", "-B", "-q", "-f", filepath.Join(s.dir, "pom.xml"), "-Dmaven.repo.local="+repo, "compile")
	if out, err := mvn.CombinedOutput(); err != nil {
		return fmt.Errorf("building Storm's bench (mvn compile in %s): %w\n%s", s.dir, err, out)
	}
	deps, err := os.ReadFile(filepath.Join(s.dir, "target", "classpath.txt"))
	if err != nil {
		return fmt.Errorf("Storm's bench built without its classpath: %w", err)
	}
	classes, err := filepath.Abs(filepath.Join(s.dir, "target", "classes"))
	if err != nil {
		return err
	}
	s.classpath = classes + string(os.PathListSeparator) + strings.TrimSpace(string(deps))
	f, err := os.CreateTemp("", "squall-bench-lines-*.txt")
	if err != nil {
		return err
	}
	s.lines = f.Name()
	_, err = f.WriteString(strings.Join(wordcount.GenerateLines(20000, 7), "\n") + "\n")
	return errors.Join(err, f.Close())
}

func (s *stormRunner) close() {
	if s.lines != "" {
		_ = os.Remove(s.lines)
	}
}

// measure runs spec in a fresh JVM on Storm's LocalCluster.
func (s *stormRunner) measure(ctx context.Context, spec perf.Spec, desc string) (line, error) {
	pending := spec.MaxSpoutPending
	if pending <= 0 {
		pending = 1000 // squall's default
	}
	args := append([]string{}, s.jvm...)
	args = append(args, "-cp", s.classpath, "squall.bench.StormBench",
		"-workload", spec.Workload,
		"-max-pending", strconv.Itoa(pending),
		"-batch", "500",
		"-spouts", strconv.Itoa(max(spec.Spouts, 1)), "-bolts", strconv.Itoa(max(spec.Bolts, 1)),
		"-warmup", s.warmup.String(), "-measure", spec.Measure.String(),
		"-lines", s.lines)
	if spec.Acking {
		args = append(args, "-acking")
	}
	if spec.RateLimit > 0 {
		args = append(args, "-rate", strconv.FormatFloat(spec.RateLimit, 'f', 0, 64))
	}
	cmd := exec.CommandContext(ctx, "java", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return line{}, fmt.Errorf("java StormBench %s: %w\n%s", desc, err, tail(stderr.Bytes(), 40))
	}
	return lastLine(out)
}

// tail is the last n lines of b.
func tail(b []byte, n int) []byte {
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(code)
}

// wordsPerLine is the mean words per generated line (4..15 words).
const wordsPerLine = 9.5
