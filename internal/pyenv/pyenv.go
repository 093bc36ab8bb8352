// Package pyenv makes the Python virtualenvs a node runs shell components
// in: streamparse's per-project virtualenvs (spec §6.2), built by the node
// itself from the requirements the topology ships, with no SSH.
//
// # Where it sits
//
// A shell component (multilang) asks, each time it starts its subprocess,
// through a multilang.Launcher the node gives it, for the virtualenv of its
// topology: Manager.Get answers at once — ready (its directory), building,
// or failed with pip's own output — and starts the build on a goroutine the
// Manager owns the first time a requirements text is asked for. A start
// that finds it not ready fails with that state as the task's last error
// and is retried with the restart backoff, so the tasks start when the
// virtualenv is there and nothing blocks a mailbox or the submit.
//
// # Layout and cache
//
// A virtualenv is Dir/<name>-<digest>, the digest of the base interpreter's
// resolved path and the requirements text: equal requirements reuse it,
// changed ones (or another Python) make a new one. It is built in place
// (virtualenvs are not relocatable) with `python -m venv`, then `pip
// install -r requirements.txt`, bounded by Timeout; a file .squall-ready
// written last marks it complete, so a build cut short is redone. A failed
// build is kept failed (its error stays the tasks' last error) until the
// Manager is made anew or Retry after FailedRetry.
package pyenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Defaults of a Manager.
const (
	DefaultTimeout = 10 * time.Minute
	// FailedRetry is how long a failed build stays failed before a Get
	// tries again (a registry that was down may be back).
	FailedRetry = time.Minute
	readyFile   = ".squall-ready"
	// tailBytes bounds the pip output kept in a failure.
	tailBytes = 2048
)

// ErrBuilding is wrapped by Get's error while the virtualenv is made.
var ErrBuilding = errors.New("virtualenv not ready yet")

// ErrFailed is wrapped by Get's error when the build failed.
var ErrFailed = errors.New("virtualenv build failed")

// Manager builds and caches virtualenvs under Dir. Its methods are safe for
// concurrent use and never block on a build; Close stops the builds (their
// processes are killed) and waits for them.
type Manager struct {
	dir     string
	python  string
	timeout time.Duration
	log     *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	builds map[string]*build // by directory
	closed bool
}

type build struct {
	done   bool
	err    error
	start  time.Time
	failed time.Time
}

// Config configures a Manager.
type Config struct {
	// Dir holds the virtualenvs (made 0700 if missing).
	Dir string
	// Python is the base interpreter, an absolute path (ResolvePython).
	Python string
	// Timeout bounds one build, venv and pip together (default DefaultTimeout).
	Timeout time.Duration
	// Logger receives a line per build started and ended (default: discard).
	Logger *slog.Logger
}

// New returns a Manager; it starts nothing.
func New(cfg Config) (*Manager, error) {
	if cfg.Dir == "" || !filepath.IsAbs(cfg.Python) {
		return nil, fmt.Errorf("pyenv: want a directory and an absolute Python path, got %q and %q", cfg.Dir, cfg.Python)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{dir: cfg.Dir, python: cfg.Python, timeout: cfg.Timeout, log: cfg.Logger,
		ctx: ctx, cancel: cancel, builds: map[string]*build{}}, nil
}

// Python is the base interpreter.
func (m *Manager) Python() string { return m.python }

// Close stops the builds in progress and waits for them. Safe twice.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Path is the directory of the virtualenv named name with requirements
// reqs (whether or not it exists).
func (m *Manager) Path(name string, reqs string) string {
	h := sha256.New()
	fmt.Fprintf(h, "python %s\n", m.python)
	if real, err := filepath.EvalSymlinks(m.python); err == nil {
		fmt.Fprintf(h, "real %s\n", real)
	}
	h.Write([]byte(reqs))
	name = safeName.ReplaceAllString(name, "_")
	if name == "" {
		name = "venv"
	}
	return filepath.Join(m.dir, name+"-"+hex.EncodeToString(h.Sum(nil))[:16])
}

// Get returns the directory of the virtualenv named name for requirements
// reqs if it is ready. Otherwise it starts its build (once) and returns an
// error wrapping ErrBuilding, or ErrFailed with pip's output. It does not
// block.
func (m *Manager) Get(name, reqs string) (string, error) {
	dir := m.Path(name, reqs)
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.builds[dir]
	switch {
	case b != nil && b.done && b.err == nil:
		return dir, nil
	case b != nil && b.done && time.Since(b.failed) < FailedRetry:
		return "", fmt.Errorf("%w: virtualenv %s (%s): %w", ErrFailed, name, dir, b.err)
	case b != nil && !b.done:
		return "", fmt.Errorf("%w: virtualenv %s: pip install running for %v in %s", ErrBuilding, name, time.Since(b.start).Round(time.Second), dir)
	}
	if _, err := os.Stat(filepath.Join(dir, readyFile)); err == nil {
		m.builds[dir] = &build{done: true}
		return dir, nil
	}
	if m.closed {
		return "", fmt.Errorf("%w: virtualenv %s: the node is stopping", ErrBuilding, name)
	}
	b = &build{start: time.Now()}
	m.builds[dir] = b
	m.wg.Go(func() {
		m.log.Info("building virtualenv", "name", name, "dir", dir, "python", m.python)
		err := m.build(dir, reqs)
		m.mu.Lock()
		b.done, b.err, b.failed = true, err, time.Now()
		m.mu.Unlock()
		if err != nil {
			m.log.Warn("virtualenv build failed", "name", name, "dir", dir, "err", err)
			return
		}
		m.log.Info("virtualenv ready", "name", name, "dir", dir, "took", time.Since(b.start).Round(time.Millisecond).String())
	})
	return "", fmt.Errorf("%w: virtualenv %s: building in %s (%s -m venv, pip install -r)", ErrBuilding, name, dir, m.python)
}

// build makes dir from scratch: venv, pip install -r, the ready mark.
func (m *Manager) build(dir, reqs string) error {
	ctx, cancel := context.WithTimeout(m.ctx, m.timeout)
	defer cancel()
	if err := os.RemoveAll(dir); err != nil { // a build cut short
		return err
	}
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return err
	}
	run := func(what string, name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = m.dir
		cmd.Env = append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "PIP_PROGRESS_BAR=off")
		cmd.WaitDelay = 5 * time.Second
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		switch {
		case ctx.Err() == context.DeadlineExceeded:
			return fmt.Errorf("%s: not done within %v: %s", what, m.timeout, tail(out.Bytes()))
		case m.ctx.Err() != nil:
			return fmt.Errorf("%s: the node is stopping", what)
		case err != nil:
			return fmt.Errorf("%s: %w: %s", what, err, tail(out.Bytes()))
		}
		return nil
	}
	if err := run("python -m venv", m.python, "-m", "venv", dir); err != nil {
		return err
	}
	req := filepath.Join(dir, "squall-requirements.txt")
	if err := os.WriteFile(req, []byte(reqs), 0o600); err != nil {
		return err
	}
	if err := run("pip install -r", filepath.Join(dir, "bin", "python"), "-m", "pip", "install", "-r", req); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, readyFile), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600)
}

// tail is the end of a command's output, where pip says what failed.
func tail(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) > tailBytes {
		s = "…" + s[len(s)-tailBytes:]
	}
	if s == "" {
		return "(no output)"
	}
	return s
}

// ResolvePython finds the interpreter a --python flag names (a path, or a
// name looked up on PATH) and returns its absolute path.
func ResolvePython(name string) (string, error) {
	if name == "" {
		name = "python3"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("python %q: %w (give --python PATH of a Python 3 interpreter)", name, err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return abs, nil
}

// Version runs python --version (for the node's start-up line).
func Version(ctx context.Context, python string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", python, err, tail(out))
	}
	return strings.TrimSpace(string(out)), nil
}
