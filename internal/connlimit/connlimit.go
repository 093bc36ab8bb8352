package connlimit

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Sentinel errors of Acquire.
var (
	ErrTotal   = errors.New("connlimit: too many connections")
	ErrPerPeer = errors.New("connlimit: too many connections from this peer")
)

// Limiter counts open connections per peer and in total. Safe for
// concurrent use; nothing blocks.
type Limiter struct {
	perPeer, total int

	mu    sync.Mutex
	peers map[string]int
	all   int
}

// New returns a Limiter of at most perPeer connections per peer and total
// in all.
func New(perPeer, total int) (*Limiter, error) {
	if perPeer <= 0 || total <= 0 || perPeer > total {
		return nil, fmt.Errorf("connlimit: %d per peer, %d in total: want 1 <= per peer <= total", perPeer, total)
	}
	return &Limiter{perPeer: perPeer, total: total, peers: map[string]int{}}, nil
}

// Acquire counts a new connection of peer, or refuses it with ErrTotal or
// ErrPerPeer. release uncounts it; calling it again does nothing.
func (l *Limiter) Acquire(peer string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.all >= l.total:
		return nil, fmt.Errorf("%w: %d open (limit %d)", ErrTotal, l.all, l.total)
	case l.peers[peer] >= l.perPeer:
		return nil, fmt.Errorf("%w: %s has %d open (limit %d)", ErrPerPeer, peer, l.peers[peer], l.perPeer)
	}
	l.all++
	l.peers[peer]++
	var once sync.Once
	return func() { once.Do(func() { l.release(peer) }) }, nil
}

func (l *Limiter) release(peer string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all--
	if l.peers[peer]--; l.peers[peer] == 0 {
		delete(l.peers, peer)
	}
}

// Open is how many connections are counted now, in total and of peer.
func (l *Limiter) Open(peer string) (total, ofPeer int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all, l.peers[peer]
}

// PeerKey is the peer a connection from addr counts against: its IP, or
// the whole address when it has none.
func PeerKey(addr net.Addr) string {
	if a, ok := addr.(*net.TCPAddr); ok {
		return a.IP.String()
	}
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		return host
	}
	return addr.String()
}

// Listener is a net.Listener whose Accept closes connections over its
// Limiter's caps at once (counting them in Refused) and hands out the
// others with a Close that releases their count.
type Listener struct {
	net.Listener
	limit *Limiter
	// Refused counts the connections closed for being over a cap (for
	// /metrics).
	Refused atomic.Int64
}

// Listen wraps ln with l.
func Listen(ln net.Listener, l *Limiter) *Listener {
	return &Listener{Listener: ln, limit: l}
}

// Accept returns the next connection within the caps; refused ones are
// closed here and never returned.
func (ln *Listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, err := ln.limit.Acquire(PeerKey(c.RemoteAddr()))
		if err != nil {
			ln.Refused.Add(1)
			_ = c.Close()
			continue
		}
		return &conn{Conn: c, release: release}, nil
	}
}

type conn struct {
	net.Conn
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// Unwrap is the accepted connection underneath (for TCP options).
func (c *conn) Unwrap() net.Conn { return c.Conn }
