package routing_test

import (
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/topology"
)

type other struct{ a int }

func TestAppendCanonicalIsWhatFieldsHashHashes(t *testing.T) {
	values := topology.Values{"storm", []byte{1, 2}, 7, int64(-3), int32(-4), uint32(5), 2.5, float32(1.5), true, false, nil,
		[]any{"a", 1, []any{nil, 2.0}}, other{3}, ""}
	for i := range values {
		for _, idx := range [][]int{{i}, {i, (i + 3) % len(values)}, {i, 99}} {
			b := routing.AppendCanonical(nil, values, idx)
			if got, want := xxhash.Sum64(b), routing.FieldsHash(values, idx); got != want {
				t.Errorf("values at %v (%#v): hash of the canonical bytes %x, FieldsHash %x", idx, values[i], got, want)
			}
		}
	}
	if a, b := routing.AppendCanonical(nil, topology.Values{int32(7)}, []int{0}), routing.AppendCanonical(nil, topology.Values{7}, []int{0}); string(a) != string(b) {
		t.Errorf("int32 7 and int 7 encode apart: % x, % x", a, b)
	}
}

func FuzzAppendCanonical(f *testing.F) {
	f.Add("word", int64(3), 1.5, true)
	f.Fuzz(func(t *testing.T, s string, n int64, x float64, b bool) {
		values := topology.Values{s, n, x, b, []any{s, n}}
		idx := []int{0, 1, 2, 3, 4}
		if got, want := xxhash.Sum64(routing.AppendCanonical(nil, values, idx)), routing.FieldsHash(values, idx); got != want {
			t.Fatalf("%v: %x != %x", values, got, want)
		}
	})
}
