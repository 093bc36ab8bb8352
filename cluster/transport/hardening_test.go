package transport

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
)

// drops records what a transport reports to OnDrop.
type drops struct {
	mu  sync.Mutex
	got []wire.Message
}

func (d *drops) add(m wire.Message) {
	d.mu.Lock()
	d.got = append(d.got, m)
	d.mu.Unlock()
}

func (d *drops) list() []wire.Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]wire.Message(nil), d.got...)
}

// frame is m as a frame numbered seq.
func frame(t *testing.T, m wire.Message, seq uint64) []byte {
	t.Helper()
	f, err := wire.AppendFrame(nil, m, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	wire.SetSeq(f, seq)
	return f
}

// TestVersionMismatchIsRejected: a tuple or call connection of another
// version is closed and counted at the receiver (which says its own
// version first); a sender meeting a receiver of another version counts
// it, drops the frame and reports it.
func TestVersionMismatchIsRejected(t *testing.T) {
	recv := start(t, func(wire.Message) { t.Error("a frame of another version was delivered") }, func(c *Config) {
		c.Calls = nil
	})
	old := hello("127.0.0.1:1", 1)
	old[1] = Version + 1
	c := dialRaw(t, recv, append(old, header(10)...))
	reply, _ := io.ReadAll(c)
	if len(reply) == 0 || reply[0] != Version {
		t.Fatalf("the receiver answered %v, want its version %d first", reply, Version)
	}
	poll.Until(t, 10*time.Second, "the tuple connection counted rejected", func() bool { return recv.Rejected.Load() == 1 })

	calls := start(t, func(wire.Message) {}, func(c *Config) {
		c.Calls = http.NotFoundHandler()
	})
	c = dialRaw(t, calls, []byte{PrefaceCalls, Version + 1})
	if !closedWithin(c, 10*time.Second) {
		t.Fatal("a call connection of another version stayed open")
	}
	poll.Until(t, 10*time.Second, "the call connection counted rejected", func() bool { return calls.Rejected.Load() == 1 })

	// A receiver of another version, as a sender sees it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var served sync.WaitGroup
	defer served.Wait()
	served.Go(func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Write([]byte{Version + 1, 0, 0, 0, 0, 0, 0, 0, 0})
		_, _ = io.Copy(io.Discard, conn)
	})
	var d drops
	send := start(t, func(wire.Message) {}, func(c *Config) { c.OnDrop = d.add })
	send.Send(send.Peer(ln.Addr().String()), msg("v"))
	poll.Until(t, 10*time.Second, "the sender rejected the answer and reported the frame", func() bool {
		return send.Rejected.Load() == 1 && len(d.list()) == 1
	})
	if got := d.list()[0]; got.To.Topology != "v" {
		t.Fatalf("reported %v", got.To)
	}
}

// TestIdleConnectionsCapped: 2,000 idle connections from one host leave
// at most MaxInboundPerHost open; the others are refused and counted, and
// a node on another host still connects and delivers.
func TestIdleConnectionsCapped(t *testing.T) {
	var got inbox
	recv := start(t, got.deliver, nil)
	limit := DefaultConfig().MaxInboundPerHost
	const n = 2000
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", recv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	poll.Until(t, 30*time.Second, "every connection accepted or refused", func() bool {
		return recv.Refused.Load()+int64(recv.Inbound()) == n
	})
	if open := recv.Inbound(); open > limit {
		t.Fatalf("%d idle connections open from one host, limit %d", open, limit)
	}
	if refused := recv.Refused.Load(); refused < n-int64(limit) {
		t.Fatalf("%d refused, want at least %d", refused, n-limit)
	}

	// Another host (127.0.0.2 is loopback too) is not refused.
	other := start(t, func(wire.Message) {}, func(c *Config) {
		c.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
			return d.DialContext(ctx, "tcp", addr)
		}
	})
	other.Send(other.Peer(recv.Addr()), msg("other-host"))
	poll.Until(t, 10*time.Second, "a frame from another host delivered", func() bool { return got.count("other-host") == 1 })
}

// TestHugeHeadersCostLittle: 16 connections announcing 64 MiB frames and
// sending a few bytes move the heap by far less than one such frame: the
// receiver's buffers grow with the bytes that arrive, never from the
// header (a design that allocated from the header would hold 1 GiB).
func TestHugeHeadersCostLittle(t *testing.T) {
	recv := start(t, func(wire.Message) { t.Error("a partial frame was delivered") }, func(c *Config) {
		c.MaxFrame = 64 << 20 // the header is within the limit: only growth on arrival protects
		c.PeerQueueBytes, c.PeerBudget, c.InboundBudget = 64<<20, 2<<30, 2<<30
	})
	const conns = 16
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range conns {
		in := hello("127.0.0.1:"+strings.Repeat("1", i+1), uint64(i+1))
		dialRaw(t, recv, append(append(in, header(64<<20)...), make([]byte, 100)...))
	}
	poll.Until(t, 10*time.Second, "every reader inside its frame", func() bool { return recv.Held() >= conns*growStep })
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew >= 64<<20 {
		t.Fatalf("16 headers of 64 MiB grew the heap by %d MiB", grew>>20)
	}
}

// TestOversizedBatchSplit: a batch above MaxFrame arrives in several
// frames holding its tuples in order; a tuple above MaxFrame on its own is
// dropped, counted and reported.
func TestOversizedBatchSplit(t *testing.T) {
	var mu sync.Mutex
	var order []int32
	frames := 0
	recv := start(t, func(m wire.Message) {
		mu.Lock()
		defer mu.Unlock()
		frames++
		for _, tu := range m.Payload.(*messages.TupleBatch).Tuples {
			order = append(order, tu.SourceTask)
		}
	}, nil)
	var d drops
	const limit = 4 << 10
	send := start(t, func(wire.Message) {}, func(c *Config) {
		c.MaxFrame = limit
		c.OnDrop = d.add
	})
	b := &messages.TupleBatch{Topology: "split", Epoch: 1}
	for i := range 100 {
		word := strings.Repeat("w", 200)
		if i == 50 {
			word = strings.Repeat("W", 2*limit)
		}
		b.Tuples = append(b.Tuples, &messages.Tuple{Stream: "s", SourceTask: int32(i + 1), DestTask: 1,
			Values: []*messages.Value{{Kind: &messages.Value_Str{Str: word}}}})
	}
	if send.Send(send.Peer(recv.Addr()), wire.Message{To: wire.TaskAddr{Topology: "split", Boot: "b", Task: 1}, Payload: b}) {
		t.Fatal("Send reported success though a tuple was dropped")
	}
	poll.Until(t, 10*time.Second, "the 99 tuples that fit delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(order) == 99
	})
	mu.Lock()
	defer mu.Unlock()
	for i, want := 0, int32(1); i < len(order); i, want = i+1, want+1 {
		if want == 51 {
			want++
		}
		if order[i] != want {
			t.Fatalf("tuple %d arrived where %d was due", order[i], want)
		}
	}
	if frames < 2 {
		t.Fatalf("%d frames, want the batch split", frames)
	}
	if send.Oversized.Load() != 1 || send.Dropped.Load() != 1 {
		t.Fatalf("%d oversized, %d dropped; want 1 and 1", send.Oversized.Load(), send.Dropped.Load())
	}
	poll.Until(t, 10*time.Second, "the oversized tuple reported", func() bool { return len(d.list()) == 1 })
	if big := d.list()[0].Payload.(*messages.TupleBatch); len(big.Tuples) != 1 || big.Tuples[0].SourceTask != 51 {
		t.Fatalf("reported %v", big)
	}
}

// TestPeerQueueBytesBounded: a destination's queue holds at most
// PeerQueueBytes, whatever its frame count; what does not fit is dropped
// and reported.
func TestPeerQueueBytesBounded(t *testing.T) {
	var got inbox
	recv := start(t, got.deliver, nil)
	dialing, release := make(chan struct{}), make(chan struct{})
	var d drops
	m := msg("q")
	size := len(frame(t, m, 0))
	send := start(t, func(wire.Message) {}, func(c *Config) {
		c.MaxFrame = size
		c.PeerQueueBytes = 3 * size
		c.DialTimeout = time.Minute
		c.OnDrop = d.add
		c.Dial = heldDial(dialing, release)
	})
	p := send.Peer(recv.Addr())
	send.Send(p, m)
	<-dialing // the writer holds the first frame
	for i := range 3 {
		if !send.Send(p, m) {
			t.Fatalf("frame %d refused with room in the queue", i+2)
		}
	}
	if send.Send(p, m) {
		t.Fatal("a frame beyond PeerQueueBytes queued")
	}
	poll.Until(t, 10*time.Second, "the drop reported", func() bool { return len(d.list()) == 1 })
	close(release)
	poll.Until(t, 10*time.Second, "the queued frames delivered", func() bool { return got.count("q") == 4 })
}

// TestPerSourceBudget: what Deliver keeps of a source's messages (parked
// batches) and the frames being read from it share one budget: over it,
// that source's frames are read and dropped (counted, the connection kept
// and no gap), while another source's still arrive; once released, the
// first source's frames arrive again.
func TestPerSourceBudget(t *testing.T) {
	var mu sync.Mutex
	var kept *Source
	var got inbox
	// Deliver runs while the frame's bytes are held: a 3 KiB frame and
	// the 7 KiB it parks fit 12 KiB; 7 KiB parked and a 6 KiB frame do not.
	const budget, parked = 12 << 10, 7 << 10
	recv := start(t, func(wire.Message) {}, func(c *Config) {
		c.MaxFrame, c.PeerQueueBytes, c.PeerBudget, c.InboundBudget = 8<<10, 8<<10, budget, 1<<20
		c.Deliver = func(m wire.Message, from *Source) {
			if m.To.Topology == "park" {
				mu.Lock()
				if kept == nil && from.Reserve(parked) {
					kept = from
				}
				mu.Unlock()
			}
			got.deliver(m)
		}
	})
	batch := func(topology string, size int) wire.Message {
		b := &messages.TupleBatch{Topology: topology}
		b.Tuples = []*messages.Tuple{{Stream: strings.Repeat("s", size)}}
		return wire.Message{To: wire.TaskAddr{Topology: topology, Boot: "b", Task: 1}, Payload: b}
	}
	a := dialRaw(t, recv, hello("10.0.0.1:1", 1))
	b := dialRaw(t, recv, hello("10.0.0.2:1", 2))
	write := func(c net.Conn, f []byte) {
		if _, err := c.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	write(a, frame(t, batch("park", 3<<10), 1))
	poll.Until(t, 10*time.Second, "the parked batch delivered", func() bool { return got.count("park") == 1 })
	write(a, frame(t, batch("over", 6<<10), 2))
	poll.Until(t, 10*time.Second, "the frame over budget counted", func() bool { return recv.OverBudget.Load() == 1 })
	write(b, frame(t, batch("other", 6<<10), 1))
	poll.Until(t, 10*time.Second, "another source's frame delivered", func() bool { return got.count("other") == 1 })
	mu.Lock()
	if kept == nil {
		t.Fatal("the parked bytes were refused")
	}
	kept.Release(parked)
	mu.Unlock()
	write(a, frame(t, batch("after", 6<<10), 3))
	poll.Until(t, 10*time.Second, "the source's frame delivered once released", func() bool { return got.count("after") == 1 })
	if got.count("over") != 0 || recv.Gaps.Load() != 0 || recv.Rejected.Load() != 0 {
		t.Fatalf("over budget: %d delivered, %d gaps, %d rejected; want 0, 0, 0", got.count("over"), recv.Gaps.Load(), recv.Rejected.Load())
	}
	if recv.Held() != 0 {
		t.Fatalf("%d bytes still held", recv.Held())
	}
}

// TestGaps: frames skipped in a sender's session count as gaps and reach
// OnGap, across its connections; a frame after a later one counts late; a
// new session (the sender restarted) starts from 1 without a gap, and one
// whose first frames never came has a gap.
func TestGaps(t *testing.T) {
	var mu sync.Mutex
	var gaps []uint64
	var got inbox
	recv := start(t, got.deliver, func(c *Config) {
		c.OnGap = func(from *Source, missing uint64) {
			if from.Addr() != "10.0.0.1:1" {
				t.Errorf("a gap from %q", from.Addr())
			}
			mu.Lock()
			gaps = append(gaps, missing)
			mu.Unlock()
		}
	})
	gapList := func() []uint64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]uint64(nil), gaps...)
	}
	send := func(c net.Conn, seq uint64) {
		if _, err := c.Write(frame(t, msg("g"), seq)); err != nil {
			t.Fatal(err)
		}
	}
	delivered := 0
	sendAll := func(c net.Conn, seqs ...uint64) {
		for _, s := range seqs {
			send(c, s)
		}
		delivered += len(seqs)
		poll.Until(t, 10*time.Second, "frames delivered", func() bool { return got.count("g") == delivered })
	}
	first := dialRaw(t, recv, hello("10.0.0.1:1", 7))
	sendAll(first, 1, 2, 4) // 3 lost
	if g := gapList(); len(g) != 1 || g[0] != 1 || recv.Gaps.Load() != 1 {
		t.Fatalf("gaps %v (%d counted), want [1]", g, recv.Gaps.Load())
	}
	first.Close()
	second := dialRaw(t, recv, hello("10.0.0.1:1", 7)) // the same session, redialled
	sendAll(second, 5, 3)                              // in step; then 3 after all, late
	if recv.Gaps.Load() != 1 || recv.Late.Load() != 1 {
		t.Fatalf("%d gaps and %d late, want 1 and 1", recv.Gaps.Load(), recv.Late.Load())
	}
	restarted := dialRaw(t, recv, hello("10.0.0.1:1", 8)) // a new session
	sendAll(restarted, 1, 2)
	if recv.Gaps.Load() != 1 {
		t.Fatalf("a new session counted as a gap (%d)", recv.Gaps.Load())
	}
	lateStart := dialRaw(t, recv, hello("10.0.0.1:1", 9))
	sendAll(lateStart, 4) // 1 to 3 never came
	if g := gapList(); recv.Gaps.Load() != 4 || len(g) != 2 || g[1] != 3 {
		t.Fatalf("gaps %v (%d counted), want [1 3]", g, recv.Gaps.Load())
	}
}

// swallowing is a connection whose second write vanishes: a frame lost
// in a connection that, to its writer, worked.
type swallowing struct {
	net.Conn
	mu        sync.Mutex
	writes    int
	swallowed chan struct{}
}

func (s *swallowing) Write(b []byte) (int, error) {
	s.mu.Lock()
	s.writes++
	n := s.writes
	s.mu.Unlock()
	if n == 2 {
		close(s.swallowed)
		return len(b), nil
	}
	return s.Conn.Write(b)
}

// TestLostFrameIsAGap: a frame a sender wrote and the network lost shows
// up at the receiver as a gap once the next frame arrives.
func TestLostFrameIsAGap(t *testing.T) {
	var got inbox
	recv := start(t, got.deliver, nil)
	swallowed := make(chan struct{})
	var dials sync.Once
	send := start(t, func(wire.Message) {}, func(c *Config) {
		c.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			var conn net.Conn = c
			dials.Do(func() { conn = &swallowing{Conn: c, swallowed: swallowed} })
			return conn, nil
		}
	})
	p := send.Peer(recv.Addr())
	// Write 1 is the handshake; 2, the first frame, is lost.
	send.Send(p, msg("lost"))
	select {
	case <-swallowed:
	case <-time.After(10 * time.Second): // a bound on the test
		t.Fatal("the first frame was never written")
	}
	send.Send(p, msg("next"))
	poll.Until(t, 10*time.Second, "the next frame delivered", func() bool { return got.count("next") == 1 })
	if got.count("lost") != 0 || recv.Gaps.Load() != 1 || send.Dropped.Load() != 0 {
		t.Fatalf("lost frame delivered %d times, %d gaps, %d dropped; want 0, 1, 0", got.count("lost"), recv.Gaps.Load(), send.Dropped.Load())
	}
}

// TestDropsReported: a frame for a peer nobody listens at, and what is
// queued for a peer forgotten, reach OnDrop.
func TestDropsReported(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	var d drops
	send := start(t, func(wire.Message) {}, func(c *Config) { c.OnDrop = d.add })
	p := send.Peer(gone)
	send.Send(p, msg("unreachable"))
	poll.Until(t, 10*time.Second, "the frame for an unreachable peer reported", func() bool { return len(d.list()) == 1 })
	send.Retain(nil)
	if send.Send(p, msg("forgotten")) {
		t.Fatal("a send to a forgotten peer accepted")
	}
	poll.Until(t, 10*time.Second, "the send to a forgotten peer reported", func() bool { return len(d.list()) == 2 })
	for i, want := range []string{"unreachable", "forgotten"} {
		if got := d.list()[i].To.Topology; got != want {
			t.Errorf("drop %d: %q, want %q", i, got, want)
		}
	}
}
