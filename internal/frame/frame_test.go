package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestHello(t *testing.T) {
	good := AppendHello(nil, Hello{Version: Version})
	if len(good) != HelloSize || string(good[:4]) != Magic {
		t.Fatalf("hello % x", good)
	}
	var buf bytes.Buffer
	if err := WriteHello(&buf, Hello{Version: Version}); err != nil || !bytes.Equal(buf.Bytes(), good) {
		t.Fatalf("WriteHello wrote % x, %v", buf.Bytes(), err)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error // nil: accepted
	}{
		{"this version", good, nil},
		{"random bytes", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00}, ErrNotSquall},
		{"an HTTP request", []byte("GET / HTTP/1.1\r\n"), ErrNotSquall},
		{"reserved bits set", append([]byte(Magic), 0, 1, 0, 1), ErrNotSquall},
		{"a newer version", AppendHello(nil, Hello{Version: Version + 1}), ErrVersion},
		{"version 0", AppendHello(nil, Hello{Version: 0}), ErrVersion},
		{"short", []byte(Magic), io.ErrUnexpectedEOF},
		{"nothing", nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ReadHello(bytes.NewReader(tc.in))
			if tc.want == nil {
				if err != nil || h.Version != Version {
					t.Fatalf("ReadHello = %+v, %v", h, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func header(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

func frames(t *testing.T, payloads ...[]byte) []byte {
	t.Helper()
	var b []byte
	for _, p := range payloads {
		var err error
		if b, err = AppendFrame(b, p, 1<<30); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func newReader(t *testing.T, r io.Reader, cfg ReaderConfig) *Reader {
	t.Helper()
	fr, err := NewReader(r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

func small() ReaderConfig {
	cfg := DefaultReaderConfig()
	cfg.MaxFrame, cfg.InitialBuffer, cfg.KeepBuffer = 1<<20, 16, 256
	cfg.IdleTimeout, cfg.FrameTimeout = 0, 0
	return cfg
}

func TestReaderRoundTrip(t *testing.T) {
	sizes := []int{1, 15, 16, 17, 100, 1000, 65537, 1 << 20}
	var payloads [][]byte
	for i, n := range sizes {
		payloads = append(payloads, bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	fr := newReader(t, bytes.NewReader(frames(t, payloads...)), small())
	for i, want := range payloads {
		got, err := fr.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %d bytes, want %d of %q", i, len(got), len(want), want[0])
		}
	}
	if _, err := fr.Next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestReaderRejects(t *testing.T) {
	cfg := small()
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty frame", header(0), ErrFrameSize},
		{"over MaxFrame", header(1<<20 + 1), ErrFrameSize},
		{"4 GiB header", header(1<<32 - 1), ErrFrameSize},
		{"short header", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"payload cut short", append(header(100), make([]byte, 50)...), io.ErrUnexpectedEOF},
		{"clean end", nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newReader(t, bytes.NewReader(tc.in), cfg).Next()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	for _, bad := range []ReaderConfig{
		{MaxFrame: 0, InitialBuffer: 1},
		{MaxFrame: 1 << 31, InitialBuffer: 1},
		{MaxFrame: 1, InitialBuffer: 0},
		{MaxFrame: 1, InitialBuffer: 1, KeepBuffer: -1},
		{MaxFrame: 1, InitialBuffer: 1, IdleTimeout: -1},
	} {
		if _, err := NewReader(bytes.NewReader(nil), bad); err == nil {
			t.Errorf("NewReader accepted %+v", bad)
		}
	}
	if _, err := AppendFrame(nil, nil, 10); !errors.Is(err, ErrFrameSize) {
		t.Errorf("AppendFrame(empty): %v", err)
	}
	if _, err := AppendFrame(nil, make([]byte, 11), 10); !errors.Is(err, ErrFrameSize) {
		t.Errorf("AppendFrame(over): %v", err)
	}
}

// TestHeaderAloneAllocatesLittle is the attack: a header announcing
// 64 MiB and then a trickle. The buffer follows the bytes received.
func TestHeaderAloneAllocatesLittle(t *testing.T) {
	cfg := DefaultReaderConfig()
	cfg.MaxFrame, cfg.IdleTimeout, cfg.FrameTimeout = 64<<20, 0, 0
	for _, sent := range []int{0, 10, 64 << 10, 100 << 10, 1 << 20} {
		fr := newReader(t, bytes.NewReader(append(header(64<<20), make([]byte, sent)...)), cfg)
		if _, err := fr.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("sent %d: err %v", sent, err)
		}
		if limit := max(cfg.InitialBuffer, 2*sent); fr.Buffered() > limit {
			t.Errorf("sent %d of 64 MiB: buffer of %d bytes, want at most %d", sent, fr.Buffered(), limit)
		}
	}
}

func TestBudget(t *testing.T) {
	b := NewBudget(100)
	for _, tc := range []struct {
		op   string
		n    int64
		ok   bool
		used int64
	}{
		{"reserve", 60, true, 60},
		{"reserve", 41, false, 60},
		{"reserve", 40, true, 100},
		{"reserve", 0, true, 100},
		{"reserve", 1, false, 100},
		{"release", 100, true, 0},
		{"reserve", -1, false, 0},
		{"reserve", 101, false, 0},
	} {
		switch tc.op {
		case "reserve":
			if ok := b.TryReserve(tc.n); ok != tc.ok {
				t.Fatalf("TryReserve(%d) = %v, want %v", tc.n, ok, tc.ok)
			}
		case "release":
			b.Release(tc.n)
		}
		if b.Used() != tc.used {
			t.Fatalf("after %s %d: used %d, want %d", tc.op, tc.n, b.Used(), tc.used)
		}
	}
}

// TestReaderBudget: connections of one peer share its budget; a frame
// that does not fit fails, and memory comes back after big frames and at
// Close.
func TestReaderBudget(t *testing.T) {
	budget := NewBudget(3000)
	cfg := small()
	cfg.Budget = budget
	big := bytes.Repeat([]byte("b"), 2000)
	a := newReader(t, bytes.NewReader(frames(t, big, []byte("x"))), cfg)
	if _, err := a.Next(); err != nil {
		t.Fatal(err)
	}
	if budget.Used() != int64(a.Buffered()) || budget.Used() < 2000 {
		t.Fatalf("budget used %d, buffer %d", budget.Used(), a.Buffered())
	}
	// A second connection of the same peer cannot take as much again.
	b := newReader(t, bytes.NewReader(frames(t, big)), cfg)
	if _, err := b.Next(); !errors.Is(err, ErrBudget) {
		t.Fatalf("second big frame: err %v, want ErrBudget", err)
	}
	b.Close()
	// The big buffer is over KeepBuffer: reading on releases it.
	if got, err := a.Next(); err != nil || string(got) != "x" {
		t.Fatalf("%q, %v", got, err)
	}
	if budget.Used() > int64(cfg.InitialBuffer) {
		t.Errorf("after a small frame the budget still holds %d bytes", budget.Used())
	}
	a.Close()
	a.Close()
	if budget.Used() != 0 {
		t.Errorf("after Close the budget holds %d bytes", budget.Used())
	}
}

// pipe is a connection pair with deadlines, closed at the end of the test.
func pipe(t *testing.T) (client, server net.Conn) {
	t.Helper()
	c, s := net.Pipe()
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func TestReaderTimeouts(t *testing.T) {
	cfg := small()
	cfg.IdleTimeout, cfg.FrameTimeout = 50*time.Millisecond, 50*time.Millisecond

	t.Run("idle connection", func(t *testing.T) {
		_, s := pipe(t)
		start := time.Now()
		if _, err := newReader(t, s, cfg).Next(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("err %v, want a deadline", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Error("the idle timeout took far too long")
		}
	})
	t.Run("half-sent frame", func(t *testing.T) {
		c, s := pipe(t)
		wrote := make(chan error, 1)
		go func() {
			_, err := c.Write(append(header(1000), make([]byte, 10)...))
			wrote <- err
		}()
		if _, err := newReader(t, s, cfg).Next(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("err %v, want a deadline", err)
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a frame in time passes", func(t *testing.T) {
		c, s := pipe(t)
		wrote := make(chan error, 1)
		go func() {
			_, err := c.Write(frames(t, []byte("hello")))
			wrote <- err
		}()
		got, err := newReader(t, s, cfg).Next()
		if err != nil || string(got) != "hello" {
			t.Fatalf("%q, %v", got, err)
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
	})
}

func TestSeq(t *testing.T) {
	var s SeqSender
	if a, b := s.Next(), s.Next(); a != 1 || b != 2 {
		t.Fatalf("sender numbers %d, %d; want 1, 2", a, b)
	}
	var r SeqReceiver
	for _, tc := range []struct {
		seq  uint64
		lost uint64
		ok   bool
	}{
		{0, 0, false}, // no sender uses 0
		{1, 0, true},
		{2, 0, true},
		{5, 2, true}, // 3 and 4 were lost
		{4, 0, false},
		{5, 0, false}, // a duplicate
		{6, 0, true},
		{1<<64 - 1, 1<<64 - 1 - 6 - 1, true},
		{1<<64 - 1, 0, false},
	} {
		lost, ok := r.Observe(tc.seq)
		if lost != tc.lost || ok != tc.ok {
			t.Fatalf("Observe(%d) = %d, %v; want %d, %v", tc.seq, lost, ok, tc.lost, tc.ok)
		}
	}
	if r.Last() != 1<<64-1 {
		t.Errorf("Last() = %d", r.Last())
	}
}

func FuzzReader(f *testing.F) {
	f.Add(append(append(header(1), 'a'), append(header(2), "bc"...)...))
	f.Add(header(0))
	f.Add(header(1 << 31))
	f.Add(append(header(100), 1, 2, 3))
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg := small()
		cfg.Budget = NewBudget(1 << 20)
		fr := newReader(t, bytes.NewReader(in), cfg)
		for {
			p, err := fr.Next()
			if err != nil {
				break
			}
			if len(p) == 0 || len(p) > cfg.MaxFrame {
				t.Fatalf("frame of %d bytes", len(p))
			}
		}
		if fr.Buffered() > max(cfg.InitialBuffer, 2*len(in)) {
			t.Fatalf("buffer of %d bytes for %d bytes of input", fr.Buffered(), len(in))
		}
		fr.Close()
		if cfg.Budget.Used() != 0 {
			t.Fatalf("budget holds %d after Close", cfg.Budget.Used())
		}
	})
}

func FuzzReadHello(f *testing.F) {
	f.Add(AppendHello(nil, Hello{Version: Version}))
	f.Add([]byte("GET / HTTP/1.1"))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := ReadHello(bytes.NewReader(in))
		if err == nil && (h.Version < MinVersion || h.Version > Version || string(in[:4]) != Magic) {
			t.Fatalf("accepted %+v from % x", h, in)
		}
	})
}
