package state_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/squall-streams/squall/state"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustV returns v, or fails the test (through a panic, which the test
// reports) on err: Go cannot pass t and a two-value call together.
func mustV[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func formatRecords(recs []state.Record) string {
	var b strings.Builder
	for _, r := range recs {
		if r.Tombstone {
			fmt.Fprintf(&b, "kg%d %s %q %x -\n", r.KeyGroup, r.State, r.Key, r.SubKey)
		} else {
			fmt.Fprintf(&b, "kg%d %s %q %x = %x\n", r.KeyGroup, r.State, r.Key, r.SubKey, r.Value)
		}
	}
	return b.String()
}

func TestValueIsScopedToTheCurrentKey(t *testing.T) {
	b := state.NewBackend([]int{0, 1})
	count := mustV(state.NewValue(b, "count", state.Int64))
	if _, _, err := count.Get(); !errors.Is(err, state.ErrNoCurrentKey) {
		t.Fatalf("Get with no key: err = %v, want ErrNoCurrentKey", err)
	}
	for _, k := range []string{"a", "b", "a", "a"} {
		must(t, b.SetCurrentKey(int(k[0])%2, []byte(k)))
		n, _ := mustV2(t, count.Get)
		must(t, count.Set(n+1))
	}
	must(t, b.SetCurrentKey(1, []byte("a")))
	if n, ok := mustV2(t, count.Get); n != 3 || !ok {
		t.Fatalf("count of a = %d, %v; want 3, true", n, ok)
	}
	must(t, b.SetCurrentKey(0, []byte("b")))
	if n, ok := mustV2(t, count.Get); n != 1 || !ok {
		t.Fatalf("count of b = %d, %v; want 1, true", n, ok)
	}
	must(t, count.Clear())
	if _, ok := mustV2(t, count.Get); ok {
		t.Fatal("b still has a count after Clear")
	}
	if err := b.SetCurrentKey(7, []byte("x")); !errors.Is(err, state.ErrNotOwned) {
		t.Fatalf("SetCurrentKey(7): err = %v, want ErrNotOwned", err)
	}
	if _, _, err := count.Get(); !errors.Is(err, state.ErrNoCurrentKey) {
		t.Fatalf("Get after a refused SetCurrentKey: err = %v, want ErrNoCurrentKey", err)
	}
}

func mustV2[T any](t *testing.T, f func() (T, bool, error)) (T, bool) {
	t.Helper()
	v, ok, err := f()
	must(t, err)
	return v, ok
}

func TestRegisterRejects(t *testing.T) {
	b := state.NewBackend([]int{0})
	mustV(state.NewValue(b, "x", state.Int64))
	if _, err := state.NewMap(b, "x", state.String, state.Int64); !errors.Is(err, state.ErrDuplicateName) {
		t.Errorf("second handle named x: err = %v, want ErrDuplicateName", err)
	}
	for _, name := range []string{"", "__timer:x", "__mine"} {
		if _, err := state.NewValue(b, name, state.Int64); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
}

func TestMapPutGetDeleteRange(t *testing.T) {
	b := state.NewBackend([]int{3})
	m := mustV(state.NewMap(b, "perUser", state.String, state.Int64))
	must(t, b.SetCurrentKey(3, []byte("region-eu")))
	for i, u := range []string{"carol", "alice", "bob"} {
		must(t, m.Put(u, int64(i+1)))
	}
	must(t, b.SetCurrentKey(3, []byte("region-us")))
	must(t, m.Put("dave", 9))
	must(t, b.SetCurrentKey(3, []byte("region-eu")))
	must(t, m.Delete("bob"))
	var got []string
	must(t, m.Range(func(k string, v int64) bool { got = append(got, fmt.Sprintf("%s=%d", k, v)); return true }))
	if want := []string{"alice=2", "carol=1"}; !slices.Equal(got, want) {
		t.Fatalf("Range = %v, want %v", got, want)
	}
	if _, ok, _ := m.Get("dave"); ok {
		t.Fatal("dave of region-us visible under region-eu")
	}
}

// TestSnapshotGolden pins what a snapshot carries: the changes since the
// previous one (tombstones for deletions) and the whole state of each
// changed key group; the next snapshot holds only what changed after.
func TestSnapshotGolden(t *testing.T) {
	b := state.NewBackend([]int{0, 1, 2})
	count := mustV(state.NewValue(b, "count", state.Int64))
	seen := mustV(state.NewMap(b, "seen", state.String, state.Bool))
	kv := mustV(state.NewKeyValueState(b, "offsets", state.String, state.Int64))
	must(t, b.SetCurrentKey(0, []byte("w1")))
	must(t, count.Set(1))
	must(t, seen.Put("x", true))
	must(t, b.SetCurrentKey(1, []byte("w2")))
	must(t, count.Set(5))
	must(t, kv.Put("p0", 42))
	s1 := b.Snapshot(1, state.Changes|state.Groups)

	must(t, b.SetCurrentKey(0, []byte("w1")))
	must(t, count.Set(2))
	must(t, seen.Delete("x"))
	must(t, seen.Delete("never-there"))
	s2 := b.Snapshot(2, state.Changes|state.Groups)
	s3 := b.Snapshot(3, state.Changes|state.Groups)

	var out strings.Builder
	for _, s := range []*state.Snapshot{s1, s2, s3} {
		fmt.Fprintf(&out, "snapshot %d changes:\n%s", s.ID, formatRecords(s.Changes))
		for _, g := range slices.Sorted(func(yield func(uint32) bool) {
			for g := range s.Groups {
				if !yield(g) {
					return
				}
			}
		}) {
			fmt.Fprintf(&out, "group %d:\n%s", g, formatRecords(s.Groups[g]))
		}
	}
	const want = `snapshot 1 changes:
kg0 count "w1"  = 0000000000000001
kg0 seen "w1" 78 = 01
kg1 count "w2"  = 0000000000000005
kg4294967295 offsets "" 7030 = 000000000000002a
group 0:
kg0 count "w1"  = 0000000000000001
kg0 seen "w1" 78 = 01
group 1:
kg1 count "w2"  = 0000000000000005
group 4294967295:
kg4294967295 offsets "" 7030 = 000000000000002a
snapshot 2 changes:
kg0 count "w1"  = 0000000000000002
kg0 seen "w1" 78 -
group 0:
kg0 count "w1"  = 0000000000000002
snapshot 3 changes:
`
	if got := out.String(); got != want {
		t.Fatalf("snapshots:\n%s\nwant:\n%s", got, want)
	}
}

func TestSnapshotCarriesWhatIsAskedFor(t *testing.T) {
	b := state.NewBackend([]int{0})
	v := mustV(state.NewValue(b, "v", state.String))
	for _, contents := range []state.Contents{state.Changes, state.Groups, state.Changes | state.Groups} {
		must(t, b.SetCurrentKey(0, []byte("k")))
		must(t, v.Set("x"))
		s := b.Snapshot(1, contents)
		if got := len(s.Changes) == 1; got != (contents&state.Changes != 0) {
			t.Errorf("contents %b: %d changes", contents, len(s.Changes))
		}
		if got := len(s.Groups[0]) == 1; got != (contents&state.Groups != 0) {
			t.Errorf("contents %b: groups %v", contents, s.Groups)
		}
	}
}

func TestRestoreAndApplyRoundTrip(t *testing.T) {
	b := state.NewBackend([]int{0, 1})
	count := mustV(state.NewValue(b, "count", state.Int64))
	kg := func(k string) int { return int(k[0]) % 2 } // a, c: 1; b: 0
	for _, k := range []string{"a", "b", "c", "a"} {
		must(t, b.SetCurrentKey(kg(k), []byte(k)))
		n, _ := mustV2(t, count.Get)
		must(t, count.Set(n+10))
	}
	s1 := b.Snapshot(1, state.Changes|state.Groups)
	must(t, b.SetCurrentKey(1, []byte("a")))
	must(t, count.Set(999)) // after the checkpoint: rolled back

	// From the directory store's whole groups.
	must(t, b.Restore(s1.Groups))
	must(t, b.SetCurrentKey(1, []byte("a")))
	if n, _ := mustV2(t, count.Get); n != 20 {
		t.Fatalf("after Restore: a = %d, want 20", n)
	}
	// From the changelog, on a fresh task.
	b2 := state.NewBackend([]int{0, 1})
	count2 := mustV(state.NewValue(b2, "count", state.Int64))
	for _, r := range s1.Changes {
		must(t, b2.Apply(r))
	}
	for _, k := range []struct {
		g    int
		key  string
		want int64
	}{{1, "a", 20}, {0, "b", 10}, {1, "c", 10}} {
		must(t, b2.SetCurrentKey(k.g, []byte(k.key)))
		if n, _ := mustV2(t, count2.Get); n != k.want {
			t.Errorf("replayed %s = %d, want %d", k.key, n, k.want)
		}
	}
	if s := b2.Snapshot(2, state.Changes|state.Groups); len(s.Changes) != 0 {
		t.Errorf("replayed records count as changes: %v", s.Changes)
	}
	if err := b2.Apply(state.Record{KeyGroup: 5, State: "count"}); !errors.Is(err, state.ErrNotOwned) {
		t.Errorf("record of key group 5: err = %v, want ErrNotOwned", err)
	}
	bad := map[uint32][]state.Record{0: {{KeyGroup: 1}}}
	if err := b2.Restore(bad); err == nil {
		t.Error("Restore accepted a record filed under the wrong key group")
	}
}

func TestReleaseAcquireMovesAKeyGroup(t *testing.T) {
	from := state.NewBackend([]int{0, 1})
	to := state.NewBackend([]int{2})
	c1 := mustV(state.NewValue(from, "count", state.Int64))
	c2 := mustV(state.NewValue(to, "count", state.Int64))
	must(t, from.SetCurrentKey(1, []byte("k")))
	must(t, c1.Set(7))
	if _, err := from.Release(1); err == nil {
		t.Fatal("Release with unsnapshotted changes succeeded")
	}
	from.Snapshot(1, state.Changes|state.Groups)
	recs := mustV(from.Release(1))
	if got := from.KeyGroups(); !slices.Equal(got, []int{0}) {
		t.Fatalf("after Release: serves %v, want [0]", got)
	}
	must(t, to.Acquire(1, recs))
	must(t, to.SetCurrentKey(1, []byte("k")))
	if n, _ := mustV2(t, c2.Get); n != 7 {
		t.Fatalf("moved count = %d, want 7", n)
	}
	if s := to.Snapshot(2, state.Changes|state.Groups); len(s.Groups[1]) != 1 {
		t.Fatalf("first snapshot after Acquire: group 1 = %v, want it whole", s.Groups[1])
	}
	if err := to.Acquire(1, nil); err == nil {
		t.Fatal("Acquire of a group already served succeeded")
	}
	if _, err := from.Release(1); !errors.Is(err, state.ErrNotOwned) {
		t.Fatalf("second Release: err = %v, want ErrNotOwned", err)
	}
}

func TestTimersFireInOrderAndRestore(t *testing.T) {
	b := state.NewBackend([]int{0, 1})
	tm := mustV(state.NewTimers(b, "window"))
	set := []struct {
		g   int
		key string
		ts  int64
	}{{1, "b", 200}, {0, "a", 100}, {0, "a", 300}, {1, "b", 100}, {0, "a", 100}, {0, "c", -5}}
	for _, s := range set {
		must(t, b.SetCurrentKey(s.g, []byte(s.key)))
		must(t, tm.Register(s.ts))
	}
	must(t, b.SetCurrentKey(0, []byte("a")))
	must(t, tm.Delete(300))
	if tm.Len() != 4 {
		t.Fatalf("Len = %d, want 4 (a duplicate is one timer, a deleted one is gone)", tm.Len())
	}
	snap := b.Snapshot(1, state.Changes|state.Groups)

	fmtFired := func(fs []state.Timer) string {
		var parts []string
		for _, f := range fs {
			parts = append(parts, fmt.Sprintf("%d/kg%d/%s", f.Time, f.KeyGroup, f.Key))
		}
		return strings.Join(parts, " ")
	}
	if got := fmtFired(tm.Advance(100)); got != "-5/kg0/c 100/kg0/a 100/kg1/b" {
		t.Fatalf("Advance(100) = %s", got)
	}
	if got := fmtFired(tm.Advance(100)); got != "" {
		t.Fatalf("second Advance(100) = %s, want nothing", got)
	}
	// Roll back to checkpoint 1: the fired timers are set again.
	must(t, b.Restore(snap.Groups))
	if got := fmtFired(tm.Advance(1000)); got != "-5/kg0/c 100/kg0/a 100/kg1/b 200/kg1/b" {
		t.Fatalf("Advance(1000) after Restore = %s", got)
	}
}
