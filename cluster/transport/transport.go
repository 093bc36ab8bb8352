package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/internal/wire"
)

// squall does not use protoactor-go's remote: its Start rewrites gRPC's
// process-global logger (a data race with every other gRPC server in the
// process, so in-process clusters fail under -race), a malformed message
// panics inside its handler, its send queues are unbounded and a failed
// reconnect sleeps 2 s inside the writer (specs/libraries.md). Here a
// malformed frame closes that connection and is logged, queues are bounded
// (a full queue drops the batch: its trees time out and replay), and
// liveness is memberlist's business, not the transport's.

// The first byte a connection sends says what it carries.
const (
	PrefaceTuples byte = 'T' // frames of internal/wire
	PrefaceCalls  byte = 'C' // HTTP/1.1 for Config.Calls
)

// Config configures a Transport. Start from DefaultConfig.
type Config struct {
	// Addr is the host:port to listen on (port 0: a free port).
	Addr string
	// Deliver is called with every message that arrives, on the reader
	// goroutine of its connection, so it must not block: messages of one
	// connection are delivered in the order sent.
	Deliver func(wire.Message)
	// Calls, when set, serves the node-to-node calls that arrive on call
	// connections (Client dials them). Nil: call connections are closed.
	Calls http.Handler
	// Logger is the transport's logger (default: discard).
	Logger *slog.Logger

	// MaxFrame bounds a frame's body in bytes: a larger frame is not sent,
	// and a connection announcing one is closed.
	MaxFrame int
	// PeerQueue is how many frames wait for one destination; more are
	// dropped.
	PeerQueue int
	// MaxInbound bounds the inbound connections open at once (tuple and
	// call connections); more are closed as they are accepted.
	MaxInbound int
	// DialTimeout and WriteTimeout bound a dial and a flush to a peer.
	DialTimeout, WriteTimeout time.Duration
	// FrameTimeout bounds the arrival of a connection's preface, and of a
	// frame once its first byte arrived: half-sent frames do not hold a
	// connection open.
	FrameTimeout time.Duration
	// IdleTimeout closes an inbound connection that carried nothing for
	// that long. Writers close their connection after half of it without
	// frames, so a live sender never writes into a connection the
	// receiver closed.
	IdleTimeout time.Duration

	// ServerTLS, when set, makes inbound connections TLS; ClientTLS, when
	// set, makes the connections this transport dials TLS (its ServerName
	// defaults to the peer's host). Both or neither: peers must agree.
	ServerTLS, ClientTLS *tls.Config
	// Dial dials a peer's address (default: TCP, bounded by DialTimeout
	// through ctx). Tests use it to hold a dial.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// DefaultConfig is a transport listening on a free loopback port with the
// production limits.
func DefaultConfig() Config {
	return Config{
		Addr:         "127.0.0.1:0",
		MaxFrame:     64 << 20,
		PeerQueue:    4096,
		MaxInbound:   1024,
		DialTimeout:  2 * time.Second,
		WriteTimeout: 10 * time.Second,
		FrameTimeout: 30 * time.Second,
		IdleTimeout:  5 * time.Minute,
	}
}

func (c Config) validate() error {
	switch {
	case c.Deliver == nil:
		return errors.New("transport: no Deliver function")
	case c.MaxFrame < 1 || c.PeerQueue < 1 || c.MaxInbound < 1:
		return fmt.Errorf("transport: MaxFrame %d, PeerQueue %d and MaxInbound %d must be at least 1", c.MaxFrame, c.PeerQueue, c.MaxInbound)
	case c.DialTimeout <= 0 || c.WriteTimeout <= 0 || c.FrameTimeout <= 0 || c.IdleTimeout <= 0:
		return errors.New("transport: every timeout must be positive")
	case (c.ServerTLS == nil) != (c.ClientTLS == nil):
		return errors.New("transport: set both ServerTLS and ClientTLS, or neither")
	}
	return nil
}

// Transport is one node's end of the node-to-node transport. Safe for
// concurrent use.
type Transport struct {
	cfg   Config
	ln    net.Listener
	log   *slog.Logger
	calls *callListener
	srv   *http.Server // serves cfg.Calls; nil without
	rt    *http.Transport

	mu      sync.Mutex
	peers   map[string]*Peer
	inbound map[net.Conn]struct{} // tuple and call connections
	closed  bool
	wg      sync.WaitGroup

	// Dropped counts frames dropped because a queue was full or a peer
	// unreachable; Rejected counts malformed inbound frames (undecodable,
	// too large, or not complete within FrameTimeout) and prefaces;
	// Refused counts inbound connections closed because MaxInbound were
	// open.
	Dropped, Rejected, Refused atomic.Int64
}

// Listen starts a transport: it listens at cfg.Addr and delivers what
// arrives to cfg.Deliver until Close.
func Listen(cfg Config) (*Transport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("transport on %s: %w", cfg.Addr, err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := &Transport{cfg: cfg, ln: ln, log: logger, peers: map[string]*Peer{}, inbound: map[net.Conn]struct{}{}}
	t.rt = &http.Transport{
		DialContext:         func(ctx context.Context, _, addr string) (net.Conn, error) { return t.dial(ctx, addr, PrefaceCalls) },
		MaxIdleConnsPerHost: 4,
		// Below the server's idle timeout, so the client never reuses a
		// connection the server is closing.
		IdleConnTimeout: cfg.IdleTimeout / 2,
	}
	if cfg.Calls != nil {
		t.calls = &callListener{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
		t.srv = &http.Server{Handler: cfg.Calls, ReadHeaderTimeout: cfg.FrameTimeout, IdleTimeout: cfg.IdleTimeout,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
		t.wg.Go(func() { _ = t.srv.Serve(t.calls) })
	}
	t.wg.Go(t.accept)
	return t, nil
}

// Addr is the address other nodes send to.
func (t *Transport) Addr() string { return t.ln.Addr().String() }

// Client is an HTTP client for the node-to-node calls: its requests go to
// the transport address in the URL's host ("http://<Addr>/path") over a
// call connection, so they reach the peer's Config.Calls whether or not
// it serves the public HTTP API. timeout bounds each request (0: none).
func (t *Transport) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: t.rt, Timeout: timeout}
}

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
		t.mu.Lock()
		switch {
		case t.closed:
			t.mu.Unlock()
			c.Close()
			return
		case len(t.inbound) >= t.cfg.MaxInbound:
			t.mu.Unlock()
			c.Close()
			t.Refused.Add(1)
			t.log.Warn("inbound connection refused: too many open", "from", c.RemoteAddr().String(), "limit", t.cfg.MaxInbound)
			continue
		}
		t.inbound[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Go(func() { t.serve(c) })
	}
}

// forget drops c from the inbound connections (it is closed).
func (t *Transport) forget(c net.Conn) {
	t.mu.Lock()
	delete(t.inbound, c)
	t.mu.Unlock()
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
	var preface [1]byte
	if _, err := io.ReadFull(c, preface[:]); err != nil {
		c.Close()
		return
	}
	switch {
	case preface[0] == PrefaceTuples:
		t.read(c)
	case preface[0] == PrefaceCalls && t.calls != nil:
		_ = c.SetReadDeadline(time.Time{}) // the HTTP server sets its own
		if handed = t.calls.hand(&callConn{Conn: c, release: func() { t.forget(raw) }}); handed {
			return
		}
	default:
		t.reject(c, fmt.Errorf("unknown connection preface %#x", preface[0]))
	}
	c.Close()
}

// quiet reports whether err is a connection ending or timing out rather
// than bad input.
func quiet(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.As(err, &ne) && ne.Timeout()
}

// read delivers the frames of one tuple connection until it ends or a
// frame is malformed (then the connection is closed: the sender redials).
func (t *Transport) read(c net.Conn) {
	r := bufio.NewReaderSize(c, 64<<10)
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
		var err error
		buf, err = readFrame(r, buf, t.cfg.MaxFrame)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.reject(c, err)
			}
			return
		}
		m, err := wire.Decode(buf)
		if err != nil {
			t.reject(c, err)
			return
		}
		t.cfg.Deliver(m)
		if cap(buf) > 4<<20 {
			buf = nil // a rare huge frame does not pin its buffer
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

// errTruncated is a frame that ended early or timed out half-sent.
var errTruncated = errors.New("frame cut short")

// readFrame reads one frame from r into buf (reused) and returns its
// body. A length above maxBody is refused before anything is allocated,
// and the body's buffer grows only as its bytes arrive: a header that
// announces 64 MiB and sends nothing costs nothing. It returns io.EOF
// when r ends before the frame starts.
func readFrame(r io.Reader, buf []byte, maxBody int) ([]byte, error) {
	var hdr [wire.HeaderLen]byte
	if k, err := io.ReadFull(r, hdr[:]); err != nil {
		if k == 0 && errors.Is(err, io.EOF) {
			return buf, io.EOF
		}
		return buf, fmt.Errorf("%w: header: %w", errTruncated, err)
	}
	n := wire.BodyLen(hdr)
	if n == 0 || n > maxBody {
		return buf, fmt.Errorf("%w: frame of %d bytes (limit %d)", wire.ErrMalformed, n, maxBody)
	}
	buf = buf[:0]
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), max(cap(buf), 64<<10)))
		}
		k, err := r.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+k]
		if err != nil && len(buf) < n {
			return buf, fmt.Errorf("%w: %d of %d bytes: %w", errTruncated, len(buf), n, err)
		}
	}
	return buf, nil
}

func (t *Transport) reject(c net.Conn, err error) {
	t.Rejected.Add(1)
	t.log.Warn("rejected malformed transport input", "from", c.RemoteAddr().String(), "err", err)
}

// dial connects to addr and sends preface.
func (t *Transport) dial(ctx context.Context, addr string, preface byte) (net.Conn, error) {
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
	if _, err := c.Write([]byte{preface}); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}

// Send queues m for the node p (from Peer) leads to. It never blocks:
// when the queue is full the frame is dropped, and once the peer is
// forgotten or the transport closed it is refused; either way it returns
// false.
func (t *Transport) Send(p *Peer, m wire.Message) bool {
	select {
	case <-p.gone:
		t.Dropped.Add(1)
		return false
	default:
	}
	frame, err := wire.AppendFrame(nil, m, t.cfg.MaxFrame)
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
	gone   <-chan struct{} // closed when the peer is forgotten or the transport closes
	forget context.CancelFunc
}

// Retain forgets every peer whose address keep does not hold: its writer
// closes the connection and exits, and what is still queued for it is
// dropped (those trees replay). Nodes call it with the addresses of the
// live members, so a node that died or restarted (a new transport address
// each boot) leaves no goroutine or connection behind. Directories built
// before still hold the old peer; sends to it are refused, and a later
// Peer(addr) starts a new one.
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

// write sends p's frames, dialling as needed. While the peer cannot be
// reached, frames are dropped (their trees replay) and dialling backs
// off. A connection without frames for half the idle timeout is closed
// (the next frame redials) before the receiver would close it.
func (t *Transport) write(ctx context.Context, p *Peer) {
	var c net.Conn
	var w *bufio.Writer
	backoff := 50 * time.Millisecond
	idle := time.NewTimer(t.cfg.IdleTimeout / 2)
	defer func() {
		idle.Stop()
		if c != nil {
			c.Close()
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
		}
		if c == nil {
			conn, err := t.dial(ctx, p.addr, PrefaceTuples)
			if err != nil {
				t.Dropped.Add(1)
				t.log.Debug("peer unreachable", "peer", p.addr, "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			c, w, backoff = conn, bufio.NewWriterSize(conn, 256<<10), 50*time.Millisecond
		}
		err := writeFrames(c, w, p, frame, t.cfg.WriteTimeout)
		if err == nil {
			_ = c.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
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

// writeFrames writes frame and whatever else is queued right now. Each
// write that reaches the connection (the buffer is full) gets its own
// deadline of timeout: under sustained load the queue may never empty,
// and one deadline for the whole run would cut a healthy connection.
func writeFrames(c net.Conn, w *bufio.Writer, p *Peer, frame []byte, timeout time.Duration) error {
	for {
		if len(frame) > w.Available() {
			_ = c.SetWriteDeadline(time.Now().Add(timeout))
		}
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
func (t *Transport) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.ln.Close()
	for addr, p := range t.peers {
		p.forget()
		delete(t.peers, addr)
	}
	t.mu.Unlock()
	if t.srv != nil {
		_ = t.srv.Close() // closes t.calls and the call connections
	}
	t.mu.Lock()
	for c := range t.inbound {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	t.rt.CloseIdleConnections()
}

// callListener hands call connections to the calls server.
type callListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// hand gives c to the server; false once the listener is closed.
func (l *callListener) hand(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *callListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *callListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *callListener) Addr() net.Addr { return l.addr }

// callConn is a call connection; closing it frees its inbound slot.
type callConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *callConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
