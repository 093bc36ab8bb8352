package nodecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/nodecmd"
	"github.com/squall-streams/squall/topologies"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, kafkatest.LeakOptions()...) }

// run runs the command with squall's own topologies, as cmd/node does.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return nodecmd.Run(ctx, args, topologies.Registry(), stdout, stderr)
}

func TestRunWordCountWritesCountsAndProgress(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	out := filepath.Join(dir, "out.tsv")
	if err := os.WriteFile(in, []byte("The cat, the HAT.\nhat 2 hat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", "wordcount", "--set", "wordcount.input=" + in, "--set", "wordcount.output=" + out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2\t1\ncat\t1\nhat\t3\nthe\t2\n"; string(got) != want {
		t.Errorf("counts:\n%s\nwant:\n%s", got, want)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var p struct{ Lines, Acked, Failed, Replayed int }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &p); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if p.Lines != 2 || p.Acked != 2 {
		t.Errorf("progress %+v", p)
	}
}

func TestRunRejectsUnknownTopologyAndBadSet(t *testing.T) {
	for _, args := range [][]string{
		{"run"},
		{"run", "nope"},
		{"run", "wordcount", "--set", "novalue"},
		{"bogus"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
	}
}

func TestRunReportsInvalidConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", "wordcount", "--set", "wordcount.lines=10", "--set", "topology.max.spout.pending=lots"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "topology.max.spout.pending") {
		t.Errorf("exit %d, stderr %q: want 1 and the key named", code, stderr.String())
	}
}

func TestHelpOfEveryCommandExitsZero(t *testing.T) {
	for _, cmd := range []string{"run", "submit", "list", "members", "kill", "activate", "deactivate", "rebalance"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{cmd, "--help"}, &stdout, &stderr); code != 0 {
			t.Errorf("node %s --help: exit %d: %s", cmd, code, stderr.String())
		}
		flag := "-addr" // every client command talks to a node's API
		if cmd == "run" {
			flag = "-http"
		}
		if !strings.Contains(stderr.String(), flag) {
			t.Errorf("node %s --help does not list %s: %q", cmd, flag, stderr.String())
		}
	}
}

func TestNodeRejectsABadCapacityFromTheEnvironment(t *testing.T) {
	t.Setenv("SQUALL_CAPACITY", "lots")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--name", "n1"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `SQUALL_CAPACITY="lots"`) {
		t.Errorf("exit %d, stderr %q: want 2 naming SQUALL_CAPACITY", code, stderr.String())
	}
}

// TestRunRefusesAnUnknownKey: `node run` of a registered topology with a
// misspelt --set is a usage error naming the key meant, before anything
// runs (it used to count 200,000 generated lines, ignoring the key).
func TestRunRefusesAnUnknownKey(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", "wordcount", "--set", "wordcount.inptu=/nonexistent"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `"wordcount.inptu" (did you mean wordcount.input?)`) || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q: want 2, nothing run, the key meant named", code, stdout.String(), stderr.String())
	}
}
