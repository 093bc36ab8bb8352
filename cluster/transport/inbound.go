package transport

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/internal/wire"
)

// The receiving half: accept, the preface and handshake, frames, and the
// budget of what is held for each source.

func (t *Transport) accept() {
	var backoff time.Duration
	for {
		c, err := t.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of file descriptors, say: retry as net/http does, so
			// a burst of connections does not stop the transport.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t.log.Warn("transport accept failed; retrying", "err", err, "in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		host := remoteHost(c)
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			c.Close()
			return
		}
		if why := t.refuseLocked(host); why != "" {
			first := !t.refusing
			t.refusing = true
			t.mu.Unlock()
			c.Close()
			t.Refused.Add(1)
			if first { // once per burst: refusing is a defence, not news
				t.log.Warn("inbound connections refused: "+why, "from", host, "limit", t.cfg.MaxInbound, "per host", t.cfg.MaxInboundPerHost)
			}
			continue
		}
		t.refusing = false
		t.inbound[c] = host
		t.hosts[host]++
		t.mu.Unlock()
		t.wg.Go(func() { t.serve(c) })
	}
}

// refuseLocked says why a connection from host is refused, or "".
func (t *Transport) refuseLocked(host string) string {
	switch {
	case len(t.inbound) >= t.cfg.MaxInbound:
		return "too many open"
	case t.hosts[host] >= t.cfg.MaxInboundPerHost:
		return "too many open from one host"
	}
	return ""
}

func remoteHost(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	return host
}

// forget drops c from the inbound connections (it is closed).
func (t *Transport) forget(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	host, ok := t.inbound[c]
	if !ok {
		return
	}
	delete(t.inbound, c)
	if t.hosts[host]--; t.hosts[host] <= 0 {
		delete(t.hosts, host)
	}
}

// serve reads the preface of inbound connection c and hands it to the
// frame reader or the calls server.
func (t *Transport) serve(raw net.Conn) {
	handed := false // to the calls server, which closes it
	defer func() {
		if !handed {
			t.forget(raw)
		}
	}()
	_ = raw.SetReadDeadline(time.Now().Add(t.cfg.FrameTimeout))
	c := raw
	if t.cfg.ServerTLS != nil {
		tc := tls.Server(raw, t.cfg.ServerTLS)
		if err := tc.Handshake(); err != nil {
			if !quiet(err) {
				t.reject(raw, fmt.Errorf("tls: %w", err))
			}
			raw.Close()
			return
		}
		c = tc
	}
	var preface [2]byte // the preface and the version
	if _, err := io.ReadFull(c, preface[:1]); err != nil {
		c.Close()
		return
	}
	switch {
	case preface[0] == PrefaceTuples:
		r := bufio.NewReaderSize(c, 64<<10)
		src, ch, err := t.handshake(c, r)
		if err != nil {
			if !quiet(err) {
				t.reject(c, err)
			}
			break
		}
		t.read(c, r, src, ch)
		t.leave(src)
	case preface[0] == PrefaceCalls && t.calls != nil:
		if _, err := io.ReadFull(c, preface[1:]); err != nil {
			break
		}
		if preface[1] != Version {
			t.reject(c, fmt.Errorf("%w: a call connection of version %d (this node speaks %d)", errVersion, preface[1], Version))
			break
		}
		_ = c.SetReadDeadline(time.Time{}) // the HTTP server sets its own
		if handed = t.calls.hand(&callConn{Conn: c, release: func() { t.forget(raw) }}); handed {
			return
		}
	default:
		t.reject(c, fmt.Errorf("unknown connection preface %#x", preface[0]))
	}
	c.Close()
}

// errVersion is a peer speaking another Version of the protocol.
var errVersion = errors.New("transport version mismatch")

// handshake reads a tuple connection's version, session and announced
// address, and answers with this transport's version and session.
func (t *Transport) handshake(c net.Conn, r *bufio.Reader) (*Source, *channel, error) {
	reply := binary.BigEndian.AppendUint64([]byte{Version}, t.session)
	v, err := r.ReadByte()
	if err != nil {
		return nil, nil, err
	}
	if v != Version {
		_ = c.SetWriteDeadline(time.Now().Add(t.cfg.FrameTimeout))
		_, _ = c.Write(reply) // so the sender can say what this node speaks
		return nil, nil, fmt.Errorf("%w: a tuple connection of version %d (this node speaks %d)", errVersion, v, Version)
	}
	var hdr [9]byte // session, address length
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, err
	}
	if hdr[8] == 0 {
		return nil, nil, fmt.Errorf("%w: handshake without an address", wire.ErrMalformed)
	}
	addr := make([]byte, hdr[8])
	if _, err := io.ReadFull(r, addr); err != nil {
		return nil, nil, err
	}
	_ = c.SetWriteDeadline(time.Now().Add(t.cfg.FrameTimeout))
	if _, err := c.Write(reply); err != nil {
		return nil, nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	src, ch := t.join(remoteHost(c), string(addr), binary.BigEndian.Uint64(hdr[:8]))
	return src, ch, nil
}

// maxSources bounds the sources remembered (with their sequence numbers)
// beyond those with a connection open.
const maxSources = 4096

// join returns the source at addr on host, with a connection more, and
// the channel of its session.
func (t *Transport) join(host, addr string, session uint64) (*Source, *channel) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := sourceKey{host: host, addr: addr}
	src := t.sources[key]
	if src == nil {
		if len(t.sources) >= maxSources {
			for k, s := range t.sources { // forget idle sources: their next frames start anew
				if s.conns == 0 && s.held.Load() == 0 {
					delete(t.sources, k)
				}
			}
		}
		src = &Source{t: t, addr: addr}
		t.sources[key] = src
	}
	src.conns++
	ch := src.ch.Load()
	if ch == nil || ch.session != session {
		// A new sender session (the first, or the sender restarted):
		// its frames are numbered from 1.
		ch = &channel{session: session}
		src.ch.Store(ch)
	}
	return src, ch
}

// leave is join's undo when a connection of src ends.
func (t *Transport) leave(src *Source) {
	t.mu.Lock()
	src.conns--
	t.mu.Unlock()
}

type sourceKey struct{ host, addr string }

// Source is where inbound messages come from: one sender (as its
// handshake announced it: the address it listens on) from one remote
// host. It holds the budget of what its messages may keep in memory.
// Safe for concurrent use; a nil *Source has no budget.
type Source struct {
	t     *Transport
	addr  string
	conns int // open connections; t.mu
	held  atomic.Int64
	ch    atomic.Pointer[channel] // the sequence of its current session
}

// channel is the sequence of one sender session.
type channel struct {
	session uint64
	next    atomic.Uint64 // the sequence number due (0: none received yet, 1 is due)
}

// Addr is the address the source announced: the one it listens on.
func (s *Source) Addr() string {
	if s == nil {
		return ""
	}
	return s.addr
}

// Reserve takes n bytes of the source's budget (PeerBudget) and of the
// transport's (InboundBudget); it reports false, counts OverBudget and
// takes nothing when either is spent.
func (s *Source) Reserve(n int) bool {
	if s == nil || n <= 0 {
		return true
	}
	k := int64(n)
	if s.held.Add(k) > s.t.cfg.PeerBudget {
		s.held.Add(-k)
		s.t.overBudget(s)
		return false
	}
	if s.t.held.Add(k) > s.t.cfg.InboundBudget {
		s.t.held.Add(-k)
		s.held.Add(-k)
		s.t.overBudget(s)
		return false
	}
	return true
}

// Release returns n bytes that Reserve took.
func (s *Source) Release(n int) {
	if s == nil || n <= 0 {
		return
	}
	s.held.Add(-int64(n))
	s.t.held.Add(-int64(n))
}

func (t *Transport) overBudget(s *Source) {
	t.OverBudget.Add(1)
	if n, ok := t.logs.overBudget.allow(); ok {
		t.log.Warn("inbound over budget: dropping what arrives", "from", s.addr, "held", s.held.Load(), "limit", t.cfg.PeerBudget,
			"held everywhere", t.held.Load(), "limit everywhere", t.cfg.InboundBudget, "dropped since last said", n)
	}
}

// sequence checks frame seq of session ch from src: counts (and reports)
// the frames it skips, and those that arrive after a later one.
func (t *Transport) sequence(src *Source, ch *channel, seq uint64) {
	for {
		next := ch.next.Load()
		due := max(next, 1)
		if seq < due {
			t.Late.Add(1)
			return
		}
		if ch.next.CompareAndSwap(next, seq+1) {
			if missing := seq - due; missing > 0 {
				t.Gaps.Add(int64(missing))
				t.log.Debug("frames missing from a peer", "from", src.addr, "missing", missing, "before", seq)
				if t.cfg.OnGap != nil {
					t.cfg.OnGap(src, missing)
				}
			}
			return
		}
	}
}

// quiet reports whether err is a connection ending or timing out rather
// than bad input.
func quiet(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.As(err, &ne) && ne.Timeout()
}

// read delivers the frames of one tuple connection until it ends or a
// frame is malformed (then the connection is closed: the sender redials).
func (t *Transport) read(c net.Conn, r *bufio.Reader, src *Source, ch *channel) {
	var buf []byte
	for {
		// A deadline matters only to a read that blocks, so one is set
		// only before a read that may: the idle timeout while no frame
		// has started, the frame timeout while one is not all buffered.
		// Under load whole frames sit in the buffer and no deadline is
		// touched.
		if r.Buffered() == 0 {
			_ = c.SetReadDeadline(time.Now().Add(t.cfg.IdleTimeout))
			if _, err := r.Peek(1); err != nil {
				return // closed, or idle for IdleTimeout
			}
		}
		if !frameBuffered(r) {
			_ = c.SetReadDeadline(time.Now().Add(t.cfg.FrameTimeout))
		}
		body, seq, err := readFrame(r, buf, t.cfg.MaxFrame, src)
		buf = body
		if errors.Is(err, errOverBudget) {
			t.sequence(src, ch, seq) // read and dropped: not a gap
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.reject(c, err)
			}
			return
		}
		t.sequence(src, ch, seq)
		m, err := wire.Decode(body)
		if err != nil {
			src.Release(len(body))
			t.reject(c, err)
			return
		}
		t.cfg.Deliver(m, src)
		src.Release(len(body))
		if cap(buf) > 1<<20 {
			buf = nil // a rare big frame does not pin its buffer
		}
	}
}

// frameBuffered reports whether r holds a whole frame.
func frameBuffered(r *bufio.Reader) bool {
	if r.Buffered() < wire.HeaderLen {
		return false
	}
	hdr, _ := r.Peek(wire.HeaderLen)
	return r.Buffered()-wire.HeaderLen >= wire.BodyLen([wire.HeaderLen]byte(hdr))
}

var (
	// errTruncated is a frame that ended early or timed out half-sent.
	errTruncated = errors.New("frame cut short")
	// errOverBudget is a frame read and dropped: its source's budget was
	// spent.
	errOverBudget = errors.New("frame over budget")
)

// growStep is how much a frame's buffer grows at least: the body's bytes
// are read into it as they arrive, not allocated from the header.
const growStep = 64 << 10

// readFrame reads one frame from r into buf (reused) and returns its
// body and sequence number. A length above maxBody is refused before
// anything is allocated, and the body's buffer grows only as its bytes
// arrive: a header that announces 4 MiB and sends nothing costs nothing.
// The bytes the buffer holds for the body are reserved from src (nil: no
// budget) as it grows; on success the caller releases len(body), on an
// error readFrame has released them. Over budget, the rest of the body is
// read and dropped (errOverBudget, with the frame's sequence number). It
// returns io.EOF when r ends before the frame starts.
func readFrame(r io.Reader, buf []byte, maxBody int, src *Source) ([]byte, uint64, error) {
	var hdr [wire.HeaderLen]byte
	if k, err := io.ReadFull(r, hdr[:]); err != nil {
		if k == 0 && errors.Is(err, io.EOF) {
			return buf, 0, io.EOF
		}
		return buf, 0, fmt.Errorf("%w: header: %w", errTruncated, err)
	}
	n, seq := wire.BodyLen(hdr), wire.Seq(hdr)
	if n == 0 || n > maxBody {
		return buf, seq, fmt.Errorf("%w: frame of %d bytes (limit %d)", wire.ErrMalformed, n, maxBody)
	}
	buf = buf[:0]
	held := 0
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), max(cap(buf), growStep)))
		}
		if want := min(cap(buf), n); want > held {
			if !src.Reserve(want - held) {
				src.Release(held)
				if _, err := io.CopyN(io.Discard, r, int64(n-len(buf))); err != nil {
					return buf[:0], seq, fmt.Errorf("%w: %d bytes dropped over budget: %w", errTruncated, n, err)
				}
				return buf[:0], seq, errOverBudget
			}
			held = want
		}
		k, err := r.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+k]
		if err != nil && len(buf) < n {
			src.Release(held)
			return buf, seq, fmt.Errorf("%w: %d of %d bytes: %w", errTruncated, len(buf), n, err)
		}
	}
	return buf, seq, nil
}

func (t *Transport) reject(c net.Conn, err error) {
	t.Rejected.Add(1)
	if n, ok := t.logs.rejected.allow(); ok {
		t.log.Warn("rejected malformed transport input", "from", c.RemoteAddr().String(), "err", err, "rejected since last said", n)
	}
}

// rateLogs keeps what the transport logs about outside input to a line
// per burst.
type rateLogs struct{ rejected, overBudget, oversized rateLog }

// rateLog allows a line at most every logEvery; the events in between are
// counted and reported with the next line.
type rateLog struct {
	last   atomic.Int64 // unix nanoseconds of the last line
	missed atomic.Int64
}

const logEvery = 10 * time.Second

// allow reports whether to log now, and how many events were not logged
// since the last line.
func (l *rateLog) allow() (int64, bool) {
	now := time.Now().UnixNano()
	last := l.last.Load()
	if now-last < int64(logEvery) || !l.last.CompareAndSwap(last, now) {
		l.missed.Add(1)
		return 0, false
	}
	return l.missed.Swap(0), true
}
