package multilang

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/bubble"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

// These tests use the test binary as a fake subprocess (helper_test.go)
// that breaks the protocol in ways pystorm does not.

func helperConf() topology.Config {
	return topology.Config{RestartBackoffKey: 0.01, RestartBackoffMaxKey: 0.1}
}

// TestShellProtocolErrors: every way a subprocess can break the protocol
// kills it (and its process group), fails its tuples at once, and after
// three deaths sends the tuple to the dead-letter stream.
func TestShellProtocolErrors(t *testing.T) {
	cases := []struct{ mode, death string }{
		{"ackunknown", "acked a non-existent or already acked/failed tuple id"},
		{"oversize", "message too large"},
		{"badstream", "does not declare"},
		{"exit", "exit status 3"},
		{"orphan", "exit status 3"}, // and its child in the group dies too
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			argv, env := helperCommand(tc.mode)
			testPoison(t, argv, tc.mode, tc.death, helperConf(), env, WithMaxMessageSize(1024))
		})
	}
}

// TestShellStderrGoesToTheLog: stderr lines are logged with the component
// and the task.
func TestShellStderrGoesToTheLog(t *testing.T) {
	argv, env := helperCommand("echo")
	led := newLedger("a", "stderr", "b")
	out := &received{}
	b := topology.NewBuilder("stderr")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("echo", BoltFactory(argv, env, Output("word")), 1).ShuffleGrouping("words")
	b.SetBolt("out", sink(out), 1).ShuffleGrouping("echo")
	r := startTopology(t, b, helperConf(), nil)
	poll.Until(t, 10*time.Second, "all acked and stderr logged", func() bool {
		task := fmt.Sprintf("task=%d", r.topo.Component("echo").Tasks[0])
		return led.ackedCount() == 3 && r.logs.contains(`msg="subprocess stderr"`, `line="hello stderr"`, "component=echo", task)
	})
	r.stopAndCheck()
}

// TestShellSpoutTimeout: a spout subprocess that does not answer "next"
// within its timeout is killed and restarted; the spout task goes on.
func TestShellSpoutTimeout(t *testing.T) {
	argv, env := helperCommand("spouthang")
	out := &received{}
	b := topology.NewBuilder("spouthang")
	b.SetSpout("hang", SpoutFactory(argv, env, Output("s"), WithTimeout(300*time.Millisecond)), 1)
	b.SetBolt("out", sink(out), 1).ShuffleGrouping("hang")
	r := startTopology(t, b, helperConf(), nil)
	poll.Until(t, 20*time.Second, "three subprocesses to have emitted and hung", func() bool {
		n := 0
		for _, x := range out.all() {
			if x.values[0] == "s1" {
				n++
			}
		}
		return n >= 3
	})
	if _, _, _, _, last := r.stats("hang"); !strings.Contains(last, "no message for") {
		t.Errorf("last error %q, want the timeout", last)
	}
	r.stopAndCheck()
}

// TestShellStartupTimeout: the heartbeat timeout does not apply to the
// start-up — a subprocess that answers the handshake after more than its
// timeout runs — while one that never answers is killed after the startup
// timeout and restarted.
func TestShellStartupTimeout(t *testing.T) {
	slowArgv, slowEnv := helperCommand("slowstart")
	muteArgv, muteEnv := helperCommand("mute")
	led, mled := newLedger("a", "b", "c"), newLedger("x")
	out := &received{}
	b := topology.NewBuilder("startup")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetSpout("muted", func() topology.Spout { return &ledgerSpout{l: mled} }, 1).Output("word")
	b.SetBolt("slow", BoltFactory(slowArgv, slowEnv, Output("word"), WithTimeout(300*time.Millisecond)), 1).ShuffleGrouping("words")
	b.SetBolt("mute", BoltFactory(muteArgv, muteEnv, Output("word"), WithTimeout(100*time.Millisecond), WithStartupTimeout(300*time.Millisecond)), 1).ShuffleGrouping("muted")
	b.SetBolt("out", sink(out), 1).ShuffleGrouping("slow")
	conf := helperConf()
	conf[topology.MessageTimeoutSecs] = 1 // "x" waits in the mute bolt until it times out
	r := startTopology(t, b, conf, nil)
	poll.Until(t, 20*time.Second, "the slow starter to ack everything, the mute one to be killed twice", func() bool {
		_, _, _, errs, last := r.stats("mute")
		return led.ackedCount() == 3 && errs >= 2 && strings.Contains(last, "no answer to the handshake")
	})
	if _, _, _, errs, last := r.stats("slow"); errs != 0 {
		t.Errorf("the slow starter: %d errors, last %q", errs, last)
	}
	r.drainOK = true // "x" never completes
	r.stopAndCheck()
}

// TestShellCommandNotFound: a command that cannot start is retried with
// backoff and reported; the task does not crash and stops cleanly. No
// subprocess ever runs, so the test runs on the fake clock (bubble) with the
// default backoff: retries after 100, 200 and 400 ms.
func TestShellCommandNotFound(t *testing.T) {
	bubble.Run(t, func(t *testing.T) {
		led := newLedger("a")
		b := topology.NewBuilder("notfound")
		b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
		b.SetBolt("missing", BoltFactory([]string{"/nonexistent/squall-test-command"}, Output("word")), 1).ShuffleGrouping("words")
		// "a" waits in the bolt until it times out.
		r := startTopology(t, b, topology.Config{topology.MessageTimeoutSecs: 1}, nil)
		begin := time.Now() // the first start failed in startTopology
		poll.Until(t, 10*time.Second, "the start failure to be reported four times", func() bool {
			_, _, _, errs, last := r.stats("missing")
			return errs == 4 && strings.Contains(last, "no such file")
		})
		if d := r.taskStats("missing")[0].LastError().Time.Sub(begin); d != 700*time.Millisecond {
			t.Errorf("the fourth start failed after %v, want 700ms (100+200+400)", d)
		}
		for _, delay := range []string{"100ms", "200ms", "400ms", "800ms"} {
			if !r.logs.contains("shell subprocess did not start", "retrying in "+delay) {
				t.Errorf("no start failure logged with a retry in %s", delay)
			}
		}
		r.stopAndCheck()
	})
}

// TestPythonStopKillsHungSubprocess: stopping a topology whose subprocess
// ignores EOF on stdin kills it after the stop timeout.
func TestPythonStopKillsHungSubprocess(t *testing.T) {
	py := pythonPath(t)
	led := newLedger("a", "hang", "b")
	b := topology.NewBuilder("stophang")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("faulty", BoltFactory([]string{py, "wordcount.py", "FaultyBolt"}, WithDir(resourcesDir(t)),
		Output("word"), WithStopTimeout(200*time.Millisecond)), 1).ShuffleGrouping("words")
	r := startTopology(t, b, helperConf(), nil, local.WithDrainTimeout(100*time.Millisecond))
	r.drainOK = true // "hang" never completes
	poll.Until(t, 10*time.Second, "a to be acked", func() bool { return led.ackedCount() >= 1 })
	start := time.Now()
	r.stopAndCheck()
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("stop took %v", d)
	}
}

// TestShellFloodsAreBounded: a subprocess that writes 50 MB to stderr (one
// line of it 1 MiB) and sends 20,000 log commands leaves a bounded node
// log: lines within linelimit's rate, the long one cut, and every other
// line counted as dropped; and the task goes on working (issue 11: 3.6 GB
// of node log in 24 s).
func TestShellFloodsAreBounded(t *testing.T) {
	argv, env := helperCommand("flood")
	led := newLedger("a", "b", "c")
	out := &received{}
	b := topology.NewBuilder("flood")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("echo", BoltFactory(argv, env, Output("word")), 1).ShuffleGrouping("words")
	b.SetBolt("out", sink(out), 1).ShuffleGrouping("echo")
	start := time.Now()
	r := startTopology(t, b, helperConf(), nil)
	poll.Until(t, 60*time.Second, "every word acked after the flood", func() bool {
		return led.ackedCount() == 3 && out.len() == 3
	})
	if _, failed, _, errs, last := r.stats("echo"); failed != 0 || errs != 0 {
		t.Errorf("echo: %d failed, %d errors (last %q): the flood broke the task", failed, errs, last)
	}
	r.stopAndCheck() // the stderr and log writers report their last drops
	elapsed := time.Since(start)

	logs := r.logs.String()
	dropped := regexp.MustCompile(`dropped=(\d+)`)
	var stderrLines, stderrDropped, logLines, logDropped, cut int
	for _, line := range strings.Split(logs, "\n") {
		switch {
		case strings.Contains(line, `msg="subprocess stderr"`) && strings.Contains(line, ` line="flood `):
			stderrLines++
			if strings.Contains(line, ` line="flood long `) && strings.Contains(line, fmt.Sprintf("cut_bytes=%d", floodLongLine-1-logLimits().MaxLine)) {
				cut++
			}
		case strings.Contains(line, `msg="log flood `):
			logLines++
		case strings.Contains(line, `msg="log lines dropped"`):
			m := dropped.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("a drop report without its count: %s", line)
			}
			n, _ := strconv.Atoi(m[1])
			if strings.Contains(line, `from="log and error commands"`) {
				logDropped += n
			} else {
				stderrDropped += n
			}
		}
	}
	if stderrLines+stderrDropped != floodLines || stderrDropped == 0 {
		t.Errorf("stderr: %d lines logged + %d dropped, want %d in all, some dropped", stderrLines, stderrDropped, floodLines)
	}
	if logLines+logDropped != floodLogs || logDropped == 0 {
		t.Errorf("log commands: %d logged + %d dropped, want %d in all, some dropped", logLines, logDropped, floodLogs)
	}
	if cut != 1 {
		t.Errorf("the %d-byte line was logged cut to %d bytes %d times, want once", floodLongLine-1, logLimits().MaxLine, cut)
	}
	// Two writers, each at most Burst lines plus LinesPerSecond a second,
	// each line at most MaxLine bytes and its attributes.
	lim := logLimits()
	bound := 2 * (float64(lim.Burst) + lim.LinesPerSecond*elapsed.Seconds() + 1) * float64(lim.MaxLine+512)
	if got := len(logs); float64(got) > bound || got > floodStderrBytes/10 {
		t.Errorf("the node log took %d bytes in %v, want at most %.0f (the flood was %d MB)", got, elapsed, bound, floodStderrBytes>>20)
	}
	t.Logf("node log %d bytes in %v; stderr %d logged, %d dropped; log commands %d logged, %d dropped",
		len(logs), elapsed.Round(time.Millisecond), stderrLines, stderrDropped, logLines, logDropped)
}
