package state_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// TestMemAndDirAgree drives both stores through one history — a completed
// checkpoint, an aborted one whose changes the next completed one must
// carry, an abandoned stage — and checks that they load the same state.
func TestMemAndDirAgree(t *testing.T) {
	dir, err := state.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		store state.Store
	}{{"mem", state.NewMem()}, {"dir", dir}} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.store
			b := state.NewBackend([]int{0, 1})
			v, _ := state.NewValue(b, "n", state.Int64)
			set := func(g int, key string, n int64) {
				t.Helper()
				if err := b.SetCurrentKey(g, []byte(key)); err != nil {
					t.Fatal(err)
				}
				if err := v.Set(n); err != nil {
					t.Fatal(err)
				}
			}
			stage := func(id checkpoint.ID) {
				t.Helper()
				if _, err := s.Stage("count", 1, b.Snapshot(id, state.Groups)); err != nil {
					t.Fatal(err)
				}
			}
			set(0, "a", 1)
			set(1, "b", 1)
			stage(1)
			if err := s.Commit(1, 0, []byte("one")); err != nil {
				t.Fatal(err)
			}
			set(0, "a", 2) // checkpoint 2 is aborted: 3 must carry group 0
			stage(2)
			set(1, "b", 2)
			stage(3)
			if err := s.Commit(3, 0, []byte("three")); err != nil {
				t.Fatal(err)
			}
			set(1, "b", 9) // staged for 4, then abandoned by a restore
			stage(4)
			if err := s.Abandon(); err != nil {
				t.Fatal(err)
			}
			last, ok := s.Last()
			if !ok || last.ID != 3 || string(last.Meta) != "three" {
				t.Fatalf("last = %+v, %v; want checkpoint 3 with meta three", last, ok)
			}
			groups, err := s.Load("count", 1, []int{0, 1})
			if err != nil {
				t.Fatal(err)
			}
			r := state.NewBackend([]int{0, 1})
			rv, _ := state.NewValue(r, "n", state.Int64)
			if err := r.Restore(groups); err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, k := range []struct {
				g   int
				key string
			}{{0, "a"}, {1, "b"}} {
				r.SetCurrentKey(k.g, []byte(k.key))
				n, _, _ := rv.Get()
				got[k.key] = n
			}
			if want := map[string]int64{"a": 2, "b": 2}; !reflect.DeepEqual(got, want) {
				t.Errorf("restored %v, want %v", got, want)
			}
			if err := s.Commit(2, 0, nil); err == nil {
				t.Errorf("commit of checkpoint 2 after 3 completed: no error")
			}
		})
	}
}

func TestOf(t *testing.T) {
	var tc topology.Context
	if _, err := state.Of(&tc); !errors.Is(err, state.ErrNoState) {
		t.Errorf("Of without state: %v, want ErrNoState", err)
	}
	b := state.NewBackend(nil)
	topoaccess.SetState(&tc, b)
	if got, err := state.Of(&tc); err != nil || got != b {
		t.Errorf("Of = %p, %v; want the backend set", got, err)
	}
}

func TestCheckpointRecord(t *testing.T) {
	in := map[topology.TaskID]state.TaskCheckpoint{
		1: {Position: []byte("offset 7")},
		4: {Committable: []byte("txn")},
		5: {}, // nothing to keep: left out
	}
	b, err := state.EncodeCheckpointRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := state.DecodeCheckpointRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	delete(in, 5)
	if !reflect.DeepEqual(got, in) {
		t.Errorf("round trip: %v, want %v", got, in)
	}
	for _, bad := range [][]byte{{0x0a, 0x05, 0x08}, {0xff}} {
		if _, err := state.DecodeCheckpointRecord(bad); !errors.Is(err, state.ErrCorrupt) {
			t.Errorf("decode of % x: %v, want ErrCorrupt", bad, err)
		}
	}
}

func FuzzDecodeCheckpointRecord(f *testing.F) {
	b, _ := state.EncodeCheckpointRecord(map[topology.TaskID]state.TaskCheckpoint{2: {Position: []byte{1}}})
	f.Add(b)
	f.Add([]byte{0x0a, 0x02, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := state.DecodeCheckpointRecord(b)
		if err != nil {
			return
		}
		again, err := state.EncodeCheckpointRecord(got)
		if err != nil {
			t.Fatal(err)
		}
		back, err := state.DecodeCheckpointRecord(again)
		if err != nil || len(back) > len(got) {
			t.Fatalf("re-decode: %v, %d tasks of %d", err, len(back), len(got))
		}
	})
}
