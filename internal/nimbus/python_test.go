package nimbus

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPythonStreamparseClient drives the server with streamparse 5.0.1's
// own client code (thriftpy2): the calls of sparse submit, submit -f, list
// and kill (testdata/client.py). It needs SQUALL_PYTHON, a Python with
// streamparse 5.0.1 installed, and fails without it.
func TestPythonStreamparseClient(t *testing.T) {
	python := os.Getenv("SQUALL_PYTHON")
	if python == "" {
		t.Fatal("SQUALL_PYTHON is not set: point it at a Python with streamparse 5.0.1 (e.g. .cache/venv/bin/python)")
	}
	b := newFakeBackend()
	b.removeOnKill = true
	s := startServer(t, b)
	script, err := filepath.Abs(filepath.Join("testdata", "client.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port := strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
	cmd := exec.CommandContext(ctx, python, script, port, t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client.py: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		line := sc.Bytes()
		if i := bytes.Index(line, []byte(`{"step"`)); i >= 0 { // after streamparse's own print(..., end="")
			line = line[i:]
		}
		if json.Unmarshal(line, &m) == nil && m["step"] != nil {
			steps[m["step"].(string)] = m
		}
	}
	check := func(step, key, want string) {
		t.Helper()
		m := steps[step]
		if m == nil {
			t.Errorf("step %s missing; stdout:\n%s\nstderr:\n%s", step, out, stderr.String())
			return
		}
		if got, _ := m[key].(string); !strings.Contains(got, want) {
			t.Errorf("step %s: %s = %q, want %q", step, key, got, want)
		}
	}
	check("version", "version", "2.8.8")
	check("conf", "log_dir", "logs")
	check("submitted", "location", "/squall/inbox/stormjar-")
	check("resubmit", "error", "Nimbus says wordcount is an invalid name")
	check("already_alive", "msg", "wordcount is already alive")
	check("java", "msg", `spout "pixel-spout": JVM class pixelcount.spouts.PixelSpout cannot run on squall`)
	check("not_alive", "msg", "nope is not alive")
	for _, s := range []string{"listed", "forced", "killed"} {
		if steps[s] == nil {
			t.Errorf("step %s missing; stdout:\n%s\nstderr:\n%s", s, out, stderr.String())
		}
	}
	if !bytes.Contains(out, []byte("Topology-specific values")) || !bytes.Contains(out, []byte("| wordc |")) {
		t.Errorf("sparse list did not print the topology:\n%s", out)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.submitted) != 2 {
		t.Fatalf("backend got %d submissions, want 2 (submit, submit -f)", len(b.submitted))
	}
	first, forced := b.submitted[0], b.submitted[1]
	if first.Inactive || !forced.Inactive {
		t.Errorf("initial status: first inactive=%v, forced inactive=%v", first.Inactive, forced.Inactive)
	}
	def := first.Conf[ConfFluxYAML]
	for _, want := range []string{"script: -s json spouts.words.WordSpout", "topology.multilang.serializer: json",
		"topology.original_name: wordcount", "sudo_user: null", "args: [word]", "parallelism: 2"} {
		if !strings.Contains(def, want) {
			t.Errorf("definition lacks %q:\n%s", want, def)
		}
	}
	if b.kills["wordcount"] != 2*time.Second {
		t.Errorf("sparse kill --wait 2: backend waited %v", b.kills["wordcount"])
	}
	if len(b.topologies) != 0 {
		t.Errorf("topologies left: %v", b.topologies)
	}
	if n := s.handler.uploads.open(); n != 1 {
		// loc2, refused as already alive before it was taken, waits for
		// expiry; the refused pixels submit consumed its jar.
		t.Errorf("%d uploads open, want the 1 abandoned", n)
	}
}
