package routing

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/cespare/xxhash/v2"

	"github.com/squall-streams/squall/topology"
)

// FieldsHash is the hash fields and partial-key groupings use: xxhash64
// over a canonical, typed encoding of the values at idx. It is the same on
// every platform, process and run: it decides which task gets a key, on
// every node and across a live rebalance, so it must never change.
func FieldsHash(values topology.Values, idx []int) uint64 {
	var h Hasher
	return h.Sum(values, idx)
}

// Hasher computes FieldsHash without allocating, reusing its digest. The
// zero value is ready; it is not safe for concurrent use.
type Hasher struct{ d xxhash.Digest }

// Sum is FieldsHash(values, idx).
func (h *Hasher) Sum(values topology.Values, idx []int) uint64 {
	d := &h.d
	d.Reset()
	var buf [9]byte
	for _, i := range idx {
		var v any
		if i < len(values) {
			v = values[i]
		}
		writeCanonical(d, &buf, v)
	}
	return d.Sum64()
}

// writeCanonical writes a type tag and the value's bytes. Integers of every
// Go width hash alike (as int64), so a key keeps its task whatever integer
// type a component happens to use.
func writeCanonical(d *xxhash.Digest, buf *[9]byte, v any) {
	switch x := v.(type) {
	case string:
		buf[0] = 's'
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(x)))
		d.Write(buf[:])
		d.WriteString(x)
	case []byte:
		buf[0] = 'b'
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(x)))
		d.Write(buf[:])
		d.Write(x)
	case int:
		putTagged(d, buf, 'i', uint64(x))
	case int64:
		putTagged(d, buf, 'i', uint64(x))
	case int32:
		putTagged(d, buf, 'i', uint64(int64(x)))
	case uint32:
		putTagged(d, buf, 'i', uint64(x))
	case float64:
		putTagged(d, buf, 'f', math.Float64bits(x))
	case float32:
		putTagged(d, buf, 'f', math.Float64bits(float64(x)))
	case bool:
		b := uint64(0)
		if x {
			b = 1
		}
		putTagged(d, buf, 't', b)
	case nil:
		buf[0] = 'n'
		d.Write(buf[:1])
	case []any:
		putTagged(d, buf, 'l', uint64(len(x)))
		for _, e := range x {
			writeCanonical(d, buf, e)
		}
	default:
		// Other types cannot cross nodes anyway; hash their printed form so
		// routing is still deterministic (this path allocates).
		s := fmt.Sprintf("%T:%v", x, x)
		buf[0] = 'o'
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(s)))
		d.Write(buf[:])
		d.WriteString(s)
	}
}

func putTagged(d *xxhash.Digest, buf *[9]byte, tag byte, v uint64) {
	buf[0] = tag
	binary.LittleEndian.PutUint64(buf[1:], v)
	d.Write(buf[:])
}

// Mix64 is the splitmix64 finalizer: a second hash, independent of the
// first. Partial-key grouping takes a key's second candidate from it, and
// tasks pick the tracker shard of a tree root with it.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return bits.RotateLeft64(x, 17)
}

// AppendCanonical appends the canonical encoding FieldsHash hashes — a
// type tag and the bytes of each value at idx — to dst: the key of a
// keyed-state entry, the same in every process. xxhash64 of the result is
// FieldsHash(values, idx).
func AppendCanonical(dst []byte, values topology.Values, idx []int) []byte {
	for _, i := range idx {
		var v any
		if i < len(values) {
			v = values[i]
		}
		dst = appendCanonical(dst, v)
	}
	return dst
}

// appendCanonical is writeCanonical into a byte slice (kept apart so the
// routing hash stays on a concrete digest, without an interface call per
// value); TestAppendCanonicalIsWhatFieldsHashHashes holds them together.
func appendCanonical(dst []byte, v any) []byte {
	tagged := func(tag byte, x uint64) []byte { return binary.LittleEndian.AppendUint64(append(dst, tag), x) }
	switch x := v.(type) {
	case string:
		return append(binary.LittleEndian.AppendUint64(append(dst, 's'), uint64(len(x))), x...)
	case []byte:
		return append(binary.LittleEndian.AppendUint64(append(dst, 'b'), uint64(len(x))), x...)
	case int:
		return tagged('i', uint64(x))
	case int64:
		return tagged('i', uint64(x))
	case int32:
		return tagged('i', uint64(int64(x)))
	case uint32:
		return tagged('i', uint64(x))
	case float64:
		return tagged('f', math.Float64bits(x))
	case float32:
		return tagged('f', math.Float64bits(float64(x)))
	case bool:
		b := uint64(0)
		if x {
			b = 1
		}
		return tagged('t', b)
	case nil:
		return append(dst, 'n')
	case []any:
		dst = tagged('l', uint64(len(x)))
		for _, e := range x {
			dst = appendCanonical(dst, e)
		}
		return dst
	default:
		s := fmt.Sprintf("%T:%v", x, x)
		return append(binary.LittleEndian.AppendUint64(append(dst, 'o'), uint64(len(s))), s...)
	}
}
