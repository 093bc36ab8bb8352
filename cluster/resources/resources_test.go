package resources_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/cluster/resources"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sources writes a small resources directory.
func sources(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"a.py": "print(1)\n", "pkg/b.py": "x = 2\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

func TestTarGzRoundTripAndDigest(t *testing.T) {
	src := sources(t)
	b1, err := resources.TarGz(src)
	if err != nil {
		t.Fatal(err)
	}
	// Touching a file changes its mtime, not the digest.
	now := filepath.Join(src, "a.py")
	if err := os.Chtimes(now, timeZero(), timeZero()); err != nil {
		t.Fatal(err)
	}
	b2, _ := resources.TarGz(src)
	if resources.Digest(b1) != resources.Digest(b2) {
		t.Error("digest depends on modification times")
	}
	dst := t.TempDir()
	if err := resources.Unpack(b1, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "pkg", "b.py"))
	if err != nil || string(got) != "x = 2\n" {
		t.Fatalf("unpacked pkg/b.py = %q, %v", got, err)
	}
}

func TestTarGzShipsNoLinks(t *testing.T) {
	src := sources(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	b, err := resources.TarGz(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := resources.Unpack(b, dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "link")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the symlink was shipped: %v", err)
	}
}

// tarGz packs headers (with body for regular files) as an attacker would.
func tarGz(t *testing.T, hs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range hs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			if _, err := tw.Write(bytes.Repeat([]byte("x"), int(h.Size))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnpackRefusesEscapesLinksAndDevices(t *testing.T) {
	for _, c := range []struct {
		h    *tar.Header
		want string
	}{
		{&tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644}, "leaves the directory"},
		{&tar.Header{Name: "..", Typeflag: tar.TypeDir, Mode: 0o755}, "leaves the directory"},
		{&tar.Header{Name: "/etc/evil", Typeflag: tar.TypeReg, Mode: 0o644}, "leaves the directory"},
		{&tar.Header{Name: "a/../../evil", Typeflag: tar.TypeReg, Mode: 0o644}, "leaves the directory"},
		{&tar.Header{Name: "", Typeflag: tar.TypeReg, Mode: 0o644}, "leaves the directory"},
		{&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "not a file or directory"},
		{&tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}, "not a file or directory"},
		{&tar.Header{Name: "tty", Typeflag: tar.TypeChar, Devmajor: 5, Devminor: 0, Mode: 0o666}, "not a file or directory"},
		{&tar.Header{Name: "disk", Typeflag: tar.TypeBlock, Devmajor: 8, Devminor: 0, Mode: 0o660}, "not a file or directory"},
		{&tar.Header{Name: "pipe", Typeflag: tar.TypeFifo, Mode: 0o644}, "not a file or directory"},
	} {
		dst := t.TempDir()
		h := c.h
		err := resources.Unpack(tarGz(t, h), dst)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q (type %c): %v, want an error saying %q", h.Name, h.Typeflag, err, c.want)
		}
		if entries, _ := os.ReadDir(dst); len(entries) != 0 {
			t.Errorf("%q (type %c): left %v in the destination", h.Name, h.Typeflag, entries)
		}
	}
	if err := resources.Unpack([]byte("not gzip"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "resources") {
		t.Errorf("garbage: %v", err)
	}
}

// A link entry after good ones is refused too, and nothing follows it.
func TestUnpackStopsAtTheFirstBadEntry(t *testing.T) {
	dst := t.TempDir()
	b := tarGz(t,
		&tar.Header{Name: "ok.py", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		&tar.Header{Name: "ok.py.link", Typeflag: tar.TypeLink, Linkname: "ok.py"},
		&tar.Header{Name: "after.py", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1},
	)
	if err := resources.Unpack(b, dst); err == nil || !strings.Contains(err.Error(), "not a file or directory") {
		t.Fatalf("a hard link among files: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "after.py")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an entry after the refused one was unpacked: %v", err)
	}
}

func TestValidDigest(t *testing.T) {
	good := resources.Digest([]byte("x"))
	for d, want := range map[string]bool{good: true, strings.ToUpper(good): true, good[:63]: false, good + "0": false, strings.Repeat("g", 64): false, "": false, "../" + good[3:]: false} {
		if got := resources.ValidDigest(d); got != want {
			t.Errorf("ValidDigest(%q) = %t, want %t", d, got, want)
		}
	}
}

func TestStorePutIsIdempotentAndServesTheTarball(t *testing.T) {
	b, err := resources.TarGz(sources(t))
	if err != nil {
		t.Fatal(err)
	}
	s := resources.NewStore(filepath.Join(t.TempDir(), "resources"), nil)
	d1, err := s.Put(b)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := s.Put(b)
	if err != nil || d1 != d2 || d1 != resources.Digest(b) {
		t.Fatalf("Put twice: %s, %s, %v (digest %s)", d1, d2, err, resources.Digest(b))
	}
	_, dir := s.Paths(d1)
	if got, err := os.ReadFile(filepath.Join(dir, "a.py")); err != nil || string(got) != "print(1)\n" {
		t.Fatalf("unpacked a.py = %q, %v", got, err)
	}
	if got, err := s.Tarball(d1); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("Tarball: %d bytes, %v", len(got), err)
	}
	if _, err := s.Tarball(resources.Digest([]byte("other"))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Tarball of an unknown digest: %v", err)
	}
	if _, err := s.Tarball("../../etc/passwd"); !errors.Is(err, resources.ErrBadDigest) {
		t.Fatalf("Tarball of a path: %v", err)
	}
	// A bad tarball is refused and leaves nothing behind.
	bad := tarGz(t, &tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644})
	if _, err := s.Put(bad); err == nil {
		t.Fatal("Put of an escaping tarball succeeded")
	}
	if _, dir := s.Paths(resources.Digest(bad)); dirExists(dir) {
		t.Fatal("a refused tarball was unpacked")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*")); len(left) != 0 {
		t.Fatalf("a refused tarball left partial writes: %v", left)
	}
}

func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

// TestEnsureFetchesFromTheFirstPeerThatServesTheDigest: peers that fail or
// serve other bytes are skipped, and each failure is reported when none
// serves them.
func TestEnsureFetchesFromTheFirstPeerThatServesTheDigest(t *testing.T) {
	b, err := resources.TarGz(sources(t))
	if err != nil {
		t.Fatal(err)
	}
	digest := resources.Digest(b)
	var asked []string
	fetch := func(_ context.Context, p resources.Peer, d string) ([]byte, error) {
		asked = append(asked, p.Name)
		if d != digest {
			t.Errorf("asked %s for %s", p.Name, d)
		}
		switch p.Name {
		case "down":
			return nil, errors.New("connection refused")
		case "liar":
			return []byte("something else"), nil
		}
		return b, nil
	}
	s := resources.NewStore(t.TempDir(), fetch)
	peers := []resources.Peer{{Name: "down"}, {Name: "liar"}, {Name: "good"}, {Name: "unasked"}}
	dir, err := s.Ensure(context.Background(), digest, peers)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(asked, ",") != "down,liar,good" {
		t.Errorf("asked %v", asked)
	}
	if _, err := os.Stat(filepath.Join(dir, "pkg", "b.py")); err != nil {
		t.Fatal(err)
	}
	// Now it has them: nobody is asked.
	asked = nil
	if again, err := s.Ensure(context.Background(), digest, peers); err != nil || again != dir || len(asked) != 0 {
		t.Fatalf("second Ensure: %s, %v, asked %v", again, err, asked)
	}

	empty := resources.NewStore(t.TempDir(), fetch)
	_, err = empty.Ensure(context.Background(), digest, []resources.Peer{{Name: "down"}, {Name: "liar"}})
	for _, want := range []string{"no live member served them", "from down: connection refused", "from liar: digest mismatch"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("no peer has them: %v, want it to say %q", err, want)
		}
	}
	if _, err := empty.Ensure(context.Background(), "nope", peers); !errors.Is(err, resources.ErrBadDigest) || !strings.Contains(err.Error(), `resources: bad digest "nope"`) {
		t.Errorf("bad digest: %v", err)
	}
}

// TestHTTPFetch fetches from a peer's API over loopback.
func TestHTTPFetch(t *testing.T) {
	b, err := resources.TarGz(sources(t))
	if err != nil {
		t.Fatal(err)
	}
	served := resources.NewStore(t.TempDir(), nil)
	digest, err := served.Put(b)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/resources/{digest}", func(w http.ResponseWriter, r *http.Request) {
		tgz, err := served.Tarball(r.PathValue("digest"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_, _ = w.Write(tgz)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	peer := resources.Peer{Name: "peer", Addr: strings.TrimPrefix(srv.URL, "http://")}
	fetch := resources.HTTPFetch(srv.Client())
	got, err := fetch(context.Background(), peer, digest)
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("fetched %d bytes, %v", len(got), err)
	}
	if _, err := fetch(context.Background(), peer, resources.Digest([]byte("other"))); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("fetch of what the peer lacks: %v", err)
	}
	dir, err := resources.NewStore(t.TempDir(), fetch).Ensure(context.Background(), digest, []resources.Peer{peer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.py")); err != nil {
		t.Fatal(err)
	}
}

// FuzzUnpack: no tarball makes Unpack write outside its destination or
// panic.
func FuzzUnpack(f *testing.F) {
	f.Add([]byte("not gzip"))
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	_ = tw.WriteHeader(&tar.Header{Name: "a/b.py", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2})
	_, _ = tw.Write([]byte("hi"))
	_ = tw.WriteHeader(&tar.Header{Name: "../x", Typeflag: tar.TypeReg, Mode: 0o644})
	_ = tw.Close()
	_ = gz.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, tgz []byte) {
		root := t.TempDir()
		dst := filepath.Join(root, "dst")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = resources.Unpack(tgz, dst)
		entries, err := os.ReadDir(root)
		if err != nil || len(entries) != 1 || entries[0].Name() != "dst" {
			t.Fatalf("Unpack wrote outside its destination: %v, %v", entries, err)
		}
	})
}

func timeZero() time.Time { return time.Unix(1, 0) }
