package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Dir is an open data directory. Safe for concurrent use.
type Dir struct {
	path      string
	temporary bool
	once      sync.Once
	err       error
}

// Open opens the data directory at path, creating it 0700 and making an
// existing one 0700; with path "" it creates a new temporary directory
// "squall-NAME-*" that Remove deletes.
func Open(path, name string) (*Dir, error) {
	if path == "" {
		p, err := os.MkdirTemp("", "squall-"+name+"-") // 0700
		if err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		return &Dir{path: p, temporary: true}, nil
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("data dir: %w", err)
	case !st.IsDir():
		return nil, fmt.Errorf("data dir %s: not a directory", path)
	}
	if err := os.Chmod(path, 0o700); err != nil { // MkdirAll's mode passes through umask; an old dir may be 0755
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return &Dir{path: path}, nil
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

// Temporary reports whether Open made the directory (no --data-dir) and
// Remove deletes it.
func (d *Dir) Temporary() bool { return d.temporary }

// Remove deletes a temporary directory and everything in it; a directory
// given to Open stays. Safe to call twice: the second call returns the
// first's result.
func (d *Dir) Remove() error {
	d.once.Do(func() {
		if d.temporary {
			if err := os.RemoveAll(d.path); err != nil {
				d.err = fmt.Errorf("data dir: %w", err)
			}
		}
	})
	return d.err
}

// MkdirAll creates dir and its parents 0700.
func MkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	return nil
}

// ErrDirSync is returned, wrapped, by WriteFile when the file was renamed
// into place but syncing its directory failed: the new file is there, but
// may not survive a crash.
var ErrDirSync = errors.New("data dir: syncing the directory after the rename")

// WriteFile writes data to path, mode 0600, atomically and durably:
// readers see the old file or the new one, never a part; the file is
// fsynced before the rename and its directory after it. A crash leaves at
// most a temporary file ".NAME.*.tmp" beside path (callers that scan the
// directory skip names ending in ".tmp").
func WriteFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // 0600
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("data dir: write %s: %w", path, err)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err == nil {
		err = dir.Sync()
		_ = dir.Close()
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDirSync, path, err)
	}
	return nil
}
