package nodecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/certs"
	"github.com/squall-streams/squall/internal/gossipkey"
	"github.com/squall-streams/squall/internal/poll"
)

// makeCerts makes a certs directory as `node cert create-ca` and
// `create-node --host 127.0.0.1` do, without a client certificate.
func makeCerts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	if err := certs.CreateCA(dir, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := certs.CreateNode(dir, []string{"127.0.0.1"}, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startNode runs `node args…` until the test ends and returns its HTTP
// API address and its stderr.
func startNode(t *testing.T, name string, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--name", name, "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "warn"}, args...), &syncBuffer{}, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("node %s exited %d: %s", name, code, stderr.String())
		}
	})
	up := regexp.MustCompile(`node ` + name + `: gossip \S+, http (\S+)`)
	var addr string
	poll.Until(t, 30*time.Second, "the node up", func() bool {
		if m := up.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	return addr, &stderr
}

// TestNodeWithoutKeyOrCertsDoesNotStart: a node without a gossip key and
// certificates exits at once, saying what to run or that --insecure runs
// a throwaway cluster; with one of them it still names the other; with
// --insecure and a key it refuses the contradiction.
func TestNodeWithoutKeyOrCertsDoesNotStart(t *testing.T) {
	key := gossipkey.Encode(gossipkey.Generate())
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"node keygen", "node cert create-ca --certs-dir D", "node cert create-node --host HOST", "--insecure", "a gossip key (--gossip-key) and certificates (--certs-dir)"}},
		{[]string{"--gossip-key", key}, []string{"needs certificates (--certs-dir)", "node cert create-ca"}},
		{[]string{"--certs-dir", makeCerts(t)}, []string{"needs a gossip key (--gossip-key)", "node keygen"}},
		{[]string{"--insecure", "--gossip-key", key}, []string{"--insecure with a gossip key or certificates"}},
	} {
		args := append([]string{"--name", "n", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0"}, tc.args...)
		var stderr bytes.Buffer
		code := run(context.Background(), args, &bytes.Buffer{}, &stderr)
		if code == 0 {
			t.Errorf("node %v: exit 0", tc.args)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("node %v: stderr does not say %q:\n%s", tc.args, w, stderr.String())
			}
		}
		if strings.Contains(stderr.String(), "node started") {
			t.Errorf("node %v started before refusing", tc.args)
		}
	}
}

// TestInsecureNodeRunsAndWarns: --insecure starts a node without key or
// certs, warns at start, and its cluster summary (which the web UI shows
// on every page) carries the warning; its open API refuses a topology
// that runs a command, since nobody is authenticated.
func TestInsecureNodeRunsAndWarns(t *testing.T) {
	addr, stderr := startNode(t, "open", "--insecure")
	if !strings.Contains(stderr.String(), "WARNING: running with --insecure") {
		t.Errorf("no warning at start: %s", stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/api/v1/cluster/summary")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil {
		t.Fatal(err)
	}
	if w, _ := sum["squallWarning"].(string); !strings.Contains(w, "--insecure") {
		t.Errorf("cluster summary squallWarning = %q, want the --insecure warning", w)
	}
	yaml := filepath.Join(t.TempDir(), "sh.yaml")
	writeFile(t, yaml, `name: sh
spouts:
  - id: s
    className: org.apache.storm.flux.wrappers.spouts.FluxShellSpout
    constructorArgs: [["/bin/sh", "-c", "id"], ["x"]]
    parallelism: 1
bolts: []
streams: []
`)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"submit", yaml, "--addr", addr}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "only an authenticated admin") {
		t.Errorf("shell submit to an open node: exit %d: %s; want it refused", code, errb.String())
	}
}

// TestClientCommandsUseTheGeneratedAdminToken: a node with certificates
// and no --admin-token generates one into the certs dir (0600); the
// client commands, given only --certs-dir and no client certificate,
// authenticate with it; without credentials the API answers 401.
func TestClientCommandsUseTheGeneratedAdminToken(t *testing.T) {
	dir := makeCerts(t)
	addr, stderr := startNode(t, "tok", "--certs-dir", dir, "--gossip-key", gossipkey.Encode(gossipkey.Generate()))
	if !strings.Contains(stderr.String(), filepath.Join(dir, certs.AdminTokenFile)) {
		t.Errorf("the node does not say where its admin token is: %s", stderr.String())
	}
	if m := fileMode(t, filepath.Join(dir, certs.AdminTokenFile)); m != 0o600 {
		t.Errorf("admin-token mode %v, want 0600", m)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"members", "--addr", addr, "--certs-dir", dir}, &out, &errb); code != 0 || !strings.Contains(out.String(), "tok") {
		t.Fatalf("members with the generated token: exit %d: %s %s", code, out.String(), errb.String())
	}
	ca, err := certs.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: ca}}
	defer c.CloseIdleConnections()
	for _, path := range []string{"/api/v1/topologies", "/api/v1/cluster/summary", "/api/v1/resources/" + strings.Repeat("0", 64), "/metrics"} {
		resp, err := c.Get("https://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %s, want 401", path, resp.Status)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
