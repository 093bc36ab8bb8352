package pyenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/internal/poll"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// python is the interpreter the tests build from: SQUALL_PYTHON, else
// python3 on PATH. The builds here need no registry (no requirements, or
// --no-index).
func python(t *testing.T) string {
	t.Helper()
	p, err := ResolvePython(os.Getenv("SQUALL_PYTHON"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPathIsTheDigestOfPythonAndRequirements(t *testing.T) {
	m, err := New(Config{Dir: "/v", Python: "/usr/bin/python3"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, b := m.Path("wc", "roman==5.2\n"), m.Path("wc", "roman==5.1\n")
	if a == b || a != m.Path("wc", "roman==5.2\n") || !strings.HasPrefix(a, "/v/wc-") {
		t.Errorf("paths %s %s: want /v/wc-<digest of the requirements>, equal for equal ones", a, b)
	}
	other, _ := New(Config{Dir: "/v", Python: "/opt/python3.12"})
	defer other.Close()
	if other.Path("wc", "roman==5.2\n") == a {
		t.Error("another Python gives the same virtualenv")
	}
	if got := m.Path("../x y", ""); filepath.Dir(got) != "/v" {
		t.Errorf("name with separators: %s leaves the directory", got)
	}
	if _, err := New(Config{Dir: "/v", Python: "python3"}); err == nil {
		t.Error("a relative Python is accepted")
	}
}

func TestGetBuildsOnceThenReady(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Config{Dir: dir, Python: python(t), Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Get("empty", "# nothing to install\n")
	if !errors.Is(err, ErrBuilding) {
		t.Fatalf("first Get: %v, want ErrBuilding", err)
	}
	var venv string
	poll.Until(t, 2*time.Minute, "the virtualenv to be built", func() bool {
		venv, err = m.Get("empty", "# nothing to install\n")
		if err != nil && !errors.Is(err, ErrBuilding) {
			t.Fatalf("Get: %v", err)
		}
		return err == nil
	})
	if _, err := os.Stat(filepath.Join(venv, "bin", "python")); err != nil {
		t.Errorf("no bin/python in %s: %v", venv, err)
	}
	// A new Manager (a restarted node) finds it ready on disk.
	again, err := New(Config{Dir: dir, Python: python(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, err := again.Get("empty", "# nothing to install\n"); err != nil || got != venv {
		t.Errorf("after a restart: %q, %v; want %s ready", got, err, venv)
	}
}

func TestGetReportsPipsError(t *testing.T) {
	m, err := New(Config{Dir: t.TempDir(), Python: python(t), Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	reqs := "--no-index\nsquall-no-such-package==1.0\n"
	poll.Until(t, 2*time.Minute, "the build to fail", func() bool {
		_, err = m.Get("bad", reqs)
		return errors.Is(err, ErrFailed)
	})
	if !strings.Contains(err.Error(), "squall-no-such-package") || !strings.Contains(err.Error(), "pip install -r") {
		t.Errorf("error %q: want pip's own words naming the package", err)
	}
	// It stays failed (no rebuild per task start).
	if _, err := m.Get("bad", reqs); !errors.Is(err, ErrFailed) {
		t.Errorf("second Get: %v, want ErrFailed", err)
	}
}

func TestCloseStopsABuild(t *testing.T) {
	m, err := New(Config{Dir: t.TempDir(), Python: python(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get("x", ""); !errors.Is(err, ErrBuilding) {
		t.Fatal(err)
	}
	m.Close() // kills python -m venv, waits
	m.Close()
	if _, err := m.Get("y", ""); !errors.Is(err, ErrBuilding) || !strings.Contains(err.Error(), "stopping") {
		t.Errorf("Get after Close: %v", err)
	}
}
