package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topologies/wordcount"
)

// TestMultiProcessRebalance runs the word count on two node processes,
// starts a third (the cluster re-spreads the tasks by itself), then runs
// the node binary's rebalance command to scale the count bolt up to 6 and
// down to 1 while it runs; every word of every line is counted, and nothing
// else. The figures it logs are the ones BENCHMARKS.md reports.
func TestMultiProcessRebalance(t *testing.T) {
	c := newProcCluster(t, "n1", "n2", "n3")
	c.start(0)
	c.start(1)
	procs, dir := c.procs, c.dir
	c.waitAlive(2)

	input, want := writeInput(t, dir, wordcount.GenerateLines(20000, 5))
	ledger := filepath.Join(dir, "ledger")
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"submit", "wordcount", "--addr", procs[0].api, "--name", "wc",
		"--set", "wordcount.input=" + input, "--set", "wordcount.ledger=" + ledger,
		"--set", "topology.message.timeout.secs=5", "--set", "topology.max.spout.pending=20"}, &stdout, &stderr); code != 0 {
		t.Fatalf("submit: exit %d: %s", code, stderr.String())
	}
	counted := func() int {
		seen, _ := readLedgers(t, ledger, want)
		return len(seen)
	}
	poll.Until(t, 60*time.Second, "a tenth of the words counted", func() bool { return counted() > len(want)/10 })

	c.start(2)
	joined := time.Now()
	poll.Until(t, 60*time.Second, "n3 runs tasks", func() bool { return localTasks(procs[2].api) > 0 })
	t.Logf("n3 joined and ran tasks %v later, without a rebalance", time.Since(joined).Round(time.Millisecond))

	rebalance := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(c.bin, append([]string{"rebalance", "wc", "--addr", procs[1].api, "--wait", "30s"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node rebalance wc %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := rebalance()
	if !strings.Contains(out, "0 tasks moved") {
		t.Errorf("rebalance of a spread topology: %s, want 0 tasks moved", out)
	}
	t.Logf("node rebalance wc:\n%s", out)
	for _, k := range []string{"6", "1"} {
		before := counted()
		out := rebalance("--parallelism", "count="+k)
		if !strings.Contains(out, "every node applied it") || !strings.Contains(out, "count            "+k+" running") {
			t.Fatalf("node rebalance wc --parallelism count=%s:\n%s", k, out)
		}
		t.Logf("node rebalance wc --parallelism count=%s:\n%s", k, out)
		poll.Until(t, 60*time.Second, "words counted after the rebalance", func() bool { return counted() > before+1000 })
	}
	poll.Until(t, 180*time.Second, "every word of every line counted", func() bool { return counted() == len(want) })
	dups := checkLedgers(t, ledger, want)
	t.Logf("%d words, every (line, position) counted; %d duplicate counts (replays)", len(want), dups)
}
