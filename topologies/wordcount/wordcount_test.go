package wordcount_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWords(t *testing.T) {
	cases := []struct {
		line string
		want []string
	}{
		{"Hello, World!", []string{"hello", "world"}},
		{"naïve CAFÉ x2y 42", []string{"naïve", "café", "x2y", "42"}},
		{"  --  ", nil},
		{"don't stop", []string{"don", "t", "stop"}},
		{"Straße_ÆON", []string{"straße", "æon"}},
	}
	for _, c := range cases {
		got := wordcount.Words(c.line)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Words(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

// trueCounts counts words the plain way.
func trueCounts(lines []string) map[string]int64 {
	m := map[string]int64{}
	for _, l := range lines {
		for _, w := range wordcount.Words(l) {
			m[w]++
		}
	}
	return m
}

func runJob(t *testing.T, lines []string, conf topology.Config) *wordcount.Job {
	t.Helper()
	job := wordcount.NewJob(lines)
	topo, err := wordcount.Build(job, conf)
	if err != nil {
		t.Fatal(err)
	}
	c, err := local.Start(context.Background(), topo)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-job.Done():
	case <-time.After(60 * time.Second):
		t.Errorf("not done after 60 s: %+v", job.Progress())
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return job
}

func TestCountsAreExactWithoutFailures(t *testing.T) {
	lines := wordcount.GenerateLines(20000, 3)
	job := runJob(t, lines, nil)
	want := trueCounts(lines)
	got := job.Counts()
	if len(got) != len(want) {
		t.Fatalf("%d distinct words, want %d", len(got), len(want))
	}
	for w, n := range want {
		if got[w] != n {
			t.Errorf("count[%q] = %d, want %d", w, got[w], n)
		}
	}
	p := job.Progress()
	if p.Acked != int64(len(lines)) || p.Failed != 0 || p.Replayed != 0 {
		t.Errorf("progress %+v", p)
	}
}

func TestEveryLineIsAckedDespiteFailures(t *testing.T) {
	lines := wordcount.GenerateLines(5000, 4)
	job := runJob(t, lines, topology.Config{wordcount.KeyFailRate: 0.1})
	p := job.Progress()
	if p.Acked != int64(len(lines)) {
		t.Fatalf("acked %d of %d lines", p.Acked, len(lines))
	}
	if p.Failed == 0 || p.Replayed != p.Failed {
		t.Errorf("failed %d, replayed %d: want failures, each replayed", p.Failed, p.Replayed)
	}
	got := job.Counts()
	for w, n := range trueCounts(lines) {
		if got[w] < n {
			t.Errorf("count[%q] = %d, below the true %d", w, got[w], n)
		}
	}
}

func TestWriteCountsSortedByWord(t *testing.T) {
	var b bytes.Buffer
	if err := wordcount.WriteCounts(&b, map[string]int64{"b": 2, "a": 1, "é": 3}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "a\t1\nb\t2\né\t3\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestBuildRejectsBadFailRate(t *testing.T) {
	for _, v := range []any{"x", 1.5, -0.1} {
		if _, err := wordcount.Build(wordcount.NewJob(nil), topology.Config{wordcount.KeyFailRate: v}); err == nil || !strings.Contains(err.Error(), wordcount.KeyFailRate) {
			t.Errorf("fail-rate %v: err = %v, want one naming %s", v, err, wordcount.KeyFailRate)
		}
	}
}

type ackingCollector struct{ topology.OutputCollector }

func (ackingCollector) Ack(topology.Tuple) {}

// A count task that stops in a rebalance and starts again later adds its
// new counts to the file it wrote before instead of overwriting it.
func TestCountBoltAddsToItsCountsFile(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		b := &wordcount.CountBolt{OutputDir: dir}
		if err := b.Prepare(context.Background(), &topology.Context{Task: 3}, ackingCollector{}); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"a", "b", "a"} {
			b.Execute(topology.NewTuple("split", 1, topology.DefaultStream, topology.Fields{"word", "line_no", "pos", "tag"}, topology.Values{w, int64(0), int64(0), int64(0)}))
		}
		if err := b.Cleanup(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "counts-3.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "a\t4\nb\t2\n" {
		t.Errorf("counts-3.tsv = %q, want a 4, b 2", got)
	}
}

func TestReadLedgers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ledger-1.tsv", "0\t0\tthe\n0\t1\tcat\n")
	write("ledger-2.tsv", "1\t0\tsat\n1\t1") // the last line cut mid-write
	write("other.tsv", "not\ta ledger\n")
	entries, torn, err := wordcount.ReadLedgers(dir)
	if err != nil || torn != 1 || len(entries) != 3 || entries[1] != (wordcount.LedgerEntry{Line: 0, Pos: 1, Word: "cat"}) || entries[2].Word != "sat" {
		t.Fatalf("entries %v, torn %d, err %v", entries, torn, err)
	}
	write("ledger-3.tsv", "1\tx\tsat\n2\t0\ton\n") // malformed, and not the last line
	if _, _, err := wordcount.ReadLedgers(dir); err == nil || !strings.Contains(err.Error(), "ledger-3.tsv") {
		t.Errorf("malformed middle line: err %v, want one naming ledger-3.tsv", err)
	}
}
