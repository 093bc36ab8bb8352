package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startBare starts a node of its own on loopback, with no HTTP API.
func startBare(t *testing.T, dataDir string) *Node {
	t.Helper()
	cfg := LocalConfig()
	cfg.Insecure = true // a throwaway node
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.DataDir = "dd", "127.0.0.1:0", "", dataDir
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// mode is path's permission bits.
func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// storeSome packs a one-file resources directory and stores it in n's
// data dir, returning the tarball's path.
func storeSome(t *testing.T, n *Node) string {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tgz, err := TarGz(src)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := n.storeResources(tgz)
	if err != nil {
		t.Fatal(err)
	}
	tarball, _ := n.resourcesPath(digest)
	return tarball
}

// TestDefaultDataDirIsPrivateAndRemoved: without DataDir a node keeps its
// resources in a new temporary directory, 0700, its tarballs 0600 (they
// were 0755 and 0644), and removes the directory when it stops (it was
// left under /tmp after every exit).
func TestDefaultDataDirIsPrivateAndRemoved(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	n := startBare(t, "")
	dir := n.dataDir
	if !strings.HasPrefix(dir, os.Getenv("TMPDIR")) {
		t.Fatalf("default data dir %s is not a temporary directory", dir)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("data dir mode %v, want 0700", m)
	}
	tarball := storeSome(t, n)
	if m := mode(t, tarball); m != 0o600 {
		t.Errorf("tarball mode %v, want 0600", m)
	}
	if m := mode(t, filepath.Dir(tarball)); m != 0o700 {
		t.Errorf("resources dir mode %v, want 0700", m)
	}
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the temporary data dir %s is still there after Shutdown (%v)", dir, err)
	}
}

// TestGivenDataDirIsMadePrivateAndKept: a DataDir given, even one that
// exists 0755, is made 0700 and stays, with its resources, after the node
// stops.
func TestGivenDataDirIsMadePrivateAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := startBare(t, dir)
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("data dir mode %v, want 0700", m)
	}
	tarball := storeSome(t, n)
	if err := n.KillAbruptly(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, tarball); m != 0o600 {
		t.Errorf("after the node stopped, tarball mode %v, want 0600 (and there)", m)
	}
}

// TestFailedStartLeavesNoTemporaryDataDir: a Start that fails after it
// made its temporary data dir removes it.
func TestFailedStartLeavesNoTemporaryDataDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cfg := LocalConfig()
	cfg.Insecure = true                                               // a throwaway node
	cfg.Name, cfg.Bind, cfg.HTTP = "dd", "127.0.0.1:0", "256.0.0.1:1" // no such address
	if n, err := Start(context.Background(), cfg); err == nil {
		_ = n.Shutdown(context.Background())
		t.Fatal("Start with a bad HTTP address succeeded")
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "squall-dd-*")); len(left) != 0 {
		t.Errorf("a failed Start left %v", left)
	}
}

// TestNimbusOffLoopbackOnlyWhenInsecure: a Nimbus address off loopback is
// a config error unless the node is Insecure (checked without binding it:
// tests use loopback only).
func TestNimbusOffLoopbackOnlyWhenInsecure(t *testing.T) {
	cfg := LocalConfig()
	cfg.Name, cfg.Bind, cfg.Nimbus, cfg.Insecure = "n", "127.0.0.1:0", "0.0.0.0:6627", true
	if err := cfg.validate(); err != nil {
		t.Errorf("Insecure with Nimbus 0.0.0.0:6627: %v, want it accepted", err)
	}
	cfg.Insecure = false
	if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("secured with Nimbus 0.0.0.0:6627: %v, want not a loopback address", err)
	}
}
