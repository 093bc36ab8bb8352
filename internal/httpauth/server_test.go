package httpauth

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// serve starts LocalTimeouts().Server(h) on 127.0.0.1 and returns its
// address; the server is closed when the test ends.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := LocalTimeouts().Server(h)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// closedByServer reads c until the server closes it, and fails t if our
// own 5 s deadline (far beyond every LocalTimeouts phase) came first.
func closedByServer(t *testing.T, c net.Conn, r io.Reader) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept the connection open")
	}
}

func TestTimeoutsCloseIdleAndSlowConnections(t *testing.T) {
	bodyErr := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		if r.Method == http.MethodPost {
			bodyErr <- err
		}
	}))
	dial := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("idle keep-alive", func(t *testing.T) {
		c := dial(t)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Close {
			t.Fatal("the server closed a fresh keep-alive connection at once")
		}
		closedByServer(t, c, br)
	})
	t.Run("headers never finished", func(t *testing.T) {
		c := dial(t)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
		closedByServer(t, c, c)
	})
	t.Run("body never finished", func(t *testing.T) {
		c := dial(t)
		if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 10)); err != nil {
			t.Fatal(err)
		}
		closedByServer(t, c, c)
		if err := <-bodyErr; err == nil {
			t.Error("the handler read a body that never came in full without an error")
		}
	})
}

func TestTimeoutsServer(t *testing.T) {
	d := DefaultTimeouts()
	s := d.Server(http.NotFoundHandler())
	if s.ReadHeaderTimeout != d.ReadHeader || s.ReadTimeout != d.Read || s.WriteTimeout != d.Write || s.IdleTimeout != d.Idle || s.MaxHeaderBytes != d.MaxHeaderBytes {
		t.Fatalf("server %+v does not carry %+v", s, d)
	}
	for _, v := range []time.Duration{d.ReadHeader, d.Read, d.Write, d.Idle} {
		if v <= 0 {
			t.Errorf("a default timeout is %v: every phase needs one", v)
		}
	}
}
