package multilang

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	startedHook = func(pid int) {
		startedMu.Lock()
		started[pid] = true
		startedMu.Unlock()
	}
	heartbeatHook = func() { heartbeats.Add(1) }
	// Keep Python from writing __pycache__ into testdata.
	os.Setenv("PYTHONDONTWRITEBYTECODE", "1")
	goleak.VerifyTestMain(m)
}

// heartbeats counts the heartbeats bolt subprocesses answered.
var heartbeats atomic.Int64

// Every subprocess a test started (by pid, which is also its process group).
var (
	startedMu sync.Mutex
	started   = map[int]bool{}
)

// pythonPath is the venv python that scripts/pyenv.sh made.
func pythonPath(t testing.TB) string {
	t.Helper()
	py := os.Getenv("SQUALL_PYTHON")
	if py == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)` " +
			"(it makes the virtualenv with pystorm and streamparse in .cache/venv and prints its python)")
	}
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("SQUALL_PYTHON=%s: %v (run scripts/pyenv.sh)", py, err)
	}
	return py
}

// streamparseRun is the venv's streamparse_run, next to its python.
func streamparseRun(t testing.TB) string {
	return filepath.Join(filepath.Dir(pythonPath(t)), "streamparse_run")
}

func resourcesDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "resources"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// liveProcesses lists the processes that are children of this process or
// members of the process group of a subprocess a test started.
func liveProcesses() []string {
	startedMu.Lock()
	groups := make(map[int]bool, len(started))
	for pid := range started {
		groups[pid] = true
	}
	startedMu.Unlock()
	self := os.Getpid()
	entries, _ := os.ReadDir("/proc")
	var live []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:]) // state ppid pgrp ...
		if len(f) < 3 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		if f[0] == "Z" && ppid != self {
			continue // dead, waiting for init to reap it; an unreaped child of ours still counts
		}
		if ppid == self || groups[pgrp] {
			live = append(live, fmt.Sprintf("pid %d (%s state %s ppid %d pgrp %d)", pid, s[strings.IndexByte(s, '(')+1:i], f[0], ppid, pgrp))
		}
	}
	return live
}

// checkNoProcesses fails t if a subprocess or one of its children is left.
func checkNoProcesses(t testing.TB) {
	t.Helper()
	poll.Until(t, 5*time.Second, "every subprocess to be gone", func() bool { return len(liveProcesses()) == 0 })
}

// logBuffer is a slog handler target that tests can search; it is printed
// when the test fails.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) contains(s ...string) bool {
	for _, line := range strings.Split(l.String(), "\n") {
		ok := true
		for _, x := range s {
			ok = ok && strings.Contains(line, x)
		}
		if ok {
			return true
		}
	}
	return false
}

// run is a running test topology.
type run struct {
	t    testing.TB
	c    *local.Cluster
	topo *topology.Topology
	logs *logBuffer
	// drainOK: the topology cannot drain, so stopping reports an error.
	drainOK bool
}

// topoRef lets shell components see the topology built after them.
type topoRef struct{ t *topology.Topology }

func (r *topoRef) get() *topology.Topology { return r.t }

// startTopology builds b and runs it in local mode.
func startTopology(t testing.TB, b *topology.Builder, conf topology.Config, ref *topoRef, opts ...local.Option) *run {
	t.Helper()
	topo, err := b.Build(conf)
	if err != nil {
		t.Fatal(err)
	}
	if ref != nil {
		ref.t = topo
	}
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]local.Option{local.WithLogger(logger), local.WithDrainTimeout(5 * time.Second)}, opts...)
	c, err := local.Start(context.Background(), topo, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{t: t, c: c, topo: topo, logs: logs}
	t.Cleanup(func() {
		r.stop()
		if t.Failed() || os.Getenv("SQUALL_TEST_LOGS") != "" {
			t.Logf("node log:\n%s", logs.String())
		}
	})
	return r
}

func (r *run) stop() {
	if r.c == nil {
		return
	}
	c := r.c
	r.c = nil
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil && !(r.drainOK && strings.Contains(err.Error(), "drain")) {
		r.t.Errorf("stop: %v", err)
	}
}

// stats sums the counters of component's tasks.
func (r *run) stats(component topology.ComponentID) (acked, failed, timedOut, errs int64, lastErr string) {
	var last time.Time
	for _, s := range r.c.Topology().Stats() {
		if s.Component != component {
			continue
		}
		acked += s.Acked.Load()
		failed += s.Failed.Load()
		timedOut += s.TimedOut.Load()
		errs += s.Errors.Load()
		if e := s.LastError(); e != nil && e.Time.After(last) {
			last, lastErr = e.Time, e.Err
		}
	}
	return
}

func (r *run) taskStats(component topology.ComponentID) []*actors.TaskStats {
	var out []*actors.TaskStats
	for _, s := range r.c.Topology().Stats() {
		if s.Component == component {
			out = append(out, s)
		}
	}
	return out
}

// stopAndCheck stops the topology and checks that it left no process and
// no goroutine behind.
func (r *run) stopAndCheck() {
	r.t.Helper()
	r.stop()
	checkNoProcesses(r.t)
	// A test on the fake clock (bubble) runs inside these two; the bubble
	// itself fails the test if any goroutine of its own is left.
	goleak.VerifyNone(r.t, goleak.IgnoreTopFunction("internal/synctest.Run"),
		goleak.IgnoreTopFunction("testing/synctest.testingSynctestTest"))
}
