package nodecmd_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/gossipkey"
	"github.com/squall-streams/squall/internal/poll"
)

// TestClientCommandsWithCertsAgainstAnHTTPSNode: a node started with
// --certs-dir (and a two-key --gossip-key) serves its API over HTTPS; the
// client commands reach it with --certs-dir, by HOST:PORT or
// https://HOST:PORT, with client.admin.* or --user; without --certs-dir,
// or with a user that has no certificate, they fail.
func TestClientCommandsWithCertsAgainstAnHTTPSNode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	for _, args := range [][]string{
		{"cert", "create-ca", "--certs-dir", dir},
		{"cert", "create-node", "--host", "127.0.0.1", "--certs-dir", dir},
		{"cert", "create-client", "admin", "--certs-dir", dir},
		{"cert", "create-client", "alice", "--certs-dir", dir},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code != 0 {
			t.Fatalf("node %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
	}
	keys := gossipkey.Encode(gossipkey.Generate()) + "," + gossipkey.Encode(gossipkey.Generate())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--name", "tls1", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--certs-dir", dir, "--gossip-key", keys}, &syncBuffer{}, &stderr)
	}()
	up := regexp.MustCompile(`node tls1: gossip \S+, http (\S+)`)
	var addr string
	poll.Until(t, 30*time.Second, "the node up", func() bool {
		m := up.FindStringSubmatch(stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil || strings.Contains(stderr.String(), "node: ")
	})
	if addr == "" {
		t.Fatalf("the node did not start: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), "gossip is not encrypted") {
		t.Errorf("two gossip keys read as none: %s", stderr.String())
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"members", "--addr", addr, "--certs-dir", dir}, 0},
		{[]string{"members", "--addr", "https://" + addr, "--certs-dir", dir}, 0},
		{[]string{"list", "--addr", addr, "--certs-dir", dir, "--user", "alice"}, 0},
		{[]string{"members", "--addr", "http://" + addr, "--certs-dir", dir}, 2}, // credentials in clear
		{[]string{"members", "--addr", addr}, 1},                                 // plain HTTP to HTTPS
		{[]string{"members", "--addr", addr, "--certs-dir", dir, "--user", "bob"}, 1},
		{[]string{"members", "--addr", addr, "--certs-dir", t.TempDir()}, 1}, // no CA there
	} {
		var stdout, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &errOut)
		if code != tc.code {
			t.Errorf("node %s: exit %d, want %d: %s%s", strings.Join(tc.args, " "), code, tc.code, stdout.String(), errOut.String())
			continue
		}
		if code == 0 && tc.args[0] == "members" && !strings.Contains(stdout.String(), "tls1") {
			t.Errorf("node %s: %q does not list tls1", strings.Join(tc.args, " "), stdout.String())
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("node exit %d: %s", code, stderr.String())
	}
}

// TestDaemonRefusesBadCertsDirAndKeys: a --certs-dir without a node
// certificate and a bad second gossip key stop the node before it starts.
func TestDaemonRefusesBadCertsDirAndKeys(t *testing.T) {
	good, certsDir := gossipkey.Encode(gossipkey.Generate()), makeCerts(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--gossip-key", good, "--certs-dir", t.TempDir()}, "ca.crt"},
		{[]string{"--certs-dir", certsDir, "--gossip-key", good + ",not-base64"}, "gossip key 2"},
		{[]string{"--certs-dir", certsDir, "--gossip-key", good, "--gossip-key", good}, "the same as key 1"},
	} {
		args := append([]string{"--name", "bad", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0"}, tc.args...)
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("node %s: exit %d: %s; want a refusal naming %q", strings.Join(args, " "), code, stderr.String(), tc.want)
		}
	}
}

// TestDaemonReadsSeveralGossipKeysFromTheEnvironment: SQUALL_GOSSIP_KEY
// takes what --gossip-key takes, and a bad entry is named.
func TestDaemonReadsSeveralGossipKeysFromTheEnvironment(t *testing.T) {
	t.Setenv("SQUALL_GOSSIP_KEY", gossipkey.Encode(gossipkey.Generate())+",bad")
	var stderr bytes.Buffer
	args := []string{"--name", "envkeys", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--certs-dir", makeCerts(t)}
	if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code != 1 || !strings.Contains(stderr.String(), "SQUALL_GOSSIP_KEY: gossip key 2") {
		t.Errorf("bad second key in SQUALL_GOSSIP_KEY: exit %d: %s", code, stderr.String())
	}

	t.Setenv("SQUALL_GOSSIP_KEY", gossipkey.Encode(gossipkey.Generate())+","+gossipkey.Encode(gossipkey.Generate()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &syncBuffer{}, &out) }()
	poll.Until(t, 30*time.Second, "the node up", func() bool { return strings.Contains(out.String(), "node envkeys: gossip") })
	if strings.Contains(out.String(), "not encrypted") {
		t.Errorf("two keys from SQUALL_GOSSIP_KEY read as none: %s", out.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
}
