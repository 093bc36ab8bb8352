package resources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Store keeps tarballs and their unpacked directories under one root
// directory: <root>/<digest>.tar.gz and <root>/<digest>/. Names beginning
// with a dot are its partial writes (an unpack, a tarball being written, a
// removal under way). Several stores (and processes) may share a root: a
// tarball is unpacked into a temporary directory and renamed into place,
// and a digest's directory is renamed away before it is deleted, so a
// directory at <root>/<digest> is always complete. Safe for concurrent use.
//
// What the store keeps is its owner's decision: Sweep deletes what the
// owner picks, except what a Hold holds. mu is a leaf lock except that
// Sweep calls its choose function under it.
type Store struct {
	root  string
	fetch Fetch

	mu    sync.Mutex
	holds map[string]int // by entry name (a digest, a partial write): held so many times
}

// NewStore returns the store at root, fetching what it lacks with fetch
// (nil: it fetches nothing).
func NewStore(root string, fetch Fetch) *Store {
	return &Store{root: root, fetch: fetch, holds: map[string]int{}}
}

// Paths are where the tarball called digest and its unpacked directory
// are (or will be).
func (s *Store) Paths(digest string) (tarball, dir string) {
	return filepath.Join(s.root, digest+".tar.gz"), filepath.Join(s.root, digest)
}

// has reports whether the store holds digest whole: its tarball and its
// directory.
func (s *Store) has(digest string) bool {
	tarball, dir := s.Paths(digest)
	_, terr := os.Stat(tarball)
	_, derr := os.Stat(dir)
	return terr == nil && derr == nil
}

// Hold keeps digest from Sweep until release is called (release is safe
// to call twice). Hold a digest before Put when what Put stores must stay
// until something names it (a submit that has not published its spec
// yet). Holds count: a digest held twice stays until both are released.
func (s *Store) Hold(digest string) (release func()) {
	s.mu.Lock()
	s.holds[digest]++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.holds[digest]--; s.holds[digest] <= 0 {
				delete(s.holds, digest)
			}
			s.mu.Unlock()
		})
	}
}

// Put keeps a tarball and unpacks it; it returns its digest. Putting a
// tarball the store has is a no-op. A tarball Unpack refuses leaves
// nothing behind.
func (s *Store) Put(tgz []byte) (string, error) {
	digest := Digest(tgz)
	if s.has(digest) {
		return digest, nil
	}
	tmpDir, tmpTarball, release, err := s.partial(digest)
	if err != nil {
		return "", err
	}
	defer release()
	defer os.RemoveAll(tmpDir)
	defer os.Remove(tmpTarball)
	if err := Unpack(tgz, tmpDir); err != nil {
		return "", err
	}
	if err := os.WriteFile(tmpTarball, tgz, 0o600); err != nil { // a node's data dir is private (internal/datadir)
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tarball, dir := s.Paths(digest)
	// The tarball first: a directory in place has its tarball beside it.
	if err := os.Rename(tmpTarball, tarball); err != nil {
		return "", err
	}
	if err := os.Rename(tmpDir, dir); err != nil {
		if _, serr := os.Stat(dir); serr != nil { // not another Put's (another process sharing the root)
			return "", err
		}
	}
	return digest, nil
}

// partial makes the temporary directory and tarball file Put writes into,
// held (by name) until release, so that no Sweep of this store removes
// them meanwhile.
func (s *Store) partial(digest string) (dir, tarball string, release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.root, 0o700); err != nil {
		return "", "", nil, err
	}
	dir, err = os.MkdirTemp(s.root, ".unpack-")
	if err != nil {
		return "", "", nil, err
	}
	f, err := os.CreateTemp(s.root, "."+digest+".tar.gz.*.tmp") // 0600
	if err != nil {
		_ = os.Remove(dir)
		return "", "", nil, err
	}
	_ = f.Close()
	tarball = f.Name()
	names := []string{filepath.Base(dir), filepath.Base(tarball)}
	for _, n := range names {
		s.holds[n]++
	}
	return dir, tarball, func() {
		s.mu.Lock()
		for _, n := range names {
			delete(s.holds, n)
		}
		s.mu.Unlock()
	}, nil
}

// Tarball returns the stored tarball called digest (an error wrapping
// ErrBadDigest, or fs.ErrNotExist when the store does not have it).
func (s *Store) Tarball(digest string) ([]byte, error) {
	if !ValidDigest(digest) {
		return nil, fmt.Errorf("%w %q", ErrBadDigest, digest)
	}
	tarball, _ := s.Paths(digest)
	return os.ReadFile(tarball)
}

// Ensure returns the directory of digest, fetching it from the first of
// peers that serves a tarball with that digest when the store does not
// have it.
func (s *Store) Ensure(ctx context.Context, digest string, peers []Peer) (string, error) {
	if !ValidDigest(digest) {
		return "", fmt.Errorf("resources: %w %q", ErrBadDigest, digest)
	}
	_, dir := s.Paths(digest)
	if s.has(digest) {
		return dir, nil
	}
	if s.fetch == nil {
		peers = nil
	}
	var errs []error
	for _, p := range peers {
		b, err := s.fetch(ctx, p, digest)
		if err == nil && Digest(b) != digest {
			err = errors.New("digest mismatch")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("from %s: %w", p.Name, err))
			continue
		}
		if _, err := s.Put(b); err != nil {
			return "", err
		}
		return dir, nil
	}
	return "", fmt.Errorf("resources %s: no live member served them: %w", digest[:12], errors.Join(errs...))
}

// Entry is one thing the store has on disk: a digest (its tarball and
// directory, or what is left of them) or a partial write.
type Entry struct {
	// Digest names a stored tarball and its directory; "" for a partial
	// write.
	Digest string
	// Partial is the file name (under the root) of a partial write: an
	// unpack or a tarball being written, or a removal a crash cut short.
	// "" for a digest.
	Partial string
	// ModTime is the latest modification time of the entry's files.
	ModTime time.Time
}

// Name is the entry's name under the store's root.
func (e Entry) Name() string {
	if e.Digest != "" {
		return e.Digest
	}
	return e.Partial
}

// Sweep deletes the entries choose picks (a digest's tarball and
// directory, a partial write) and returns them. choose is given every
// entry on disk that no Hold holds, in name order, and runs under the
// store's lock: a Hold released before Sweep was called cannot be
// overtaken by it, so choose can decide from state read inside it. Sweep
// never deletes what is held or what it did not list; a directory in use
// by a running process must not be chosen (the store cannot tell).
func (s *Store) Sweep(choose func([]Entry) []Entry) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := s.list()
	if err != nil {
		return nil, err
	}
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		listed[e.Name()] = true
	}
	var removed []Entry
	var errs []error
	for _, e := range choose(entries) {
		if !listed[e.Name()] {
			continue
		}
		delete(listed, e.Name()) // once
		if err := s.remove(e); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, e)
	}
	return removed, errors.Join(errs...)
}

// list returns the entries on disk that nothing holds. s.mu is held.
func (s *Store) list() ([]Entry, error) {
	des, err := os.ReadDir(s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resources: %w", err)
	}
	byName := map[string]*Entry{}
	var out []*Entry
	for _, de := range des {
		name := de.Name()
		var e Entry
		switch {
		case strings.HasPrefix(name, "."):
			e.Partial = name
		case ValidDigest(name) && de.IsDir():
			e.Digest = name
		case strings.HasSuffix(name, ".tar.gz") && ValidDigest(strings.TrimSuffix(name, ".tar.gz")) && de.Type().IsRegular():
			e.Digest = strings.TrimSuffix(name, ".tar.gz")
		default:
			continue // not the store's
		}
		if s.holds[e.Name()] > 0 {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue // removed meanwhile (another process sharing the root)
		}
		if p := byName[e.Name()]; p != nil {
			if info.ModTime().After(p.ModTime) {
				p.ModTime = info.ModTime()
			}
			continue
		}
		e.ModTime = info.ModTime()
		byName[e.Name()] = &e
		out = append(out, &e)
	}
	entries := make([]Entry, len(out))
	for i, e := range out {
		entries[i] = *e
	}
	return entries, nil
}

// remove deletes e. A digest's directory is renamed away first, so that a
// crash midway leaves a partial write, never a directory at <digest> with
// files missing. s.mu is held.
func (s *Store) remove(e Entry) error {
	if e.Digest == "" {
		if err := os.RemoveAll(filepath.Join(s.root, e.Partial)); err != nil {
			return fmt.Errorf("resources: %w", err)
		}
		return nil
	}
	tarball, dir := s.Paths(e.Digest)
	trash, err := os.MkdirTemp(s.root, ".remove-")
	if err != nil {
		return fmt.Errorf("resources: %w", err)
	}
	var errs []error
	if err := os.Rename(dir, filepath.Join(trash, e.Digest)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := os.Remove(tarball); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("resources %s: %w", e.Digest[:12], err)
	}
	return nil
}
