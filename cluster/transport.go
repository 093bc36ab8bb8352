package cluster

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/internal/wire"
)

// The node-to-node transport. Each frame is a 4-byte big-endian length and
// a protobuf messages.Envelope: a batch for one actor on the receiving node.
// One TCP connection per destination node carries everything sent there;
// a writer goroutine drains a bounded queue and flushes when it runs dry,
// so frames are coalesced under load and sent at once when idle.
//
// squall does not use protoactor-go's remote: its Start rewrites gRPC's
// process-global logger (a data race with every other gRPC server in the
// process, so in-process clusters fail under -race), a malformed message
// panics inside its handler, its send queues are unbounded and a failed
// reconnect sleeps 2 s inside the writer (specs/libraries.md). Here a
// malformed frame closes that connection and is logged, queues are bounded
// (a full queue drops the batch: its trees time out and replay), and
// liveness is memberlist's business, not the transport's.

const (
	maxFrame     = 64 << 20 // larger frames are rejected
	peerQueue    = 4096     // frames queued per destination
	dialTimeout  = 2 * time.Second
	writeTimeout = 10 * time.Second
)

type transport struct {
	ln      net.Listener
	log     *slog.Logger
	deliver func(wire.Message)

	mu      sync.Mutex
	peers   map[string]*peer
	inbound map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup

	// Dropped counts frames dropped because a queue was full or a peer
	// unreachable; Rejected counts malformed inbound frames.
	Dropped, Rejected atomic.Int64
}

func listenTransport(addr string, logger *slog.Logger, deliver func(wire.Message)) (*transport, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport on %s: %w", addr, err)
	}
	t := &transport{ln: ln, log: logger, deliver: deliver, peers: map[string]*peer{}, inbound: map[net.Conn]struct{}{}}
	t.wg.Go(t.accept)
	return t, nil
}

// Addr is the address other nodes send to.
func (t *transport) Addr() string { return t.ln.Addr().String() }

func (t *transport) accept() {
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			c.Close()
			return
		}
		t.inbound[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Go(func() { t.read(c) })
	}
}

// read delivers the frames of one inbound connection until it ends or a
// frame is malformed (then the connection is closed: the sender redials).
func (t *transport) read(c net.Conn) {
	defer func() {
		c.Close()
		t.mu.Lock()
		delete(t.inbound, c)
		t.mu.Unlock()
	}()
	r := bufio.NewReaderSize(c, 64<<10)
	var hdr [4]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 || n > maxFrame {
			t.reject(c, fmt.Errorf("frame of %d bytes (limit %d)", n, maxFrame))
			return
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		m, err := wire.Decode(buf)
		if err != nil {
			t.reject(c, err)
			return
		}
		t.deliver(m)
	}
}

func (t *transport) reject(c net.Conn, err error) {
	t.Rejected.Add(1)
	t.log.Warn("rejected malformed transport input", "from", c.RemoteAddr().String(), "err", err)
}

// Send queues m for the node p (from peer) leads to. It never blocks:
// when the queue is full the frame is dropped, and once the peer is
// forgotten or the transport closed it is refused; either way it returns
// false.
func (t *transport) Send(p *peer, m wire.Message) bool {
	select {
	case <-p.gone:
		t.Dropped.Add(1)
		return false
	default:
	}
	frame, err := wire.AppendFrame(nil, m, maxFrame)
	if err != nil {
		t.Dropped.Add(1)
		return false
	}
	select {
	case p.q <- frame:
		return true
	default:
		t.Dropped.Add(1)
		return false
	}
}

// peer returns the queue to the node at addr, starting its writer the
// first time; nil once the transport is closed. Directories resolve it
// when the placement changes, so sending takes no lock.
func (t *transport) peer(addr string) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	p := t.peers[addr]
	if p == nil {
		p = &peer{addr: addr, q: make(chan []byte, peerQueue), gone: make(chan struct{})}
		t.peers[addr] = p
		t.wg.Go(func() { t.write(p) })
	}
	return p
}

type peer struct {
	addr string
	q    chan []byte
	gone chan struct{} // closed when the peer is forgotten or the transport closes
}

// retain forgets every peer whose address keep does not hold: its writer
// closes the connection and exits, and what is still queued for it is
// dropped (those trees replay). Nodes call it with the addresses of the
// live members, so a node that died or restarted (a new transport address
// each boot) leaves no goroutine or connection behind. Directories built
// before still hold the old peer; sends to it are refused, and a later
// peer(addr) starts a new one.
func (t *transport) retain(keep map[string]bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for addr, p := range t.peers {
		if !keep[addr] {
			close(p.gone)
			delete(t.peers, addr)
			t.log.Debug("peer forgotten", "peer", addr)
		}
	}
}

// peerCount is the number of peers with a writer.
func (t *transport) peerCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.peers)
}

// write sends p's frames, dialling as needed. While the peer cannot be
// reached, frames are dropped (their trees replay) and dialling backs off.
func (t *transport) write(p *peer) {
	var c net.Conn
	var w *bufio.Writer
	backoff := 50 * time.Millisecond
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		var frame []byte
		select {
		case <-p.gone:
			return
		case frame = <-p.q:
		}
		if c == nil {
			d := net.Dialer{Timeout: dialTimeout}
			conn, err := d.Dial("tcp", p.addr)
			if err != nil {
				t.Dropped.Add(1)
				t.log.Debug("peer unreachable", "peer", p.addr, "err", err)
				select {
				case <-p.gone:
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			c, w, backoff = conn, bufio.NewWriterSize(conn, 256<<10), 50*time.Millisecond
		}
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		err := t.writeFrames(w, p, frame)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			t.Dropped.Add(1)
			t.log.Debug("peer write failed", "peer", p.addr, "err", err)
			c.Close()
			c, w = nil, nil
		}
	}
}

// writeFrames writes frame and whatever else is queued right now.
func (t *transport) writeFrames(w *bufio.Writer, p *peer, frame []byte) error {
	for {
		if _, err := w.Write(frame); err != nil {
			return err
		}
		select {
		case frame = <-p.q:
		default:
			return nil
		}
	}
}

// Close stops accepting, closes every connection and waits for the
// transport's goroutines. Safe twice.
func (t *transport) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.ln.Close()
	for c := range t.inbound {
		c.Close()
	}
	for addr, p := range t.peers {
		close(p.gone)
		delete(t.peers, addr)
	}
	t.mu.Unlock()
	t.wg.Wait()
}
