package cluster

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTarGzRoundTripAndDigest(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"a.py": "print(1)\n", "pkg/b.py": "x = 2\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b1, err := TarGz(src)
	if err != nil {
		t.Fatal(err)
	}
	// Touching a file changes its mtime, not the digest.
	now := filepath.Join(src, "a.py")
	if err := os.Chtimes(now, timeZero(), timeZero()); err != nil {
		t.Fatal(err)
	}
	b2, _ := TarGz(src)
	if digestOf(b1) != digestOf(b2) {
		t.Error("digest depends on modification times")
	}
	dst := t.TempDir()
	if err := untarGz(b1, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "pkg", "b.py"))
	if err != nil || string(got) != "x = 2\n" {
		t.Fatalf("unpacked pkg/b.py = %q, %v", got, err)
	}
}

func TestUntarRefusesEscapesAndLinks(t *testing.T) {
	for _, c := range []struct {
		h    *tar.Header
		want string
	}{
		{&tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644}, "leaves the directory"},
		{&tar.Header{Name: "..", Typeflag: tar.TypeDir, Mode: 0o755}, "leaves the directory"},
		{&tar.Header{Name: "/etc/evil", Typeflag: tar.TypeReg, Mode: 0o644}, "leaves the directory"},
		{&tar.Header{Name: "a/../../evil", Typeflag: tar.TypeReg, Mode: 0o644}, "leaves the directory"},
		{&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "not a file or directory"},
	} {
		h := c.h
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		_ = tw.WriteHeader(h)
		_ = tw.Close()
		_ = gz.Close()
		dst := t.TempDir()
		if err := untarGz(buf.Bytes(), dst); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q (type %c): %v, want an error saying %q", h.Name, h.Typeflag, err, c.want)
		}
	}
	if err := untarGz([]byte("not gzip"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "resources") {
		t.Errorf("garbage: %v", err)
	}
}

func timeZero() (t0 time.Time) { return time.Unix(1, 0) }
