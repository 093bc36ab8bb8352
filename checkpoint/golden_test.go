package checkpoint_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// runScripts runs every testdata/dir/*.txt script through run, which turns
// one command line into its output, and compares the transcript (each
// command followed by its output) with the .golden file beside it.
func runScripts(t *testing.T, dir string, newRun func(t *testing.T) func(args []string) string) {
	t.Helper()
	scripts, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in testdata/%s: %v", dir, err)
	}
	for _, path := range scripts {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			run := newRun(t)
			var out strings.Builder
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					out.WriteString(line + "\n")
					continue
				}
				fmt.Fprintf(&out, "> %s\n", line)
				for _, l := range strings.Split(strings.TrimRight(run(strings.Fields(line)), "\n"), "\n") {
					if l != "" {
						out.WriteString("  " + l + "\n")
					}
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
			}
			if got := out.String(); got != string(want) {
				t.Errorf("transcript differs from %s (go test -update rewrites it after review)\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("script: %q is not a number", s)
	}
	return n
}
