package nodecmd

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRateMeter: the live line's rate never goes negative and keeps the
// unit it chose once something moved.
func TestRateMeter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type obs struct {
		at   time.Duration // since t0
		c    liveCounts
		want string
	}
	for _, tc := range []struct {
		name string
		obs  []obs
	}{
		{"tracked trees", []obs{
			{time.Second, liveCounts{emitted: 1500, acked: 1000, pending: 500}, "1000 trees/s"},
			{2 * time.Second, liveCounts{emitted: 4000, acked: 3000, pending: 1000}, "2000 trees/s"},
		}},
		{"untracked tuples: executed by bolts", []obs{
			{time.Second, liveCounts{emitted: 100, executed: 300}, "300 tuples/s"},
			{2 * time.Second, liveCounts{emitted: 200, executed: 600}, "300 tuples/s"},
		}},
		// Bolts executed before the first tree was acked: the pending trees
		// say the tuples are tracked, so the unit is trees/s from the start
		// (it used to read tuples/s, then trees/s, with a negative rate in
		// between: acked minus executed).
		{"bolts executing before the first ack", []obs{
			{time.Second, liveCounts{emitted: 1000, executed: 5000, pending: 1000}, "0 trees/s"},
			{2 * time.Second, liveCounts{emitted: 3000, acked: 2000, executed: 15000, pending: 1000}, "2000 trees/s"},
			{3 * time.Second, liveCounts{emitted: 3000, acked: 2000, executed: 15000}, "0 trees/s"},
		}},
		{"nothing yet, then tuples", []obs{
			{time.Second, liveCounts{}, "no tuples yet"},
			{2 * time.Second, liveCounts{emitted: 10}, "no tuples yet"},
			{3 * time.Second, liveCounts{emitted: 40, executed: 40}, "40 tuples/s"},
			{4 * time.Second, liveCounts{emitted: 80, executed: 80, acked: 5}, "40 tuples/s"}, // the unit stays
		}},
		// Tasks that stop on a rebalance take their counts with them.
		{"totals drop: no negative rate", []obs{
			{time.Second, liveCounts{acked: 50_000}, "50.0k trees/s"},
			{2 * time.Second, liveCounts{acked: 20_000}, "0 trees/s"},
			{3 * time.Second, liveCounts{acked: 21_000}, "1000 trees/s"},
		}},
		{"a final line just after a periodic one repeats its rate", []obs{
			{time.Second, liveCounts{acked: 2_000_000}, "2.00M trees/s"},
			{time.Second + 10*time.Millisecond, liveCounts{acked: 2_000_100}, "2.00M trees/s"},
		}},
		{"a run shorter than the interval is measured", []obs{
			{90 * time.Millisecond, liveCounts{acked: 9000}, "100.0k trees/s"},
		}},
	} {
		m := rateMeter{last: t0}
		for i, o := range tc.obs {
			if got := m.observe(t0.Add(o.at), o.c); got != o.want {
				t.Errorf("%s: observation %d: %q, want %q", tc.name, i, got, o.want)
			}
		}
	}
}

// TestFormatLive: the line users' scripts read, exactly.
func TestFormatLive(t *testing.T) {
	got := formatLive(11*time.Second+400*time.Millisecond, "wikiedits", "999 trees/s",
		liveCounts{emitted: 11_100, acked: 11_100, executed: 44_300, inFlight: 0, errors: 0})
	if want := "[11s] wikiedits: 999 trees/s | spouts emitted 11.1k acked 11.1k failed 0 | bolts executed 44.3k | in flight 0 | errors 0"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestConsole: on a terminal the live line is rewritten in place and a log
// line written meanwhile lands above it, the line drawn again below;
// elsewhere each line is a line of its own.
func TestConsole(t *testing.T) {
	var b bytes.Buffer
	c := &console{w: &b, terminal: true}
	c.Write([]byte("before\n"))
	c.show("[1s] a")
	c.show("[2s] b")
	c.Write([]byte("level=WARN msg=x\n"))
	c.end()
	c.Write([]byte("after\n"))
	if want := "before\n\r\033[K[1s] a\r\033[K[2s] b\r\033[Klevel=WARN msg=x\n[2s] b\nafter\n"; b.String() != want {
		t.Errorf("terminal: %q, want %q", b.String(), want)
	}
	b.Reset()
	c = &console{w: &b}
	c.show("[1s] a")
	c.Write([]byte("level=WARN msg=x\n"))
	c.show("[11s] b")
	c.end()
	if want := "[1s] a\nlevel=WARN msg=x\n[11s] b\n"; b.String() != want || strings.Contains(b.String(), "\r") {
		t.Errorf("not a terminal: %q, want %q", b.String(), want)
	}
}
