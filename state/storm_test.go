package state_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/state"
)

// wordCount is a bolt ported from Storm: IStatefulBolt<KeyValueState<String, Long>>.
type wordCount struct {
	counts *state.KeyValueState[string, int64]
	calls  []string
}

func (w *wordCount) InitState(s *state.KeyValueState[string, int64]) {
	w.counts = s
	w.calls = append(w.calls, "initState")
}
func (w *wordCount) PrePrepare(id checkpoint.ID) {
	w.calls = append(w.calls, fmt.Sprint("prePrepare ", id))
}
func (w *wordCount) PreCommit(id checkpoint.ID) {
	w.calls = append(w.calls, fmt.Sprint("preCommit ", id))
}
func (w *wordCount) PreRollback() { w.calls = append(w.calls, "preRollback") }

func (w *wordCount) execute(t *testing.T, word string) {
	n, err := w.counts.GetOr(word, 0)
	must(t, err)
	must(t, w.counts.Put(word, n+1))
}

var (
	_ state.StatefulBolt[*state.KeyValueState[string, int64]] = (*wordCount)(nil)
	_ state.CheckpointHooks                                   = (*wordCount)(nil)
)

func TestStatefulDrivesStormHooks(t *testing.T) {
	b := state.NewBackend(nil)
	kv := mustV(state.NewKeyValueState(b, "counts", state.String, state.Int64))
	bolt := &wordCount{}
	s := state.NewStateful[*state.KeyValueState[string, int64]](bolt, b, kv)
	s.Init()
	bolt.execute(t, "storm")
	bolt.execute(t, "storm")
	snap := s.Prepare(1, state.Groups)
	s.Commit(1)
	bolt.execute(t, "storm")
	bolt.execute(t, "flink")
	must(t, s.Rollback(snap.Groups))

	want := []string{"initState", "prePrepare 1", "preCommit 1", "preRollback", "initState"}
	if !slices.Equal(bolt.calls, want) {
		t.Fatalf("calls = %v, want %v", bolt.calls, want)
	}
	var got []string
	must(t, kv.Range(func(k string, v int64) bool { got = append(got, fmt.Sprintf("%s=%d", k, v)); return true }))
	if !slices.Equal(got, []string{"storm=2"}) {
		t.Fatalf("state after rollback = %v, want [storm=2]", got)
	}
	must(t, kv.Delete("storm"))
	if _, ok, _ := kv.Get("storm"); ok {
		t.Fatal("storm still there after Delete")
	}
}

// plainBolt has no hooks: Stateful must work without them.
type plainBolt struct{ inits int }

func (p *plainBolt) InitState(*state.Backend) { p.inits++ }

func TestStatefulWithoutHooks(t *testing.T) {
	b := state.NewBackend([]int{0})
	p := &plainBolt{}
	s := state.NewStateful[*state.Backend](p, b, b)
	s.Init()
	s.Prepare(1, state.Groups)
	s.Commit(1)
	must(t, s.Rollback(nil))
	if p.inits != 2 {
		t.Fatalf("InitState called %d times, want 2", p.inits)
	}
	if got := b.KeyGroups(); len(got) != 0 {
		t.Fatalf("rollback to nothing serves %v", got)
	}
}
