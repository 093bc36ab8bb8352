package state_test

import (
	"fmt"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/state"
)

// BenchmarkSnapshot1MKeys is the "checkpoint of 1 M keys" over 128
// key groups, every key changed since the last checkpoint (the worst case:
// every group is dirty and copied whole). Figures go in BENCHMARKS.md,
// never asserted.
func BenchmarkSnapshot1MKeys(b *testing.B) {
	b.Run("changes", func(b *testing.B) { benchSnapshot(b, state.Changes) })
	b.Run("groups", func(b *testing.B) { benchSnapshot(b, state.Groups) })
}

func benchSnapshot(b *testing.B, contents state.Contents) {
	const benchKeys = 1_000_000
	groups := make([]int, 128)
	for i := range groups {
		groups[i] = i
	}
	be := state.NewBackend(groups)
	count := mustV(state.NewValue(be, "count", state.Int64))
	keys := make([][]byte, benchKeys)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key-%07d", i))
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j, k := range keys {
			if err := be.SetCurrentKey(j%128, k); err != nil {
				b.Fatal(err)
			}
			if err := count.Set(int64(i)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		s := be.Snapshot(checkpoint.ID(i+1), contents)
		if n := len(s.Changes) + len(s.Groups); n == 0 {
			b.Fatal("empty snapshot")
		}
	}
}

// BenchmarkValueUpdate is the per-tuple cost of a keyed count.
func BenchmarkValueUpdate(b *testing.B) {
	be := state.NewBackend([]int{0})
	count := mustV(state.NewValue(be, "count", state.Int64))
	key := []byte("storm")
	for b.Loop() {
		if err := be.SetCurrentKey(0, key); err != nil {
			b.Fatal(err)
		}
		n, _, _ := count.Get()
		if err := count.Set(n + 1); err != nil {
			b.Fatal(err)
		}
	}
}
