package nodecmd_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The real streamparse 5.0.1 CLI (`sparse`, from the venv of
// scripts/pyenv.sh) and the real Leiningen (scripts/leindeps.sh) against a
// node the test starts: what a streamparse user does, unchanged, with the
// one change to project.clj the README documents. They need SQUALL_PYTHON
// and SQUALL_LEIN and fail without them.

// sparseEnv is what the tests need to run sparse: its Python and lein.
type sparseEnv struct {
	python, sparse, lein string
}

func needSparse(t *testing.T) sparseEnv {
	t.Helper()
	python, lein := os.Getenv("SQUALL_PYTHON"), os.Getenv("SQUALL_LEIN")
	if python == "" {
		t.Fatal("SQUALL_PYTHON is not set: point it at a Python with streamparse 5.0.1 (scripts/pyenv.sh)")
	}
	if lein == "" {
		t.Fatal("SQUALL_LEIN is not set: point it at Leiningen (scripts/leindeps.sh installs Debian's)")
	}
	e := sparseEnv{python: python, sparse: filepath.Join(filepath.Dir(python), "sparse"), lein: lein}
	if _, err := os.Stat(e.sparse); err != nil {
		t.Fatalf("no sparse next to SQUALL_PYTHON: %v", err)
	}
	return e
}

// run runs sparse ARGS in dir and returns its combined output; it fails t
// when sparse fails.
func (e sparseEnv) run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.sparse, args...)
	cmd.Dir = dir
	// sparse refuses to run lein as root without LEIN_ROOT (CI runs as root).
	cmd.Env = append(os.Environ(), "LEIN_ROOT=1",
		"PATH="+filepath.Dir(e.python)+string(os.PathListSeparator)+filepath.Dir(e.lein)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sparse %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// quickstart makes `sparse quickstart wordcount` in a temporary directory,
// with the README's one change to project.clj (`:dependencies []`: no JVM
// libraries to fetch, so lein builds the jar offline), and points env
// "prod" of config.json at the node, without SSH; it returns the project.
func (e sparseEnv) quickstart(t *testing.T, nimbusAddr, uiPort string, env map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	e.run(t, dir, "quickstart", "wordcount")
	project := filepath.Join(dir, "wordcount")
	editFile(t, filepath.Join(project, "project.clj"), func(s string) string {
		return replaceOnce(t, s, `(?s):dependencies\s+\[\[.*?\]\]`, ":dependencies []")
	})
	editFile(t, filepath.Join(project, "config.json"), func(s string) string {
		var c map[string]any
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			t.Fatal(err)
		}
		prod := c["envs"].(map[string]any)["prod"].(map[string]any)
		prod["nimbus"], prod["use_ssh_for_nimbus"], prod["ui.port"] = nimbusAddr, false, uiPort
		for k, v := range env {
			prod[k] = v
		}
		b, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	})
	return project
}

func editFile(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(edit(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceOnce(t *testing.T, s, re, with string) string {
	t.Helper()
	r := regexp.MustCompile(re)
	if !r.MatchString(s) {
		t.Fatalf("no %s in:\n%s", re, s)
	}
	return r.ReplaceAllLiteralString(s, with)
}

// testNode is a node started by a test with --nimbus, and its addresses.
type testNode struct {
	api, nimbus, uiPort string
	stderr              *syncBuffer
}

func startNimbusNode(t *testing.T, python string) *testNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := &testNode{stderr: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--name", "sparse1", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--insecure", "--nimbus", "127.0.0.1:0",
			"--python", python, "--data-dir", t.TempDir(), "--log-level", "warn", "--fast-failure-detection"}, io.Discard, n.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("node exited %d: %s", code, n.stderr.String())
		}
	})
	addrs := regexp.MustCompile(`http (127\.0\.0\.1:(\d+))\n.*nimbus (127\.0\.0\.1:\d+) `)
	eventually(t, 30*time.Second, "the node to print its nimbus address", func() bool {
		m := addrs.FindStringSubmatch(n.stderr.String())
		if m != nil {
			n.api, n.uiPort, n.nimbus = m[1], m[2], m[3]
		}
		return m != nil
	})
	return n
}

// topologyID waits for wordcount to be status in the REST API's summary.
func (n *testNode) topologyID(t *testing.T, status string) (id string) {
	t.Helper()
	eventually(t, 30*time.Second, "wordcount "+status+" in /api/v1/topology/summary", func() bool {
		var s struct {
			Topologies []struct{ ID, Name, Status string }
		}
		getJSON(t, "http://"+n.api+"/api/v1/topology/summary", &s)
		for _, tp := range s.Topologies {
			if tp.Name == "wordcount" && tp.Status == status {
				id = tp.ID
				return true
			}
		}
		return false
	})
	return id
}

// boltsAcked is the sum of the bolts' acked counts of topology id (the
// quickstart's spout emits without message ids, so its tuples are acked
// by the bolt and never reach the spout).
func (n *testNode) boltsAcked(t *testing.T, id string) (acked int64, lastErr string) {
	t.Helper()
	var s struct {
		Bolts []struct {
			Acked     int64
			LastError string
		}
	}
	getJSON(t, "http://"+n.api+"/api/v1/topology/"+id, &s)
	for _, b := range s.Bolts {
		acked += b.Acked
		if b.LastError != "" {
			lastErr = b.LastError
		}
	}
	return acked, lastErr
}

// waitRunning waits until topology id's bolts ack, and ack more.
func (n *testNode) waitRunning(t *testing.T, id string, within time.Duration) {
	t.Helper()
	var first int64
	var lastErr, logged string
	eventually(t, within, "wordcount's bolt to ack tuples", func() bool {
		first, lastErr = n.boltsAcked(t, id)
		if first == 0 && lastErr != logged {
			t.Logf("last error: %s", lastErr) // the virtualenv's build, or what stops it
			logged = lastErr
		}
		return first > 0
	})
	eventually(t, 30*time.Second, "the acked count to rise", func() bool {
		a, _ := n.boltsAcked(t, id)
		return a > first
	})
}

// TestSparseCLIAgainstNode: sparse quickstart, then submit, list, stats,
// submit -f and kill with the real CLI, the topology running in between.
func TestSparseCLIAgainstNode(t *testing.T) {
	e := needSparse(t)
	n := startNimbusNode(t, e.python)
	project := e.quickstart(t, n.nimbus, n.uiPort, map[string]any{"use_virtualenv": false})

	out := e.run(t, project, "submit")
	if !strings.Contains(out, "Submitting wordcount topology to nimbus...done") {
		t.Errorf("sparse submit:\n%s", out)
	}
	id := n.topologyID(t, "ACTIVE")
	n.waitRunning(t, id, time.Minute)

	if out := e.run(t, project, "list"); !strings.Contains(out, "| wordc |") || !strings.Contains(out, "ACTI") {
		t.Errorf("sparse list does not show wordcount ACTIVE:\n%s", out)
	}

	// sparse stats reads the Storm version out of `lein deps :tree`: it
	// needs [org.apache.storm/storm-core "X"] in project.clj, which
	// `lein jar` resolves but does not pack. A user with Maven Central and
	// Clojars keeps the quickstart's; offline, this test names it from a
	// local repository that holds only its POM and an empty jar, and lein's
	// own nREPL from Debian's (the leiningen package's).
	repo := standInStormRepo(t)
	editFile(t, filepath.Join(project, "project.clj"), func(s string) string {
		return replaceOnce(t, s, `:dependencies \[\]`,
			`:repositories ^:replace [["storm-name" {:url "file://`+repo+`" :checksum :ignore}] ["debian" {:url "file:///usr/share/maven-repo" :checksum :ignore}]]`+"\n"+
				`  :dependencies [[org.apache.storm/storm-core "2.8.8"]]`)
	})
	if out := e.run(t, project, "stats"); !strings.Contains(out, "# Topology summary") || !strings.Contains(out, "| wordcount | "+id) {
		t.Errorf("sparse stats:\n%s", out)
	}
	out = e.run(t, project, "stats", "-n", "wordcount")
	for _, want := range []string{"# Topology stats", "All time", "| word_spout |", "| count_b"} {
		if !strings.Contains(out, want) {
			t.Errorf("sparse stats -n wordcount: no %q:\n%s", want, out)
		}
	}
	if out := e.run(t, project, "stats", "-n", "wordcount", "-c", "word_spout"); !strings.Contains(out, "# Executors (All time)") {
		t.Errorf("sparse stats -c word_spout:\n%s", out)
	}
	// A bolt's page needs inputStats (5.0.1 reads it unguarded).
	if out := e.run(t, project, "stats", "-n", "wordcount", "-c", "count_bolt"); !strings.Contains(out, "# Input stats (All time)") || !strings.Contains(out, "word_spout") {
		t.Errorf("sparse stats -c count_bolt:\n%s", out)
	}

	// The jar now comes from a project.clj that names storm-core: lein jar
	// packs none of it, and squall takes it.
	out = e.run(t, project, "submit", "-f")
	if !strings.Contains(out, "Killing current \"wordcount\" topology.") || !strings.Contains(out, "...done") {
		t.Errorf("sparse submit -f:\n%s", out)
	}
	again := n.topologyID(t, "ACTIVE")
	if again == id {
		t.Fatalf("submit -f: still deployment %s", id)
	}
	n.waitRunning(t, again, time.Minute)

	e.run(t, project, "kill")
	eventually(t, 30*time.Second, "wordcount to leave /api/v1/topology/summary", func() bool {
		var s struct{ Topologies []struct{ Name string } }
		getJSON(t, "http://"+n.api+"/api/v1/topology/summary", &s)
		return len(s.Topologies) == 0
	})
}

// standInStormRepo is a Maven repository with storm-core 2.8.8 as a name
// only: a POM without dependencies and an empty jar.
func standInStormRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	dir := filepath.Join(repo, "org", "apache", "storm", "storm-core", "2.8.8")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pom := `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.apache.storm</groupId>
  <artifactId>storm-core</artifactId>
  <version>2.8.8</version>
</project>
`
	if err := os.WriteFile(filepath.Join(dir, "storm-core-2.8.8.pom"), []byte(pom), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "storm-core-2.8.8.jar"))
	if err != nil {
		t.Fatal(err)
	}
	if err := zip.NewWriter(f).Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return repo
}

// TestSparseSubmitBuildsTheProjectVirtualenv: with "use_virtualenv": true
// and "install_virtualenv": false, sparse submits
// <virtualenv_root>/wordcount/bin/streamparse_run without SSH; the node
// builds that virtualenv itself from virtualenvs/wordcount.txt in the jar
// (src/virtualenvs links to it), with pip from the Python registry, and
// the bolt imports a package the node's own Python does not have.
func TestSparseSubmitBuildsTheProjectVirtualenv(t *testing.T) {
	e := needSparse(t)
	if err := exec.Command(e.python, "-c", "import roman").Run(); err == nil {
		t.Fatalf("%s imports roman: the test needs a package the node's Python does not have", e.python)
	}
	n := startNimbusNode(t, e.python)
	project := e.quickstart(t, n.nimbus, n.uiPort, map[string]any{
		"use_virtualenv": true, "install_virtualenv": false, "virtualenv_root": "/nonexistent/virtualenvs",
	})
	if err := os.WriteFile(filepath.Join(project, "virtualenvs", "wordcount.txt"), []byte("streamparse==5.0.1\nroman==5.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "virtualenvs"), filepath.Join(project, "src", "virtualenvs")); err != nil {
		t.Fatal(err)
	}
	// Imported when the bolt starts (sparse imports the module locally,
	// where roman is not installed either).
	editFile(t, filepath.Join(project, "src", "bolts", "wordcount.py"), func(s string) string {
		s = replaceOnce(t, s, `    def initialize\(self, conf, ctx\):\n`,
			"    def initialize(self, conf, ctx):\n        global roman\n        import roman  # only in the project's virtualenv\n")
		return replaceOnce(t, s, `self\.emit\(\[word, self\.counter\[word\]\]\)`, "self.emit([word, roman.toRoman(self.counter[word] % 3999 + 1)])")
	})
	e.run(t, project, "submit")
	id := n.topologyID(t, "ACTIVE")
	// The first starts fail while pip runs, saying so.
	eventually(t, time.Minute, "the task's last error to say the virtualenv is being built", func() bool {
		a, last := n.boltsAcked(t, id)
		return a > 0 || strings.Contains(last, "virtualenv wordcount: building") || strings.Contains(last, "pip install running")
	})
	n.waitRunning(t, id, 5*time.Minute)
}

// TestNodeRunStreamparseQuickstart: `node run topologies/wordcount.py` in
// a fresh quickstart project, the first thing a user tries, and `node run
// wordcount` there (topologies/wordcount.py wins over the registered one).
func TestNodeRunStreamparseQuickstart(t *testing.T) {
	e := needSparse(t)
	dir := t.TempDir()
	e.run(t, dir, "quickstart", "wordcount")
	t.Chdir(filepath.Join(dir, "wordcount"))
	executed := regexp.MustCompile(`wordcount: .*\| bolts executed (\d[\d.]*k?) \|`)
	for _, arg := range []string{"topologies/wordcount.py", "wordcount"} {
		var stdout, stderr syncBuffer
		code := run(context.Background(), []string{"run", arg, "--python", e.python, "--http", "127.0.0.1:0", "--for", "10s"}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("node run %s: exit %d:\n%s", arg, code, stderr.String())
		}
		var last string
		for _, m := range executed.FindAllStringSubmatch(stderr.String(), -1) {
			last = m[1]
		}
		if last == "" || last == "0" {
			t.Errorf("node run %s: the live line shows no words counted (bolts executed %q):\n%s", arg, last, stderr.String())
		}
	}
}
