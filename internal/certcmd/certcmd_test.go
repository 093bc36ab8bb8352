package certcmd

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/internal/certs"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func run(args ...string) (string, error) {
	var out bytes.Buffer
	err := Run(args, &out, io.Discard)
	return out.String(), err
}

func TestCreateAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	for _, args := range [][]string{
		{"create-ca", "--certs-dir", dir},
		{"create-node", "--host", "127.0.0.1", "--host", "localhost,node1.example", "--certs-dir", dir},
		{"create-client", "admin", "--certs-dir", dir},
		{"create-client", "--certs-dir", dir, "alice"},
	} {
		out, err := run(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.HasPrefix(out, "wrote ") {
			t.Errorf("%v printed %q", args, out)
		}
	}
	for _, f := range []string{"ca.crt", "ca.key", "node.crt", "node.key", "client.admin.crt", "client.admin.key", "client.alice.crt", "client.alice.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := certs.LoadNode(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.LoadClient(dir, "admin"); err != nil {
		t.Fatal(err)
	}
	out, err := run("list", "--certs-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ca.crt", "CA", "node.crt", "node", "localhost,node1.example,127.0.0.1", "client.alice.crt", "client", "alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	// Again without --overwrite: refused; with it: fine.
	if _, err := run("create-node", "--host", "127.0.0.1", "--certs-dir", dir); !errors.Is(err, certs.ErrExists) {
		t.Errorf("second create-node: %v, want ErrExists", err)
	}
	if _, err := run("create-node", "--host", "127.0.0.1", "--certs-dir", dir, "--overwrite"); err != nil {
		t.Errorf("create-node --overwrite: %v", err)
	}
}

func TestEnvCertsDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	t.Setenv("SQUALL_CERTS_DIR", dir)
	if _, err := run("create-ca"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, certs.CAFile)); err != nil {
		t.Fatal(err)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("SQUALL_CERTS_DIR", "")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want error
	}{
		{"no subcommand", nil, ErrUsage},
		{"unknown subcommand", []string{"create-root", "--certs-dir", dir}, ErrUsage},
		{"no certs dir", []string{"create-ca"}, ErrUsage},
		{"create-node without --host", []string{"create-node", "--certs-dir", dir}, ErrUsage},
		{"create-client without a name", []string{"create-client", "--certs-dir", dir}, ErrUsage},
		{"create-client with two names", []string{"create-client", "a", "b", "--certs-dir", dir}, ErrUsage},
		{"create-ca with an argument", []string{"create-ca", "x", "--certs-dir", dir}, ErrUsage},
		{"an unknown flag", []string{"create-ca", "--certs-dir", dir, "--force"}, ErrUsage},
		{"--host on create-ca", []string{"create-ca", "--host", "x", "--certs-dir", dir}, ErrUsage},
		{"create-client node", []string{"create-client", "node", "--certs-dir", dir}, certs.ErrConfig},
		{"create-node before the CA", []string{"create-node", "--host", "127.0.0.1", "--certs-dir", dir}, os.ErrNotExist},
		{"list of an empty dir", []string{"list", "--certs-dir", dir}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(tc.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}
