package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/internal/wire"
)

// The sending half: queues per destination, the writer that numbers and
// writes their frames, and the report of what is dropped.

// dial connects to addr and sends hello (the preface and what follows).
func (t *Transport) dial(ctx context.Context, addr string, hello []byte) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.DialTimeout)
	defer cancel()
	var c net.Conn
	var err error
	if t.cfg.Dial != nil {
		c, err = t.cfg.Dial(ctx, addr)
	} else {
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	if t.cfg.ClientTLS != nil {
		cfg := t.cfg.ClientTLS
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	_ = c.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
	if _, err := c.Write(hello); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}

// dialTuples opens a tuple connection to addr: the handshake, and the
// receiver's answer (its session).
func (t *Transport) dialTuples(ctx context.Context, addr string) (net.Conn, uint64, error) {
	c, err := t.dial(ctx, addr, t.hello)
	if err != nil {
		return nil, 0, err
	}
	var reply [9]byte // version, session
	_ = c.SetReadDeadline(time.Now().Add(t.cfg.DialTimeout))
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("handshake: %w", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	if reply[0] != Version {
		c.Close()
		t.Rejected.Add(1)
		return nil, 0, fmt.Errorf("%w: the peer speaks version %d, this node %d", errVersion, reply[0], Version)
	}
	return c, binary.BigEndian.Uint64(reply[1:]), nil
}

// Send queues m for the node p (from Peer) leads to. It never blocks:
// when the queue is full (PeerQueue frames or PeerQueueBytes) the message
// is dropped, and once the peer is forgotten or the transport closed it
// is refused; either way it returns false, counts Dropped and reports m
// to OnDrop. A message larger than MaxFrame is sent in parts (wire.Split).
func (t *Transport) Send(p *Peer, m wire.Message) bool {
	select {
	case <-p.gone:
		t.drop(m)
		return false
	default:
	}
	frame, err := wire.AppendFrame(nil, m, t.cfg.MaxFrame)
	switch {
	case errors.Is(err, wire.ErrTooLarge):
		return t.sendSplit(p, m)
	case err != nil:
		t.drop(m)
		return false
	}
	return t.enqueue(p, frame, m)
}

// enqueue queues frame (m's) for p, or drops m.
func (t *Transport) enqueue(p *Peer, frame []byte, m wire.Message) bool {
	n := int64(len(frame))
	if p.queued.Add(n) > int64(t.cfg.PeerQueueBytes) {
		p.queued.Add(-n)
		t.drop(m)
		return false
	}
	select {
	case p.q <- frame:
		return true
	default:
		p.queued.Add(-n)
		t.drop(m)
		return false
	}
}

// sendSplit sends m, larger than MaxFrame, in parts that fit; its items
// too large on their own are dropped.
func (t *Transport) sendSplit(p *Peer, m wire.Message) bool {
	fits, tooLarge, err := wire.Split(m, t.cfg.MaxFrame)
	if err != nil {
		t.drop(m)
		return false
	}
	ok := len(tooLarge) == 0
	for _, big := range tooLarge {
		t.Oversized.Add(1)
		if n, log := t.logs.oversized.allow(); log {
			t.log.Warn("an item larger than the transport's frame limit dropped", "to", big.To.String(), "limit", t.cfg.MaxFrame,
				"payload", fmt.Sprintf("%T", big.Payload), "dropped since last said", n)
		}
		t.drop(big)
	}
	for _, part := range fits {
		frame, err := wire.AppendFrame(nil, part, t.cfg.MaxFrame)
		if err != nil {
			t.drop(part)
			ok = false
			continue
		}
		ok = t.enqueue(p, frame, part) && ok
	}
	return ok
}

// dropped is a message dropped on its way out: the message, or its frame
// once queued.
type dropped struct {
	m     wire.Message
	frame []byte
}

// dropQueue is how many drops wait for OnDrop.
const dropQueue = 1024

// drop counts m dropped and reports it.
func (t *Transport) drop(m wire.Message) { t.report(dropped{m: m}) }

// dropFrame counts a queued frame dropped and reports it.
func (t *Transport) dropFrame(frame []byte) { t.report(dropped{frame: frame}) }

func (t *Transport) report(d dropped) {
	t.Dropped.Add(1)
	if t.cfg.OnDrop == nil {
		return
	}
	select {
	case t.drops <- d:
	default:
		t.Unreported.Add(1)
	}
}

// reportDrops calls OnDrop for every drop reported, until Close.
func (t *Transport) reportDrops() {
	for {
		select {
		case d := <-t.drops:
			t.onDrop(d)
		case <-t.dropStop:
			for {
				select {
				case d := <-t.drops:
					t.onDrop(d)
				default:
					return
				}
			}
		}
	}
}

func (t *Transport) onDrop(d dropped) {
	m := d.m
	if d.frame != nil {
		var err error
		if m, err = wire.Decode(d.frame[wire.HeaderLen:]); err != nil {
			return // AppendFrame made it: cannot happen
		}
	}
	t.cfg.OnDrop(m)
}

// Peer returns the queue to the node at addr, starting its writer the
// first time; nil once the transport is closed. Directories resolve it
// when the placement changes, so sending takes no lock.
func (t *Transport) Peer(addr string) *Peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	p := t.peers[addr]
	if p == nil {
		ctx, cancel := context.WithCancel(context.Background())
		p = &Peer{addr: addr, q: make(chan []byte, t.cfg.PeerQueue), gone: ctx.Done(), forget: cancel}
		t.peers[addr] = p
		t.wg.Go(func() { t.write(ctx, p) })
	}
	return p
}

// Peer is the queue to one destination node.
type Peer struct {
	addr   string
	q      chan []byte
	queued atomic.Int64    // bytes in q
	gone   <-chan struct{} // closed when the peer is forgotten or the transport closes
	forget context.CancelFunc
}

// Retain forgets every peer whose address keep does not hold: its writer
// closes the connection and exits, and what is still queued for it is
// dropped (and reported to OnDrop). Nodes call it with the addresses of
// the live members, so a node that died or restarted (a new transport
// address each boot) leaves no goroutine or connection behind. Directories
// built before still hold the old peer; sends to it are refused, and a
// later Peer(addr) starts a new one.
func (t *Transport) Retain(keep map[string]bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for addr, p := range t.peers {
		if !keep[addr] {
			p.forget()
			delete(t.peers, addr)
			t.log.Debug("peer forgotten", "peer", addr)
		}
	}
}

// PeerCount is the number of peers with a writer.
func (t *Transport) PeerCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.peers)
}

// write sends p's frames, dialling as needed, numbering them in order
// from 1 for every receiver session it meets. While the peer cannot be
// reached, frames are dropped (their trees replay) and dialling backs
// off. A connection without frames for half the idle timeout is closed
// (the next frame redials) before the receiver would close it.
func (t *Transport) write(ctx context.Context, p *Peer) {
	var c net.Conn
	var w *bufio.Writer
	var run [][]byte       // frames written since the last flush
	var seq, remote uint64 // the last number sent, in the receiver's session remote
	warned := false        // about a version mismatch, once until it connects
	backoff := 50 * time.Millisecond
	idle := time.NewTimer(t.cfg.IdleTimeout / 2)
	defer func() {
		idle.Stop()
		if c != nil {
			c.Close()
		}
		for { // what is still queued is dropped
			select {
			case frame := <-p.q:
				p.queued.Add(-int64(len(frame)))
				t.dropFrame(frame)
			default:
				return
			}
		}
	}()
	for {
		var frame []byte
		var idleC <-chan time.Time
		if c != nil {
			idle.Reset(t.cfg.IdleTimeout / 2)
			idleC = idle.C
		}
		select {
		case <-ctx.Done():
			return
		case <-idleC:
			c.Close()
			c, w = nil, nil
			continue
		case frame = <-p.q:
			p.queued.Add(-int64(len(frame)))
		}
		if c == nil {
			conn, session, err := t.dialTuples(ctx, p.addr)
			if err != nil {
				t.dropFrame(frame)
				if errors.Is(err, errVersion) && !warned {
					warned = true
					t.log.Warn("peer speaks another transport version: frames to it are dropped", "peer", p.addr, "err", err)
				} else {
					t.log.Debug("peer unreachable", "peer", p.addr, "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			if session != remote { // a receiver this writer has not numbered frames for
				remote, seq = session, 0
			}
			c, w, backoff, warned = conn, bufio.NewWriterSize(conn, 256<<10), 50*time.Millisecond, false
		}
		var err error
		run, seq, err = t.writeRun(c, w, p, frame, run, seq)
		if err != nil {
			t.log.Debug("peer write failed", "peer", p.addr, "err", err, "frames lost", len(run))
			for _, f := range run {
				t.dropFrame(f)
			}
			clear(run)
			run = run[:0]
			c.Close()
			c, w = nil, nil
		}
	}
}

// writeRun numbers and writes frame and whatever else is queued right
// now, and flushes. It returns the frames written since the last flush
// that succeeded (all lost when err is not nil) and the last number
// used. Each write that reaches the connection (the buffer is full, or a
// frame bigger than it) gets its own deadline of WriteTimeout: under
// sustained load the queue may never empty, and one deadline for the
// whole run would cut a healthy connection.
func (t *Transport) writeRun(c net.Conn, w *bufio.Writer, p *Peer, frame []byte, run [][]byte, seq uint64) ([][]byte, uint64, error) {
	for {
		if len(frame) > w.Available() {
			if w.Buffered() > 0 {
				_ = c.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
				if err := w.Flush(); err != nil {
					return append(run, frame), seq, err
				}
				clear(run)
				run = run[:0]
			}
			_ = c.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout)) // frame is written through
		}
		seq++
		wire.SetSeq(frame, seq)
		run = append(run, frame)
		if _, err := w.Write(frame); err != nil {
			return run, seq, err
		}
		select {
		case frame = <-p.q:
			p.queued.Add(-int64(len(frame)))
		default:
			_ = c.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
			if err := w.Flush(); err != nil {
				return run, seq, err
			}
			clear(run)
			return run[:0], seq, nil
		}
	}
}
