package routing

import (
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/squall-streams/squall/topology"
)

// Integers hash alike whatever their Go type, so a key keeps its task when a
// component switches from int to int64 (or a value crosses a node boundary).
func TestFieldsHashIntegerWidths(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 42, 1 << 31, -(1 << 31), 1<<32 - 1} {
		want := FieldsHash(topology.Values{n}, []int{0})
		same := []any{int(n)}
		if n == int64(int32(n)) {
			same = append(same, int32(n))
		}
		if n >= 0 && n == int64(uint32(n)) {
			same = append(same, uint32(n))
		}
		for _, v := range same {
			if got := FieldsHash(topology.Values{v}, []int{0}); got != want {
				t.Errorf("FieldsHash(%T %v) = %#x, want %#x as for int64", v, v, got, want)
			}
		}
	}
	// Same number, different kinds of value: these must not collide by design.
	distinct := []any{"1", []byte("1"), 1, 1.0, true, nil, []any{1}}
	seen := map[uint64]any{}
	for _, v := range distinct {
		h := FieldsHash(topology.Values{v}, []int{0})
		if prev, ok := seen[h]; ok {
			t.Errorf("FieldsHash(%#v) = FieldsHash(%#v)", v, prev)
		}
		seen[h] = v
	}
}

func TestFieldsHashSelectsFields(t *testing.T) {
	a := FieldsHash(topology.Values{"x", "user", 1}, []int{1, 2})
	b := FieldsHash(topology.Values{"y", "user", int64(1)}, []int{1, 2})
	if a != b {
		t.Errorf("values outside the grouping fields changed the hash")
	}
	if c := FieldsHash(topology.Values{"x", "user", 1}, []int{2, 1}); c == a {
		t.Errorf("field order does not change the hash")
	}
	// Field boundaries are part of the encoding: ("ab","c") != ("a","bc").
	if FieldsHash(topology.Values{"ab", "c"}, []int{0, 1}) == FieldsHash(topology.Values{"a", "bc"}, []int{0, 1}) {
		t.Errorf("(ab, c) and (a, bc) hash alike")
	}
	// An index past the values hashes as nil instead of panicking.
	if FieldsHash(topology.Values{"x"}, []int{3}) != FieldsHash(topology.Values{nil}, []int{0}) {
		t.Errorf("a missing value does not hash as nil")
	}
}

// TestFieldsHashGolden pins FieldsHash. Fields grouping sends a key to task
// index FieldsHash mod #tasks on every node of every version, so changing
// any of these values re-keys every running topology (state held per key by
// bolts ends up on the wrong task during a rolling upgrade). Do not update
// them to make the test pass: keep the encoding.
func TestFieldsHashGolden(t *testing.T) {
	tests := []struct {
		values topology.Values
		idx    []int
		want   uint64
	}{
		{topology.Values{"hello"}, []int{0}, 0x115b0f969f929fd9},
		{topology.Values{""}, []int{0}, 0x44a36e15443bb761},
		{topology.Values{int64(42)}, []int{0}, 0xbc5317a492186cb2},
		{topology.Values{-1}, []int{0}, 0x8e05917df36f6876},
		{topology.Values{3.5}, []int{0}, 0x663e6305f4da588e},
		{topology.Values{true}, []int{0}, 0x11a4520ba916ac59},
		{topology.Values{nil}, []int{0}, 0x17397ff2676b47e},
		{topology.Values{[]byte("hello")}, []int{0}, 0x7fc6c25f4d6c347},
		{topology.Values{[]any{"a", 1}}, []int{0}, 0x7c188d314cd5c37c},
		{topology.Values{"user-1", 7}, []int{0, 1}, 0x596ac5ffd4b00c10},
	}
	for _, tt := range tests {
		if got := FieldsHash(tt.values, tt.idx); got != tt.want {
			t.Errorf("FieldsHash(%#v, %v) = %#x, want %#x", tt.values, tt.idx, got, tt.want)
		}
	}
	// The documented encoding of a string: tag 's', length as 8 bytes little
	// endian, then the bytes, all hashed with xxhash64.
	enc := append([]byte{'s', 5, 0, 0, 0, 0, 0, 0, 0}, "hello"...)
	if got, want := FieldsHash(topology.Values{"hello"}, []int{0}), xxhash.Sum64(enc); got != want {
		t.Errorf("FieldsHash(hello) = %#x, xxhash64 of its encoding = %#x", got, want)
	}
}

func TestHasherMatchesFieldsHash(t *testing.T) {
	var h Hasher
	for _, v := range []topology.Values{{"a", 1}, {int64(7), "b"}, {nil, true}} {
		if got, want := h.Sum(v, []int{0, 1}), FieldsHash(v, []int{0, 1}); got != want {
			t.Errorf("Hasher.Sum(%v) = %#x, FieldsHash = %#x", v, got, want)
		}
	}
}

// TestMix64Golden pins Mix64: the tracker shard of every tree root and the
// second candidate of every partial-key key depend on it.
func TestMix64Golden(t *testing.T) {
	for in, want := range map[uint64]uint64{
		0: 0, 1: 0x2c3a20160bcaad24, 42: 0xd44fa8e4ec454eb3,
		0x9e3779b97f4a7c15: 0x5072f63b9b5fc441, 0xffffffffffffffff: 0xabf9e5977af769a0,
	} {
		if got := Mix64(in); got != want {
			t.Errorf("Mix64(%#x) = %#x, want %#x", in, got, want)
		}
	}
}
