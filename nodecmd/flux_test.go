package nodecmd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
)

// A Storm Flux file of Storm's test components only: runs without Python.
const stormTestYAML = `
name: storm-test
spouts:
  - id: words
    className: org.apache.storm.testing.TestWordSpout
bolts:
  - id: count
    className: org.apache.storm.testing.TestWordCounter
    parallelism: 2
  - id: log
    className: org.apache.storm.flux.wrappers.bolts.LogInfoBolt
streams:
  - {from: words, to: count, grouping: {type: FIELDS, args: [word]}}
  - {from: count, to: log, grouping: {type: SHUFFLE}}
`

func TestRunYAMLUntilStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "storm.yaml")
	if err := os.WriteFile(path, []byte(stormTestYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-v", path}, &stdout, &stderr) }()
	poll.Until(t, 20*time.Second, "LogInfoBolt to log a count", func() bool {
		return strings.Contains(stderr.String(), "component=log") && strings.Contains(stderr.String(), "count:")
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

func TestRunYAMLReportsLineAndField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yml")
	bad := strings.Replace(stormTestYAML, "type: FIELDS", "type: FIELD", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", path}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "line 13: streams[0].grouping.type: unknown grouping \"FIELD\"") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	code = run(context.Background(), []string{"run", "wordcount", "--resources", "/tmp"}, &stdout, &stderr)
	if code != 2 {
		t.Errorf("--resources with a registered topology: exit %d", code)
	}
}

// TestPythonRunYAML runs `node run topology.yaml --resources DIR` with
// pystorm components (the venv's python3 first on PATH) until the counts
// are written, then stops it like Ctrl-C.
func TestPythonRunYAML(t *testing.T) {
	py := os.Getenv("SQUALL_PYTHON")
	if py == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)`")
	}
	t.Setenv("PATH", filepath.Dir(py)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in testdata
	resources, err := filepath.Abs("../multilang/testdata/resources")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "counts.txt")
	yaml, err := os.ReadFile("testdata/py-wordcount.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(path, yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", path, "--resources", resources, "--set", "test.output=" + out}, &stdout, &stderr)
	}()
	poll.Until(t, 30*time.Second, "the counts to be written", func() bool {
		b, _ := os.ReadFile(out)
		return strings.Contains(string(b), "the 4\n") && strings.Contains(string(b), "moon 2\n")
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
