package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
)

// TestMultiProcessPythonYAMLSubmit submits a YAML topology of pystorm and
// streamparse components with its resources directory to a 2-node cluster,
// deletes the directory, checks the topology runs (each node from its own
// copy), then starts a third node and checks it fetches the resources and
// runs tasks too.
func TestMultiProcessPythonYAMLSubmit(t *testing.T) {
	py := os.Getenv("SQUALL_PYTHON")
	if py == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)`")
	}
	t.Setenv("PATH", filepath.Dir(py)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1")
	dir := t.TempDir()
	resources := filepath.Join(dir, "code")
	if out, err := exec.Command("cp", "-r", "../../multilang/testdata/resources", resources).CombinedOutput(); err != nil {
		t.Fatalf("copy resources: %v %s", err, out)
	}
	output := filepath.Join(dir, "counts.txt")
	yaml, err := os.ReadFile("../../nodecmd/testdata/py-wordcount.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(file, yaml, 0o644); err != nil {
		t.Fatal(err)
	}

	c := newProcCluster(t, "p1", "p2", "p3")
	c.start(0)
	c.start(1)
	procs := c.procs
	c.waitAlive(2)
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"submit", file, "--addr", procs[1].api, "--resources", resources, "--set", "test.output=" + output}, &stdout, &stderr); code != 0 {
		t.Fatalf("submit: exit %d: %s", code, stderr.String())
	}
	if want := "submitted topology (" + file + ")\n"; stdout.String() != want { // named after the file
		t.Errorf("submit printed %q, want %q", stdout.String(), want)
	}
	if err := os.RemoveAll(resources); err != nil { // each node runs its own copy now
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the counts to be written", func() bool {
		b, _ := os.ReadFile(output)
		return strings.Contains(string(b), "the 4\n") && strings.Contains(string(b), "moon 2\n")
	})
	for _, p := range procs[:2] {
		if n := localTasks(p.api); n <= 0 {
			t.Errorf("%s runs %d tasks", p.name, n)
		}
	}

	// A node that joins later fetches the resources from a peer.
	c.start(2)
	poll.Until(t, 60*time.Second, "p3 running tasks from its own copy", func() bool {
		files, _ := filepath.Glob(filepath.Join(c.dataDir(2), "resources", "*", "wordcount.py"))
		return len(files) == 1 && localTasks(procs[2].api) > 0
	})
}
