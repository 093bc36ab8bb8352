package multilang

import (
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// lastRestarts sums the restarts of component's tasks and tells whether
// one of them is failing.
func (r *run) restarts(component topology.ComponentID) (restarts int64, failing bool) {
	for _, s := range r.taskStats(component) {
		restarts += s.Restarts.Load()
		failing = failing || s.Failing(time.Now())
	}
	return restarts, failing
}

// TestPythonRaiseTracebackIsLastError: a pystorm bolt that raises reports
// the traceback (an error command) and exits; the task's last error is the
// report of its death with that traceback, and each death is a restart.
func TestPythonRaiseTracebackIsLastError(t *testing.T) {
	l := launchers()[0]
	led := newLedger("raise")
	dlq := &received{}
	b := topology.NewBuilder("raise")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: led} }, 1).Output("word")
	b.SetBolt("faulty", BoltFactory(l.command(t, "FaultyBolt"), WithDir(resourcesDir(t)), Output("word")), 1).ShuffleGrouping("words")
	b.SetBolt("dead", sink(dlq), 1).Input("faulty", DeadLetterStream, topology.ShuffleGrouping())
	r := startTopology(t, b, fastConf(l), nil)
	poll.Until(t, 60*time.Second, "the poison tuple on the dead-letter stream", func() bool { return dlq.len() == 1 })
	_, _, _, errs, last := r.stats("faulty")
	for _, want := range []string{
		"exit status 1", "restarting in",
		"the last error it reported: Python ValueError raised while processing Tuple",
		"Traceback (most recent call last):", `ValueError: I do not like 'raise'`,
	} {
		if !strings.Contains(last, want) {
			t.Errorf("last error lacks %q:\n%s", want, last)
		}
	}
	restarts, _ := r.restarts("faulty")
	if restarts != DefaultDeadLetterAfter {
		t.Errorf("%d restarts, want %d: one per death (%d errors)", restarts, DefaultDeadLetterAfter, errs)
	}
	r.stopAndCheck()
}

// TestPythonCrashOnStartShowsStderr: a pystorm bolt that raises before it
// handles anything dies with the traceback on its stderr only; the task's
// last error ends with that stderr, its restarts count up, and the task is
// failing.
func TestPythonCrashOnStartShowsStderr(t *testing.T) {
	l := launchers()[2] // streamparse_run, as `sparse submit` runs it
	b := topology.NewBuilder("crash")
	b.SetSpout("words", func() topology.Spout { return &ledgerSpout{l: newLedger()} }, 1).Output("word")
	b.SetBolt("db", BoltFactory(l.command(t, "CrashOnStartBolt"), WithDir(resourcesDir(t)), Output("word")), 1).ShuffleGrouping("words")
	r := startTopology(t, b, fastConf(l), nil)
	poll.Until(t, 60*time.Second, "three restarts, failing", func() bool {
		n, failing := r.restarts("db")
		return n >= 3 && failing
	})
	_, _, _, _, last := r.stats("db")
	for _, want := range []string{
		"exit status 1", "its stderr ended with:\nTraceback (most recent call last):",
		"RuntimeError: cannot connect to the database at db:5432",
	} {
		if !strings.Contains(last, want) {
			t.Errorf("last error lacks %q:\n%s", want, last)
		}
	}
	if strings.Contains(last, "the last error it reported") {
		t.Errorf("the subprocess reported no error, yet the last error says it did:\n%s", last)
	}
	if !strings.HasSuffix(last, "RuntimeError: cannot connect to the database at db:5432") {
		t.Errorf("the last error does not end with the end of stderr:\n%s", last)
	}
	r.stopAndCheck()
}
