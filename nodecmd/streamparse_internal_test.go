package nodecmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/squall-streams/squall/internal/pyenv"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

// TestLauncherResolvesCommands is spec §5's table: a managed virtualenv,
// a path as given, a bare streamparse_run next to --python, else an error
// that says what to do.
func TestLauncherResolvesCommands(t *testing.T) {
	bin := t.TempDir()
	script := []byte("#!/bin/sh\nexit 1\n")
	for _, f := range []string{"python3", "streamparse_run"} {
		if err := os.WriteFile(filepath.Join(bin, f), script, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bare := t.TempDir() // a Python without streamparse_run beside it
	if err := os.WriteFile(filepath.Join(bare, "python3"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	res := t.TempDir()
	if err := os.MkdirAll(filepath.Join(res, "virtualenvs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(res, "virtualenvs", "wc.txt"), []byte("streamparse==5.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := `name: wc
spouts:
  - {id: s, command: ["/root/venvs/wc/bin/streamparse_run"], script: "-s json spouts.S", parallelism: 1, fields: [w]}
bolts:
  - {id: b, command: ["/root/venvs/other/bin/streamparse_run"], script: "bolts.B", parallelism: 1}
  - {id: c, command: ["streamparse_run"], script: "bolts.C", parallelism: 1}
`
	conf := topology.Config{fluxYAMLKey: yaml, multilang.ResourcesDirKey: res}
	mk := func(python string) *pythonRuntime {
		m, err := pyenv.New(pyenv.Config{Dir: t.TempDir(), Python: filepath.Join(python, "python3")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		return &pythonRuntime{python: filepath.Join(python, "python3"), venvs: m}
	}
	l := mk(bin).launcher(conf)
	lbare := mk(bare).launcher(conf)
	for _, tc := range []struct {
		name     string
		l        multilang.Launcher
		argv     []string
		wantArgv []string
		wantErr  string
		building bool
	}{
		{name: "a virtualenv the jar ships requirements for", l: l, argv: []string{"/root/venvs/wc/bin/streamparse_run", "x"}, building: true},
		{name: "a virtualenv path without requirements", l: l, argv: []string{"/root/venvs/other/bin/streamparse_run", "x"}, wantErr: "ln -s ../virtualenvs src/virtualenvs"},
		{name: "bare streamparse_run: next to --python", l: l, argv: []string{"streamparse_run", "x"}, wantArgv: []string{filepath.Join(bin, "streamparse_run"), "x"}},
		{name: "bare streamparse_run, none next to --python", l: lbare, argv: []string{"streamparse_run", "x"}, wantErr: "no streamparse_run next to the node's Python"},
		{name: "a path that exists", l: l, argv: []string{filepath.Join(bin, "python3"), "x"}},
		{name: "another bare command", l: l, argv: []string{"python3", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.l(tc.argv)
			switch {
			case tc.building:
				if !errors.Is(err, pyenv.ErrBuilding) || !strings.Contains(err.Error(), "resources/virtualenvs/wc.txt") {
					t.Errorf("err %v: want the virtualenv building from resources/virtualenvs/wc.txt", err)
				}
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err %v: want %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("err %v", err)
			case !slices.Equal(got.Argv, tc.wantArgv):
				t.Errorf("argv %q, want %q", got.Argv, tc.wantArgv)
			case len(got.PathFirst) == 0:
				t.Errorf("PATH gets nothing first, want the Python's directory")
			}
		})
	}
}

// TestNotReadyIsBothErrors: a virtualenv being built reads as pyenv's
// ErrBuilding and as multilang's ErrNotReady (logged at info, retried),
// with pyenv's message alone.
func TestNotReadyIsBothErrors(t *testing.T) {
	err := fmt.Errorf("%w (requirements: x)", notReady{fmt.Errorf("%w: virtualenv wc: building", pyenv.ErrBuilding)})
	if !errors.Is(err, pyenv.ErrBuilding) || !errors.Is(err, multilang.ErrNotReady) {
		t.Errorf("%v: want both ErrBuilding and ErrNotReady", err)
	}
	if got, want := err.Error(), "virtualenv not ready yet: virtualenv wc: building (requirements: x)"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}
