package state

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/state/internal/statepb"
)

// ErrCorrupt marks bytes that are not what squall wrote: a corrupted
// changelog record or state file. The topology must stop rather than run on
// wrong state; the error says which record or file.
var ErrCorrupt = errors.New("state: corrupt")

// EncodeChangelog returns the Kafka record key and value of r for a
// stateful component's compacted changelog topic. The key is the entry's
// identity (a protobuf EntryKey, marshalled deterministically), so
// compaction keeps the latest value of each entry; the value is the entry's
// encoded value, never nil for a value (an empty value is an empty slice),
// and nil, Kafka's delete marker, for a tombstone.
func EncodeChangelog(r Record) (key, value []byte, err error) {
	key, err = proto.MarshalOptions{Deterministic: true}.Marshal(&statepb.EntryKey{
		KeyGroup: r.KeyGroup, State: r.State, Key: r.Key, SubKey: r.SubKey,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("state: changelog key of %q in key group %d: %w", r.State, r.KeyGroup, err)
	}
	if r.Tombstone {
		return key, nil, nil
	}
	if r.Value == nil {
		return key, []byte{}, nil
	}
	return key, r.Value, nil
}

// DecodeChangelog reads back what EncodeChangelog wrote; a nil value is a
// tombstone. The record does not keep key or value.
func DecodeChangelog(key, value []byte) (Record, error) {
	var k statepb.EntryKey
	if err := proto.Unmarshal(key, &k); err != nil {
		return Record{}, fmt.Errorf("%w changelog record key %x: %w", ErrCorrupt, truncate(key), err)
	}
	if k.GetState() == "" {
		return Record{}, fmt.Errorf("%w changelog record key %x: no state name", ErrCorrupt, truncate(key))
	}
	r := Record{KeyGroup: k.GetKeyGroup(), State: k.GetState(), Key: k.GetKey(), SubKey: k.GetSubKey(), Tombstone: value == nil}
	if value != nil {
		r.Value = append([]byte{}, value...)
	}
	return r, nil
}

func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}
