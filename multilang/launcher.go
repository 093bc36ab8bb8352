package multilang

import (
	"errors"
	"os"
	"slices"
	"strings"
)

// A Launcher decides, each time a shell component starts its subprocess,
// what exactly starts: the node's way of running a component's command
// with a Python environment it manages (a virtualenv it built, the
// interpreter it was told to use) without the topology naming its paths.
// It runs on the task's goroutine and must not block: an environment that
// is still being made is an error now ("building …"), and the start is
// retried with the restart backoff. Its error is the task's last error.
type Launcher func(argv []string) (Launch, error)

// ErrNotReady, wrapped by a Launcher's error, says the environment is
// still being made (a virtualenv pip is installing): the start is retried
// as any failed start is, and the error is the task's last error, but it
// is logged at info, not as a failure.
var ErrNotReady = errors.New("not ready yet")

// Launch is what a Launcher starts.
type Launch struct {
	// Argv replaces the component's command; empty keeps it.
	Argv []string
	// PathFirst are directories put before the subprocess's PATH (a
	// virtualenv's bin, so `python` and console scripts are its).
	PathFirst []string
}

// WithLauncher sets the Launcher of the component's starts.
func WithLauncher(l Launcher) Option { return func(o *options) { o.launcher = l } }

// launchSettings is s with l applied: l's argv, and its directories first
// on PATH.
func launchSettings(s settings, l Launch) settings {
	if len(l.Argv) > 0 {
		s.argv = slices.Clone(l.Argv)
	}
	if len(l.PathFirst) == 0 {
		return s
	}
	first := strings.Join(l.PathFirst, string(os.PathListSeparator))
	env := slices.Clone(s.env)
	set := false
	for i, kv := range env {
		if old, ok := strings.CutPrefix(kv, "PATH="); ok {
			env[i] = "PATH=" + first + string(os.PathListSeparator) + old
			set = true
		}
	}
	if !set {
		env = append(env, "PATH="+first)
	}
	s.env = env
	return s
}
