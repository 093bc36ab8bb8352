package state_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/state"
)

// FuzzDirFiles replaces a completed checkpoint's manifest or group file
// with arbitrary bytes: opening and loading either work or fail with
// ErrCorrupt, never panic, never return state from a file that is not
// whole.
func FuzzDirFiles(f *testing.F) {
	seed := crashDirF(f)
	m, _ := os.ReadFile(filepath.Join(seed, fmt.Sprintf("MANIFEST-%020d", 2)))
	g, _ := os.ReadFile(filepath.Join(seed, "c-count", fmt.Sprintf("kg-%010d-%020d.group", 1, 2)))
	f.Add(false, m)
	f.Add(true, g)
	f.Add(true, g[:len(g)/2])
	f.Fuzz(func(t *testing.T, group bool, data []byte) {
		path := crashDir(t)
		target := filepath.Join(path, fmt.Sprintf("MANIFEST-%020d", 2))
		if group {
			target = filepath.Join(path, "c-count", fmt.Sprintf("kg-%010d-%020d.group", 1, 2))
		}
		must(t, os.WriteFile(target, data, 0o644))
		d, err := state.OpenDir(path)
		if err != nil {
			if !errors.Is(err, state.ErrCorrupt) {
				t.Fatalf("OpenDir: %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if _, err := d.Load("count", 11, []int{0, 1, 2, 3}); err != nil && !errors.Is(err, state.ErrCorrupt) {
			t.Fatalf("Load: %v does not wrap ErrCorrupt", err)
		}
	})
}

// crashDirF is crashDir for a fuzz target's seed corpus.
func crashDirF(f *testing.F) string {
	path := f.TempDir()
	d := mustV(state.OpenDir(path))
	b := state.NewBackend([]int{0, 1, 2, 3})
	count := mustV(state.NewValue(b, "count", state.Int64))
	for id := 1; id <= 2; id++ {
		if err := b.SetCurrentKey(1, []byte("a")); err != nil {
			f.Fatal(err)
		}
		if err := count.Set(int64(5 * id)); err != nil {
			f.Fatal(err)
		}
		if _, err := d.Stage("count", 11, b.Snapshot(checkpoint.ID(id), state.Groups)); err != nil {
			f.Fatal(err)
		}
		if err := d.Commit(checkpoint.ID(id), 1, nil); err != nil {
			f.Fatal(err)
		}
	}
	return path
}
