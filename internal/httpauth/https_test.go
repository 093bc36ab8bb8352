package httpauth

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/certs"
)

// TestOverHTTPS is the wiring the node will have: internal/certs'
// HTTPServerConfig under the Guard, over 127.0.0.1. A client certificate
// of the CA or the token gets in; neither gets 401; a certificate of
// another CA does not even finish the handshake.
func TestOverHTTPS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	for _, err := range []error{
		certs.CreateCA(dir, certs.Options{}),
		certs.CreateNode(dir, []string{"127.0.0.1", "localhost"}, certs.Options{}),
		certs.CreateClient(dir, certs.AdminUser, certs.Options{}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	node, err := certs.LoadNode(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := certs.AdminToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Token = tok
	g := newGuard(t, cfg)
	srv := DefaultTimeouts().Server(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := FromContext(r.Context())
		_, _ = io.WriteString(w, string(p.Via)+":"+p.User)
	})))
	srv.TLSConfig = node.HTTPServerConfig()
	srv.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	}()
	base := "https://" + ln.Addr().String()

	admin, err := certs.LoadClient(dir, certs.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := certs.CreateCA(other, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := certs.CreateClient(other, certs.AdminUser, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	foreign, err := certs.LoadClient(other, certs.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	foreign.RootCAs = node.CertPool()
	anon := &tls.Config{RootCAs: node.CertPool(), MinVersion: tls.VersionTLS13}

	for _, tc := range []struct {
		name   string
		tls    *tls.Config
		token  string
		code   int // 0: the request must fail
		answer string
	}{
		{"admin client certificate", admin, "", 200, "certificate:admin"},
		{"node certificate", node.HTTPClientConfig(), "", 200, "certificate:node"},
		{"token from the certs dir", anon, tok, 200, "token:admin"},
		{"neither", anon, "", 401, ""},
		{"a wrong token", anon, tok + "x", 403, ""},
		{"a certificate of another CA", foreign, "", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: tc.tls}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/topologies", nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := c.Do(req)
			if tc.code == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got %d, want the handshake to fail", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("code %d, want %d: %s", resp.StatusCode, tc.code, body)
			}
			if tc.answer != "" && strings.TrimSpace(string(body)) != tc.answer {
				t.Errorf("principal %q, want %q", body, tc.answer)
			}
		})
	}
}
