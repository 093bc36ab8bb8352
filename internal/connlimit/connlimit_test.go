package connlimit

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/internal/poll"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestLimiter(t *testing.T) {
	l, err := New(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	releases := map[string][]func(){}
	for _, tc := range []struct {
		op    string // "acquire" or "release"
		peer  string
		want  error
		total int
	}{
		{"acquire", "a", nil, 1},
		{"acquire", "a", nil, 2},
		{"acquire", "a", ErrPerPeer, 2},
		{"acquire", "b", nil, 3},
		{"acquire", "c", ErrTotal, 3},
		{"release", "a", nil, 2},
		{"release", "a", nil, 2}, // the same release again: nothing
		{"acquire", "c", nil, 3},
		{"acquire", "a", ErrTotal, 3},
	} {
		switch tc.op {
		case "acquire":
			rel, err := l.Acquire(tc.peer)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (rel != nil) {
				t.Fatalf("Acquire(%s) = %v, want %v", tc.peer, err, tc.want)
			}
			if rel != nil {
				releases[tc.peer] = append(releases[tc.peer], rel)
			}
		case "release":
			releases[tc.peer][0]()
		}
		if total, _ := l.Open(tc.peer); total != tc.total {
			t.Fatalf("after %s %s: %d open, want %d", tc.op, tc.peer, total, tc.total)
		}
	}
	for _, bad := range [][2]int{{0, 1}, {1, 0}, {3, 2}, {-1, 5}} {
		if _, err := New(bad[0], bad[1]); err == nil {
			t.Errorf("New(%d, %d) accepted", bad[0], bad[1])
		}
	}
}

func TestPeerKey(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 5000}, "127.0.0.1"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 5000}, "::1"},
		{fakeAddr("10.0.0.1:77"), "10.0.0.1"},
		{fakeAddr("pipe"), "pipe"},
	} {
		if got := PeerKey(tc.addr); got != tc.want {
			t.Errorf("PeerKey(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// fakeListener hands out in-memory connections from the addresses it is
// given, so peers other than 127.0.0.1 can be tested.
type fakeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newFakeListener() *fakeListener {
	return &fakeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (f *fakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-f.conns:
		return c, nil
	case <-f.closed:
		return nil, net.ErrClosed
	}
}
func (f *fakeListener) Close() error   { f.once.Do(func() { close(f.closed) }); return nil }
func (f *fakeListener) Addr() net.Addr { return fakeAddr("fake:0") }

type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// dial makes a connection from peer and returns the client end.
func (f *fakeListener) dial(t *testing.T, peer string) net.Conn {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	f.conns <- addrConn{Conn: server, remote: fakeAddr(peer + ":1234")}
	return client
}

// closedByListener reports whether the listener closed c's server end.
func closedByListener(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF)
}

func TestListener(t *testing.T) {
	l, _ := New(2, 3)
	fake := newFakeListener()
	ln := Listen(fake, l)
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	a1 := fake.dial(t, "10.0.0.1")
	s1 := <-accepted
	fake.dial(t, "10.0.0.1")
	<-accepted
	a3 := fake.dial(t, "10.0.0.1") // over the per-peer cap
	if !closedByListener(a3) {
		t.Fatal("third connection of one peer was not closed")
	}
	fake.dial(t, "10.0.0.2")
	<-accepted
	b2 := fake.dial(t, "10.0.0.3") // over the total
	if !closedByListener(b2) {
		t.Fatal("connection over the total was not closed")
	}
	if got := ln.Refused.Load(); got != 2 {
		t.Errorf("Refused = %d, want 2", got)
	}
	// Closing an accepted connection frees its place.
	s1.Close()
	s1.Close()
	if !closedByListener(a1) {
		t.Fatal("closing the server end did not reach the client")
	}
	if total, of := l.Open("10.0.0.1"); total != 2 || of != 1 {
		t.Fatalf("after a close: %d open, %d of the peer; want 2, 1", total, of)
	}
	fake.dial(t, "10.0.0.3")
	c := <-accepted
	if _, ok := c.(interface{ Unwrap() net.Conn }); !ok {
		t.Error("accepted connection does not unwrap")
	}
	ln.Close()
	<-done
}

// TestListenerLoopback: the real thing over 127.0.0.1 with a per-peer cap.
func TestListenerLoopback(t *testing.T) {
	l, _ := New(3, 10)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listen(tcp, l)
	var wg sync.WaitGroup
	var held []net.Conn
	var mu sync.Mutex
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	})
	var clients []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	// Once all five are accepted or refused, every refusal's EOF is on
	// its way: a short read deadline then tells the two kinds apart.
	poll.Until(t, 10*time.Second, "5 connections accepted or refused", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(held)+int(ln.Refused.Load()) == 5
	})
	closed := 0
	for _, c := range clients {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
			closed++
		}
		c.Close()
	}
	ln.Close()
	wg.Wait()
	for _, c := range held {
		c.Close()
	}
	if closed != 2 || ln.Refused.Load() != 2 {
		t.Fatalf("%d of 5 connections closed, %d refused; want 2 and 2 (cap 3 per peer)", closed, ln.Refused.Load())
	}
	if total, _ := l.Open("127.0.0.1"); total != 0 {
		t.Errorf("%d still counted after every close", total)
	}
}
