package nodecmd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

// TestLogsFollow: `node logs NAME -f` against a node that answers three
// polls: lines of two nodes printed oldest first with their node,
// component:task and level (a traceback's lines indented), a page cut at
// its bound fetched again at once, each node asked after the last line it
// gave, lines a node no longer held reported on stderr; it ends when
// interrupted.
func TestLogsFollow(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local).UnixMilli()
	line := func(seq uint64, ms int64, comp string, task int32, level, src, text string) api.LogLine {
		return api.LogLine{Seq: seq, TimeUnixMs: t0 + ms, Component: comp, Task: task, Level: level, Source: src, Text: text}
	}
	answers := []api.ClusterLogs{
		{Topology: "wc", Nodes: []api.LogPage{
			{Node: "node-a", Next: 2, More: true, Lines: []api.LogLine{line(1, 0, "split", 3, "INFO", "log", "first"), line(2, 20, "split", 3, "INFO", "log", "third")}},
			{Node: "node-b", Next: 1, Lines: []api.LogLine{line(1, 10, "count", 5, "ERROR", "error", "Traceback (most recent call last):\n  File \"x.py\"\nValueError: no")}},
		}},
		{Topology: "wc", Nodes: []api.LogPage{
			{Node: "node-a", Next: 3, Lines: []api.LogLine{line(3, 30, "split", 3, "WARN", "stderr", "on stderr")}},
			{Node: "node-b", Next: 1, Lines: []api.LogLine{}},
		}},
		{Topology: "wc", Nodes: []api.LogPage{
			{Node: "node-a", Next: 9, Missed: 5, Lines: []api.LogLine{line(9, 90, "split", 3, "INFO", "exit", "subprocess exited")}},
			{Node: "node-b", Next: 1, Lines: []api.LogLine{}},
		}},
	}
	var mu sync.Mutex
	var asked []string
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(asked)
		asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		if n >= len(answers) {
			cancel() // the user's Ctrl-C after the third poll
			n = len(answers) - 1
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answers[n])
	}))
	defer srv.Close()

	var stdout, stderr strings.Builder
	code := run(ctx, []string{"logs", "wc", "--component", "split", "-f", "--interval", "5ms", "--addr", srv.URL}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	ts := func(ms int64) string { return time.UnixMilli(t0 + ms).Format("2006-01-02 15:04:05.000") }
	want := ts(0) + " node-a split:3 INFO first\n" +
		ts(10) + " node-b count:5 ERROR error Traceback (most recent call last):\n\t  File \"x.py\"\n\tValueError: no\n" +
		ts(20) + " node-a split:3 INFO third\n" +
		ts(30) + " node-a split:3 WARN stderr on stderr\n" +
		ts(90) + " node-a split:3 INFO exit subprocess exited\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "node-a: 5 lines missed") {
		t.Errorf("stderr %q: no word of the missed lines", stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	wantAsked := []string{
		"/api/v1/topology/wc/logs?component=split",
		"/api/v1/topology/wc/logs?component=split&since=node-a%3A2&since=node-b%3A1",
		"/api/v1/topology/wc/logs?component=split&since=node-a%3A3&since=node-b%3A1",
	}
	if len(asked) < 3 || strings.Join(asked[:3], "\n") != strings.Join(wantAsked, "\n") {
		t.Errorf("asked\n%s\nwant first\n%s", strings.Join(asked, "\n"), strings.Join(wantAsked, "\n"))
	}
}

func TestLogsUsage(t *testing.T) {
	for _, args := range [][]string{{"logs"}, {"logs", "a", "b"}, {"logs", "wc", "--interval", "0s"}, {"logs", "wc", "--bogus"}} {
		var stdout, stderr strings.Builder
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("node %v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
	var stdout, stderr strings.Builder
	run(context.Background(), []string{"help"}, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "logs NAME [--component C] [-f]") {
		t.Errorf("the usage does not show node logs:\n%s", stdout.String())
	}
}

// TestPythonLogsFromTwoNodes: `node logs` prints the log lines of pystorm
// components running on both nodes of an in-process cluster, and
// --component keeps one component's; a topology that does not exist is
// an error.
func TestPythonLogsFromTwoNodes(t *testing.T) {
	py := os.Getenv("SQUALL_PYTHON")
	if py == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)`")
	}
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1")
	dir, err := filepath.Abs("../multilang/testdata/resources")
	if err != nil {
		t.Fatal(err)
	}
	cmd := func(class string) []string { return []string{py, "wordcount.py", class} }
	build := cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		b := topology.NewBuilder("pylogs")
		b.SetSpout("sentences", multilang.SpoutFactory(cmd("SentenceSpout"), multilang.WithDir(dir), multilang.Output("sentence")), 1)
		b.SetBolt("logger", multilang.BoltFactory(cmd("LogBolt"), multilang.WithDir(dir)), 4).ShuffleGrouping("sentences")
		return b.Build(conf)
	})
	c := clustertest.New(t, 2, map[string]cluster.Factory{"pylogs": build})
	if err := c.Node(0).Submit("pylogs", "pylogs", nil); err != nil {
		t.Fatal(err)
	}
	node := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append(args, "--addr", c.Node(1).HTTPAddr()), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	// fields splits the printed lines (not a traceback's indented ones)
	// into node and component:task.
	fields := func(out string) (nodes, comps map[string]bool) {
		nodes, comps = map[string]bool{}, map[string]bool{}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 4 && !strings.HasPrefix(l, "\t") {
				nodes[f[2]] = true
				comps[strings.Split(f[3], ":")[0]] = true
			}
		}
		return nodes, comps
	}
	var out string
	poll.Until(t, 60*time.Second, "LogBolt's lines from both nodes", func() bool {
		code, stdout, stderr := node("logs", "pylogs", "--component", "logger")
		if code != 0 { // node-1 does not know the topology yet (gossip)
			out = stderr
			return false
		}
		out = stdout
		nodes, _ := fields(out)
		return nodes["node-0"] && nodes["node-1"] && strings.Contains(out, "LogBolt saw the cow jumped over the moon")
	})
	if _, comps := fields(out); len(comps) != 1 || !comps["logger"] {
		t.Errorf("--component logger printed the lines of %v:\n%s", comps, out)
	}
	code, all, stderr := node("logs", "pylogs")
	t.Logf("node logs pylogs:\n%s", all)
	if _, comps := fields(all); code != 0 || !comps["logger"] || !comps["sentences"] {
		t.Errorf("node logs pylogs: exit %d, components %v (stderr %q):\n%s", code, comps, stderr, all)
	}
	if code, _, stderr := node("logs", "nope"); code != 1 || !strings.Contains(stderr, `no such topology in the cluster: "nope"`) {
		t.Errorf("node logs nope: exit %d, %q", code, stderr)
	}
}
