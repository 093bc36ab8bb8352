package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newCA makes a certs dir with a CA in it.
func newCA(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	if err := CreateCA(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sharingCA is a new certs dir holding a copy of src's CA, so that
// certificates made there are signed by the same CA.
func sharingCA(t *testing.T, src string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{CAFile, CAKeyFile} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newNodeDir(t *testing.T, hosts ...string) string {
	t.Helper()
	dir := newCA(t)
	if err := CreateNode(dir, hosts, Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func loadNode(t *testing.T, dir string) *Node {
	t.Helper()
	n, err := LoadNode(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(path, path[:len(path)-len(".crt")]+".key")
	if err != nil {
		t.Fatal(err)
	}
	return pair.Leaf
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestCreateLayoutAndModes(t *testing.T) {
	dir := newNodeDir(t, "127.0.0.1", "localhost", "::1", "node1.example")
	if err := CreateClient(dir, AdminUser, Options{}); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("dir mode %#o, want 0700", m)
	}
	for file, want := range map[string]fs.FileMode{
		"ca.crt": 0o644, "ca.key": 0o600,
		"node.crt": 0o644, "node.key": 0o600,
		"client.admin.crt": 0o644, "client.admin.key": 0o600,
	} {
		if m := mode(t, filepath.Join(dir, file)); m != want {
			t.Errorf("%s mode %#o, want %#o", file, m, want)
		}
	}

	ca := readCert(t, filepath.Join(dir, CAFile))
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("ca.crt: IsCA %v, key usage %v", ca.IsCA, ca.KeyUsage)
	}
	node := readCert(t, filepath.Join(dir, NodeCertFile))
	if node.IsCA || node.Subject.CommonName != NodeUser {
		t.Errorf("node.crt: IsCA %v, CN %q", node.IsCA, node.Subject.CommonName)
	}
	if !slices.Equal(node.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
		t.Errorf("node.crt ext key usage %v, want server and client auth", node.ExtKeyUsage)
	}
	if !slices.Equal(node.DNSNames, []string{"localhost", "node1.example"}) {
		t.Errorf("node.crt DNS SANs %v", node.DNSNames)
	}
	var ips []string
	for _, ip := range node.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Equal(ips, []string{"127.0.0.1", "::1"}) {
		t.Errorf("node.crt IP SANs %v", ips)
	}
	if err := node.CheckSignatureFrom(ca); err != nil {
		t.Errorf("node.crt not signed by ca.crt: %v", err)
	}
	client := readCert(t, filepath.Join(dir, "client.admin.crt"))
	if client.Subject.CommonName != "admin" || !slices.Equal(client.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("client.admin.crt: CN %q, ext key usage %v", client.Subject.CommonName, client.ExtKeyUsage)
	}
	if got := time.Until(client.NotAfter); got < DefaultCertLifetime-2*time.Hour || got > DefaultCertLifetime {
		t.Errorf("client.admin.crt valid for %v more, want about %v", got, DefaultCertLifetime)
	}
}

func TestCreateRefusesToOverwrite(t *testing.T) {
	dir := newNodeDir(t, "127.0.0.1")
	if err := CreateClient(dir, "alice", Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		create func(Options) error
		file   string
	}{
		{"ca", func(o Options) error { return CreateCA(dir, o) }, CAFile},
		{"node", func(o Options) error { return CreateNode(dir, []string{"localhost"}, o) }, NodeCertFile},
		{"client", func(o Options) error { return CreateClient(dir, "alice", o) }, ClientCertFile("alice")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			before, _ := os.ReadFile(path)
			if err := tc.create(Options{}); !errors.Is(err, ErrExists) {
				t.Fatalf("second create: err %v, want ErrExists", err)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Fatal("a refused create changed the file")
			}
		})
	}
	// --overwrite replaces, and resets a loosened key mode to 0600.
	if err := os.Chmod(filepath.Join(dir, NodeKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, NodeCertFile))
	if err := CreateNode(dir, []string{"localhost"}, Options{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, NodeCertFile)); string(after) == string(before) {
		t.Error("--overwrite left node.crt as it was")
	}
	if m := mode(t, filepath.Join(dir, NodeKeyFile)); m != 0o600 {
		t.Errorf("overwritten node.key mode %#o, want 0600", m)
	}
	if got := readCert(t, filepath.Join(dir, NodeCertFile)).DNSNames; !slices.Equal(got, []string{"localhost"}) {
		t.Errorf("overwritten node.crt SANs %v", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name()[0] == '.' {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	dir := newCA(t)
	empty := filepath.Join(t.TempDir(), "empty")
	for _, tc := range []struct {
		name   string
		create func() error
		want   error
	}{
		{"no hosts", func() error { return CreateNode(dir, nil, Options{}) }, ErrConfig},
		{"host with a space", func() error { return CreateNode(dir, []string{"a b"}, Options{}) }, ErrConfig},
		{"host with a port", func() error { return CreateNode(dir, []string{"127.0.0.1:7946"}, Options{}) }, ErrConfig},
		{"host label starts with -", func() error { return CreateNode(dir, []string{"-a.example"}, Options{}) }, ErrConfig},
		{"negative lifetime", func() error { return CreateNode(dir, []string{"localhost"}, Options{Lifetime: -time.Hour}) }, ErrConfig},
		{"user node is reserved", func() error { return CreateClient(dir, NodeUser, Options{}) }, ErrConfig},
		{"empty user", func() error { return CreateClient(dir, "", Options{}) }, ErrConfig},
		{"user with a path", func() error { return CreateClient(dir, "../x", Options{}) }, ErrConfig},
		{"user with a slash", func() error { return CreateClient(dir, "a/b", Options{}) }, ErrConfig},
		{"node without a CA", func() error { return CreateNode(empty, []string{"localhost"}, Options{}) }, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.create(); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, NodeKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a rejected create left node.key: %v", err)
	}
}

func TestCertCannotOutliveCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if err := CreateCA(dir, Options{Lifetime: 48 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := CreateNode(dir, []string{"localhost"}, Options{}); err != nil {
		t.Fatal(err)
	}
	ca, node := readCert(t, filepath.Join(dir, CAFile)), readCert(t, filepath.Join(dir, NodeCertFile))
	if node.NotAfter.After(ca.NotAfter) {
		t.Errorf("node.crt expires %v, after its CA %v", node.NotAfter, ca.NotAfter)
	}
}

func TestLoadRefusesOpenKeyAndForeignNodeCert(t *testing.T) {
	dir := newNodeDir(t, "127.0.0.1")
	if err := os.Chmod(filepath.Join(dir, NodeKeyFile), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNode(dir); !errors.Is(err, ErrPermissions) {
		t.Errorf("group-readable node.key: err %v, want ErrPermissions", err)
	}

	// A node.crt of another CA next to this ca.crt.
	other := newNodeDir(t, "127.0.0.1")
	mixed := sharingCA(t, newCA(t))
	for _, f := range []string{NodeCertFile, NodeKeyFile} {
		b, _ := os.ReadFile(filepath.Join(other, f))
		if err := os.WriteFile(filepath.Join(mixed, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadNode(mixed); err == nil {
		t.Error("LoadNode accepted a node.crt its ca.crt did not sign")
	}
	// A node.crt that serves but cannot dial (no client auth usage).
	serverOnly := sharingCA(t, dir)
	leaf(t, serverOnly, &x509.Certificate{
		Subject:     pkix.Name{CommonName: NodeUser},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}, NodeCertFile, NodeKeyFile, Options{})
	if _, err := LoadNode(serverOnly); err == nil {
		t.Error("LoadNode accepted a node.crt without client auth usage")
	}
	// An expired node.crt.
	expired := sharingCA(t, dir)
	if err := CreateNode(expired, []string{"127.0.0.1"}, Options{Lifetime: time.Hour, now: func() time.Time { return time.Now().Add(-3 * time.Hour) }}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNode(expired); !invalid(x509.Expired)(err) {
		t.Errorf("LoadNode of an expired node.crt: %v", err)
	}
	if _, err := LoadClient(dir, AdminUser); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadClient without client.admin.*: err %v, want not exist", err)
	}
}

// leaf makes a certificate in dir, signed by dir's CA, from tmpl.
func leaf(t *testing.T, dir string, tmpl *x509.Certificate, certFile, keyFile string, opts Options) {
	t.Helper()
	if err := createLeaf(dir, opts, tmpl, certFile, keyFile); err != nil {
		t.Fatal(err)
	}
}

// pairIn loads a certificate pair from dir.
func pairIn(t *testing.T, dir, certFile, keyFile string) tls.Certificate {
	t.Helper()
	c, err := loadPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type handshakeResult struct {
	server, client error
	peer           *tls.ConnectionState // the server's view, when it succeeded
}

// handshake runs one TLS connection over 127.0.0.1 between srv and cli,
// with a byte written by the server after its handshake, so a client
// certificate the server refuses surfaces on the client too (TLS 1.3
// finishes the client's handshake before the server checks it).
func handshake(t *testing.T, srv, cli *tls.Config) handshakeResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		err error
		cs  tls.ConnectionState
	}
	done := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- res{err: err}
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Server(c, srv)
		if err := tc.Handshake(); err != nil {
			done <- res{err: err}
			return
		}
		_, err = tc.Write([]byte{'k'})
		done <- res{err: err, cs: tc.ConnectionState()}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: cli}
	var r handshakeResult
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err == nil {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		var b [1]byte
		_, err = io.ReadFull(c, b[:])
		c.Close()
	}
	r.client = err
	s := <-done
	r.server = s.err
	if s.err == nil {
		r.peer = &s.cs
	}
	return r
}

func unknownAuthority(err error) bool {
	var e x509.UnknownAuthorityError
	return errors.As(err, &e)
}

func invalid(reason x509.InvalidReason) func(error) bool {
	return func(err error) bool {
		var e x509.CertificateInvalidError
		return errors.As(err, &e) && e.Reason == reason
	}
}

func TestTransportMutualTLS(t *testing.T) {
	dir := newNodeDir(t, "127.0.0.1", "localhost")
	n := loadNode(t, dir)
	if err := CreateClient(dir, AdminUser, Options{}); err != nil {
		t.Fatal(err)
	}

	// Certificates of the same CA that must not pass, each in its own dir.
	expired := sharingCA(t, dir)
	past := func() time.Time { return time.Now().Add(-48 * time.Hour) }
	if err := CreateNode(expired, []string{"127.0.0.1"}, Options{Lifetime: 24 * time.Hour, now: past}); err != nil {
		t.Fatal(err)
	}
	serverOnly := sharingCA(t, dir)
	leaf(t, serverOnly, &x509.Certificate{
		Subject:     pkix.Name{CommonName: NodeUser},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}, NodeCertFile, NodeKeyFile, Options{})
	foreign := newNodeDir(t, "127.0.0.1")

	withCert := func(c tls.Certificate) *tls.Config {
		cfg := n.TransportClientConfig()
		cfg.Certificates = []tls.Certificate{c}
		return cfg
	}
	noCert := n.TransportClientConfig()
	noCert.Certificates = nil
	otherName := n.TransportClientConfig()
	otherName.ServerName = "node2.example"

	for _, tc := range []struct {
		name    string
		srv     *tls.Config
		cli     *tls.Config
		ok      bool
		srvWant func(error) bool // when set, the server's error must satisfy it
	}{
		{"node certs", n.TransportServerConfig(), n.TransportClientConfig(), true, nil},
		{"client cert of another CA", n.TransportServerConfig(), withCert(pairIn(t, foreign, NodeCertFile, NodeKeyFile)), false, unknownAuthority},
		{"expired client cert", n.TransportServerConfig(), withCert(pairIn(t, expired, NodeCertFile, NodeKeyFile)), false, invalid(x509.Expired)},
		{"client cert without client auth usage", n.TransportServerConfig(), withCert(pairIn(t, serverOnly, NodeCertFile, NodeKeyFile)), false, invalid(x509.IncompatibleUsage)},
		{"no client cert", n.TransportServerConfig(), noCert, false, func(err error) bool { return strings.Contains(err.Error(), "didn't provide a certificate") }},
		{"a user's client cert is not a node", n.TransportServerConfig(), withCert(pairIn(t, dir, ClientCertFile(AdminUser), ClientKeyFile(AdminUser))), false, func(err error) bool { return errors.Is(err, ErrNotNode) }},
		{"server of another CA", loadNode(t, foreign).TransportServerConfig(), n.TransportClientConfig(), false, nil},
		{"server name not in the SANs", n.TransportServerConfig(), otherName, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := handshake(t, tc.srv, tc.cli)
			if tc.ok {
				if r.server != nil || r.client != nil {
					t.Fatalf("server err %v, client err %v; want success", r.server, r.client)
				}
				if u, ok := PeerUser(r.peer); !ok || u != NodeUser {
					t.Errorf("PeerUser = %q, %v; want %q", u, ok, NodeUser)
				}
				if r.peer.Version != tls.VersionTLS13 {
					t.Errorf("version %#x, want TLS 1.3", r.peer.Version)
				}
				return
			}
			if r.server == nil || r.client == nil {
				t.Fatalf("server err %v, client err %v; want both to fail", r.server, r.client)
			}
			if tc.srvWant != nil && !tc.srvWant(r.server) {
				t.Errorf("server failed for another reason: %v", r.server)
			}
		})
	}
}

func TestDialTransport(t *testing.T) {
	n := loadNode(t, newNodeDir(t, "127.0.0.1"))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", n.TransportServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, err = c.Write([]byte("ok"))
			c.Close()
		}
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := n.DialTransport(ctx, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(b) != "ok" {
		t.Fatalf("read %q, %v", b, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestHTTPServerClientCertOptional(t *testing.T) {
	dir := newNodeDir(t, "127.0.0.1")
	n := loadNode(t, dir)
	if err := CreateClient(dir, AdminUser, Options{}); err != nil {
		t.Fatal(err)
	}
	admin, err := LoadClient(dir, AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	anon := &tls.Config{RootCAs: n.CertPool(), MinVersion: tls.VersionTLS13}
	foreignDir := newCA(t)
	if err := CreateClient(foreignDir, AdminUser, Options{}); err != nil {
		t.Fatal(err)
	}
	foreign, err := LoadClient(foreignDir, AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	foreign.RootCAs = n.CertPool()

	for _, tc := range []struct {
		name   string
		cli    *tls.Config
		ok     bool
		user   string
		signed bool
	}{
		{"admin client cert", admin, true, AdminUser, true},
		{"node cert (node-to-node calls)", n.HTTPClientConfig(), true, NodeUser, true},
		{"no client cert: the token decides", anon, true, "", false},
		{"client cert of another CA", foreign, false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := handshake(t, n.HTTPServerConfig(), tc.cli)
			if !tc.ok {
				if r.server == nil {
					t.Fatal("server accepted the handshake")
				}
				return
			}
			if r.server != nil || r.client != nil {
				t.Fatalf("server err %v, client err %v", r.server, r.client)
			}
			u, ok := PeerUser(r.peer)
			if ok != tc.signed || u != tc.user {
				t.Errorf("PeerUser = %q, %v; want %q, %v", u, ok, tc.user, tc.signed)
			}
		})
	}
}

func TestAdminToken(t *testing.T) {
	dir := newCA(t)
	if _, err := ReadAdminToken(dir); !errors.Is(err, ErrNoToken) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadAdminToken before any: err %v, want ErrNoToken and not exist", err)
	}
	tok, created, err := AdminToken(dir)
	if err != nil || !created || len(tok) != 43 {
		t.Fatalf("AdminToken = %q, %v, %v; want a new 43-char token", tok, created, err)
	}
	if m := mode(t, filepath.Join(dir, AdminTokenFile)); m != 0o600 {
		t.Errorf("admin-token mode %#o, want 0600", m)
	}
	again, created, err := AdminToken(dir)
	if err != nil || created || again != tok {
		t.Fatalf("second AdminToken = %q, %v, %v; want the first token, not created", again, created, err)
	}
	if got, err := ReadAdminToken(dir); err != nil || got != tok {
		t.Fatalf("ReadAdminToken = %q, %v", got, err)
	}
	other, _, _ := AdminToken(newCA(t))
	if other == tok {
		t.Error("two dirs got the same token")
	}
	if err := os.Chmod(filepath.Join(dir, AdminTokenFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAdminToken(dir); !errors.Is(err, ErrPermissions) {
		t.Errorf("world-readable admin-token: err %v, want ErrPermissions", err)
	}
	if err := os.WriteFile(filepath.Join(dir, AdminTokenFile), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, AdminTokenFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAdminToken(dir); !errors.Is(err, ErrNoToken) {
		t.Errorf("empty admin-token: err %v, want ErrNoToken", err)
	}
}

func TestAdminTokenConcurrentStartsAgree(t *testing.T) {
	dir := newCA(t)
	const n = 8
	toks := make(chan string, n)
	for range n {
		go func() {
			tok, _, err := AdminToken(dir)
			if err != nil {
				t.Error(err)
			}
			toks <- tok
		}()
	}
	first := <-toks
	for range n - 1 {
		if tok := <-toks; tok != first {
			t.Fatalf("tokens differ: %q and %q", first, tok)
		}
	}
}
