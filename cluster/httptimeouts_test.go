package cluster_test

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

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/httpauth"
)

// TestHTTPAPIClosesIdleAndSlowConnections: the node's API server bounds
// every phase of a connection (Config.HTTPTimeouts): an idle keep-alive
// connection, headers never finished and a body never finished are all
// closed by the server, where they used to stay open for good.
func TestHTTPAPIClosesIdleAndSlowConnections(t *testing.T) {
	c := clustertest.NewWithConfig(t, 1, nil, func(_ int, cfg *cluster.Config) { cfg.HTTPTimeouts = httpauth.LocalTimeouts() })
	addr := c.Node(0).HTTPAddr()
	dial := func(t *testing.T) net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	// closedByServer reads until the server closes conn, failing if our
	// own deadline, far beyond every LocalTimeouts phase, came first.
	closedByServer := func(t *testing.T, conn net.Conn, r io.Reader) {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, r); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the server kept the connection open")
		}
	}
	t.Run("idle keep-alive", func(t *testing.T) {
		conn := dial(t)
		if _, err := io.WriteString(conn, "GET /api/v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("%s, close %v: want 200 on a kept-alive connection", resp.Status, resp.Close)
		}
		closedByServer(t, conn, br)
	})
	t.Run("headers never finished", func(t *testing.T) {
		conn := dial(t)
		if _, err := io.WriteString(conn, "GET /api/v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
			t.Fatal(err)
		}
		closedByServer(t, conn, conn)
	})
	t.Run("body never finished", func(t *testing.T) {
		conn := dial(t)
		if _, err := io.WriteString(conn, "POST /api/v1/topologies HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 10)); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		// The submit fails reading its body; whatever it answers, the
		// server then closes the connection.
		if resp, err := http.ReadResponse(br, nil); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("a submit whose body never came in full: %s", resp.Status)
			}
		}
		closedByServer(t, conn, br)
	})
}

// TestHTTPTimeoutsDefault: a node's API server has a timeout on every
// phase even when Config.HTTPTimeouts is left zero, and DefaultConfig
// carries httpauth's defaults.
func TestHTTPTimeoutsDefault(t *testing.T) {
	if got := cluster.DefaultConfig().HTTPTimeouts; got != httpauth.DefaultTimeouts() {
		t.Errorf("DefaultConfig().HTTPTimeouts = %+v, want %+v", got, httpauth.DefaultTimeouts())
	}
	if got := cluster.LocalConfig().HTTPTimeouts; got != httpauth.DefaultTimeouts() {
		t.Errorf("LocalConfig().HTTPTimeouts = %+v: node run --http serves people with it, want the defaults", got)
	}
}
