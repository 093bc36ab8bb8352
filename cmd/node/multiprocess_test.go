package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/certs"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topologies/wordcount"
)

// proc is one node process.
type proc struct {
	name        string
	gossip, api string
	cmd         *exec.Cmd
	log         *os.File
}

func buildNode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "node")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
		p.log.Close()
		p.cmd = nil
	}
}

// procCluster is a set of node processes sharing a gossip key, each with
// its own log and data directory under dir. Its processes are killed when
// the test ends, and their logs printed if it failed.
type procCluster struct {
	t     *testing.T
	bin   string
	dir   string
	key   string
	procs []*proc
}

func newProcCluster(t *testing.T, names ...string) *procCluster {
	t.Helper()
	c := &procCluster{t: t, bin: buildNode(t), dir: t.TempDir(), key: base64.StdEncoding.EncodeToString(cluster.Keygen())}
	hosts := []string{"127.0.0.1"}
	for _, n := range names {
		p := &proc{name: n, gossip: clustertest.FreeAddr(t), api: clustertest.FreeAddr(t)}
		c.procs = append(c.procs, p)
		h, _, _ := net.SplitHostPort(p.api)
		hosts = append(hosts, h)
	}
	// A secured cluster, as the README starts one: `node cert` made the
	// certificates (the node one for every address an API listens on),
	// the nodes and the client commands find them through
	// SQUALL_CERTS_DIR.
	certsDir := filepath.Join(c.dir, "certs")
	if err := certs.CreateCA(certsDir, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := certs.CreateNode(certsDir, hosts, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := certs.CreateClient(certsDir, certs.AdminUser, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SQUALL_CERTS_DIR", certsDir)
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			for _, p := range c.procs {
				p.kill()
			}
		})
		if t.Failed() {
			for _, p := range c.procs {
				b, _ := os.ReadFile(filepath.Join(c.dir, p.name+".log"))
				t.Logf("--- %s log (tail):\n%s", p.name, tail(string(b), 3000))
			}
		}
	})
	return c
}

// dataDir is process i's data directory (SQUALL_DATA_DIR).
func (c *procCluster) dataDir(i int) string { return filepath.Join(c.dir, c.procs[i].name+"-data") }

// start starts process i, joining process 0 unless it is process 0, with
// the cluster's key and its own data directory in its environment and its
// output appended to its log.
func (c *procCluster) start(i int) {
	c.t.Helper()
	p := c.procs[i]
	// The transport on 127.0.0.1, which the node certificate names.
	args := []string{"--name", p.name, "--bind", p.gossip, "--http", p.api, "--transport", "127.0.0.1:0", "--log-level", "warn"}
	if i > 0 {
		args = append(args, "--join", c.procs[0].gossip)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "SQUALL_GOSSIP_KEY="+c.key, "SQUALL_DATA_DIR="+c.dataDir(i))
	f, err := os.OpenFile(filepath.Join(c.dir, p.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p.cmd, p.log = cmd, f
	if i == 0 {
		poll.Until(c.t, 30*time.Second, c.procs[0].name+" serving", func() bool { return members(c.procs[0].api) != nil })
	}
}

// startAll starts every process and waits until all are alive members.
func (c *procCluster) startAll() {
	c.t.Helper()
	for i := range c.procs {
		c.start(i)
	}
	c.waitAlive(len(c.procs))
}

// waitAlive waits until process 0 sees the first k processes, and no
// other node, as alive members.
func (c *procCluster) waitAlive(k int) {
	c.t.Helper()
	poll.Until(c.t, 30*time.Second, fmt.Sprintf("%d alive members", k), func() bool {
		ms := members(c.procs[0].api)
		if len(ms) != k {
			return false
		}
		for _, p := range c.procs[:k] {
			if ms[p.name].Status != "alive" {
				return false
			}
		}
		return true
	})
}

// getJSON GETs path from the node API at addr over HTTPS, with the admin
// client certificate of SQUALL_CERTS_DIR.
func getJSON(addr, path string, v any) error {
	tc, err := certs.LoadClient(os.Getenv("SQUALL_CERTS_DIR"), certs.AdminUser)
	if err != nil {
		return err
	}
	c := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func members(addr string) map[string]cluster.MemberInfo {
	var ms []cluster.MemberInfo
	if getJSON(addr, "/api/v1/members", &ms) != nil {
		return nil
	}
	out := map[string]cluster.MemberInfo{}
	for _, m := range ms {
		out[m.Name] = m
	}
	return out
}

func localTasks(addr string) int {
	var lts []cluster.LocalTopology
	if getJSON(addr, "/api/v1/local/topologies", &lts) != nil {
		return -1
	}
	n := 0
	for _, lt := range lts {
		n += len(lt.Tasks)
	}
	return n
}

type ledgerKey struct{ line, pos int }

// readLedgers reads every ledger file: how often each (line, position) was
// counted, and entries that are not a word of the input at that place. A
// last line cut by SIGKILL mid-write is not a count.
func readLedgers(t *testing.T, dir string, want map[ledgerKey]string) (seen map[ledgerKey]int, bad []string) {
	t.Helper()
	entries, _, err := wordcount.ReadLedgers(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen = map[ledgerKey]int{}
	for _, e := range entries {
		k := ledgerKey{int(e.Line), int(e.Pos)}
		if want[k] != e.Word {
			bad = append(bad, fmt.Sprintf("%d\t%d\t%s", e.Line, e.Pos, e.Word))
			continue
		}
		seen[k]++
	}
	return seen, bad
}

// writeInput writes lines to dir/input.txt, the word count's input, and
// returns its path and the word at every (line, position).
func writeInput(t *testing.T, dir string, lines []string) (string, map[ledgerKey]string) {
	t.Helper()
	input := filepath.Join(dir, "input.txt")
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := map[ledgerKey]string{}
	for i, l := range lines {
		for p, w := range wordcount.Words(l) {
			want[ledgerKey{i, p}] = w
		}
	}
	return input, want
}

// checkLedgers fails t if a ledger entry is not a word of the input at its
// place, and returns how many counts were duplicates (replays).
func checkLedgers(t *testing.T, dir string, want map[ledgerKey]string) (dups int) {
	t.Helper()
	seen, bad := readLedgers(t, dir, want)
	for _, n := range seen {
		dups += n - 1
	}
	if len(bad) > 0 {
		t.Errorf("%d ledger entries are not words of the input, e.g. %q", len(bad), bad[0])
	}
	return dups
}

// TestMultiProcessClusterSurvivesSIGKILL runs the word count across three
// node processes, SIGKILLs one mid-run, and checks from the count tasks'
// ledgers that every word of every line was counted at least once and
// nothing else was; then restarts the killed node and checks it rejoins and
// gets tasks. Default failure-detection timers: the figures it logs are the
// ones BENCHMARKS.md reports.
func TestMultiProcessClusterSurvivesSIGKILL(t *testing.T) {
	c := newProcCluster(t, "n1", "n2", "n3")
	c.startAll()
	procs, dir := c.procs, c.dir

	input, want := writeInput(t, dir, wordcount.GenerateLines(30000, 11))
	ledger, outDir := filepath.Join(dir, "ledger"), filepath.Join(dir, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"submit", "wordcount", "--addr", procs[1].api, "--name", "wc",
		"--set", "wordcount.input=" + input, "--set", "wordcount.ledger=" + ledger, "--set", "wordcount.output=" + outDir,
		"--set", "topology.message.timeout.secs=5", "--set", "topology.max.spout.pending=20"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("submit: exit %d: %s", code, stderr.String())
	}
	if want := "submitted wc (wordcount)\n"; stdout.String() != want {
		t.Errorf("submit printed %q, want %q", stdout.String(), want)
	}
	poll.Until(t, 60*time.Second, "a fifth of the words counted", func() bool {
		seen, _ := readLedgers(t, ledger, want)
		return len(seen) > len(want)/5
	})
	procs[2].kill()
	killed := time.Now()
	var rescheduled time.Duration
	poll.Until(t, 60*time.Second, "survivors running every task", func() bool {
		ms := members(procs[0].api)
		if ms == nil || ms["n3"].Status != "dead" {
			return false
		}
		a, b := localTasks(procs[0].api), localTasks(procs[1].api)
		if a+b == ms["n1"].Tasks+ms["n2"].Tasks && a > 0 && b > 0 {
			rescheduled = time.Since(killed)
			return true
		}
		return false
	})
	poll.Until(t, 180*time.Second, "every word of every line counted", func() bool {
		seen, _ := readLedgers(t, ledger, want)
		return len(seen) == len(want)
	})
	complete := time.Since(killed)
	dups := checkLedgers(t, ledger, want)
	t.Logf("SIGKILL of n3: tasks running on survivors after %v; every (line, position) counted %v after the kill; %d words, %d duplicate counts",
		rescheduled.Round(time.Millisecond), complete.Round(time.Millisecond), len(want), dups)

	// n3 comes back under its name and gets tasks again.
	c.start(2)
	poll.Until(t, 60*time.Second, "n3 alive with tasks", func() bool {
		ms := members(procs[0].api)
		return ms != nil && ms["n3"].Status == "alive" && localTasks(procs[2].api) > 0
	})

	// Kill with --wait: every count task writes its counts.
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"kill", "wc", "--addr", procs[0].api, "--wait", "20s"}, &stdout, &stderr); code != 0 {
		t.Fatalf("kill: exit %d: %s", code, stderr.String())
	}
	poll.Until(t, 30*time.Second, "every count task wrote its counts", func() bool {
		files, _ := filepath.Glob(filepath.Join(outDir, "counts-*.tsv"))
		return len(files) >= 2
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
