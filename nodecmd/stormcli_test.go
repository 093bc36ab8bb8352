package nodecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topologies"
)

// TestStormCLISpellingsAndTheFirstDay runs, against an in-process
// two-node cluster, what a Storm user types on the first day: a submit
// with a misspelt key (refused at the node, naming the key meant),
// `rebalance NAME -e C=K -w S -n N` (-n noted and ignored; alone,
// refused), deactivate, activate, list, `kill NAME -w S`, and list again,
// where the killed topology is gone.
func TestStormCLISpellingsAndTheFirstDay(t *testing.T) {
	c := clustertest.New(t, 2, topologies.Registry().Factories(io.Discard))
	addr := c.Node(1).HTTPAddr()
	node := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append(args, "--addr", addr), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := node("submit", "wordcount", "--name", "wc", "--set", "wordcount.inptu=/tmp/in", "--set", "wordcount.lines=300000"); code != 1 ||
		!strings.Contains(stderr, `"wordcount.inptu" (did you mean wordcount.input?)`) || !strings.Contains(stderr, "wordcount.count.parallelism") {
		t.Errorf("submit with wordcount.inptu: exit %d, %q; want 1 naming the key meant and the known keys", code, stderr)
	}
	if code, stdout, stderr := node("submit", "wordcount", "--name", "wc", "--set", "wordcount.lines=300000", "--set", "topology.workers=2"); code != 0 {
		t.Fatalf("submit: exit %d, %q %q", code, stdout, stderr)
	}
	poll.Until(t, 30*time.Second, "the word count running on both nodes", func() bool {
		return len(c.Node(0).LocalTopologies()) == 1 && len(c.Node(1).LocalTopologies()) == 1
	})
	code, stdout, stderr := node("rebalance", "wc", "-e", "count=4", "-w", "30", "-n", "3")
	if code != 0 || !strings.Contains(stdout, "every node applied it") || !strings.Contains(stdout, "count            4 running") ||
		!strings.Contains(stderr, "-n 3 ignored: squall has no workers") {
		t.Errorf("rebalance wc -e count=4 -w 30 -n 3: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if code, stdout, stderr := node("rebalance", "wc", "-n", "3"); code != 2 || stdout != "" || !strings.Contains(stderr, "-e component=K") {
		t.Errorf("rebalance wc -n 3: exit %d, %q %q; want 2, nothing done, -e named", code, stdout, stderr)
	}
	for _, cmd := range [][]string{{"deactivate", "wc"}, {"activate", "wc"}} {
		if code, stdout, stderr := node(cmd...); code != 0 || stdout != "wc: "+cmd[0]+"d\n" {
			t.Errorf("node %v: exit %d, %q (stderr %q)", cmd, code, stdout, stderr)
		}
	}
	if code, stdout, _ := node("list"); code != 0 || !strings.Contains(stdout, "wc  ") || !strings.Contains(stdout, "ACTIVE") {
		t.Errorf("list: exit %d, %q; want wc ACTIVE", code, stdout)
	}
	if code, stdout, stderr := node("kill", "wc", "-w", "1"); code != 0 || stdout != "wc: killed\n" {
		t.Errorf("kill wc -w 1: exit %d, %q (stderr %q)", code, stdout, stderr)
	}
	if code, stdout, _ := node("list"); code != 0 || strings.Contains(stdout, "wc") || !strings.HasPrefix(stdout, "NAME") {
		t.Errorf("list after the kill: exit %d, %q; want the header only", code, stdout)
	}
	code, stdout, _ = node("list", "--json")
	var ts []json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &ts); code != 0 || err != nil || len(ts) != 0 {
		t.Errorf("list --json after the kill: exit %d, %q (%v); want []", code, stdout, err)
	}
}
