package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// File names inside a certs directory (CockroachDB's).
const (
	CAFile         = "ca.crt"
	CAKeyFile      = "ca.key"
	NodeCertFile   = "node.crt"
	NodeKeyFile    = "node.key"
	AdminTokenFile = "admin-token"
)

// NodeUser is the common name of every node certificate. It is reserved:
// no client certificate may be made for it.
const NodeUser = "node"

// AdminUser is the user the client commands use unless --user says
// otherwise.
const AdminUser = "admin"

// Default lifetimes, CockroachDB's: the CA outlives the certificates it
// signs.
const (
	DefaultCALifetime   = 10 * 365 * 24 * time.Hour
	DefaultCertLifetime = 5 * 365 * 24 * time.Hour
)

// backdate is how far before now a certificate becomes valid, so that
// peers whose clocks lag a little accept it.
const backdate = time.Hour

// Sentinel errors, for callers that branch on them (wrapped with %w).
var (
	// ErrExists: a file would be overwritten and Options.Overwrite is
	// false.
	ErrExists = errors.New("certs: file exists")
	// ErrConfig: bad input (no hosts, a bad user name, a bad lifetime).
	ErrConfig = errors.New("certs: bad input")
	// ErrPermissions: a key or token file that group or others may read.
	ErrPermissions = errors.New("certs: file permissions too open")
	// ErrNotNode: a peer presented a certificate of the CA that is not a
	// node certificate.
	ErrNotNode = errors.New("certs: peer certificate is not a node certificate")
)

// Options tune CreateCA, CreateNode and CreateClient. The zero value is the
// default: refuse to overwrite, default lifetimes.
type Options struct {
	// Overwrite replaces existing files (`--overwrite`).
	Overwrite bool
	// Lifetime is how long the certificate is valid (`--lifetime`); zero
	// means DefaultCALifetime for a CA, DefaultCertLifetime otherwise.
	Lifetime time.Duration

	// now, when set, replaces time.Now (tests make expired certificates).
	now func() time.Time
}

func (o Options) validity(def time.Duration) (notBefore, notAfter time.Time, err error) {
	life := o.Lifetime
	if life == 0 {
		life = def
	}
	if life < 0 {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: lifetime %v: want a positive duration", ErrConfig, life)
	}
	now := time.Now
	if o.now != nil {
		now = o.now
	}
	t := now().UTC().Truncate(time.Second)
	return t.Add(-backdate), t.Add(life), nil
}

// ClientCertFile is the certificate file of user's client certificate:
// "client.USER.crt".
func ClientCertFile(user string) string { return "client." + user + ".crt" }

// ClientKeyFile is the key file of user's client certificate:
// "client.USER.key".
func ClientKeyFile(user string) string { return "client." + user + ".key" }

var userName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$`)

// ValidUser returns an error unless user can name a client certificate: 1
// to 63 letters, digits, '_', '.', '-' (not first), and not NodeUser.
func ValidUser(user string) error {
	switch {
	case !userName.MatchString(user):
		return fmt.Errorf("%w: user %q: want 1-63 letters, digits, '_', '.' or '-' (not first)", ErrConfig, user)
	case user == NodeUser:
		return fmt.Errorf("%w: user %q is reserved for node certificates", ErrConfig, user)
	}
	return nil
}

// CreateCA writes a new certificate authority to dir/ca.crt and
// dir/ca.key, creating dir (0700) if needed.
func CreateCA(dir string, opts Options) error {
	notBefore, notAfter, err := opts.validity(DefaultCALifetime)
	if err != nil {
		return err
	}
	if err := checkFree(dir, opts, CAFile, CAKeyFile); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certs: CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"squall"}, CommonName: "squall CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := sign(tmpl, nil, key, key)
	if err != nil {
		return err
	}
	return writePair(dir, opts, CAFile, CAKeyFile, der, key)
}

// CreateNode writes a node certificate for hosts (IP addresses or DNS
// names, each one a SAN) to dir/node.crt and dir/node.key, signed by the
// CA in dir. It is valid as a server and as a client certificate.
func CreateNode(dir string, hosts []string, opts Options) error {
	if len(hosts) == 0 {
		return fmt.Errorf("%w: a node certificate needs at least one --host", ErrConfig)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"squall"}, CommonName: NodeUser},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		switch ip := net.ParseIP(strings.Trim(h, "[]")); {
		case ip != nil:
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		case validDNSName(h):
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		default:
			return fmt.Errorf("%w: --host %q: want an IP address or a DNS name", ErrConfig, h)
		}
	}
	return createLeaf(dir, opts, tmpl, NodeCertFile, NodeKeyFile)
}

// CreateClient writes a client certificate for user to
// dir/client.USER.crt and dir/client.USER.key, signed by the CA in dir.
// It is valid for client authentication only.
func CreateClient(dir, user string, opts Options) error {
	if err := ValidUser(user); err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"squall"}, CommonName: user},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return createLeaf(dir, opts, tmpl, ClientCertFile(user), ClientKeyFile(user))
}

func createLeaf(dir string, opts Options, tmpl *x509.Certificate, certFile, keyFile string) error {
	notBefore, notAfter, err := opts.validity(DefaultCertLifetime)
	if err != nil {
		return err
	}
	if err := checkFree(dir, opts, certFile, keyFile); err != nil {
		return err
	}
	ca, caKey, err := loadCA(dir)
	if err != nil {
		return err
	}
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter // a certificate cannot outlive its CA
	}
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certs: key: %w", err)
	}
	der, err := sign(tmpl, ca, key, caKey)
	if err != nil {
		return err
	}
	return writePair(dir, opts, certFile, keyFile, der, key)
}

// sign issues tmpl for key's public half, signed by parent (nil: self) with
// signer.
func sign(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, signer crypto.Signer) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certs: serial number: %w", err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("certs: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	return der, nil
}

func loadCA(dir string) (*x509.Certificate, crypto.Signer, error) {
	pair, err := loadPair(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("%w (create it with `node cert create-ca --certs-dir %s`)", err, dir)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || !pair.Leaf.IsCA {
		return nil, nil, fmt.Errorf("%w: %s is not a CA certificate", ErrConfig, filepath.Join(dir, CAFile))
	}
	return pair.Leaf, signer, nil
}

// checkFree creates dir (0700) and fails with ErrExists if any of files is
// there and opts do not allow overwriting.
func checkFree(dir string, opts Options, files ...string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if opts.Overwrite {
		return nil
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%w: %s (pass --overwrite to replace it)", ErrExists, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("certs: %w", err)
		}
	}
	return nil
}

func writePair(dir string, opts Options, certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("certs: key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeFile(filepath.Join(dir, keyFile), keyPEM, 0o600, opts.Overwrite); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, certFile), certPEM, 0o644, opts.Overwrite); err != nil {
		_ = os.Remove(filepath.Join(dir, keyFile)) // no key without its certificate
		return err
	}
	return nil
}

// writeFile writes data to path with mode. Without overwrite it fails with
// ErrExists if path exists (O_EXCL, no race); with overwrite it replaces
// path atomically (a temporary file renamed over it), so the mode is
// always mode, whatever the old file had.
func writeFile(path string, data []byte, mode fs.FileMode, overwrite bool) error {
	if !overwrite {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s (pass --overwrite to replace it)", ErrExists, path)
		}
		if err != nil {
			return fmt.Errorf("certs: %w", err)
		}
		return closeWrite(f, data, path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	tmp := f.Name()
	if err := f.Chmod(mode); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("certs: %w", err)
	}
	if err := closeWrite(f, data, tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

func closeWrite(f *os.File, data []byte, path string) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	return nil
}

// validDNSName reports whether h is a host name a SAN may carry: labels
// of letters, digits and inner '-', a leading "*." allowed.
func validDNSName(h string) bool {
	h = strings.TrimPrefix(strings.TrimSuffix(h, "."), "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}
