package state

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// Codec turns values of T into bytes and back. Encodings must be
// deterministic (equal values, equal bytes) and stable across versions,
// since they are stored in changelogs and state directories and, for Map
// keys, compared as bytes. Codecs are stateless and safe for concurrent use.
type Codec[T any] interface {
	// Append appends the encoding of v to dst.
	Append(dst []byte, v T) ([]byte, error)
	// Decode decodes what Append wrote; it must not keep b.
	Decode(b []byte) (T, error)
}

// The codecs of the basic types. Integers and floats are fixed-width big
// endian (encoding/binary), so that Map keys of unsigned integers sort in
// order.
var (
	Int64   Codec[int64]   = int64Codec{}
	Uint64  Codec[uint64]  = uint64Codec{}
	Float64 Codec[float64] = float64Codec{}
	String  Codec[string]  = stringCodec{}
	Bytes   Codec[[]byte]  = bytesCodec{}
	Bool    Codec[bool]    = boolCodec{}
)

type int64Codec struct{}

func (int64Codec) Append(dst []byte, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
}
func (int64Codec) Decode(b []byte) (int64, error) {
	u, err := uint64Codec{}.Decode(b)
	return int64(u), err
}

type uint64Codec struct{}

func (uint64Codec) Append(dst []byte, v uint64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, v), nil
}
func (uint64Codec) Decode(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("state: 64-bit integer: want 8 bytes, got %d", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

type float64Codec struct{}

func (float64Codec) Append(dst []byte, v float64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(v)), nil
}
func (float64Codec) Decode(b []byte) (float64, error) {
	u, err := uint64Codec{}.Decode(b)
	return math.Float64frombits(u), err
}

type stringCodec struct{}

func (stringCodec) Append(dst []byte, v string) ([]byte, error) { return append(dst, v...), nil }
func (stringCodec) Decode(b []byte) (string, error)             { return string(b), nil }

type bytesCodec struct{}

func (bytesCodec) Append(dst []byte, v []byte) ([]byte, error) { return append(dst, v...), nil }
func (bytesCodec) Decode(b []byte) ([]byte, error)             { return append([]byte(nil), b...), nil }

type boolCodec struct{}

func (boolCodec) Append(dst []byte, v bool) ([]byte, error) {
	if v {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}
func (boolCodec) Decode(b []byte) (bool, error) {
	if len(b) != 1 || b[0] > 1 {
		return false, fmt.Errorf("state: bool: want one byte 0 or 1, got %x", b)
	}
	return b[0] == 1, nil
}

// JSON is the codec of any T encoding/json can round-trip, for structs.
// Go's encoding/json writes struct fields in declaration order and map keys
// sorted, so equal values encode equally.
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

func (jsonCodec[T]) Append(dst []byte, v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("state: JSON codec of %T: %w", v, err)
	}
	return append(dst, b...), nil
}

func (jsonCodec[T]) Decode(b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("state: JSON codec of %T: %w", v, err)
	}
	return v, nil
}
