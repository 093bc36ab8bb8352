package linelimit

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// record is a Sink that writes what it gets as "L:line", "L:line|cut=N"
// and "D:N".
type record struct{ got []string }

func (r *record) Line(line []byte, cut int) {
	if cut > 0 {
		r.got = append(r.got, fmt.Sprintf("L:%s|cut=%d", line, cut))
		return
	}
	r.got = append(r.got, "L:"+string(line))
}

func (r *record) Dropped(n uint64) { r.got = append(r.got, fmt.Sprintf("D:%d", n)) }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// step is one thing a table does to the Writer.
type step struct {
	advance time.Duration
	write   string // Write
	line    string // WriteLine, when isLine
	isLine  bool
	flush   bool
	close   bool
}

func w(s string) step                 { return step{write: s} }
func wl(s string) step                { return step{line: s, isLine: true} }
func after(d time.Duration) step      { return step{advance: d} }
func lines(n int, prefix string) step { return w(strings.Repeat(prefix+"\n", n)) }

func TestWriter(t *testing.T) {
	small := Config{MaxLine: 8, LinesPerSecond: 2, Burst: 3}
	for _, tc := range []struct {
		name    string
		cfg     Config
		steps   []step
		want    []string
		dropped uint64
	}{
		{"whole lines", small, []step{w("a\nb\n")}, []string{"L:a", "L:b"}, 0},
		{"a line in pieces", small, []step{w("ab"), w("c"), w("d\n")}, []string{"L:abcd"}, 0},
		{"CRLF", small, []step{w("a\r\n")}, []string{"L:a"}, 0},
		{"empty lines count", small, []step{w("\n\n")}, []string{"L:", "L:"}, 0},
		{"a long line is cut", small, []step{w("0123456789abc\n")}, []string{"L:01234567|cut=5"}, 0},
		{"a long line in pieces is cut", small, []step{w("01234"), w("56789"), w("abc\nz\n")}, []string{"L:01234567|cut=5", "L:z"}, 0},
		{"a partial line waits for its newline", small, []step{w("abc")}, nil, 0},
		{"flush ends a partial line", small, []step{w("abc"), {flush: true}, {flush: true}}, []string{"L:abc"}, 0},
		{"close ends a partial line", small, []step{w("abc"), {close: true}}, []string{"L:abc"}, 0},
		{"burst then drop", small, []step{lines(5, "x")}, []string{"L:x", "L:x", "L:x"}, 2},
		{"drops are reported before the next line that passes", small,
			[]step{lines(5, "x"), after(500 * time.Millisecond), w("y\n")},
			[]string{"L:x", "L:x", "L:x", "D:2", "L:y"}, 2},
		{"half a token is not a line", small,
			[]step{lines(3, "x"), after(250 * time.Millisecond), w("y\n"), after(250 * time.Millisecond), w("z\n")},
			[]string{"L:x", "L:x", "L:x", "D:1", "L:z"}, 1},
		{"the bucket refills to Burst, no more", small,
			[]step{lines(3, "x"), after(time.Hour), lines(5, "y")},
			[]string{"L:x", "L:x", "L:x", "L:y", "L:y", "L:y"}, 2},
		{"sustained rate", small,
			[]step{lines(3, "b"), after(time.Second), lines(4, "x"), after(time.Second), lines(4, "y")},
			[]string{"L:b", "L:b", "L:b", "L:x", "L:x", "D:2", "L:y", "L:y"}, 4},
		{"close reports the last drops", small, []step{lines(4, "x"), {close: true}}, []string{"L:x", "L:x", "L:x", "D:1"}, 1},
		{"nothing after close", small, []step{{close: true}, w("a\n"), wl("b"), {flush: true}, {close: true}}, nil, 0},
		{"WriteLine", small, []step{wl("log msg"), wl("0123456789")}, []string{"L:log msg", "L:01234567|cut=2"}, 0},
		{"WriteLine ends a partial stderr line first", small, []step{w("par"), wl("log"), w("t\n")}, []string{"L:par", "L:log", "L:t"}, 0},
		{"WriteLine is rate limited with the rest", small, []step{lines(3, "x"), wl("log"), after(time.Second), wl("log2")}, []string{"L:x", "L:x", "L:x", "D:1", "L:log2"}, 1},
		{"a clock going back refills nothing", small, []step{lines(3, "x"), after(-time.Hour), w("y\n")}, []string{"L:x", "L:x", "L:x"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
			cfg := tc.cfg
			cfg.Now = clk.now
			var rec record
			lw, err := New(&rec, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.steps {
				clk.t = clk.t.Add(s.advance)
				switch {
				case s.write != "":
					if n, err := lw.Write([]byte(s.write)); n != len(s.write) || err != nil {
						t.Fatalf("Write = %d, %v", n, err)
					}
				case s.isLine:
					lw.WriteLine([]byte(s.line))
				case s.flush:
					lw.Flush()
				case s.close:
					if err := lw.Close(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !slices.Equal(rec.got, tc.want) {
				t.Errorf("sink got %q\nwant     %q", rec.got, tc.want)
			}
			if d := lw.Dropped(); d != tc.dropped {
				t.Errorf("Dropped() = %d, want %d", d, tc.dropped)
			}
		})
	}
}

// TestFloodStaysBounded: a 64 MiB stderr flood of long lines, in one
// second of fake time, reaches the sink as at most Burst+rate lines of at
// most MaxLine bytes, and the Writer's buffer stays at MaxLine.
func TestFloodStaysBounded(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	cfg := DefaultConfig()
	cfg.Now = clk.now
	var out, lines int
	lw, err := New(sinkFunc(func(line []byte, _ int) { out += len(line); lines++ }), cfg)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte(strings.Repeat("y", 10<<10)+"\n"), 64) // 640 KiB
	var in int
	for i := range 100 {
		clk.t = time.Unix(0, 0).Add(time.Duration(i) * 10 * time.Millisecond)
		n, _ := lw.Write(chunk)
		in += n
	}
	if max := cfg.Burst + int(cfg.LinesPerSecond); lines > max {
		t.Errorf("%d lines reached the sink, want at most %d", lines, max)
	}
	if out > lines*cfg.MaxLine {
		t.Errorf("%d bytes reached the sink in %d lines of at most %d", out, lines, cfg.MaxLine)
	}
	if cap(lw.buf) > cfg.MaxLine {
		t.Errorf("buffer grew to %d bytes, want at most MaxLine %d", cap(lw.buf), cfg.MaxLine)
	}
	if want := uint64(in/len(chunk)*64 - lines); lw.Dropped() != want {
		t.Errorf("Dropped() = %d, want %d", lw.Dropped(), want)
	}
}

type sinkFunc func(line []byte, cut int)

func (f sinkFunc) Line(line []byte, cut int) { f(line, cut) }
func (f sinkFunc) Dropped(uint64)            {}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []Config{
		{MaxLine: 0, LinesPerSecond: 1, Burst: 1},
		{MaxLine: 1, LinesPerSecond: 0, Burst: 1},
		{MaxLine: 1, LinesPerSecond: -1, Burst: 1},
		{MaxLine: 1, LinesPerSecond: 1, Burst: 0},
	} {
		if _, err := New(&record{}, c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): err %v, want ErrConfig", c, err)
		}
	}
	if _, err := New(&record{}, DefaultConfig()); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
}

func TestSlogSink(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := SlogSink(log.With("task", 3), slog.LevelInfo, "stderr")
	s.Line([]byte("hello"), 0)
	s.Line([]byte("long"), 7)
	s.Dropped(42)
	got := buf.String()
	for _, want := range []string{
		`level=INFO msg=stderr task=3 line=hello`,
		`line=long cut_bytes=7`,
		`level=WARN msg="log lines dropped" task=3 dropped=42`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q lacks %q", got, want)
		}
	}
}
