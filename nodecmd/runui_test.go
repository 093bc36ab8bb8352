package nodecmd_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
)

// TestRunWithHTTPServesTheAPIWhileRunning: `node run wordcount --http`
// serves Storm's REST API and the UI while the topology runs, prints a
// live line, and on Ctrl-C (ctx) drains and reports as without --http.
func TestRunWithHTTPServesTheAPIWhileRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stdout bytes.Buffer
	done := make(chan int, 1)
	go func() {
		// Generated text, far more than the test lets it count.
		done <- run(ctx, []string{"run", "wordcount", "--http", "127.0.0.1:0", "--set", "wordcount.lines=500000"}, &stdout, pw)
		pw.Close()
	}()
	var stderr strings.Builder
	urlRE := regexp.MustCompile(`squall UI: (http://[0-9.:]+)/`)
	sc := bufio.NewScanner(pr)
	var base string
	for base == "" && sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no UI address on stderr:\n%s", stderr.String())
	}
	rest := make(chan []string, 1)
	go func() { // keep reading so the live line never blocks the run
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		rest <- lines
	}()
	var page struct {
		Status string
		Spouts []struct {
			SpoutID string `json:"spoutId"`
			Acked   int64
		}
	}
	poll.Until(t, 30*time.Second, "the spout acks trees, read through the REST API", func() bool {
		resp, err := http.Get(base + "/api/v1/topology/wordcount")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&page) != nil {
			return false
		}
		return page.Status == "ACTIVE" && len(page.Spouts) == 1 && page.Spouts[0].Acked > 1000
	})
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var p struct{ Lines, Acked, Failed int }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &p); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if p.Acked < int(page.Spouts[0].Acked) || p.Failed != 0 {
		t.Errorf("progress %+v after the API saw %d acked", p, page.Spouts[0].Acked)
	}
	// stderr is not a terminal: the live line is printed whole, at least
	// once at the end, with what the spouts acked.
	liveRE := regexp.MustCompile(`^\[\d+s\] wordcount: [0-9.kM]+ trees/s \| spouts emitted [0-9.kM]+ acked ([0-9.kM]+) failed 0 \| bolts executed [0-9.kM]+ \| in flight \d+ \| errors 0$`)
	var live []string
	for _, l := range <-rest {
		if liveRE.MatchString(l) {
			live = append(live, l)
		}
	}
	if len(live) == 0 || liveRE.FindStringSubmatch(live[len(live)-1])[1] == "0" {
		t.Errorf("no final live line with trees acked on stderr (got %q)", live)
	}
}

// TestRunWithHTTPCountsLikeLocalMode: the same input counts the same with
// and without --http (the UI runs the topology on a one-node cluster).
func TestRunWithHTTPCountsLikeLocalMode(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte(strings.Repeat("the cat sat on the mat\n", 500)), 0o644); err != nil {
		t.Fatal(err)
	}
	counts := map[string]string{}
	for _, extra := range [][]string{nil, {"--http", "127.0.0.1:0"}} {
		out := filepath.Join(dir, "out"+strings.Join(extra, ""))
		args := append([]string{"run", "wordcount", "--set", "wordcount.input=" + in, "--set", "wordcount.output=" + out}, extra...)
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		counts[strings.Join(extra, " ")] = string(b)
	}
	if want := "cat\t500\nmat\t500\non\t500\nsat\t500\nthe\t1000\n"; counts[""] != want || counts["--http 127.0.0.1:0"] != want {
		t.Errorf("counts = %q, want %q both ways", counts, want)
	}
}
