package linelimit

import (
	"testing"
	"time"
)

// FuzzWriter: whatever a subprocess writes, in whatever pieces, no line
// reaching the sink is longer than MaxLine nor holds a newline, and the
// buffer never grows past MaxLine.
func FuzzWriter(f *testing.F) {
	f.Add([]byte("a\nb\n"), uint8(1))
	f.Add([]byte("0123456789abcdef\r\n\n"), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, piece uint8) {
		clk := time.Unix(0, 0)
		cfg := Config{MaxLine: 8, LinesPerSecond: 1000, Burst: 4, Now: func() time.Time { return clk }}
		var bad []byte
		lw, err := New(sinkFunc(func(line []byte, _ int) {
			for _, c := range line {
				if c == '\n' {
					bad = append([]byte(nil), line...)
				}
			}
			if len(line) > cfg.MaxLine {
				bad = append([]byte(nil), line...)
			}
		}), cfg)
		if err != nil {
			t.Fatal(err)
		}
		step := int(piece)%7 + 1
		for len(in) > 0 {
			n := min(step, len(in))
			_, _ = lw.Write(in[:n])
			in = in[n:]
			clk = clk.Add(time.Millisecond)
			if cap(lw.buf) > cfg.MaxLine {
				t.Fatalf("buffer grew to %d", cap(lw.buf))
			}
		}
		_ = lw.Close()
		if bad != nil {
			t.Fatalf("sink got %q", bad)
		}
	})
}
