package multilang

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// pystorm's msgpack framing has no delimiter: each message is one msgpack
// object (msgpack.packb of a dict; Storm's task-id lists would be arrays),
// and the reader (msgpack.Unpacker) finds the boundaries from the objects'
// own headers. The Decoder does the same in two steps: readMsgpackFrame
// walks the headers, reading exactly one object's bytes and checking the
// size and depth limits before it reads or allocates anything a header
// claims; then mpParser turns those bytes into Go values.

type mpKind uint8

const (
	mpInvalid mpKind = iota
	mpNil
	mpFalse
	mpTrue
	mpPosFix
	mpNegFix
	mpUint
	mpInt
	mpFloat32
	mpFloat64
	mpStr
	mpBin
	mpExt
	mpArray
	mpMap
)

// mpInfo describes what follows a msgpack code byte.
type mpInfo struct {
	kind     mpKind
	lenBytes int // width of the big-endian length after the code (str/bin/ext/array/map 8/16/32)
	fixed    int // payload bytes when lenBytes is 0: a number's width, a fixstr's length, a fixext's 1+size
	count    int // items of a fixarray, pairs of a fixmap
}

func mpCode(c byte) mpInfo {
	switch {
	case c <= 0x7f:
		return mpInfo{kind: mpPosFix}
	case c <= 0x8f:
		return mpInfo{kind: mpMap, count: int(c & 0x0f)}
	case c <= 0x9f:
		return mpInfo{kind: mpArray, count: int(c & 0x0f)}
	case c <= 0xbf:
		return mpInfo{kind: mpStr, fixed: int(c & 0x1f)}
	case c >= 0xe0:
		return mpInfo{kind: mpNegFix}
	}
	switch c {
	case 0xc0:
		return mpInfo{kind: mpNil}
	case 0xc2:
		return mpInfo{kind: mpFalse}
	case 0xc3:
		return mpInfo{kind: mpTrue}
	case 0xc4, 0xc5, 0xc6:
		return mpInfo{kind: mpBin, lenBytes: 1 << (c - 0xc4)}
	case 0xc7, 0xc8, 0xc9:
		return mpInfo{kind: mpExt, lenBytes: 1 << (c - 0xc7)}
	case 0xca:
		return mpInfo{kind: mpFloat32, fixed: 4}
	case 0xcb:
		return mpInfo{kind: mpFloat64, fixed: 8}
	case 0xcc, 0xcd, 0xce, 0xcf:
		return mpInfo{kind: mpUint, fixed: 1 << (c - 0xcc)}
	case 0xd0, 0xd1, 0xd2, 0xd3:
		return mpInfo{kind: mpInt, fixed: 1 << (c - 0xd0)}
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return mpInfo{kind: mpExt, fixed: 1 + 1<<(c-0xd4)}
	case 0xd9, 0xda, 0xdb:
		return mpInfo{kind: mpStr, lenBytes: 1 << (c - 0xd9)}
	case 0xdc, 0xdd:
		return mpInfo{kind: mpArray, lenBytes: 2 << (c - 0xdc)}
	case 0xde, 0xdf:
		return mpInfo{kind: mpMap, lenBytes: 2 << (c - 0xde)}
	}
	return mpInfo{kind: mpInvalid} // 0xc1, never used
}

func bigEndian(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	case 4:
		return uint64(binary.BigEndian.Uint32(b))
	default:
		return binary.BigEndian.Uint64(b)
	}
}

// take appends the next n bytes of the stream to d.buf, in bounded chunks,
// after checking them against the size limit.
func (d *Decoder) take(n uint64) error {
	if uint64(len(d.buf))+n > uint64(d.cfg.maxMessageSize) {
		return d.tooLarge()
	}
	for n > 0 {
		chunk := int(min(n, 64<<10))
		start := len(d.buf)
		d.buf = slices.Grow(d.buf, chunk)[:start+chunk]
		if _, err := io.ReadFull(d.r, d.buf[start:]); err != nil {
			return brokenPipe(err, true)
		}
		n -= uint64(chunk)
	}
	return nil
}

// readMsgpackFrame reads the bytes of exactly one msgpack object into d.buf.
func (d *Decoder) readMsgpackFrame() ([]byte, error) {
	d.buf = d.buf[:0]
	stack := append(d.stack[:0], 1) // items left in each open container; the bottom holds the one object
	defer func() { d.stack = stack[:0] }()
	for len(stack) > 0 {
		top := len(stack) - 1
		if stack[top] == 0 {
			stack = stack[:top]
			continue
		}
		stack[top]--
		c, err := d.r.ReadByte()
		if err != nil {
			return nil, brokenPipe(err, len(d.buf) > 0)
		}
		if len(d.buf)+1 > d.cfg.maxMessageSize {
			return nil, d.tooLarge()
		}
		d.buf = append(d.buf, c)
		info := mpCode(c)
		if info.kind == mpInvalid {
			return nil, fmt.Errorf("%w: msgpack byte 0x%02x at offset %d is never used", ErrMalformed, c, len(d.buf)-1)
		}
		var n uint64
		if info.lenBytes > 0 {
			if err := d.take(uint64(info.lenBytes)); err != nil {
				return nil, err
			}
			n = bigEndian(d.buf[len(d.buf)-info.lenBytes:])
		}
		var payload uint64
		switch info.kind {
		case mpArray, mpMap:
			items := uint64(info.count)
			if info.lenBytes > 0 {
				items = n
			}
			if info.kind == mpMap {
				items *= 2
			}
			// The stack holds the bottom plus every container around this
			// one, so this container is at depth len(stack)-1.
			if len(stack) > maxDepth {
				return nil, fmt.Errorf("%w: msgpack nested deeper than %d", ErrMalformed, maxDepth)
			}
			if items > 0 {
				stack = append(stack, items)
			}
			continue
		case mpStr, mpBin:
			payload = uint64(info.fixed)
			if info.lenBytes > 0 {
				payload = n
			}
		case mpExt:
			payload = uint64(info.fixed)
			if info.lenBytes > 0 {
				payload = n + 1 // the type byte, then n bytes of data
			}
		default:
			payload = uint64(info.fixed)
		}
		if err := d.take(payload); err != nil {
			return nil, err
		}
	}
	return d.buf, nil
}

func (d *Decoder) decodeMsgpack() (any, error) {
	b, err := d.readMsgpackFrame()
	if err != nil {
		return nil, err
	}
	p := mpParser{b: b}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.i != len(b) {
		return nil, fmt.Errorf("%w: %d bytes after the msgpack object", ErrMalformed, len(b)-p.i)
	}
	return v, nil
}

// mpParser decodes one framed msgpack object into the Go value mapping
// documented in values.go.
type mpParser struct {
	b []byte
	i int
}

func (p *mpParser) truncated() error {
	return fmt.Errorf("%w: msgpack object truncated at offset %d", ErrMalformed, p.i)
}

func (p *mpParser) next(n uint64) ([]byte, error) {
	if n > uint64(len(p.b)-p.i) {
		return nil, p.truncated()
	}
	b := p.b[p.i : p.i+int(n)]
	p.i += int(n)
	return b, nil
}

func (p *mpParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: msgpack nested deeper than %d", ErrMalformed, maxDepth)
	}
	if p.i >= len(p.b) {
		return nil, p.truncated()
	}
	c := p.b[p.i]
	p.i++
	info := mpCode(c)
	var n uint64
	if info.lenBytes > 0 {
		b, err := p.next(uint64(info.lenBytes))
		if err != nil {
			return nil, err
		}
		n = bigEndian(b)
	} else {
		n = uint64(info.fixed)
	}
	switch info.kind {
	case mpNil:
		return nil, nil
	case mpFalse:
		return false, nil
	case mpTrue:
		return true, nil
	case mpPosFix:
		return int64(c), nil
	case mpNegFix:
		return int64(int8(c)), nil
	case mpUint:
		b, err := p.next(n)
		if err != nil {
			return nil, err
		}
		u := bigEndian(b)
		if u > math.MaxInt64 {
			return float64(u), nil
		}
		return int64(u), nil
	case mpInt:
		b, err := p.next(n)
		if err != nil {
			return nil, err
		}
		u := bigEndian(b)
		switch n {
		case 1:
			return int64(int8(u)), nil
		case 2:
			return int64(int16(u)), nil
		case 4:
			return int64(int32(u)), nil
		default:
			return int64(u), nil
		}
	case mpFloat32:
		b, err := p.next(4)
		if err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case mpFloat64:
		b, err := p.next(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case mpStr:
		b, err := p.next(n)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case mpBin:
		b, err := p.next(n)
		if err != nil {
			return nil, err
		}
		return append([]byte{}, b...), nil
	case mpExt:
		if info.lenBytes > 0 {
			n++ // the type byte
		}
		b, err := p.next(n)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: msgpack extension type %d is not a multilang value", ErrWrongType, int8(b[0]))
	case mpArray:
		if depth >= maxDepth {
			return nil, fmt.Errorf("%w: msgpack nested deeper than %d", ErrMalformed, maxDepth)
		}
		if info.lenBytes == 0 {
			n = uint64(info.count)
		}
		l := make([]any, 0, min(n, uint64(len(p.b)-p.i)))
		for i := uint64(0); i < n; i++ {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case mpMap:
		if depth >= maxDepth {
			return nil, fmt.Errorf("%w: msgpack nested deeper than %d", ErrMalformed, maxDepth)
		}
		if info.lenBytes == 0 {
			n = uint64(info.count)
		}
		m := make(map[string]any, min(n, uint64(len(p.b)-p.i)/2))
		for i := uint64(0); i < n; i++ {
			k, err := p.key(depth + 1)
			if err != nil {
				return nil, err
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	default:
		return nil, fmt.Errorf("%w: msgpack byte 0x%02x at offset %d is never used", ErrMalformed, c, p.i-1)
	}
}

// key decodes a map key and turns a scalar that is not a string into the
// string JSON would have made of it.
func (p *mpParser) key(depth int) (string, error) {
	v, err := p.value(depth)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		switch {
		case math.IsNaN(v):
			return "NaN", nil
		case math.IsInf(v, 1):
			return "Infinity", nil
		case math.IsInf(v, -1):
			return "-Infinity", nil
		}
		return string(appendJSONFloat(nil, v, 64)), nil
	case bool:
		return strconv.FormatBool(v), nil
	case nil:
		return "null", nil
	default:
		return "", fmt.Errorf("%w: a msgpack map key is a %s, want a string", ErrWrongType, kindOf(v))
	}
}
