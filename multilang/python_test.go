package multilang

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// These tests run real pystorm 3.1.4 / streamparse 5.0.1 components from
// testdata/resources in the venv that scripts/pyenv.sh makes (SQUALL_PYTHON).

var sentences = []string{
	"the cow jumped over the moon",
	"an apple a day keeps the doctor away",
	"four score and seven years ago",
	"snow white and the seven dwarfs",
	"i am at two with nature",
	"the moon and the seven seas",
}

func wordCounts(lines []string) map[string]int64 {
	want := map[string]int64{}
	for _, s := range lines {
		for _, w := range strings.Fields(s) {
			want[w]++
		}
	}
	return want
}

// maxCounts reads [word, count] tuples and keeps the highest count per word.
func maxCounts(r *received) map[string]int64 {
	got := map[string]int64{}
	for _, t := range r.all() {
		w, _ := t.values[0].(string)
		n, _ := t.values[1].(int64)
		got[w] = max(got[w], n)
	}
	return got
}

// sumCounts reads [word, count] tuples and adds the counts per word.
func sumCounts(r *received) map[string]int64 {
	got := map[string]int64{}
	for _, t := range r.all() {
		w, _ := t.values[0].(string)
		n, _ := t.values[1].(int64)
		got[w] += n
	}
	return got
}

// launcher says how a test starts a pystorm class of wordcount.py.
type launcher struct {
	name       string
	serializer string // topology.multilang.serializer
	command    func(t testing.TB, class string) []string
}

func launchers() []launcher {
	python := func(ser string) func(testing.TB, string) []string {
		return func(t testing.TB, class string) []string {
			argv := []string{pythonPath(t), "wordcount.py", class}
			if ser != "" {
				argv = append(argv, "-s", ser)
			}
			return argv
		}
	}
	sparse := func(ser string) func(testing.TB, string) []string {
		return func(t testing.TB, class string) []string {
			// Exactly what streamparse puts in the Thrift ShellComponent:
			// [execution_command, script], the script one string.
			script := "wordcount." + class
			if ser != "" {
				script = "-s " + ser + " " + script
			}
			return []string{streamparseRun(t), script}
		}
	}
	return []launcher{
		{"python/json", "org.apache.storm.multilang.JsonSerializer", python("")},
		{"python/msgpack", "msgpack", python("msgpack")},
		{"streamparse_run/json", "", sparse("")},
		{"streamparse_run/msgpack", "com.yelp.pyleus.serializer.MessagePackSerializer", sparse("msgpack")},
	}
}

func fastConf(l launcher) topology.Config {
	conf := topology.Config{
		topology.MessageTimeoutSecs: 30,
		RestartBackoffKey:           0.02,
		RestartBackoffMaxKey:        0.2,
	}
	if l.serializer != "" {
		conf[SerializerKey] = l.serializer
	}
	return conf
}

// TestPythonWordCount runs a word count whose spout, split and count bolts
// are all pystorm classes, launched four ways.
func TestPythonWordCount(t *testing.T) {
	dir := resourcesDir(t)
	for _, l := range launchers() {
		t.Run(l.name, func(t *testing.T) {
			ref := &topoRef{}
			opts := []Option{WithDir(dir), WithTopology(ref.get)}
			counts := &received{}
			b := topology.NewBuilder("pywordcount")
			spoutOpts := append(opts, Output("sentence"))
			if l.name == "streamparse_run/msgpack" {
				spoutOpts = append(spoutOpts, WithNextInFlight(1)) // Storm's way
			}
			b.SetSpout("sentences", SpoutFactory(l.command(t, "SentenceSpout"), spoutOpts...), 1)
			b.SetBolt("split", BoltFactory(l.command(t, "SplitBolt"), append(opts, Output("word"))...), 2).
				ShuffleGrouping("sentences")
			// CountBolt reads tup.values.word: the namedtuple pystorm builds
			// from the handshake's source->stream->fields.
			b.SetBolt("count", BoltFactory(l.command(t, "CountBolt"), append(opts, Output("word", "count"))...), 2).
				FieldsGrouping("split", "word")
			b.SetBolt("sink", sink(counts), 1).GlobalGrouping("count")
			conf := fastConf(l)
			conf["test.sentences"] = slices.Clone(sentences)
			r := startTopology(t, b, conf, ref)

			want := wordCounts(sentences)
			poll.Until(t, 30*time.Second, "every sentence acked and counted", func() bool {
				acked, _, _, _, _ := r.stats("sentences")
				return acked == int64(len(sentences)) && maps.Equal(maxCounts(counts), want)
			})
			if r.logs.contains("made no pid file") {
				t.Errorf("a subprocess made no pid file in its pidDir")
			}
			if !r.logs.contains("pystorm StormHandler logging enabled", "component=split", "task=") {
				t.Errorf("pystorm's log command did not reach the task's logger with component and task")
			}
			for _, c := range []topology.ComponentID{"sentences", "split", "count"} {
				if _, failed, _, errs, last := r.stats(c); failed != 0 || errs != 0 {
					t.Errorf("%s: %d failed, %d errors (last %q)", c, failed, errs, last)
				}
			}
			r.stopAndCheck()
		})
	}
}

// TestPythonMixed runs a Go spout, pystorm split and count bolts and a Go
// sink, in both framings, and with one tuple at a time queued for a pipe.
func TestPythonMixed(t *testing.T) {
	dir := resourcesDir(t)
	cases := []struct {
		l          launcher
		maxPending int
	}{{launchers()[0], 0}, {launchers()[1], 0}, {launchers()[0], 1}}
	for _, tc := range cases {
		l := tc.l
		t.Run(fmt.Sprintf("%s/maxpending=%d", l.name, tc.maxPending), func(t *testing.T) {
			ref := &topoRef{}
			pids := t.TempDir()
			opts := []Option{WithDir(dir), WithTopology(ref.get), WithPIDDir(pids), WithMaxPending(tc.maxPending)}
			led := newLedger(sentences...)
			counts := &received{}
			b := topology.NewBuilder("pymixed")
			b.SetSpout("lines", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("line")
			b.SetBolt("split", BoltFactory(l.command(t, "SplitBolt"), append(opts, Output("word"))...), 2).
				ShuffleGrouping("lines")
			b.SetBolt("count", BoltFactory(l.command(t, "CountBolt"), append(opts, Output("word", "count"))...), 1).
				FieldsGrouping("split", "word")
			b.SetBolt("sink", sink(counts), 1).ShuffleGrouping("count")
			r := startTopology(t, b, fastConf(l), ref)
			want := wordCounts(sentences)
			poll.Until(t, 30*time.Second, "every line acked and counted", func() bool {
				return led.ackedCount() == len(sentences) && maps.Equal(maxCounts(counts), want)
			})
			if _, fails, _ := led.snapshot(); fails != 0 {
				t.Errorf("%d fails", fails)
			}
			r.stopAndCheck()
			if left, _ := os.ReadDir(pids); len(left) != 0 {
				t.Errorf("pid dirs left behind: %v", left)
			}
		})
	}
}

// TestPythonBatchingBolt runs pystorm's BatchingBolt, which processes a
// batch every other tick tuple.
func TestPythonBatchingBolt(t *testing.T) {
	dir := resourcesDir(t)
	for _, l := range []launcher{launchers()[0], launchers()[3]} {
		t.Run(l.name, func(t *testing.T) {
			var words []string
			for _, s := range sentences {
				words = append(words, strings.Fields(s)...)
			}
			led := newLedger(words...)
			counts := &received{}
			b := topology.NewBuilder("pybatch")
			b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
			b.SetBolt("batch", BoltFactory(l.command(t, "BatchCountBolt"), WithDir(dir), Output("word", "count")), 1).
				ShuffleGrouping("words")
			b.SetBolt("sink", sink(counts), 1).ShuffleGrouping("batch")
			conf := fastConf(l)
			conf[topology.TickTupleFreqSecs] = 0.25
			r := startTopology(t, b, conf, nil)
			want := wordCounts(sentences)
			poll.Until(t, 30*time.Second, "every word acked and counted in batches", func() bool {
				return led.ackedCount() == len(words) && maps.Equal(sumCounts(counts), want)
			})
			r.stopAndCheck()
		})
	}
}

// TestPythonTaskIDs runs a storm.py-style bolt that omits need_task_ids and
// blocks for the task-id list; with a fields grouping downstream the reply
// must name the task that received the tuple. The consumer runs 3 of its 6
// tasks, so the reply must follow the key groups, as the routing does.
func TestPythonTaskIDs(t *testing.T) {
	words := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
	led := newLedger(words...)
	where, told := &received{}, &received{}
	ref := &topoRef{}
	b := topology.NewBuilder("pytaskids")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("storm", BoltFactory([]string{pythonPath(t), "stormstyle.py"}, WithDir(resourcesDir(t)), WithTopology(ref.get),
		Output("word"), OutputStream("tasks", "word", "tasks")), 1).ShuffleGrouping("words")
	b.SetBolt("where", sink(where), 3).NumTasks(6).FieldsGrouping("storm", "word")
	b.SetBolt("told", sink(told), 1).Input("storm", "tasks", topology.ShuffleGrouping())
	r := startTopology(t, b, topology.Config{}, ref)
	poll.Until(t, 30*time.Second, "every word acked", func() bool { return led.ackedCount() == len(words) })
	got := map[string]string{}
	for _, x := range told.all() {
		got[x.values[0].(string)] = fmt.Sprint(x.values[1])
	}
	for _, x := range where.all() {
		w := x.values[0].(string)
		if want := fmt.Sprintf("[%d]", x.task); got[w] != want {
			t.Errorf("%q: told task ids %s, went to %s", w, got[w], want)
		}
	}
	if where.len() != len(words) {
		t.Errorf("where got %d tuples, want %d", where.len(), len(words))
	}
	r.stopAndCheck()
}

// TestPythonFailures runs a pystorm bolt that raises, hangs or writes
// garbage on one input: the topology keeps running, the tuples replay at
// once (no message timeouts), the poison tuple ends on the dead-letter
// stream after three crashes, and no process or goroutine is left.
func TestPythonFailures(t *testing.T) {
	cases := []struct {
		poison string
		l      launcher
		death  string // in the bolt's last error
	}{
		{"raise", launchers()[0], "exit status 1"},
		{"hang", launchers()[0], "no message for"},
		{"garbage", launchers()[0], "bad output"},
		{"garbage", launchers()[1], "bad output"},
	}
	for _, tc := range cases {
		t.Run(tc.poison+"/"+tc.l.name, func(t *testing.T) {
			testPoison(t, tc.l.command(t, "FaultyBolt"), tc.poison, tc.death, fastConf(tc.l),
				WithDir(resourcesDir(t)), WithTimeout(time.Second))
		})
	}
}

// testPoison runs values around poison through a bolt running command.
func testPoison(t *testing.T, command []string, poison, death string, conf topology.Config, opts ...Option) *run {
	t.Helper()
	values := []string{"a", "b", poison, "c", "d", "e"}
	led := newLedger(values...)
	out, dlq := &received{}, &received{}
	b := topology.NewBuilder("poison")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("faulty", BoltFactory(command, append(opts, Output("word"))...), 1).ShuffleGrouping("words")
	b.SetBolt("out", sink(out), 1).ShuffleGrouping("faulty")
	b.SetBolt("dead", sink(dlq), 1).Input("faulty", DeadLetterStream, topology.ShuffleGrouping())
	r := startTopology(t, b, conf, nil)
	poll.Until(t, 60*time.Second, "every value acked, the poison via the dead-letter stream", func() bool {
		return led.ackedCount() == len(values) && dlq.len() == 1
	})
	_, fails, _ := led.snapshot()
	if fails < DefaultDeadLetterAfter {
		t.Errorf("%d fails, want at least %d (one per crash)", fails, DefaultDeadLetterAfter)
	}
	if _, _, timedOut, _, _ := r.stats("words"); timedOut != 0 {
		t.Errorf("%d trees timed out: pending tuples were not failed at once", timedOut)
	}
	d := dlq.all()[0]
	if d.stream != DeadLetterStream || d.values[0] != "words" || d.values[1] != "default" ||
		fmt.Sprint(d.values[2]) != fmt.Sprint([]any{poison}) || !strings.Contains(d.values[3].(string), death) {
		t.Errorf("dead letter %v, want [words default [%s] <%s...>]", d.values, poison, death)
	}
	seen := map[string]bool{}
	for _, x := range out.all() {
		seen[x.values[0].(string)] = true
	}
	for _, v := range values {
		if v != poison && !seen[v] {
			t.Errorf("%q never got through", v)
		}
	}
	_, _, _, errs, last := r.stats("faulty")
	if errs < DefaultDeadLetterAfter || !strings.Contains(last, "restarting") && !strings.Contains(last, "dead") {
		t.Errorf("faulty: %d errors, last %q", errs, last)
	}
	if !r.logs.contains("shell subprocess died", "component=faulty", death) {
		t.Errorf("no log of the death naming the component and %q", death)
	}
	r.stopAndCheck()
	return r
}

// TestPythonIdleBoltAnswersHeartbeats: an idle pystorm bolt answers the
// heartbeat tuples, so a short subprocess timeout does not kill it.
func TestPythonIdleBoltAnswersHeartbeats(t *testing.T) {
	led := newLedger() // nothing to emit: the bolt stays idle
	b := topology.NewBuilder("heartbeats")
	b.SetSpout("none", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("idle", BoltFactory([]string{pythonPath(t), "wordcount.py", "SplitBolt"}, WithDir(resourcesDir(t)),
		Output("word"), WithTimeout(300*time.Millisecond), WithHeartbeatInterval(50*time.Millisecond)), 1).ShuffleGrouping("none")
	h0 := heartbeats.Load()
	r := startTopology(t, b, topology.Config{}, nil)
	// 20 heartbeats at 50 ms: a second idle, three timeouts' worth.
	poll.Until(t, 20*time.Second, "20 heartbeats answered", func() bool { return heartbeats.Load()-h0 >= 20 })
	if _, _, _, errs, last := r.stats("idle"); errs != 0 {
		t.Errorf("%d errors, last %q: the idle bolt was restarted", errs, last)
	}
	r.stopAndCheck()
}

// TestPythonMetricsAndLogs: report_metric reaches the metrics handler and
// self.log reaches the task's logger at its level.
func TestPythonMetricsAndLogs(t *testing.T) {
	led := newLedger("metric")
	var mu sync.Mutex
	var got []string
	b := topology.NewBuilder("metrics")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("faulty", BoltFactory([]string{pythonPath(t), "wordcount.py", "FaultyBolt"}, WithDir(resourcesDir(t)), Output("word"),
		WithMetrics(func(tc *topology.Context, name string, params any) {
			mu.Lock()
			got = append(got, fmt.Sprintf("%s %s %v", tc.Component, name, params))
			mu.Unlock()
		})), 1).ShuffleGrouping("words")
	r := startTopology(t, b, topology.Config{}, nil)
	poll.Until(t, 20*time.Second, "the metric and the log", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return led.ackedCount() == 1 && len(got) == 1 && r.logs.contains("level=WARN", "reported a metric", "component=faulty")
	})
	if want := "faulty words map[n:1 word:metric]"; got[0] != want {
		t.Errorf("metric %q, want %q", got[0], want)
	}
	r.stopAndCheck()
}

// TestPythonMetricsBecomeGauges: without a metrics handler, the numbers of
// report_metric are the task's gauges ({"word": "metric", "n": 1} is the
// gauge words{key="n"}; the string is not a gauge).
func TestPythonMetricsBecomeGauges(t *testing.T) {
	led := newLedger("metric")
	b := topology.NewBuilder("gauges")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("faulty", BoltFactory([]string{pythonPath(t), "wordcount.py", "FaultyBolt"}, WithDir(resourcesDir(t)), Output("word")), 1).ShuffleGrouping("words")
	r := startTopology(t, b, topology.Config{}, nil)
	gauges := func() []topology.Gauge { return r.taskStats("faulty")[0].Gauges() }
	poll.Until(t, 20*time.Second, "the metric as a gauge", func() bool { return led.ackedCount() == 1 && len(gauges()) > 0 })
	if g := gauges(); len(g) != 1 || g[0].Name != "words" || g[0].Value != 1 || !maps.Equal(g[0].Labels, map[string]string{"key": "n"}) {
		t.Errorf("gauges %+v, want one: words{key=n} 1", g)
	}
	r.stopAndCheck()
}

// TestPythonSubprocessEnvironment: a Python bolt started by a node whose
// environment holds SQUALL_ADMIN_TOKEN and SQUALL_GOSSIP_KEY sees neither,
// sees topology.environment, and still sees the node's other variables.
func TestPythonSubprocessEnvironment(t *testing.T) {
	t.Setenv("SQUALL_ADMIN_TOKEN", "admin-s3cret")
	t.Setenv("SQUALL_GOSSIP_KEY", "gossip-s3cret")
	t.Setenv("SQUALL_KAFKA_PASSWORD", "kafka-s3cret")
	t.Setenv("SQUALL_TEST_PLAIN", "node-value")
	names := []string{"SQUALL_ADMIN_TOKEN", "SQUALL_GOSSIP_KEY", "SQUALL_KAFKA_PASSWORD", "SQUALL_TEST_PLAIN", "APP_MODE", "LANG"}
	led := newLedger(names...)
	got := &received{}
	b := topology.NewBuilder("envprobe")
	b.SetSpout("names", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("name")
	b.SetBolt("probe", BoltFactory([]string{pythonPath(t), "envprobe.py"}, WithDir(resourcesDir(t)), Output("name", "value")), 1).
		ShuffleGrouping("names")
	b.SetBolt("sink", sink(got), 1).ShuffleGrouping("probe")
	conf := fastConf(launchers()[0])
	conf[EnvironmentKey] = map[string]any{"APP_MODE": "probe", "LANG": "C.UTF-8"}
	r := startTopology(t, b, conf, nil)
	poll.Until(t, 30*time.Second, "every name probed", func() bool { return got.len() == len(names) })
	env := map[string]any{}
	for _, x := range got.all() {
		env[x.values[0].(string)] = x.values[1]
	}
	want := map[string]any{
		"SQUALL_ADMIN_TOKEN":    "<unset>",
		"SQUALL_GOSSIP_KEY":     "<unset>",
		"SQUALL_KAFKA_PASSWORD": "<unset>",
		"SQUALL_TEST_PLAIN":     "node-value",
		"APP_MODE":              "probe",
		"LANG":                  "C.UTF-8",
	}
	if !maps.Equal(env, want) {
		t.Errorf("the subprocess's environment: %v\nwant %v", env, want)
	}
	r.stopAndCheck()
}

// TestSubprocessEnvironmentSecretRejected: a shell component whose
// topology.environment sets a node secret does not start a subprocess; its
// task reports an error naming the key (flux rejects it at load time, with
// ValidateConfig).
func TestSubprocessEnvironmentSecretRejected(t *testing.T) {
	b := topology.NewBuilder("envsecret")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{l: newLedger("x")} }, 1).Output("name")
	b.SetBolt("probe", BoltFactory([]string{"/bin/sh", "-c", "exit 0"}, Output("name")), 1).ShuffleGrouping("s")
	conf := helperConf()
	conf[EnvironmentKey] = map[string]any{"SQUALL_ADMIN_TOKEN": "mine"}
	r := startTopology(t, b, conf, nil)
	r.drainOK = true
	poll.Until(t, 10*time.Second, "the task to report the bad topology.environment", func() bool {
		_, _, _, _, last := r.stats("probe")
		return strings.Contains(last, "topology.environment: SQUALL_ADMIN_TOKEN is a squall secret")
	})
	startedMu.Lock()
	n := len(started)
	startedMu.Unlock()
	r.stopAndCheck()
	startedMu.Lock()
	defer startedMu.Unlock()
	if len(started) != n {
		t.Errorf("a subprocess started")
	}
}
