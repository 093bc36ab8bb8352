package certs

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
)

// BenchmarkLoopbackStream is the cost of TLS 1.3 on the tuple transport's
// bytes: one connection over 127.0.0.1 carrying 64 KiB writes, plain TCP
// against mutual TLS with node certificates (for BENCHMARKS.md; nothing is
// asserted).
func BenchmarkLoopbackStream(b *testing.B) {
	dir := newNodeDirB(b)
	n, err := LoadNode(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		srv, cli *tls.Config
	}{
		{"tcp", nil, nil},
		{"tls13", n.TransportServerConfig(), n.TransportClientConfig()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			done := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					done <- err
					return
				}
				if tc.srv != nil {
					c = tls.Server(c, tc.srv)
				}
				_, err = io.Copy(io.Discard, c)
				c.Close()
				done <- err
			}()
			var c net.Conn
			if tc.cli != nil {
				c, err = (&tls.Dialer{Config: tc.cli}).DialContext(context.Background(), "tcp", ln.Addr().String())
			} else {
				c, err = net.Dial("tcp", ln.Addr().String())
			}
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			// Half-close and drain: the server's TLS session tickets sit
			// unread in the client's socket, and closing over them would
			// reset the connection under the server's last read.
			if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		})
	}
}

// BenchmarkHandshake is a transport connection's set-up: a full mutual
// TLS 1.3 handshake, and one resumed from the client's session cache.
func BenchmarkHandshake(b *testing.B) {
	n, err := LoadNode(newNodeDirB(b))
	if err != nil {
		b.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", n.TransportServerConfig())
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				_ = c.(*tls.Conn).Handshake()
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			})
		}
	})
	for _, tc := range []struct {
		name   string
		resume bool
	}{{"full", false}, {"resumed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := n.TransportClientConfig()
			if !tc.resume {
				cfg.ClientSessionCache = nil
			}
			for b.Loop() {
				c, err := (&tls.Dialer{Config: cfg}).DialContext(context.Background(), "tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				// A byte each way settles the server's check of the client
				// certificate and delivers the session ticket.
				if _, err := c.Write([]byte{0}); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

func newNodeDirB(b *testing.B) string {
	dir := b.TempDir()
	if err := CreateCA(dir, Options{}); err != nil {
		b.Fatal(err)
	}
	if err := CreateNode(dir, []string{"127.0.0.1"}, Options{}); err != nil {
		b.Fatal(err)
	}
	return dir
}
