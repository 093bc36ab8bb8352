package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// inbox records what a transport delivers, by topology.
type inbox struct {
	mu  sync.Mutex
	got map[string]int
}

func (b *inbox) deliver(m wire.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.got == nil {
		b.got = map[string]int{}
	}
	b.got[m.To.Topology]++
}

func (b *inbox) count(topology string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.got[topology]
}

func msg(topology string) wire.Message {
	return wire.Message{To: wire.TaskAddr{Topology: topology, Boot: "b", Task: 1}, Payload: &messages.TupleBatch{}}
}

// start listens with DefaultConfig adjusted by adjust; closed when the test ends.
func start(t testing.TB, deliver func(wire.Message), adjust func(*Config)) *Transport {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Deliver = func(m wire.Message, _ *Source) { deliver(m) }
	if adjust != nil {
		adjust(&cfg)
	}
	tr, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// hello is the handshake of a tuple connection from a sender listening
// at addr, in session.
func hello(addr string, session uint64) []byte {
	b := binary.BigEndian.AppendUint64([]byte{PrefaceTuples, Version}, session)
	return append(append(b, byte(len(addr))), addr...)
}

// dialRaw opens a connection to tr and writes b.
func dialRaw(t *testing.T, tr *Transport, b []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", tr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	return c
}

// closedWithin reports whether the other end closes c within d (a read
// returns EOF or a reset rather than timing out).
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// header is a frame header announcing n bytes, numbered 1.
func header(n int) []byte { return headerSeq(n, 1) }

func headerSeq(n int, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, uint32(n)), seq)
}

// TestTransportForgetsPeers: a forgotten peer's writer closes its
// connection and exits, sends to it are refused, and a new peer for the
// same address works.
func TestTransportForgetsPeers(t *testing.T) {
	var got inbox
	recv := start(t, got.deliver, nil)
	send := start(t, func(wire.Message) {}, nil)

	old := send.Peer(recv.Addr())
	if !send.Send(old, msg("a")) {
		t.Fatal("send to a new peer refused")
	}
	poll.Until(t, 10*time.Second, "frame a delivered", func() bool { return got.count("a") == 1 })
	if send.PeerCount() != 1 || recv.Inbound() != 1 {
		t.Fatalf("%d peers, %d inbound connections; want 1 and 1", send.PeerCount(), recv.Inbound())
	}

	send.Retain(map[string]bool{"127.0.0.1:1": true}) // not recv's address
	if send.PeerCount() != 0 {
		t.Fatalf("%d peers after retain, want 0", send.PeerCount())
	}
	poll.Until(t, 10*time.Second, "the forgotten peer's connection closed", func() bool { return recv.Inbound() == 0 })
	dropped := send.Dropped.Load()
	if send.Send(old, msg("b")) || send.Dropped.Load() != dropped+1 {
		t.Fatal("send to a forgotten peer accepted or not counted as dropped")
	}

	fresh := send.Peer(recv.Addr())
	if fresh == old || !send.Send(fresh, msg("c")) {
		t.Fatal("no working new peer for the same address")
	}
	poll.Until(t, 10*time.Second, "frame c delivered", func() bool { return got.count("c") == 1 })
	if got.count("b") != 0 {
		t.Fatal("a frame sent to the forgotten peer was delivered")
	}
}

// TestReadFrameAllocatesAsBytesArrive: a header announcing a huge frame
// that sends a few bytes costs a few bytes; one above the limit is refused
// before its body is read.
func TestReadFrameAllocatesAsBytesArrive(t *testing.T) {
	const announced = 60 << 20
	in := append(header(announced), make([]byte, 100)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	buf, _, err := readFrame(bytes.NewReader(in), nil, 64<<20, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errTruncated) {
		t.Fatalf("err = %v, want errTruncated", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("a 100-byte frame announcing %d bytes allocated %d bytes", announced, alloc)
	}
	if len(buf) != 100 {
		t.Fatalf("read %d bytes of the body, want 100", len(buf))
	}

	r := bytes.NewReader(append(header(1001), make([]byte, 1001)...))
	if _, _, err := readFrame(r, nil, 1000, nil); !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("a frame above the limit: %v, want ErrMalformed", err)
	}
	if r.Len() != 1001 {
		t.Fatalf("the body of a frame above the limit was read (%d bytes left)", r.Len())
	}
	if _, _, err := readFrame(bytes.NewReader(header(0)), nil, 1000, nil); !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("an empty frame: %v, want ErrMalformed", err)
	}
	if _, _, err := readFrame(bytes.NewReader(nil), nil, 1000, nil); !errors.Is(err, io.EOF) {
		t.Fatalf("no frame at all: %v, want io.EOF", err)
	}

	// Frames read back to back reuse and grow the buffer.
	f1, _ := wire.AppendFrame(nil, msg("one"), 1000)
	f2, _ := wire.AppendFrame(nil, msg("two-and-longer"), 1000)
	r = bytes.NewReader(append(f1, f2...))
	for _, want := range []string{"one", "two-and-longer"} {
		body, _, err := readFrame(r, buf, 1000, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := wire.Decode(body)
		if err != nil || m.To.Topology != want {
			t.Fatalf("decoded %v, %v; want %q", m.To, err, want)
		}
		buf = body
	}
}

// TestOversizedFrameClosesConnection: the receiver closes a connection
// announcing a frame above MaxFrame and counts it rejected.
func TestOversizedFrameClosesConnection(t *testing.T) {
	recv := start(t, func(wire.Message) { t.Error("an oversized frame was delivered") }, func(c *Config) { c.MaxFrame = 1000 })
	c := dialRaw(t, recv, append(hello("127.0.0.1:1", 1), header(1001)...))
	if !closedWithin(c, 10*time.Second) {
		t.Fatal("connection with an oversized frame still open")
	}
	poll.Until(t, 10*time.Second, "the frame counted rejected", func() bool { return recv.Rejected.Load() == 1 })

	// The sender refuses to send one.
	send := start(t, func(wire.Message) {}, func(c *Config) { c.MaxFrame = 10 })
	if send.Send(send.Peer(recv.Addr()), msg("a-topology-name-longer-than-ten-bytes")) || send.Dropped.Load() != 1 {
		t.Fatal("a frame above MaxFrame was queued")
	}
}

// TestTimeouts: a preface or frame that stops half-way, and a connection
// that stays idle, are closed; only the half-sent ones count as rejected.
func TestTimeouts(t *testing.T) {
	recv := start(t, func(wire.Message) {}, func(c *Config) {
		c.FrameTimeout = 100 * time.Millisecond
		c.IdleTimeout = 300 * time.Millisecond
	})
	for _, c := range []struct {
		name     string
		send     []byte
		rejected bool
	}{
		{"no preface", nil, false},
		{"half a handshake", hello("127.0.0.1:1", 1)[:5], false},
		{"idle after the handshake", hello("127.0.0.1:1", 1), false},
		{"half a header", append(hello("127.0.0.1:1", 1), 0, 0), true},
		{"half a body", append(append(hello("127.0.0.1:1", 1), header(10)...), 1, 2, 3), true},
	} {
		rejected := recv.Rejected.Load()
		conn := dialRaw(t, recv, c.send)
		if !closedWithin(conn, 10*time.Second) {
			t.Fatalf("%s: connection still open", c.name)
		}
		poll.Until(t, 10*time.Second, c.name+": connection forgotten", func() bool { return recv.Inbound() == 0 })
		if got := recv.Rejected.Load() > rejected; got != c.rejected {
			t.Errorf("%s: counted rejected %v, want %v", c.name, got, c.rejected)
		}
	}
}

// TestWriterClosesIdleConnection: a writer closes its connection before
// the receiver's idle timeout would, and redials for the next frame.
func TestWriterClosesIdleConnection(t *testing.T) {
	var got inbox
	idle := func(c *Config) { c.IdleTimeout = 200 * time.Millisecond }
	recv := start(t, got.deliver, func(c *Config) { c.IdleTimeout = time.Hour })
	send := start(t, func(wire.Message) {}, idle)
	p := send.Peer(recv.Addr())
	send.Send(p, msg("a"))
	poll.Until(t, 10*time.Second, "frame a delivered", func() bool { return got.count("a") == 1 })
	poll.Until(t, 10*time.Second, "the idle connection closed by its writer", func() bool { return recv.Inbound() == 0 })
	send.Send(p, msg("b"))
	poll.Until(t, 10*time.Second, "frame b delivered over a new connection", func() bool { return got.count("b") == 1 })
	if d := send.Dropped.Load(); d != 0 {
		t.Fatalf("%d frames dropped", d)
	}
}

// TestMaxInbound: connections above MaxInbound are closed as they are
// accepted; once one closes, a new one is accepted.
func TestMaxInbound(t *testing.T) {
	recv := start(t, func(wire.Message) {}, func(c *Config) { c.MaxInbound = 2 })
	first := dialRaw(t, recv, []byte{PrefaceTuples})
	dialRaw(t, recv, []byte{PrefaceTuples})
	poll.Until(t, 10*time.Second, "two connections accepted", func() bool { return recv.Inbound() == 2 })
	third := dialRaw(t, recv, []byte{PrefaceTuples})
	if !closedWithin(third, 10*time.Second) || recv.Refused.Load() != 1 {
		t.Fatalf("a third connection stayed open, or was not counted (%d refused)", recv.Refused.Load())
	}
	first.Close()
	poll.Until(t, 10*time.Second, "the first connection forgotten", func() bool { return recv.Inbound() == 1 })
	dialRaw(t, recv, []byte{PrefaceTuples})
	poll.Until(t, 10*time.Second, "a new connection accepted", func() bool { return recv.Inbound() == 2 })
	if recv.Refused.Load() != 1 {
		t.Fatalf("%d refused, want 1", recv.Refused.Load())
	}
}

// TestPeerQueueBounded: while a peer's writer waits for its connection,
// PeerQueue frames queue and the next ones are dropped; the queued ones
// arrive once the connection is up.
func TestPeerQueueBounded(t *testing.T) {
	var got inbox
	recv := start(t, got.deliver, nil)
	dialing, release := make(chan struct{}), make(chan struct{})
	send := start(t, func(wire.Message) {}, func(c *Config) {
		c.PeerQueue = 3
		c.DialTimeout = time.Minute
		c.Dial = heldDial(dialing, release)
	})
	p := send.Peer(recv.Addr())
	if !send.Send(p, msg("q")) {
		t.Fatal("first frame refused")
	}
	<-dialing // the writer holds the first frame
	for i := range 3 {
		if !send.Send(p, msg("q")) {
			t.Fatalf("frame %d refused with room in the queue", i+2)
		}
	}
	if send.Send(p, msg("q")) || send.Dropped.Load() != 1 {
		t.Fatalf("a frame beyond the queue accepted, or not counted (%d dropped)", send.Dropped.Load())
	}
	close(release)
	poll.Until(t, 10*time.Second, "the queued frames delivered", func() bool { return got.count("q") == 4 })
}

// TestCalls: call connections reach Config.Calls through Client; a
// connection with an unknown preface is closed and counted.
func TestCalls(t *testing.T) {
	recv := start(t, func(wire.Message) {}, func(c *Config) {
		c.Calls = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "pong "+r.URL.Path) })
	})
	send := start(t, func(wire.Message) {}, nil)
	for range 3 { // the second and third reuse the connection
		resp, err := send.Client(10 * time.Second).Get("http://" + recv.Addr() + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "pong /ping" {
			t.Fatalf("call answered %q", b)
		}
	}
	if n := recv.Inbound(); n != 1 {
		t.Fatalf("%d inbound connections for three calls, want 1", n)
	}
	c := dialRaw(t, recv, []byte("GET / HTTP/1.1\r\n\r\n")) // no preface: the public API is elsewhere
	if !closedWithin(c, 10*time.Second) || recv.Rejected.Load() != 1 {
		t.Fatalf("a connection without a preface stayed open or was not counted (%d rejected)", recv.Rejected.Load())
	}
	// Without a Calls handler, call connections are closed.
	plain := start(t, func(wire.Message) {}, nil)
	if _, err := send.Client(10 * time.Second).Get("http://" + plain.Addr() + "/ping"); err == nil {
		t.Fatal("a call to a transport without Calls succeeded")
	}
}

// TestTLS: with ServerTLS and ClientTLS set, frames and calls travel over
// TLS, and a plain-text sender is rejected.
func TestTLS(t *testing.T) {
	certs := httptest.NewUnstartedServer(nil)
	certs.StartTLS() // only for its test certificate (valid for 127.0.0.1)
	serverTLS := certs.TLS.Clone()
	clientTLS := certs.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	certs.Close()
	withTLS := func(c *Config) { c.ServerTLS, c.ClientTLS = serverTLS, clientTLS }

	var got inbox
	recv := start(t, got.deliver, func(c *Config) {
		withTLS(c)
		c.Calls = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.TLS != nil { // the calls ride inside the transport's TLS, not HTTPS
				t.Error("the calls server saw HTTPS")
			}
			_, _ = io.WriteString(w, "ok")
		})
	})
	send := start(t, func(wire.Message) {}, withTLS)
	send.Send(send.Peer(recv.Addr()), msg("secret"))
	poll.Until(t, 10*time.Second, "the frame delivered over TLS", func() bool { return got.count("secret") == 1 })
	resp, err := send.Client(10 * time.Second).Get("http://" + recv.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("call over TLS answered %q", b)
	}

	plain := start(t, func(wire.Message) {}, nil)
	plain.Send(plain.Peer(recv.Addr()), msg("plain"))
	poll.Until(t, 10*time.Second, "the plain-text connection rejected", func() bool { return recv.Rejected.Load() >= 1 })
	if got.count("plain") != 0 {
		t.Fatal("a plain-text frame was delivered to a TLS transport")
	}

	if _, err := Listen(Config{Deliver: func(wire.Message, *Source) {}, ServerTLS: &tls.Config{}}); err == nil {
		t.Fatal("ServerTLS without ClientTLS accepted")
	}
}

// FuzzReadFrame: no bytes make the frame reader panic or return a body
// above the limit, whatever it returns as a frame is what the bytes
// announced, and with a budget smaller than the limit, every byte it
// reserves is released (frames over budget are dropped in step).
func FuzzReadFrame(f *testing.F) {
	good, _ := wire.AppendFrame(nil, msg("wc"), 1<<10)
	f.Add(good)
	f.Add(append(header(1<<30), 1, 2, 3))
	f.Add(append(header(700), make([]byte, 700)...))
	f.Add(header(0))
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 1 << 10
		tr := &Transport{cfg: Config{PeerBudget: 600, InboundBudget: 600}, log: slog.New(slog.DiscardHandler)}
		for _, src := range []*Source{nil, {t: tr}} {
			r := bytes.NewReader(in)
			for {
				body, _, err := readFrame(r, nil, limit, src)
				if errors.Is(err, errOverBudget) {
					continue
				}
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, errTruncated) && !errors.Is(err, wire.ErrMalformed) {
						t.Fatalf("unexpected error %v", err)
					}
					break
				}
				if len(body) == 0 || len(body) > limit {
					t.Fatalf("a body of %d bytes (limit %d)", len(body), limit)
				}
				src.Release(len(body))
				_, _ = wire.Decode(body) // must not panic either
			}
			if tr.held.Load() != 0 || src != nil && src.held.Load() != 0 {
				t.Fatalf("%d bytes still held", tr.held.Load())
			}
		}
	})
}

// TestSustainedWritesKeepTheConnection: a peer link kept busy for many
// times WriteTimeout by a slow reader stays one connection: each write that
// reaches the socket has its own deadline, not one for the whole run of a
// never-empty queue (which cut the connection mid-frame every WriteTimeout).
func TestSustainedWritesKeepTheConnection(t *testing.T) {
	var got inbox
	tick := time.NewTicker(200 * time.Microsecond) // a slow consumer: about 5,000 frames/s
	done := make(chan struct{})
	recv := start(t, func(m wire.Message) {
		select {
		case <-tick.C:
		case <-done:
		}
		got.deliver(m)
	}, nil)
	t.Cleanup(func() { close(done); tick.Stop() }) // before recv closes: its reader must not wait
	var dials atomic.Int64
	send := start(t, func(wire.Message) {}, func(c *Config) {
		// A quarter of the load's second: short enough that one deadline
		// for a whole run would cut the connection, long enough that a
		// reader descheduled on a loaded machine (-race, other tests)
		// does not.
		c.WriteTimeout = 250 * time.Millisecond
		c.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
	})
	p := send.Peer(recv.Addr())
	big := &messages.TupleBatch{Topology: "busy"}
	for range 64 {
		big.Tuples = append(big.Tuples, &messages.Tuple{Stream: strings.Repeat("s", 256)})
	}
	m := wire.Message{To: wire.TaskAddr{Topology: "busy", Boot: "b", Task: 1}, Payload: big}
	for end := time.Now().Add(time.Second); time.Now().Before(end); { // the load: 4 × WriteTimeout
		send.Send(p, m) // a full queue drops the frame; the queue stays full
	}
	poll.Until(t, 10*time.Second, "frames delivered", func() bool { return got.count("busy") > 0 })
	if n, r := dials.Load(), recv.Rejected.Load(); n != 1 || r != 0 {
		t.Fatalf("%d dials and %d rejected frames under sustained load, want 1 and 0", n, r)
	}
}

// heldDial is a Dial that closes dialing when the writer dials, then holds
// the dial until release is closed (or its context ends).
func heldDial(dialing, release chan struct{}) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		close(dialing)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}
