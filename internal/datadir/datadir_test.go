//go:build unix

package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestOpen(t *testing.T) {
	old := syscall.Umask(0) // the worst umask: nothing masked
	defer syscall.Umask(old)
	base := t.TempDir()
	loose := filepath.Join(base, "loose")
	if err := os.Mkdir(loose, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		path      string
		temporary bool
		err       bool
	}{
		{"default: a temporary dir", "", true, false},
		{"a new dir", filepath.Join(base, "new", "deep"), false, false},
		{"an existing 0755 dir is tightened", loose, false, false},
		{"a file", file, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(tc.path, "n1")
			if tc.err {
				if err == nil {
					t.Fatal("Open accepted it")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m := perm(t, d.Path()); m != 0o700 {
				t.Errorf("mode %#o, want 0700", m)
			}
			if d.Temporary() != tc.temporary {
				t.Errorf("Temporary() = %v", d.Temporary())
			}
			if tc.temporary && !strings.HasPrefix(filepath.Base(d.Path()), "squall-n1-") {
				t.Errorf("temporary dir %s", d.Path())
			}
			if err := WriteFile(filepath.Join(d.Path(), "x"), []byte("data")); err != nil {
				t.Fatal(err)
			}
			if err := d.Remove(); err != nil {
				t.Fatal(err)
			}
			if err := d.Remove(); err != nil {
				t.Fatalf("second Remove: %v", err)
			}
			_, err = os.Stat(d.Path())
			if gone := errors.Is(err, fs.ErrNotExist); gone != tc.temporary {
				t.Errorf("after Remove: gone %v, want %v", gone, tc.temporary)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "d")
	if err := MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	if m := perm(t, dir); m != 0o700 {
		t.Errorf("MkdirAll mode %#o", m)
	}
	p := filepath.Join(dir, "res.tar.gz")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("content %q", b)
	}
	if m := perm(t, p); m != 0o600 {
		t.Errorf("mode %#o, want 0600 (even over a 0644 file)", m)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries, want only the file (no temporaries)", len(entries))
	}
	if err := WriteFile(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Error("WriteFile into a missing dir succeeded")
	}
}
