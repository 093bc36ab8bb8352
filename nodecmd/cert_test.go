package nodecmd_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readCert parses the PEM certificate at path.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestCertSubcommandsWriteTheIssuesLayout: `node cert create-ca`,
// `create-node`, `create-client` and `list` write and read the files
// issue 11 pins, under --certs-dir, the certificates signed by the CA.
func TestCertSubcommandsWriteTheIssuesLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	for _, args := range [][]string{
		{"cert", "create-ca", "--certs-dir", dir},
		{"cert", "create-node", "--host", "127.0.0.1", "--host", "localhost,node1.example", "--certs-dir", dir},
		{"cert", "create-client", "admin", "--certs-dir", dir},
		{"cert", "create-client", "--certs-dir", dir, "alice"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("node %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "wrote "+dir) {
			t.Errorf("node %s: stdout %q does not say what it wrote", strings.Join(args, " "), stdout.String())
		}
	}
	for file, mode := range map[string]os.FileMode{
		"ca.crt": 0o644, "ca.key": 0o600, "node.crt": 0o644, "node.key": 0o600,
		"client.admin.crt": 0o644, "client.admin.key": 0o600, "client.alice.crt": 0o644, "client.alice.key": 0o600,
	} {
		fi, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", file, fi.Mode().Perm(), mode)
		}
	}
	ca := readCert(t, filepath.Join(dir, "ca.crt"))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	node := readCert(t, filepath.Join(dir, "node.crt"))
	if _, err := node.Verify(x509.VerifyOptions{Roots: pool, DNSName: "node1.example", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("node.crt for node1.example: %v", err)
	}
	if _, err := node.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("node.crt as a client for 127.0.0.1: %v", err)
	}
	alice := readCert(t, filepath.Join(dir, "client.alice.crt"))
	if alice.Subject.CommonName != "alice" {
		t.Errorf("client.alice.crt: common name %q", alice.Subject.CommonName)
	}
	if _, err := alice.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client.alice.crt: %v", err)
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"cert", "list", "--certs-dir", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("node cert list: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"ca.crt", "node.crt", "client.admin.crt", "client.alice.crt", "node1.example"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("node cert list does not show %q:\n%s", want, stdout.String())
		}
	}

	// Nothing is overwritten without --overwrite.
	before, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	stderr.Reset()
	if code := run(context.Background(), []string{"cert", "create-ca", "--certs-dir", dir}, &stdout, &stderr); code != 1 {
		t.Errorf("create-ca over an existing CA: exit %d, want 1 (%s)", code, stderr.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "ca.key")); !bytes.Equal(before, after) {
		t.Error("create-ca without --overwrite replaced ca.key")
	}
}

func TestCertSubcommandsUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"cert"},
		{"cert", "nope", "--certs-dir", dir},
		{"cert", "create-ca"}, // no --certs-dir
		{"cert", "create-node", "--certs-dir", dir},
		{"cert", "create-client", "--certs-dir", dir},
	} {
		t.Setenv("SQUALL_CERTS_DIR", "")
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("node %s: exit %d, want 2 (%s)", strings.Join(args, " "), code, stderr.String())
		}
	}
}
