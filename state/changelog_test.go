package state_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/squall-streams/squall/state"
)

func TestChangelogRoundTrip(t *testing.T) {
	tests := []state.Record{
		{KeyGroup: 7, State: "count", Key: []byte("word"), Value: []byte{0, 0, 0, 0, 0, 0, 0, 3}},
		{KeyGroup: 0, State: "perUser", Key: []byte("eu"), SubKey: []byte("alice"), Value: []byte("x")},
		{KeyGroup: 2, State: "__timer:w", Key: []byte("k"), SubKey: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Value: []byte{}},
		{KeyGroup: state.TaskScope, State: "offsets", SubKey: []byte("p0"), Value: []byte{1}},
		{KeyGroup: 7, State: "count", Key: []byte("word"), Tombstone: true},
	}
	for _, r := range tests {
		key, value, err := state.EncodeChangelog(r)
		if err != nil {
			t.Fatal(err)
		}
		if r.Tombstone != (value == nil) {
			t.Fatalf("%+v: value nil = %v; only a tombstone may have a nil (Kafka null) value", r, value == nil)
		}
		got, err := state.DecodeChangelog(key, value)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if got.KeyGroup != r.KeyGroup || got.State != r.State || !bytes.Equal(got.Key, r.Key) || !bytes.Equal(got.SubKey, r.SubKey) || !bytes.Equal(got.Value, r.Value) || got.Tombstone != r.Tombstone {
			t.Fatalf("round trip of %+v = %+v", r, got)
		}
	}
	// A value and its tombstone compact together: same key.
	k1, _, _ := state.EncodeChangelog(tests[0])
	k2, _, _ := state.EncodeChangelog(tests[4])
	if !bytes.Equal(k1, k2) {
		t.Fatalf("keys of a value and its tombstone differ: %x vs %x", k1, k2)
	}
}

// TestChangelogKeyGolden pins the key bytes: compaction across versions
// depends on them never changing.
func TestChangelogKeyGolden(t *testing.T) {
	key, _, err := state.EncodeChangelog(state.Record{KeyGroup: 5, State: "count", Key: []byte("w"), SubKey: []byte{0x01}})
	if err != nil {
		t.Fatal(err)
	}
	const want = "\x08\x05\x12\x05count\x1a\x01w\x22\x01\x01"
	if string(key) != want {
		t.Fatalf("key = %q, want %q", key, want)
	}
}

func TestDecodeChangelogRejects(t *testing.T) {
	for _, key := range [][]byte{{0xff, 0xff}, {}, {0x08, 0x05}} {
		if _, err := state.DecodeChangelog(key, []byte("v")); !errors.Is(err, state.ErrCorrupt) {
			t.Errorf("key %x: err = %v, want ErrCorrupt", key, err)
		}
	}
}

func FuzzDecodeChangelog(f *testing.F) {
	key, value, _ := state.EncodeChangelog(state.Record{KeyGroup: 5, State: "count", Key: []byte("w"), Value: []byte{1}})
	f.Add(key, value)
	f.Add([]byte{0x12, 0x01, 'x'}, []byte(nil))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		r, err := state.DecodeChangelog(key, value)
		if err != nil {
			if !errors.Is(err, state.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		k2, v2, err := state.EncodeChangelog(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := state.DecodeChangelog(k2, v2)
		if err != nil || r2.State != r.State || r2.KeyGroup != r.KeyGroup || !bytes.Equal(r2.Key, r.Key) || !bytes.Equal(r2.SubKey, r.SubKey) || !bytes.Equal(r2.Value, r.Value) || r2.Tombstone != r.Tombstone {
			t.Fatalf("re-encoding %+v gives %+v, %v", r, r2, err)
		}
	})
}
