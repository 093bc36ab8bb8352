package nodecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/flux"
	"github.com/squall-streams/squall/internal/nimbus"
	"github.com/squall-streams/squall/internal/pyenv"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

// streamparse projects on a node: which Python runs shell components
// (--python), the project virtualenvs the node builds itself
// (internal/pyenv), and `node run topologies/x.py`, which loads a
// streamparse DSL topology with the project's own streamparse.

// pythonUsage is the help of --python (node and node run).
const pythonUsage = "Python interpreter `path` (or name on PATH) of shell components: a bare streamparse_run runs the one next to it, " +
	"and project virtualenvs are built from it (env SQUALL_PYTHON; default python3)"

// ConfRequirements is the topology config key (a list of pip requirement
// strings, or one string of lines) of the virtualenv a node builds for a
// streamparse topology, before the requirements files shipped in its
// resources (spec §6.2 (a)). sparse forwards it from config.json's env
// "options".
const ConfRequirements = "squall.requirements"

// streamparseRun is streamparse's launcher of Python components.
const streamparseRun = "streamparse_run"

// pythonRuntime is the Python a node or `node run` runs components with,
// and the virtualenvs it builds.
type pythonRuntime struct {
	python string // absolute
	venvs  *pyenv.Manager
	tmp    string // the venvs' directory when it is a temporary one
}

// newPythonRuntime resolves the interpreter flag names and makes the
// virtualenv manager in venvDir ("": a temporary directory, removed by
// close).
func newPythonRuntime(flagValue, venvDir string, logger *slog.Logger) (*pythonRuntime, error) {
	python, err := pyenv.ResolvePython(flagValue)
	if err != nil {
		return nil, err
	}
	py := &pythonRuntime{python: python}
	if venvDir == "" {
		if py.tmp, err = os.MkdirTemp("", "squall-venvs-"); err != nil {
			return nil, err
		}
		venvDir = py.tmp
	}
	py.venvs, err = pyenv.New(pyenv.Config{Dir: venvDir, Python: python, Logger: logger})
	if err != nil {
		py.close()
		return nil, err
	}
	return py, nil
}

// close stops the virtualenv builds in progress (waiting for them) and
// removes a temporary directory.
func (py *pythonRuntime) close() {
	if py.venvs != nil {
		py.venvs.Close()
	}
	if py.tmp != "" {
		_ = os.RemoveAll(py.tmp)
	}
}

// describe is the start-up line's "python PATH (Python 3.x.y)".
func (py *pythonRuntime) describe(ctx context.Context) string {
	v, err := pyenv.Version(ctx, py.python)
	if err != nil {
		return fmt.Sprintf("python %s (%v)", py.python, err)
	}
	return fmt.Sprintf("python %s (%s)", py.python, v)
}

// fluxFactory builds submitted YAML and streamparse topologies (the
// cluster's "flux" kind) with shell components started by py.
func (py *pythonRuntime) fluxFactory() cluster.Factory {
	return cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		return buildFluxOpts(conf, flux.WithShellOptions(multilang.WithLauncher(py.launcher(conf))))
	})
}

// launcher resolves a shell component's command on this node (spec §5):
//
//  1. streamparse_run of a topology that ships requirements (a virtualenv
//     path as sparse writes it, <virtualenv_root>/<name>/bin/streamparse_run,
//     or a bare one with squall.requirements / requirements.txt): the
//     virtualenv the node builds, its bin first on PATH;
//  2. a path that exists: as given;
//  3. a bare streamparse_run: the one next to the node's Python;
//  4. else the command on PATH, the Python's directory first.
//
// The requirements are read here, once per build, not per start.
func (py *pythonRuntime) launcher(conf topology.Config) multilang.Launcher {
	resDir := conf.String(multilang.ResourcesDirKey, "")
	pyBin := filepath.Dir(py.python)
	type venv struct {
		name, reqs, from string
	}
	venvs := map[string]*venv{} // by command
	var errs map[string]error
	cmds, defConf := commandsOf(conf)
	conf = mergeConf(defConf, conf)
	for _, cmd := range cmds {
		if filepath.Base(cmd) != streamparseRun {
			continue
		}
		name, reqs, from, err := requirements(cmd, conf, resDir)
		switch {
		case err != nil:
			if errs == nil {
				errs = map[string]error{}
			}
			errs[cmd] = err
		case reqs != "":
			venvs[cmd] = &venv{name, reqs, from}
		}
	}
	return func(argv []string) (multilang.Launch, error) {
		cmd := argv[0]
		if err := errs[cmd]; err != nil {
			return multilang.Launch{}, err
		}
		if v := venvs[cmd]; v != nil {
			dir, err := py.venvs.Get(v.name, v.reqs)
			if errors.Is(err, pyenv.ErrBuilding) {
				return multilang.Launch{}, fmt.Errorf("%w (requirements: %s)", notReady{err}, v.from)
			}
			if err != nil {
				return multilang.Launch{}, fmt.Errorf("%w (requirements: %s)", err, v.from)
			}
			bin := filepath.Join(dir, "bin")
			return multilang.Launch{Argv: append([]string{filepath.Join(bin, streamparseRun)}, argv[1:]...), PathFirst: []string{bin}}, nil
		}
		if strings.ContainsRune(cmd, os.PathSeparator) {
			if filepath.Base(cmd) == streamparseRun && !executable(cmd) {
				return multilang.Launch{}, fmt.Errorf("%s does not exist on this node, and the topology ships no requirements to build it from: "+
					"put the project's virtualenvs/ into the jar (ln -s ../virtualenvs src/virtualenvs) or set options.%s in config.json, "+
					"or set \"use_virtualenv\": false to run the streamparse_run next to the node's --python %s", cmd, ConfRequirements, py.python)
			}
			return multilang.Launch{PathFirst: []string{pyBin}}, nil
		}
		if cmd == streamparseRun {
			next := filepath.Join(pyBin, streamparseRun)
			if !executable(next) {
				return multilang.Launch{}, fmt.Errorf("no %s next to the node's Python %s: pip install streamparse into that Python, or start the node with --python PATH of one that has it",
					streamparseRun, py.python)
			}
			return multilang.Launch{Argv: append([]string{next}, argv[1:]...), PathFirst: []string{pyBin}}, nil
		}
		return multilang.Launch{PathFirst: []string{pyBin}}, nil
	}
}

// commandsOf lists the shell commands of the flux definition in conf (the
// node's factories get its YAML text; node run passes the same key) and
// returns its config (a streamparse topology's jsonConf).
func commandsOf(conf topology.Config) ([]string, map[string]any) {
	d, err := flux.Parse([]byte(conf.String(fluxYAMLKey, "")))
	if err != nil {
		return nil, nil
	}
	var out []string
	for _, c := range append(d.Spouts, d.Bolts...) {
		if len(c.Command) > 0 {
			out = append(out, c.Command[0])
		}
	}
	return out, d.Config
}

// mergeConf is base with over's keys set over it.
func mergeConf(base map[string]any, over topology.Config) topology.Config {
	out := topology.Config{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// requirements finds what the virtualenv of a streamparse_run command is
// built from, first found wins: the squall.requirements option; the
// resources' virtualenvs/<name>.txt (<name> from sparse's
// <virtualenv_root>/<name>/bin/streamparse_run, else the topology's); its
// requirements.txt. reqs is "" when there are none.
func requirements(cmd string, conf topology.Config, resDir string) (name, reqs, from string, err error) {
	name = conf.String("topology.original_name", conf.String("topology.name", "streamparse"))
	if filepath.IsAbs(cmd) {
		name = filepath.Base(filepath.Dir(filepath.Dir(cmd)))
	}
	switch v := conf[ConfRequirements].(type) {
	case nil:
	case string:
		return name, v + "\n", "option " + ConfRequirements, nil
	case []any:
		var lines []string
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return "", "", "", fmt.Errorf("config %s: %v (%T) is not a string: want a list of pip requirements", ConfRequirements, x, x)
			}
			lines = append(lines, s)
		}
		return name, strings.Join(lines, "\n") + "\n", "option " + ConfRequirements, nil
	default:
		return "", "", "", fmt.Errorf("config %s: %v (%T): want a list of pip requirements", ConfRequirements, v, v)
	}
	if resDir == "" {
		return name, "", "", nil
	}
	for _, rel := range []string{filepath.Join("virtualenvs", name+".txt"), "requirements.txt"} {
		data, err := os.ReadFile(filepath.Join(resDir, rel))
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			return "", "", "", err
		}
		return name, string(data), "resources/" + filepath.ToSlash(rel), nil
	}
	return name, "", "", nil
}

func executable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// streamparseTopology reports whether `node run NAME` names a streamparse
// topology: a .py file, or NAME where topologies/NAME.py exists (in a
// streamparse project directory). It returns the file.
func streamparseTopology(name string) (string, bool) {
	if strings.HasSuffix(strings.ToLower(name), ".py") {
		return name, true
	}
	if strings.ContainsRune(name, os.PathSeparator) {
		return "", false
	}
	p := filepath.Join("topologies", name+".py")
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, true
	}
	return "", false
}

// dumpTopology is run by the project's Python in the project directory:
// it imports the topology file as `sparse submit` does, sets the
// serializer of config.json, drops per-environment parallelism (local
// mode has no environment) and writes the class's StormTopology in
// Thrift's binary encoding, then the topology's name and the serializer as
// JSON on a second file.
const dumpTopology = `
import json, os, sys
from streamparse.util import get_topology_from_file, set_topology_serializer
path, out, meta = sys.argv[1], sys.argv[2], sys.argv[3]
config = {}
if os.path.exists("config.json"):
    with open("config.json") as f:
        config = json.load(f)
cls = get_topology_from_file(path)
set_topology_serializer({}, config, cls)
for comp in list(cls.thrift_spouts.values()) + list(cls.thrift_bolts.values()):
    if isinstance(comp.common.parallelism_hint, dict):
        comp.common.parallelism_hint = None
cls.write(out)
with open(meta, "w") as f:
    json.dump({"name": os.path.basename(path)[:-3], "serializer": config.get("serializer")}, f)
`

// buildStreamparseJob loads a streamparse topology file for node run: the
// project's Python (py) writes the topology with streamparse's own DSL,
// the Nimbus mapping turns it into a Flux definition, and its shell
// components run in the project's src/ like on a cluster (the jar's
// resources/ is src/).
func buildStreamparseJob(ctx context.Context, path string, conf topology.Config, py *pythonRuntime, stderr io.Writer) (*Job, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, err
	}
	project := filepath.Dir(filepath.Dir(abs)) // topologies/x.py
	if _, err := os.Stat(filepath.Join(project, "config.json")); err != nil {
		project = filepath.Dir(abs)
	}
	tmp, err := os.MkdirTemp("", "squall-streamparse-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out, meta := filepath.Join(tmp, "topology.thrift"), filepath.Join(tmp, "meta.json")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py.python, "-c", dumpTopology, abs, out, meta)
	cmd.Dir = project
	cmd.Stdout = stderr
	var perr strings.Builder
	cmd.Stderr = &perr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: loading the streamparse topology with %s: %w\n%s\n(is streamparse installed in that Python? --python PATH picks another)",
			path, py.python, err, strings.TrimSpace(perr.String()))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var m struct{ Name string }
	if b, err := os.ReadFile(meta); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	topoConf := map[string]any{}
	for k, v := range conf {
		topoConf[k] = v
	}
	def, err := nimbus.ConvertThrift(m.Name, topoConf, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := topology.Config{fluxYAMLKey: string(def), multilang.ResourcesDirKey: filepath.Join(project, "src")}
	t, err := buildFluxOpts(c, flux.WithShellOptions(multilang.WithLauncher(py.launcher(c))))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Job{Topology: t}, nil
}

// runStreamparse is node run's hook for a streamparse topology file: the
// job, with the Python runtime closed by the job's Close.
func runStreamparse(ctx context.Context, file string, conf topology.Config, python string, stderr io.Writer) (*Job, error) {
	py, err := newPythonRuntime(python, "", nil)
	if err != nil {
		return nil, err
	}
	job, err := buildStreamparseJob(ctx, file, conf, py, stderr)
	if err != nil {
		py.close()
		return nil, err
	}
	fmt.Fprintf(stderr, "node run: %s, %s\n", file, py.describe(ctx))
	job.Close = py.close
	return job, nil
}

// notReady is a virtualenv build in progress as the Launcher reports it:
// its own message, and both pyenv.ErrBuilding and multilang.ErrNotReady
// (the start is retried and logged at info).
type notReady struct{ err error }

func (e notReady) Error() string   { return e.err.Error() }
func (e notReady) Unwrap() []error { return []error{e.err, multilang.ErrNotReady} }
