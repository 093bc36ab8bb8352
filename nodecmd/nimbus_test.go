package nodecmd_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/squall-streams/squall/internal/gossipkey"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNodeNimbusServesStreamparse starts a node with --nimbus and drives it
// with streamparse 5.0.1's own client code (testdata/nimbus_client.py):
// a jar whose resources/ hold a streamparse spout and bolt is uploaded and
// submitted, runs (acked counts rise in the REST API), is submitted again
// with -f -i (killed, gone, inactive), listed and killed. It needs SQUALL_PYTHON, a Python with streamparse 5.0.1, and
// fails without it.
func TestNodeNimbusServesStreamparse(t *testing.T) {
	python := os.Getenv("SQUALL_PYTHON")
	if python == "" {
		t.Fatal("SQUALL_PYTHON is not set: point it at a Python with streamparse 5.0.1 (e.g. .cache/venv/bin/python)")
	}
	dataDir, work := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--name", "nimbus1", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--insecure", "--nimbus", "127.0.0.1:0",
			"--data-dir", dataDir, "--log-level", "warn", "--fast-failure-detection"}, io.Discard, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("node exited %d: %s", code, stderr.String())
		}
	})

	addrs := regexp.MustCompile(`http (127\.0\.0\.1:\d+)\n.*nimbus 127\.0\.0\.1:(\d+) `)
	var api, port string
	eventually(t, 30*time.Second, "the node to print its nimbus address", func() bool {
		m := addrs.FindStringSubmatch(stderr.String())
		if m != nil {
			api, port = m[1], m[2]
		}
		return m != nil
	})

	script, err := filepath.Abs(filepath.Join("testdata", "nimbus_client.py"))
	if err != nil {
		t.Fatal(err)
	}
	sparse := func(step string) (map[string]any, string) {
		t.Helper()
		pctx, pcancel := context.WithTimeout(context.Background(), time.Minute)
		defer pcancel()
		cmd := exec.CommandContext(pctx, python, script, step, port, work)
		var perr bytes.Buffer
		cmd.Stderr = &perr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("nimbus_client.py %s: %v\nstdout:\n%s\nstderr:\n%s\nnode:\n%s", step, err, out, perr.String(), stderr.String())
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			line := sc.Bytes()
			if i := bytes.Index(line, []byte(`{"step"`)); i >= 0 { // after streamparse's own print(..., end="")
				var m map[string]any
				if json.Unmarshal(line[i:], &m) == nil && m["step"] == step {
					return m, string(out)
				}
			}
		}
		t.Fatalf("nimbus_client.py %s: no step line:\n%s", step, out)
		return nil, ""
	}

	sub, _ := sparse("submit")
	if loc, _ := sub["location"].(string); !strings.Contains(loc, "stormjar-") {
		t.Errorf("upload location %q", loc)
	}
	if dir, _ := sub["log_dir"].(string); dir != filepath.Join(dataDir, "logs") {
		t.Errorf("storm.log.dir = %q, want the node's %s", dir, filepath.Join(dataDir, "logs"))
	}
	if got, want := fmt.Sprint(sub["ui_port"]), api[strings.LastIndex(api, ":")+1:]; got != want {
		t.Errorf("ui.port = %s, want the node's HTTP port %s", got, want)
	}

	summary := func(status string) (id string) {
		t.Helper()
		eventually(t, 30*time.Second, "wordcount "+status+" in /api/v1/topology/summary", func() bool {
			var s struct {
				Topologies []struct{ ID, Name, Status string }
			}
			getJSON(t, "http://"+api+"/api/v1/topology/summary", &s)
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
	id := summary("ACTIVE")
	acked := func() int64 {
		var s struct {
			Spouts []struct {
				SpoutID string
				Acked   int64
			}
		}
		getJSON(t, "http://"+api+"/api/v1/topology/"+id, &s)
		var n int64
		for _, sp := range s.Spouts {
			n += sp.Acked
		}
		return n
	}
	var first int64
	eventually(t, time.Minute, "the Python spout's tuples acked", func() bool { first = acked(); return first > 0 })
	eventually(t, 30*time.Second, "the acked count to rise", func() bool { return acked() > first })

	sparse("force") // sparse submit -f -i: killed, gone, submitted inactive
	if again := summary("INACTIVE"); again == id {
		t.Errorf("submit -f: the topology is still %s, want a new deployment", id)
	}

	list, listed := sparse("list")
	if !strings.Contains(listed, "Topology-specific values") || !strings.Contains(listed, "| wordc |") {
		t.Errorf("sparse list did not print the topology:\n%s", listed)
	}
	if got := fmt.Sprint(list["topologies"]); !strings.Contains(got, "name:wordcount") || !strings.Contains(got, "status:INACTIVE") {
		t.Errorf("getClusterInfo topologies = %s, want wordcount INACTIVE", got)
	}
	if got := fmt.Sprint(list["supervisors"]); got != "[127.0.0.1]" {
		t.Errorf("getClusterInfo supervisors = %s, want this node's host", got)
	}

	sparse("kill")
	eventually(t, 30*time.Second, "wordcount to leave /api/v1/topology/summary", func() bool {
		var s struct{ Topologies []struct{ Name string } }
		getJSON(t, "http://"+api+"/api/v1/topology/summary", &s)
		return len(s.Topologies) == 0
	})
}

func TestNodeRefusesNimbusOffLoopback(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--name", "n1", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--nimbus", "0.0.0.0:6627",
		"--certs-dir", makeCerts(t), "--gossip-key", gossipkey.Encode(gossipkey.Generate())}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), `nimbus "0.0.0.0:6627" is not a loopback address`) ||
		!strings.Contains(stderr.String(), "no authentication") {
		t.Errorf("exit %d, stderr %q: want a refusal naming the address and why", code, stderr.String())
	}
}

func TestNodeHelpListsNimbus(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "-nimbus host:port") {
		t.Errorf("node --help: exit %d, want 0 and -nimbus host:port listed:\n%s", code, stdout.String())
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// eventually fails t unless cond holds within d, asking every 50 ms (each
// ask is an HTTP call or a look at the node's output).
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		<-tick.C
	}
}
