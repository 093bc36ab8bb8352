package multilang

import (
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// TestSyncCheck drives the sync account with scripts of syncs: each step
// is (commands handed so far, a heartbeat pending) and what the sync must
// be found to be.
func TestSyncCheck(t *testing.T) {
	type step struct {
		handed    int64
		heartbeat bool
		answers   bool
		violation string // a substring; "" is none
	}
	answer := func(handed int64) step { return step{handed: handed, answers: true} }
	stray := func(handed int64) step { return step{handed: handed} }
	strays := func(handed int64, n int) []step {
		var s []step
		for range n {
			s = append(s, stray(handed))
		}
		return s
	}
	cat := func(parts ...[]step) []step {
		var s []step
		for _, p := range parts {
			s = append(s, p...)
		}
		return s
	}
	tests := []struct {
		name  string
		bolt  bool
		steps []step
	}{
		{"spout: one sync per command, pipelined", false,
			[]step{answer(3), answer(3), answer(3), answer(4)}},
		{"spout: a few extra syncs are let through", false,
			cat([]step{answer(1)}, strays(1, maxStraySyncs), []step{answer(2)})},
		{"spout: a command handed starts a new run of strays", false,
			cat([]step{answer(1)}, strays(1, maxStraySyncs), []step{answer(2)}, strays(2, maxStraySyncs))},
		{"spout: one too many", false,
			cat([]step{answer(1)}, strays(1, maxStraySyncs),
				[]step{{handed: 1, violation: "9 syncs in a row without a command to answer"}})},
		{"spout: a sync cannot answer a command not handed yet", false,
			cat(strays(0, maxStraySyncs), []step{{handed: 0, violation: "without a command"}})},
		{"bolt: syncs answer heartbeats", true,
			[]step{{handed: 1, heartbeat: true, answers: true}, {handed: 2, heartbeat: true, answers: true}}},
		{"bolt: pystorm's raise_exception sync is a stray, let through", true,
			[]step{stray(5), {handed: 6, heartbeat: true, answers: true}}},
		{"bolt: answering a heartbeat does not excuse a flood", true,
			cat(strays(3, 4), []step{{handed: 3, heartbeat: true, answers: true}}, strays(3, maxStraySyncs-4),
				[]step{{handed: 3, violation: "9 syncs in a row without a heartbeat to answer"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := syncCheck{bolt: tt.bolt}
			for i, s := range tt.steps {
				answers, violation := c.sync(s.handed, s.heartbeat)
				if answers != s.answers || (s.violation == "") != (violation == "") || !strings.Contains(violation, s.violation) {
					t.Fatalf("step %d %+v: answers %v, violation %q", i, s, answers, violation)
				}
			}
		})
	}
}

// misbehave runs a mode of testdata/resources/misbehave.py.
func misbehave(t *testing.T, mode string) []string {
	return []string{pythonPath(t), "misbehave.py", mode}
}

// TestPythonSpoutSyncFlood: a spout that answers each command with 100
// syncs is killed for a protocol error and restarted; its emits still
// arrive (Storm would read the extra syncs as the answers to the commands
// it had not sent yet).
func TestPythonSpoutSyncFlood(t *testing.T) {
	testSpoutKilled(t, "spout-syncflood", "protocol error: 9 syncs in a row without a command to answer")
}

// TestPythonSpoutLogLoop: a spout that answers "next" with log commands
// for ever and never syncs is killed after its timeout, though it is never
// silent (Storm counts every message as a heartbeat and stalls on it).
func TestPythonSpoutLogLoop(t *testing.T) {
	testSpoutKilled(t, "spout-logloop", "no progress for", WithTimeout(500*time.Millisecond))
}

func testSpoutKilled(t *testing.T, mode, death string, opts ...Option) {
	out := &received{}
	b := topology.NewBuilder("misbehave")
	b.SetSpout("bad", SpoutFactory(misbehave(t, mode), append(opts, WithDir(resourcesDir(t)), Output("s"))...), 1)
	b.SetBolt("out", sink(out), 1).ShuffleGrouping("bad")
	r := startTopology(t, b, helperConf(), nil)
	poll.Until(t, 30*time.Second, "the spout's subprocess killed twice, for "+death, func() bool {
		return strings.Count(r.logs.String(), "shell subprocess died") >= 2
	})
	if !r.logs.contains("shell subprocess died", "component=bad", death) {
		t.Errorf("no death for %q logged", death)
	}
	if _, _, _, errs, last := r.stats("bad"); errs < 2 || !strings.Contains(last, death) && !strings.Contains(last, "restarting") {
		t.Errorf("bad: %d errors, last %q", errs, last)
	}
	if mode == "spout-syncflood" && out.len() == 0 {
		t.Errorf("no emit got through")
	}
	r.stopAndCheck()
}

// TestPythonBoltSyncFlood: a bolt that answers a tuple with syncs for ever,
// neither acking it nor waiting for a heartbeat, is killed for a protocol
// error at once; the tuple fails and, after three deaths, goes to the
// dead-letter stream (Storm took the syncs for heartbeats and stalled).
func TestPythonBoltSyncFlood(t *testing.T) {
	testPoison(t, misbehave(t, "bolt"), "syncflood", "protocol error: 9 syncs in a row without a heartbeat to answer",
		helperConf(), WithDir(resourcesDir(t)))
}

// TestPythonBoltLogLoop: a bolt that answers a tuple with log commands for
// ever is killed after its timeout though it is never silent.
func TestPythonBoltLogLoop(t *testing.T) {
	testPoison(t, misbehave(t, "bolt"), "logloop", "no progress for",
		helperConf(), WithDir(resourcesDir(t)), WithTimeout(500*time.Millisecond))
}
