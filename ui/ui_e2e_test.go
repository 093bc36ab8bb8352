//go:build unix

package ui_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

const setupHint = "run scripts/uideps.sh (or `go tool task ui:deps`): it installs Debian's chromium and ui/e2e's node_modules (npm ci)"

// chromiumPath is Debian's Chromium, or $SQUALL_CHROMIUM. Missing, the
// test fails: CI must run it, never skip it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("SQUALL_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no Chromium at %s (SQUALL_CHROMIUM): %v: %s", p, err, setupHint)
	}
	return p
}

// nodeJS is Node.js with ui/e2e's dependencies installed.
func nodeJS(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("Node.js (node) is not on PATH: %v: install Debian's nodejs, then %s", err, setupHint)
	}
	if _, err := os.Stat(filepath.Join("e2e", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("ui/e2e/node_modules has no playwright-core: %s", setupHint)
	}
	return p
}

// endlessWordCount is a word count shaped like examples/wordcount (lines
// -> split -> count, fields-grouped on the word) whose spout never runs
// out: it emits generated lines over and over at a bounded rate, so the
// test sees the counts grow for as long as it needs, and when the spout
// stops it is the deactivation's doing, not the end of the input. Its
// components are the test's own, so the example can change freely.
func endlessWordCount(conf topology.Config) (*topology.Topology, error) {
	lines := wordcount.GenerateLines(1000, 42)
	b := topology.NewBuilder("wordcount")
	b.SetSpout("lines", func() topology.Spout { return &endlessLines{lines: lines, perSec: 1000} }, 1).Output("line")
	b.SetBasicBolt("split", func() topology.BasicBolt {
		return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
			for _, w := range wordcount.Words(topology.String(t, "line")) {
				c.Emit(topology.Values{w})
			}
			return nil
		})
	}, 2).ShuffleGrouping("lines").Output("word")
	b.SetBasicBolt("count", func() topology.BasicBolt {
		counts := map[string]int{}
		return topology.BoltFunc(func(t topology.Tuple, _ topology.BasicCollector) error {
			counts[topology.String(t, "word")]++
			return nil
		})
	}, 2).NumTasks(4).FieldsGrouping("split", "word") // rebalance can scale it to 4
	return b.Build(conf)
}

// endlessLines emits lines round and round, perSec a second at most.
type endlessLines struct {
	topology.BaseSpout
	lines  []string
	perSec int
	out    topology.SpoutCollector
	next   time.Time // when the next line is due
	sent   int
}

func (s *endlessLines) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *endlessLines) NextTuple() {
	now := time.Now()
	if now.Before(s.next) {
		return // ahead of the rate: the runtime calls again at its next pulse
	}
	// No catching up after a pause (deactivated) beyond a 100 ms burst.
	if earliest := now.Add(-100 * time.Millisecond); s.next.Before(earliest) {
		s.next = earliest
	}
	s.next = s.next.Add(time.Second / time.Duration(s.perSec))
	s.out.Emit(topology.Values{s.lines[s.sent%len(s.lines)]}, s.sent)
	s.sent++
}

// TestTopologyPageInChromium runs ui/e2e/topology.test.mjs in headless
// Chromium (a Node.js subprocess) against a node running the word count
// with an admin token: the page shows the counts growing, Deactivate
// (answering the token prompt) stops the spout, Activate starts it again.
func TestTopologyPageInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	node := nodeJS(t)

	const token = "e2e-admin-token"
	cfg := cluster.LocalConfig()
	cfg.Name = "ui-e2e"
	cfg.Bind = clustertest.FreeAddr(t)
	cfg.HTTP = "127.0.0.1:0"
	cfg.AdminToken = token
	cfg.Topologies = map[string]cluster.Factory{"wordcount": cluster.Simple(endlessWordCount)}
	n, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	if err := n.Submit("wordcount", "wordcount", nil); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "topology.test.mjs"), "http://"+n.HTTPAddr(), "wordcount", "lines", "count")
	cmd.Env = append(os.Environ(), "SQUALL_CHROMIUM="+chromium, "SQUALL_ADMIN_TOKEN="+token)
	// Its own process group, so a timeout ends Chromium with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("ui/e2e/topology.test.mjs:\n%s", out.String())
	if err != nil {
		t.Fatalf("the UI's end-to-end test failed (%v); screenshots in .cache/ui", err)
	}
}
