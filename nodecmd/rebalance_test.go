package nodecmd_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topologies"
)

// TestRebalanceCommand runs `node rebalance` against an in-process
// two-node cluster with an admin token: without the token the node refuses,
// with it (from SQUALL_ADMIN_TOKEN) the count bolt scales to 5 and back to
// 2 while the word count runs, and a parallelism above NumTasks is refused
// naming the component; then deactivate, activate and kill print what the
// node answered.
func TestRebalanceCommand(t *testing.T) {
	const token = "s3cret"
	c := clustertest.NewWithConfig(t, 2, topologies.Registry().Factories(io.Discard), func(_ int, cfg *cluster.Config) { cfg.AdminToken = token })
	if err := c.Node(0).Submit("wc", "wordcount", map[string]string{"wordcount.lines": "300000"}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the word count running on both nodes", func() bool {
		return len(c.Node(0).LocalTopologies()) == 1 && len(c.Node(1).LocalTopologies()) == 1
	})
	addr := c.Node(1).HTTPAddr()
	node := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append(args, "--addr", addr), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	t.Setenv("SQUALL_ADMIN_TOKEN", "")
	if code, _, stderr := node("rebalance", "wc", "--parallelism", "count=5"); code != 1 || !strings.Contains(stderr, "admin token") {
		t.Errorf("rebalance without the token: exit %d, %q; want 1 and a message about the admin token", code, stderr)
	}
	t.Setenv("SQUALL_ADMIN_TOKEN", token)
	for _, k := range []string{"5", "2"} {
		code, stdout, stderr := node("rebalance", "wc", "--parallelism", "count="+k, "--wait", "30s")
		if code != 0 || !strings.Contains(stdout, "every node applied it") || !strings.Contains(stdout, "count            "+k+" running") {
			t.Fatalf("rebalance count=%s: exit %d\nstdout: %s\nstderr: %s", k, code, stdout, stderr)
		}
		t.Logf("node rebalance wc --parallelism count=%s:\n%s", k, stdout)
	}
	if code, _, stderr := node("rebalance", "wc", "--parallelism", "count=9"); code != 1 || !strings.Contains(stderr, `bolt "count": parallelism 9 is above its NumTasks 8`) {
		t.Errorf("rebalance count=9: exit %d, %q; want 1 naming the component and its NumTasks", code, stderr)
	}
	if code, _, stderr := node("rebalance", "wc", "--parallelism", "count"); code != 2 {
		t.Errorf("rebalance --parallelism count: exit %d, %q; want a usage error", code, stderr)
	}
	for _, cmd := range [][]string{{"deactivate", "wc"}, {"activate", "wc"}, {"kill", "wc", "--wait", "0s"}} {
		want := map[string]string{"deactivate": "wc: deactivated\n", "activate": "wc: activated\n", "kill": "wc: killed\n"}[cmd[0]]
		if code, stdout, stderr := node(cmd...); code != 0 || stdout != want {
			t.Errorf("node %v: exit %d, %q (stderr %q); want 0, %q", cmd, code, stdout, stderr, want)
		}
	}
}
