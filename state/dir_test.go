package state_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/state"
)

// countTask is one task of component "count" serving key groups 0..3 with a
// keyed count and a task-scoped offset.
type countTask struct {
	b      *state.Backend
	count  *state.Value[int64]
	offset *state.KeyValueState[string, int64]
}

func newCountTask(t *testing.T) *countTask {
	t.Helper()
	b := state.NewBackend([]int{0, 1, 2, 3})
	return &countTask{b: b, count: mustV(state.NewValue(b, "count", state.Int64)), offset: mustV(state.NewKeyValueState(b, "offsets", state.String, state.Int64))}
}

func (c *countTask) add(t *testing.T, key string, n int64) {
	t.Helper()
	must(t, c.b.SetCurrentKey(int(key[0])%4, []byte(key)))
	v, _ := mustV2(t, c.count.Get)
	must(t, c.count.Set(v+n))
}

func (c *countTask) get(t *testing.T, key string) int64 {
	t.Helper()
	must(t, c.b.SetCurrentKey(int(key[0])%4, []byte(key)))
	v, _ := mustV2(t, c.count.Get)
	return v
}

func (c *countTask) restore(t *testing.T, d *state.Dir) {
	t.Helper()
	groups, err := d.Load("count", 11, c.b.KeyGroups())
	must(t, err)
	must(t, c.b.Restore(groups))
}

func checkpointOnce(t *testing.T, d *state.Dir, c *countTask, id checkpoint.ID, commit bool) {
	t.Helper()
	if _, err := d.Stage("count", 11, c.b.Snapshot(id, state.Groups)); err != nil {
		t.Fatal(err)
	}
	if commit {
		must(t, d.Commit(id, 1, []byte(fmt.Sprintf("meta-%d", id))))
	}
}

func TestDirAppliesOnlyCompletedCheckpoints(t *testing.T) {
	path := t.TempDir()
	d := mustV(state.OpenDir(path))
	if _, ok := d.Last(); ok {
		t.Fatal("a new directory has a completed checkpoint")
	}
	c := newCountTask(t)
	c.add(t, "a", 1) // kg 1
	c.add(t, "b", 2) // kg 2
	must(t, c.offset.Put("p0", 100))
	checkpointOnce(t, d, c, 1, true)

	c.add(t, "a", 10) // staged for 2, which is aborted ...
	checkpointOnce(t, d, c, 2, false)
	c.add(t, "b", 20) // ... and carried by 3, which completes
	checkpointOnce(t, d, c, 3, true)

	c.add(t, "a", 1000) // staged for 4, which never completes: the node dies
	must(t, c.offset.Put("p0", 999))
	checkpointOnce(t, d, c, 4, false)

	d2 := mustV(state.OpenDir(path))
	last, ok := d2.Last()
	if !ok || last.ID != 3 || last.Epoch != 1 || string(last.Meta) != "meta-3" {
		t.Fatalf("Last after reopen = %+v, %v; want checkpoint 3 epoch 1 meta-3", last, ok)
	}
	r := newCountTask(t)
	r.restore(t, d2)
	if a, b := r.get(t, "a"), r.get(t, "b"); a != 11 || b != 22 {
		t.Fatalf("restored a=%d b=%d, want 11 and 22 (checkpoint 3, with the aborted 2's changes)", a, b)
	}
	if off, _ := r.offset.GetOr("p0", -1); off != 100 {
		t.Fatalf("restored task-scoped offset = %d, want 100", off)
	}
	// Checkpoint 4's staged files are gone: a later 4 starts clean.
	if m, _ := filepath.Glob(filepath.Join(path, "c-count", "*-00000000000000000004.group")); len(m) != 0 {
		t.Fatalf("files staged for the uncompleted checkpoint 4 survive the reopen: %v", m)
	}
	if err := d2.Commit(3, 1, nil); err == nil {
		t.Fatal("Commit of an already completed checkpoint succeeded")
	}
	if _, err := d2.Stage("count", 11, &state.Snapshot{ID: 2}); err == nil {
		t.Fatal("Stage of a checkpoint below the completed one succeeded")
	}
}

func TestDirCollectsSupersededFiles(t *testing.T) {
	path := t.TempDir()
	d := mustV(state.OpenDir(path))
	c := newCountTask(t)
	for id := checkpoint.ID(1); id <= 6; id++ {
		c.add(t, "a", 1)
		checkpointOnce(t, d, c, id, true)
	}
	manifests, _ := filepath.Glob(filepath.Join(path, "MANIFEST-*"))
	groups, _ := filepath.Glob(filepath.Join(path, "c-count", "kg-*"))
	// The current and the previous checkpoint are kept: 2 manifests and
	// 2 versions of key group 1.
	if len(manifests) != 2 || len(groups) != 2 {
		t.Fatalf("after 6 checkpoints: manifests %v, group files %v; want 2 of each", manifests, groups)
	}
	must(t, d.Abandon())
	r := newCountTask(t)
	r.restore(t, d)
	if got := r.get(t, "a"); got != 6 {
		t.Fatalf("restored a = %d, want 6", got)
	}
}

// crashDir leaves a directory as a crash at various points would: a
// completed checkpoint 1, then checkpoint 2's files in the given state.
func crashDir(t *testing.T) string {
	path := t.TempDir()
	d := mustV(state.OpenDir(path))
	c := newCountTask(t)
	c.add(t, "a", 5)
	checkpointOnce(t, d, c, 1, true)
	c.add(t, "a", 5)
	checkpointOnce(t, d, c, 2, true)
	return path
}

func TestDirSurvivesTornAndCorruptFiles(t *testing.T) {
	manifest := func(path string, id int) string {
		return filepath.Join(path, fmt.Sprintf("MANIFEST-%020d", id))
	}
	group := func(path string, kg, id int) string {
		return filepath.Join(path, "c-count", fmt.Sprintf("kg-%010d-%020d.group", kg, id))
	}
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string)
		wantErr string // "" = opens, and restores a = wantA
		wantA   int64
		loadErr string
	}{
		{name: "intact", wantA: 10},
		{name: "SIGKILL while writing manifest 3 (torn temporary file)", wantA: 10, damage: func(t *testing.T, path string) {
			b, _ := os.ReadFile(manifest(path, 2))
			must(t, os.WriteFile(manifest(path, 3)+".tmp", b[:len(b)/2], 0o644))
		}},
		{name: "SIGKILL while staging checkpoint 3 (torn group, no manifest)", wantA: 10, damage: func(t *testing.T, path string) {
			must(t, os.WriteFile(group(path, 1, 3)+".tmp", []byte{0x0a, 0x20, 1}, 0o644))
			b, _ := os.ReadFile(group(path, 1, 2))
			must(t, os.WriteFile(group(path, 1, 3), b, 0o644))
		}},
		{name: "newest manifest truncated", damage: func(t *testing.T, path string) {
			b, _ := os.ReadFile(manifest(path, 2))
			must(t, os.WriteFile(manifest(path, 2), b[:len(b)-3], 0o644))
		}, wantErr: "MANIFEST-00000000000000000002"},
		{name: "newest manifest emptied", damage: func(t *testing.T, path string) {
			must(t, os.WriteFile(manifest(path, 2), nil, 0o644))
		}, wantErr: "previous completed checkpoint is"},
		{name: "newest manifest with a flipped bit", damage: func(t *testing.T, path string) {
			b, _ := os.ReadFile(manifest(path, 2))
			b[len(b)/2] ^= 0x10
			must(t, os.WriteFile(manifest(path, 2), b, 0o644))
		}, wantErr: "MANIFEST-00000000000000000002"},
		{name: "referenced group file missing", damage: func(t *testing.T, path string) {
			must(t, os.Remove(group(path, 1, 2)))
		}, wantErr: "kg-0000000001-00000000000000000002.group"},
		{name: "referenced group file corrupt", damage: func(t *testing.T, path string) {
			b, _ := os.ReadFile(group(path, 1, 2))
			b[len(b)-6] ^= 0xff
			must(t, os.WriteFile(group(path, 1, 2), b, 0o644))
		}, loadErr: "kg-0000000001-00000000000000000002.group"},
		{name: "group file swapped for another key group's", damage: func(t *testing.T, path string) {
			d := mustV(state.OpenDir(path))
			other := newCountTask(t)
			other.add(t, "b", 1) // kg 2
			mustV(d.Stage("count", 11, other.b.Snapshot(3, state.Groups)))
			must(t, os.Rename(group(path, 2, 3), group(path, 1, 2)))
		}, loadErr: "holds component \"count\" key group 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := crashDir(t)
			if tt.damage != nil {
				tt.damage(t, path)
			}
			d, err := state.OpenDir(path)
			if tt.wantErr != "" {
				if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("OpenDir: err = %v, want ErrCorrupt naming %q", err, tt.wantErr)
				}
				// Nothing was wiped: the files are all still there.
				if _, err := os.Stat(manifest(path, 1)); err != nil {
					t.Fatalf("the previous manifest is gone after a failed open: %v", err)
				}
				return
			}
			must(t, err)
			if last, _ := d.Last(); last.ID != 2 {
				t.Fatalf("Last = %d, want 2", last.ID)
			}
			r := newCountTask(t)
			groups, err := d.Load("count", 11, r.b.KeyGroups())
			if tt.loadErr != "" {
				if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), tt.loadErr) {
					t.Fatalf("Load: err = %v, want ErrCorrupt naming %q", err, tt.loadErr)
				}
				return
			}
			must(t, err)
			must(t, r.b.Restore(groups))
			if a := r.get(t, "a"); a != tt.wantA {
				t.Fatalf("restored a = %d, want %d", a, tt.wantA)
			}
			tmps, _ := filepath.Glob(filepath.Join(path, "*", "*.tmp"))
			tmps2, _ := filepath.Glob(filepath.Join(path, "*.tmp"))
			if len(tmps)+len(tmps2) != 0 {
				t.Fatalf("torn temporary files survive the open: %v %v", tmps, tmps2)
			}
		})
	}
}

const crashChildEnv = "SQUALL_STATE_CRASH_CHILD_DIR"

// TestDirSIGKILLNeverForcesAWipe runs a child process that checkpoints as
// fast as it can (checkpoint i adds i to key "k<i%4>" and completes), kills
// it with SIGKILL at an arbitrary point, and checks that the directory opens
// on a completed checkpoint whose state is exactly what that checkpoint
// covers. Repeated, so the kill lands in different phases of a write.
func TestDirSIGKILLNeverForcesAWipe(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	for round := range 5 {
		path := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestDirSIGKILLNeverForcesAWipe$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		// Kill once the child reports a number of completed checkpoints
		// that differs per round.
		target := 20 + round*17
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed ")); err == nil && n >= target {
				break
			}
		}
		must(t, cmd.Process.Kill())
		cmd.Wait()

		d, err := state.OpenDir(path)
		if err != nil {
			t.Fatalf("round %d: open after SIGKILL: %v", round, err)
		}
		last, ok := d.Last()
		if !ok || last.ID < checkpoint.ID(target) {
			t.Fatalf("round %d: last completed = %d, want >= %d", round, last.ID, target)
		}
		r := newCountTask(t)
		r.restore(t, d)
		for k := range 4 {
			var want int64
			for i := 1; i <= int(last.ID); i++ {
				if i%4 == k {
					want += int64(i)
				}
			}
			if got := r.get(t, fmt.Sprintf("k%d", k)); got != want {
				t.Fatalf("round %d: checkpoint %d: k%d = %d, want %d", round, last.ID, k, got, want)
			}
		}
	}
}

func crashChild(t *testing.T, path string) {
	d := mustV(state.OpenDir(path))
	c := newCountTask(t)
	deadline := time.Now().Add(time.Minute) // the parent kills long before
	for i := 1; time.Now().Before(deadline); i++ {
		c.add(t, fmt.Sprintf("k%d", i%4), int64(i))
		checkpointOnce(t, d, c, checkpoint.ID(i), true)
		fmt.Printf("committed %d\n", i)
	}
}
