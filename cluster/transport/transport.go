package transport

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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

// The first byte a connection sends says what it carries; Version follows
// it.
const (
	PrefaceTuples byte = 'T' // frames of internal/wire
	PrefaceCalls  byte = 'C' // HTTP/1.1 for Config.Calls
)

// Version is the transport protocol's version: the byte after the
// preface. A tuple connection's sender then sends its session (8 bytes,
// new for every Transport) and the address it listens on (a length byte
// and the address); the receiver answers with its own Version and
// session. A connection of another version is closed and counted
// Rejected, at both ends. Version 1 is the first with a handshake
// (12-byte frame headers, sequence numbers).
const Version byte = 1

// Config configures a Transport. Start from DefaultConfig.
type Config struct {
	// Addr is the host:port to listen on (port 0: a free port).
	Addr string
	// Deliver is called with every message that arrives and the Source it
	// came from, on the reader goroutine of its connection, so it must not
	// block: messages of one connection are delivered in the order sent.
	// The frame's bytes count against from's budget until Deliver
	// returns; whatever Deliver keeps of it beyond (a batch parked for a
	// task not started yet) it reserves with from.Reserve and returns
	// with from.Release.
	Deliver func(m wire.Message, from *Source)
	// Calls, when set, serves the node-to-node calls that arrive on call
	// connections (Client dials them). Nil: call connections are closed.
	Calls http.Handler
	// Logger is the transport's logger (default: discard).
	Logger *slog.Logger

	// OnDrop, when set, is called with every message this transport
	// drops on its way out: a full queue, a peer unreachable or
	// forgotten, a write that failed (those frames may have arrived
	// after all), an item larger than MaxFrame. It runs on one goroutine
	// of the transport's, fed by a bounded queue (drops beyond it are
	// counted in Unreported), so it may take locks and send; it must not
	// block for long.
	OnDrop func(wire.Message)
	// OnGap, when set, is called on a reader goroutine when frames from
	// from's current session are missing (sequence numbers skipped:
	// lost in a connection that broke, never to arrive): missing is how
	// many. It must not block.
	OnGap func(from *Source, missing uint64)

	// MaxFrame bounds a frame's body in bytes. A message whose encoding
	// is larger is sent split in several frames by its batch's items; an
	// item larger on its own is dropped (Oversized). A connection
	// announcing a larger frame is closed.
	MaxFrame int
	// PeerQueue is how many frames wait for one destination, and
	// PeerQueueBytes how many bytes; more are dropped.
	PeerQueue, PeerQueueBytes int
	// PeerBudget bounds the bytes held for one source (a sender's
	// announced address, from one remote host): frames being read from
	// its connections and what Deliver reserves (parked batches).
	// InboundBudget bounds them over every source. Over budget, frames
	// are read and dropped (OverBudget): the connection stays in step.
	PeerBudget, InboundBudget int64
	// MaxInbound bounds the inbound connections open at once (tuple and
	// call connections), MaxInboundPerHost those from one remote host;
	// more are closed as they are accepted (Refused).
	MaxInbound, MaxInboundPerHost int
	// DialTimeout and WriteTimeout bound a dial (and handshake) and a
	// flush to a peer.
	DialTimeout, WriteTimeout time.Duration
	// FrameTimeout bounds the arrival of a connection's preface and
	// handshake, and of a frame once its first byte arrived: half-sent
	// frames do not hold a connection open.
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
//
// MaxFrame is 4 MiB: a full batch is 256 tuples (a task sends its buffer
// for a destination at 256), and a word-count tuple encodes to about 40
// bytes, so a full batch of words is about 10 KiB; 4 MiB holds a full
// batch of 16 KiB tuples, and bigger batches are split rather than
// refused (Storm's Netty transport buffers 5 MB). Only a single tuple
// above 4 MiB is dropped; such values belong in a store, not in a tuple.
// MaxInboundPerHost is 128: a node on a host dials one tuple connection
// and a few call connections (four idle at most, more during a burst of
// calls) to each peer, so a dozen nodes on one loopback address fit.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:0",
		MaxFrame:          4 << 20,
		PeerQueue:         4096,
		PeerQueueBytes:    64 << 20,
		PeerBudget:        64 << 20,
		InboundBudget:     256 << 20,
		MaxInbound:        1024,
		MaxInboundPerHost: 128,
		DialTimeout:       2 * time.Second,
		WriteTimeout:      10 * time.Second,
		FrameTimeout:      30 * time.Second,
		IdleTimeout:       5 * time.Minute,
	}
}

func (c Config) validate() error {
	switch {
	case c.Deliver == nil:
		return errors.New("transport: no Deliver function")
	case c.MaxFrame < 1 || c.PeerQueue < 1 || c.MaxInbound < 1 || c.MaxInboundPerHost < 1:
		return fmt.Errorf("transport: MaxFrame %d, PeerQueue %d, MaxInbound %d and MaxInboundPerHost %d must be at least 1",
			c.MaxFrame, c.PeerQueue, c.MaxInbound, c.MaxInboundPerHost)
	case c.PeerQueueBytes < c.MaxFrame || c.PeerBudget < int64(c.MaxFrame) || c.InboundBudget < c.PeerBudget:
		return fmt.Errorf("transport: need MaxFrame (%d) <= PeerQueueBytes (%d), MaxFrame <= PeerBudget (%d) <= InboundBudget (%d)",
			c.MaxFrame, c.PeerQueueBytes, c.PeerBudget, c.InboundBudget)
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
	cfg     Config
	ln      net.Listener
	log     *slog.Logger
	calls   *callListener
	srv     *http.Server // serves cfg.Calls; nil without
	rt      *http.Transport
	session uint64 // this transport's: new for every Listen
	hello   []byte // what a tuple connection it dials sends first

	mu       sync.Mutex
	peers    map[string]*Peer
	inbound  map[net.Conn]string // tuple and call connections -> remote host
	hosts    map[string]int      // open inbound connections per remote host
	sources  map[sourceKey]*Source
	refusing bool // in a burst of refused connections (logged once)
	closed   bool
	wg       sync.WaitGroup

	held     atomic.Int64 // bytes held over every source (InboundBudget)
	drops    chan dropped // to the OnDrop goroutine
	dropStop chan struct{}
	dropWG   sync.WaitGroup
	logs     rateLogs

	// Dropped counts messages dropped on their way out: a queue full, a
	// peer unreachable or gone, a write that failed, an item above
	// MaxFrame (also counted in Oversized). Rejected counts malformed
	// inbound frames (undecodable, too large, or not complete within
	// FrameTimeout), prefaces and handshakes (another Version, at either
	// end). Refused counts inbound connections closed because
	// MaxInbound, or MaxInboundPerHost from their host, were open.
	Dropped, Rejected, Refused, Oversized atomic.Int64
	// Gaps counts frames found missing by their sequence numbers (sent
	// in a sender's session, never received); Late counts frames that
	// arrived after a later one of their session (over a connection that
	// broke while a new one already delivered). OverBudget counts frames
	// and reservations refused because their source's PeerBudget or the
	// InboundBudget was spent. Unreported counts drops OnDrop did not
	// see (its queue was full).
	Gaps, Late, OverBudget, Unreported atomic.Int64
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
	var session [8]byte
	_, _ = rand.Read(session[:])
	t := &Transport{cfg: cfg, ln: ln, log: logger, session: binary.BigEndian.Uint64(session[:]),
		peers: map[string]*Peer{}, inbound: map[net.Conn]string{}, hosts: map[string]int{}, sources: map[sourceKey]*Source{},
		drops: make(chan dropped, dropQueue), dropStop: make(chan struct{})}
	addr := ln.Addr().String()
	if len(addr) > 255 {
		ln.Close()
		return nil, fmt.Errorf("transport on %s: address too long to announce", addr)
	}
	t.hello = append([]byte{PrefaceTuples, Version}, session[:]...)
	t.hello = append(append(t.hello, byte(len(addr))), addr...)
	t.rt = &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return t.dial(ctx, addr, []byte{PrefaceCalls, Version})
		},
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
	if cfg.OnDrop != nil {
		t.dropWG.Go(t.reportDrops)
	}
	t.wg.Go(t.accept)
	return t, nil
}

// Addr is the address other nodes send to.
func (t *Transport) Addr() string { return t.ln.Addr().String() }

// Inbound is the number of inbound connections open (tuple and call
// connections).
func (t *Transport) Inbound() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.inbound)
}

// Held is the number of bytes held for inbound frames and reservations,
// over every source.
func (t *Transport) Held() int64 { return t.held.Load() }

// Client is an HTTP client for the node-to-node calls: its requests go to
// the transport address in the URL's host ("http://<Addr>/path") over a
// call connection, so they reach the peer's Config.Calls whether or not
// it serves the public HTTP API. timeout bounds each request (0: none).
func (t *Transport) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: t.rt, Timeout: timeout}
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
	close(t.dropStop) // after the writers: they report what they still held
	t.dropWG.Wait()
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
