package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Node is a node's loaded certs directory: the CA it trusts and its node
// certificate. It is immutable and safe for concurrent use; the configs it
// hands out are new on every call, for the caller to own.
type Node struct {
	dir  string
	pool *x509.CertPool
	cert tls.Certificate
}

// LoadNode loads dir/ca.crt, dir/node.crt and dir/node.key. It refuses a
// key that group or others may read (ErrPermissions) and a node.crt that
// the CA did not sign or that has expired.
func LoadNode(dir string) (*Node, error) {
	pool, err := loadPool(dir)
	if err != nil {
		return nil, err
	}
	cert, err := loadPair(filepath.Join(dir, NodeCertFile), filepath.Join(dir, NodeKeyFile))
	if err != nil {
		return nil, fmt.Errorf("%w (create it with `node cert create-node --host HOST --certs-dir %s`)", err, dir)
	}
	if cert.Leaf.Subject.CommonName != NodeUser {
		return nil, fmt.Errorf("%w: %s has common name %q", ErrNotNode, filepath.Join(dir, NodeCertFile), cert.Leaf.Subject.CommonName)
	}
	// A node certificate serves and dials: each usage is verified on its
	// own (VerifyOptions accepts a chain that allows any one of them).
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			return nil, fmt.Errorf("certs: %s: %w", filepath.Join(dir, NodeCertFile), err)
		}
	}
	return &Node{dir: dir, pool: pool, cert: cert}, nil
}

// Dir is the certs directory n was loaded from.
func (n *Node) Dir() string { return n.dir }

// DNSNames are the node certificate's DNS names (its --host names that
// are not IP addresses).
func (n *Node) DNSNames() []string { return slices.Clone(n.cert.Leaf.DNSNames) }

// NotAfter is when the node certificate expires.
func (n *Node) NotAfter() time.Time { return n.cert.Leaf.NotAfter }

// CertPool is the CA pool n trusts (a copy).
func (n *Node) CertPool() *x509.CertPool { return n.pool.Clone() }

// TransportServerConfig is the tuple transport's listener config: TLS 1.3,
// the node certificate, and a client certificate required, verified
// against the CA and required to be a node certificate.
func (n *Node) TransportServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS13,
		Certificates:     []tls.Certificate{n.cert},
		ClientAuth:       tls.RequireAndVerifyClientCert,
		ClientCAs:        n.pool,
		VerifyConnection: requireNodePeer,
	}
}

// TransportClientConfig is the tuple transport's dialer config: TLS 1.3,
// the node certificate as client certificate, the server verified against
// the CA, its SAN against ServerName and required to be a node
// certificate. ServerName is empty: tls.Dial, tls.Dialer and
// Node.DialTransport fill it from the address; with tls.Client set it on
// the config first. It keeps a session cache, so reconnects resume.
func (n *Node) TransportClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{n.cert},
		RootCAs:            n.pool,
		VerifyConnection:   requireNodePeer,
		ClientSessionCache: tls.NewLRUClientSessionCache(256),
	}
}

// DialTransport dials addr ("host:port") over TCP and completes a TLS
// handshake with TransportClientConfig, bounded by ctx.
func (n *Node) DialTransport(ctx context.Context, addr string) (*tls.Conn, error) {
	d := tls.Dialer{Config: n.TransportClientConfig()}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// HTTPServerConfig is the HTTP API's config: TLS 1.3, the node
// certificate; a client certificate is asked for and, when given, must be
// one of the CA (any user, node included). Whether a request without one
// may go on is internal/httpauth's decision (the admin token).
func (n *Node) HTTPServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{n.cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    n.pool,
	}
}

// HTTPClientConfig is the config of node-to-node HTTP calls: the node
// certificate as client certificate, the server verified against the CA
// (net/http fills ServerName from the URL).
func (n *Node) HTTPClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{n.cert},
		RootCAs:            n.pool,
		ClientSessionCache: tls.NewLRUClientSessionCache(64),
	}
}

// LoadClient is the client commands' config for user (AdminUser unless
// --user): dir/client.USER.crt and .key as client certificate, the node
// verified against dir/ca.crt.
func LoadClient(dir, user string) (*tls.Config, error) {
	if err := ValidUser(user); err != nil {
		return nil, err
	}
	pool, err := loadPool(dir)
	if err != nil {
		return nil, err
	}
	cert, err := loadPair(filepath.Join(dir, ClientCertFile(user)), filepath.Join(dir, ClientKeyFile(user)))
	if err != nil {
		return nil, fmt.Errorf("%w (create it with `node cert create-client %s --certs-dir %s`)", err, user, dir)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
	}, nil
}

// LoadCA is a client config that verifies the node against dir/ca.crt and
// presents no certificate: for a client that authenticates with the admin
// token (dir/admin-token) instead.
func LoadCA(dir string) (*tls.Config, error) {
	pool, err := loadPool(dir)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool}, nil
}

// PeerUser is the common name of the verified certificate on the other
// end of cs ("node" for a node, the user of a client certificate); ok is
// false when the peer presented no certificate the CA verified.
func PeerUser(cs *tls.ConnectionState) (user string, ok bool) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return "", false
	}
	return cs.VerifiedChains[0][0].Subject.CommonName, true
}

// requireNodePeer runs after the chain is verified against the CA: the
// peer must also be a node, not a client certificate of the same CA.
func requireNodePeer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: none presented", ErrNotNode)
	}
	if cn := cs.PeerCertificates[0].Subject.CommonName; cn != NodeUser {
		return fmt.Errorf("%w: common name %q", ErrNotNode, cn)
	}
	return nil
}

func loadPool(dir string) (*x509.CertPool, error) {
	path := filepath.Join(dir, CAFile)
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %w (create it with `node cert create-ca --certs-dir %s`)", err, dir)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrConfig, path)
	}
	return pool, nil
}

// loadPair loads a certificate and its key, refusing a key file group or
// others may read (CockroachDB's check).
func loadPair(certPath, keyPath string) (tls.Certificate, error) {
	if err := checkPrivate(keyPath); err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: %w", err)
	}
	return pair, nil // Leaf is set since Go 1.23
}

// checkPrivate fails unless path is a regular file only its owner may
// read or write.
func checkPrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrConfig, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %#o: run chmod 0600 %s", ErrPermissions, path, perm, path)
	}
	return nil
}
