package nodecmd_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
)

// TestREADMEFluxPystormExample runs the README's Flux + pystorm example as
// a user copies it: its two files, written where their first comment
// line says, and its `node run wc/topology.yaml` with the virtualenv's
// bin/ first on PATH, until the live line shows trees acked. The section
// also says which Python runs the components and links flux/doc.go.
func TestREADMEFluxPystormExample(t *testing.T) {
	py := os.Getenv("SQUALL_PYTHON")
	if py == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)`")
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const title = "### A Flux topology of pystorm components, from nothing"
	_, sec, ok := strings.Cut(string(b), title)
	if !ok {
		t.Fatalf("README.md has no section %q", title)
	}
	if i := strings.Index(sec, "\n### "); i >= 0 {
		sec = sec[:i]
	}
	for _, want := range []string{"[`flux/doc.go`](flux/doc.go)", "Which Python runs the components", "PATH", "node run wc/topology.yaml"} {
		if !strings.Contains(sec, want) {
			t.Errorf("the section does not say %q", want)
		}
	}
	dir := t.TempDir()
	blocks := regexp.MustCompile("(?s)```(yaml|python)\n(# ([\\w./-]+)[^\n]*\n.*?)```").FindAllStringSubmatch(sec, -1)
	if len(blocks) != 2 {
		t.Fatalf("want a yaml and a python block, each starting with its file's name: got %d", len(blocks))
	}
	for _, m := range blocks {
		path := filepath.Join(dir, m[3])
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(m[2]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", filepath.Dir(py)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", filepath.Join(dir, "wc/topology.yaml")}, &stdout, &stderr) }()
	acked := regexp.MustCompile(`(?m)^\[\d+s\] pywords: [0-9.kM]+ trees/s \| spouts emitted [0-9.kM]+ acked [1-9][0-9.kM]* failed 0 \|`)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr.String())
		}
	})
	poll.Until(t, 60*time.Second, "a live line with trees acked", func() bool { return acked.MatchString(stderr.String()) })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "level=WARN") || strings.Contains(stderr.String(), "level=ERROR") {
		t.Errorf("the example logged warnings:\n%s", stderr.String())
	}
}
