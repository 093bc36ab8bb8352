package resources_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/squall-streams/squall/cluster/resources"
)

// putSome stores a tarball of a one-file directory whose file holds body.
func putSome(t *testing.T, s *resources.Store, body string) string {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.py"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := resources.TarGz(src)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Put(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func names(es []resources.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// pick chooses the entries called names.
func pick(names ...string) func([]resources.Entry) []resources.Entry {
	return func(es []resources.Entry) []resources.Entry {
		var out []resources.Entry
		for _, e := range es {
			if slices.Contains(names, e.Name()) {
				out = append(out, e)
			}
		}
		return out
	}
}

// TestSweepDeletesWhatIsChosenAndNothingElse: a chosen digest's tarball
// and directory are gone from disk; a digest not chosen, a held one and
// the store's other files stay; the same tarball can be put again.
func TestSweepDeletesWhatIsChosenAndNothingElse(t *testing.T) {
	root := filepath.Join(t.TempDir(), "resources")
	s := resources.NewStore(root, nil)
	gone, kept, held := putSome(t, s, "gone"), putSome(t, s, "kept"), putSome(t, s, "held")
	release := s.Hold(held)
	if err := os.WriteFile(filepath.Join(root, "README"), []byte("not the store's"), 0o600); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(root, ".unpack-123")
	if err := os.MkdirAll(filepath.Join(leftover, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}

	var listed []resources.Entry
	removed, err := s.Sweep(func(es []resources.Entry) []resources.Entry {
		listed = es
		return pick(gone, held, ".unpack-123")(es)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".unpack-123", gone, kept}; !slices.Equal(names(listed), sortedCopy(want)) {
		t.Errorf("Sweep listed %v, want %v (not the held digest, not README)", names(listed), sortedCopy(want))
	}
	for _, e := range listed {
		if e.ModTime.IsZero() {
			t.Errorf("entry %s has no modification time", e.Name())
		}
	}
	if want := sortedCopy([]string{".unpack-123", gone}); !slices.Equal(names(removed), want) {
		t.Errorf("Sweep removed %v, want %v", names(removed), want)
	}
	tarball, dir := s.Paths(gone)
	if exists(tarball) || exists(dir) || exists(leftover) {
		t.Errorf("after Sweep: tarball there %t, dir there %t, partial write there %t", exists(tarball), exists(dir), exists(leftover))
	}
	for _, d := range []string{kept, held} {
		tarball, dir := s.Paths(d)
		if _, err := os.ReadFile(filepath.Join(dir, "a.py")); err != nil || !exists(tarball) {
			t.Errorf("digest %s not chosen or held: %v, tarball there %t", d[:8], err, exists(tarball))
		}
	}
	if !exists(filepath.Join(root, "README")) {
		t.Error("Sweep removed a file that is not the store's")
	}
	if left, _ := filepath.Glob(filepath.Join(root, ".*")); len(left) != 0 {
		t.Errorf("Sweep left %v", left)
	}

	// Released, the held digest is listed again and can go.
	release()
	release() // twice is fine
	if removed, err := s.Sweep(pick(held)); err != nil || !slices.Equal(names(removed), []string{held}) {
		t.Fatalf("Sweep after release removed %v, %v", names(removed), err)
	}
	// Putting a removed tarball again stores it again.
	if again := putSome(t, s, "gone"); again != gone {
		t.Fatalf("digest changed: %s", again)
	}
	if _, dir := s.Paths(gone); !exists(filepath.Join(dir, "a.py")) {
		t.Fatal("a tarball put again after its removal is not unpacked")
	}
}

// TestHoldsCount: a digest held twice stays until both holds are released;
// a held digest may be put (and is kept) before anything names it.
func TestHoldsCount(t *testing.T) {
	s := resources.NewStore(t.TempDir(), nil)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.py"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := resources.TarGz(src)
	if err != nil {
		t.Fatal(err)
	}
	d := resources.Digest(b)
	r1, r2 := s.Hold(d), s.Hold(d)
	if _, err := s.Put(b); err != nil {
		t.Fatal(err)
	}
	all := func(es []resources.Entry) []resources.Entry { return es }
	r1()
	r1() // a release counts once
	if removed, _ := s.Sweep(all); len(removed) != 0 {
		t.Fatalf("removed %v while still held once", names(removed))
	}
	r2()
	if removed, _ := s.Sweep(all); !slices.Equal(names(removed), []string{d}) {
		t.Fatalf("removed %v once released, want %s", names(removed), d)
	}
}

// TestSweepOfAnEmptyStore: a store whose root does not exist yet has
// nothing to sweep.
func TestSweepOfAnEmptyStore(t *testing.T) {
	s := resources.NewStore(filepath.Join(t.TempDir(), "none"), nil)
	called := false
	if removed, err := s.Sweep(func(es []resources.Entry) []resources.Entry { called = true; return es }); err != nil || len(removed) != 0 {
		t.Fatalf("Sweep: %v, %v", removed, err)
	}
	if !called {
		t.Error("choose not called")
	}
}

// TestATarballWithoutItsDirectoryIsAnEntryAndIsPutAgain: what a removal
// cut short leaves (the tarball, no directory) is listed under its digest,
// and putting it again restores the directory.
func TestATarballWithoutItsDirectoryIsAnEntryAndIsPutAgain(t *testing.T) {
	s := resources.NewStore(t.TempDir(), nil)
	d := putSome(t, s, "half")
	_, dir := s.Paths(d)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	var listed []resources.Entry
	if _, err := s.Sweep(func(es []resources.Entry) []resources.Entry { listed = es; return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names(listed), []string{d}) {
		t.Fatalf("listed %v, want the digest", names(listed))
	}
	if again := putSome(t, s, "half"); again != d || !exists(filepath.Join(dir, "a.py")) {
		t.Fatalf("Put again: %s, unpacked %t", again, exists(filepath.Join(dir, "a.py")))
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
