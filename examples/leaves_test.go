// Package examples holds programs that show squall to its users. They are
// leaves: they may import anything, and nothing outside examples/ imports
// them (TestExamplesAreLeaves), so an example can change without breaking
// squall.
package examples_test

import (
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const module = "github.com/squall-streams/squall"

// TestExamplesAreLeaves lists every package of the module with its imports,
// tests' included (go list -deps -test), and fails on a package outside
// examples/ that imports one under it.
func TestExamplesAreLeaves(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-test", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = ".." // the module root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	under := func(path string) bool { return strings.HasPrefix(path, module+"/examples/") }
	pkgs := 0
	reported := map[string]bool{} // a package and its test variant import alike
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], module) {
			continue // a dependency outside the module
		}
		pkgs++
		// A test variant is "pkg [pkg.test]"; its imports follow.
		pkg, imports := fields[0], fields[1:]
		if len(imports) > 0 && strings.HasPrefix(imports[0], "[") {
			imports = imports[1:]
		}
		if under(pkg) {
			continue
		}
		for _, imp := range imports {
			if key := pkg + " " + imp; under(imp) && !reported[key] {
				reported[key] = true
				t.Errorf("%s imports %s: examples are leaves; move what it needs out of examples/ (squall's own topologies are in topologies/)", pkg, imp)
			}
		}
	}
	if pkgs < 20 {
		t.Fatalf("go list listed %d of the module's packages: %s", pkgs, out)
	}
}
