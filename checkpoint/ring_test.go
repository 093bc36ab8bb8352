package checkpoint_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
)

func TestRingTwoSlots(t *testing.T) {
	r, err := checkpoint.NewRing(checkpoint.RingSize(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.PreCommit(1); ok {
		t.Fatal("an empty transaction produced a committable")
	}
	r.Wrote()
	p, ok, err := r.PreCommit(2)
	if !ok || err != nil || p != (checkpoint.Prepared{Slot: 0, ID: 2}) || r.Open() != 1 {
		t.Fatalf("PreCommit(2) = %+v, %v, %v; open %d", p, ok, err, r.Open())
	}
	r.Wrote()
	if _, _, err := r.PreCommit(3); !errors.Is(err, checkpoint.ErrNoFreeSlot) {
		t.Fatalf("PreCommit(3) with slot 0 pending: err = %v, want ErrNoFreeSlot", err)
	}
	if r.Open() != 1 {
		t.Fatalf("a declined pre-commit moved the writes to slot %d", r.Open())
	}
	if got := r.Complete(2); !slices.Equal(got, []checkpoint.Prepared{{Slot: 0, ID: 2}}) {
		t.Fatalf("Complete(2) = %v", got)
	}
	if p, ok, err := r.PreCommit(4); !ok || err != nil || p.Slot != 1 || r.Open() != 0 {
		t.Fatalf("PreCommit(4) = %+v, %v, %v; open %d", p, ok, err, r.Open())
	}
	r.Reset()
	if r.Open() != 0 || len(r.Pending()) != 0 {
		t.Fatalf("after Reset: open %d, pending %v", r.Open(), r.Pending())
	}
	if _, err := checkpoint.NewRing(1); err == nil {
		t.Fatal("a ring of one slot was made")
	}
}

// TestRingProperties drives rings of RingSize(tolerable) through random
// checkpoint histories in which at most tolerable checkpoints fail in a row
// and checks that a slot is never reused while pending, that commits come
// oldest first and cover exactly the transactions at or before the
// completed checkpoint, and that a free slot is always there.
func TestRingProperties(t *testing.T) {
	for seed := range uint64(300) {
		rnd := rand.New(rand.NewPCG(seed, 3))
		tolerable := rnd.IntN(4)
		r, _ := checkpoint.NewRing(checkpoint.RingSize(tolerable))
		pending := map[int]checkpoint.ID{}
		failures := 0
		for id := checkpoint.ID(1); id < 200; id++ {
			if rnd.IntN(3) > 0 {
				r.Wrote()
			}
			open := r.Open()
			if _, busy := pending[open]; busy {
				t.Fatalf("seed %d: writes go to slot %d, pending for %d", seed, open, pending[open])
			}
			p, ok, err := r.PreCommit(id)
			if err != nil {
				t.Fatalf("seed %d: tolerable %d, %d failures in a row: %v", seed, tolerable, failures, err)
			}
			if ok {
				pending[p.Slot] = p.ID
			}
			if failures < tolerable && rnd.IntN(2) == 0 {
				failures++ // aborted: its transaction stays pending
				continue
			}
			failures = 0
			got := r.Complete(id)
			var want []checkpoint.Prepared
			for s, pid := range pending {
				want = append(want, checkpoint.Prepared{Slot: s, ID: pid})
			}
			slices.SortFunc(want, func(a, b checkpoint.Prepared) int { return int(a.ID) - int(b.ID) })
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d: Complete(%d) = %v, want %v (oldest first)", seed, id, got, want)
			}
			clear(pending)
		}
	}
}
