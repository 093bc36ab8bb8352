package multilang

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// Encoder writes messages to one end of a multilang pipe: squall's writer
// to a subprocess's stdin, or a fake subprocess's writer in tests.
//
// An Encoder is not safe for concurrent use. Each Encode builds the whole
// frame first and hands it to the writer in a single Write, so a failed
// encode writes nothing and frames never interleave; buffering and flushing
// are the writer's business.
type Encoder struct {
	w   io.Writer
	s   Serializer
	buf []byte
}

// NewEncoder returns an Encoder that writes s-framed messages to w.
func NewEncoder(w io.Writer, s Serializer) (*Encoder, error) {
	if w == nil {
		return nil, fmt.Errorf("multilang: NewEncoder: nil writer")
	}
	if !s.valid() {
		return nil, fmt.Errorf("multilang: NewEncoder: %w %v", ErrUnknownSerializer, s)
	}
	return &Encoder{w: w, s: s}, nil
}

// Encode writes one message. A write error wraps ErrBrokenPipe and the
// writer's error.
func (e *Encoder) Encode(m Message) error {
	b, err := AppendFrame(e.buf[:0], e.s, m)
	if err != nil {
		return err
	}
	_, err = e.w.Write(b)
	if cap(b) <= maxRetainedBuffer {
		e.buf = b[:0]
	} else {
		e.buf = nil
	}
	if err != nil {
		return fmt.Errorf("multilang: writing %s: %w: %w", describe(m), ErrBrokenPipe, err)
	}
	return nil
}

// maxRetainedBuffer is the largest buffer an Encoder or Decoder keeps for
// the next message; a larger one is dropped after use.
const maxRetainedBuffer = 1 << 20

// AppendFrame appends the s-framed bytes of m to dst: for JSON the document
// followed by "\nend\n", for Msgpack one msgpack object. JSON is written
// without spaces, fields in the order the spec shows them and map keys
// sorted, so the output is deterministic. On error dst is returned as it was.
func AppendFrame(dst []byte, s Serializer, m Message) ([]byte, error) {
	if m == nil {
		return dst, fmt.Errorf("multilang: encoding a nil Message: %w", ErrUnsupportedValue)
	}
	start := len(dst)
	var err error
	switch s {
	case JSON:
		w := jsonWriter{b: dst}
		err = w.value(m.wire())
		dst = append(w.b, "\nend\n"...)
	case Msgpack:
		w := newMsgpackWriter(dst)
		err = w.value(m.wire())
		dst = w.done()
	default:
		return dst, fmt.Errorf("multilang: %w %v", ErrUnknownSerializer, s)
	}
	if err != nil {
		return dst[:start], fmt.Errorf("multilang: encoding %s: %w", describe(m), err)
	}
	return dst, nil
}

// describe names a message in errors.
func describe(m Message) string {
	if c := m.Command(); c != "" {
		return strconv.Quote(c)
	}
	switch m.(type) {
	case Handshake:
		return "handshake"
	case PIDReply:
		return "pid reply"
	case Tuple:
		return "tuple"
	case TaskIDs:
		return "task ids"
	default:
		return fmt.Sprintf("%T", m)
	}
}

// jsonWriter appends JSON. It handles the wire shapes and the common value
// types itself and hands anything else to encoding/json.
type jsonWriter struct {
	b     []byte
	depth int
}

func (w *jsonWriter) enter() error {
	w.depth++
	if w.depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d (a cycle?)", ErrUnsupportedValue, maxDepth)
	}
	return nil
}

func (w *jsonWriter) value(v any) error {
	switch v := v.(type) {
	case nil:
		w.b = append(w.b, "null"...)
	case string:
		w.b = appendJSONString(w.b, v)
	case bool:
		w.b = strconv.AppendBool(w.b, v)
	case int:
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	case int8:
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	case int16:
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	case int32:
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	case int64:
		w.b = strconv.AppendInt(w.b, v, 10)
	case uint:
		w.b = strconv.AppendUint(w.b, uint64(v), 10)
	case uint8:
		w.b = strconv.AppendUint(w.b, uint64(v), 10)
	case uint16:
		w.b = strconv.AppendUint(w.b, uint64(v), 10)
	case uint32:
		w.b = strconv.AppendUint(w.b, uint64(v), 10)
	case uint64:
		w.b = strconv.AppendUint(w.b, v, 10)
	case float64:
		return w.float(v, 64)
	case float32:
		return w.float(float64(v), 32)
	case json.Number:
		if !isJSONNumber(string(v)) {
			return fmt.Errorf("%w: json.Number %q is not a number", ErrUnsupportedValue, truncate(string(v), 40))
		}
		w.b = append(w.b, v...)
	case ID:
		return w.id(v)
	case []byte:
		if v == nil {
			w.b = append(w.b, "null"...)
			return nil
		}
		w.b = append(w.b, '"')
		w.b = base64.StdEncoding.AppendEncode(w.b, v)
		w.b = append(w.b, '"')
	case object:
		return w.object(v)
	case []any:
		return jsonList(w, v, w.value)
	case []ID:
		return jsonList(w, v, w.id)
	case []string:
		return jsonList(w, v, func(s string) error { w.b = appendJSONString(w.b, s); return nil })
	case []int:
		return jsonList(w, v, func(n int) error { w.b = strconv.AppendInt(w.b, int64(n), 10); return nil })
	case []int64:
		return jsonList(w, v, func(n int64) error { w.b = strconv.AppendInt(w.b, n, 10); return nil })
	case []float64:
		return jsonList(w, v, func(f float64) error { return w.float(f, 64) })
	case map[string]any:
		return jsonMap(w, v)
	case map[string]string:
		return jsonMap(w, v)
	case map[string][]string:
		return jsonMap(w, v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnsupportedValue, err)
		}
		w.b = append(w.b, b...)
	}
	return nil
}

func (w *jsonWriter) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: %v is not a JSON number", ErrUnsupportedValue, f)
	}
	w.b = appendJSONFloat(w.b, f, bits)
	return nil
}

func (w *jsonWriter) id(id ID) error {
	switch {
	case id.IsZero():
		return fmt.Errorf("%w: the zero ID has no wire form", ErrUnsupportedValue)
	case id.number:
		w.b = append(w.b, id.text...)
	default:
		w.b = appendJSONString(w.b, id.text)
	}
	return nil
}

func (w *jsonWriter) object(o object) error {
	if err := w.enter(); err != nil {
		return err
	}
	w.b = append(w.b, '{')
	for i, f := range o {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, f.key)
		w.b = append(w.b, ':')
		if err := w.value(f.val); err != nil {
			return fieldErr(f.key, err)
		}
	}
	w.b = append(w.b, '}')
	w.depth--
	return nil
}

func jsonList[T any](w *jsonWriter, s []T, elem func(T) error) error {
	if err := w.enter(); err != nil {
		return err
	}
	w.b = append(w.b, '[')
	for i, e := range s {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		if err := elem(e); err != nil {
			return err
		}
	}
	w.b = append(w.b, ']')
	w.depth--
	return nil
}

func jsonMap[V any](w *jsonWriter, m map[string]V) error {
	if m == nil {
		w.b = append(w.b, "null"...)
		return nil
	}
	if err := w.enter(); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.b = append(w.b, '{')
	for i, k := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, k)
		w.b = append(w.b, ':')
		if err := w.value(m[k]); err != nil {
			return err
		}
	}
	w.b = append(w.b, '}')
	w.depth--
	return nil
}

// fieldErr adds the field name to an encoding error, innermost first.
func fieldErr(key string, err error) error {
	return fmt.Errorf("field %q: %w", key, err)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// with HTML escaping off: invalid UTF-8 becomes U+FFFD, and U+2028/U+2029
// are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendWriter lets a msgpack.Encoder append to a byte slice.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

func (a *appendWriter) WriteByte(c byte) error {
	a.b = append(a.b, c)
	return nil
}

// msgpackWriter encodes wire shapes and common values with the msgpack
// library's primitive encoders, and anything else with its reflection.
type msgpackWriter struct {
	out   *appendWriter
	enc   *msgpack.Encoder
	depth int
}

func newMsgpackWriter(dst []byte) *msgpackWriter {
	out := &appendWriter{b: dst}
	enc := msgpack.GetEncoder()
	enc.Reset(out)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	enc.SetCustomStructTag("json")
	return &msgpackWriter{out: out, enc: enc}
}

// done releases the encoder and returns the bytes.
func (w *msgpackWriter) done() []byte {
	msgpack.PutEncoder(w.enc)
	w.enc = nil
	return w.out.b
}

func (w *msgpackWriter) enter() error {
	w.depth++
	if w.depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d (a cycle?)", ErrUnsupportedValue, maxDepth)
	}
	return nil
}

func (w *msgpackWriter) value(v any) error {
	e := w.enc
	switch v := v.(type) {
	case nil:
		return e.EncodeNil()
	case string:
		return e.EncodeString(v)
	case bool:
		return e.EncodeBool(v)
	case int:
		return e.EncodeInt(int64(v))
	case int8:
		return e.EncodeInt(int64(v))
	case int16:
		return e.EncodeInt(int64(v))
	case int32:
		return e.EncodeInt(int64(v))
	case int64:
		return e.EncodeInt(v)
	case uint:
		return e.EncodeUint(uint64(v))
	case uint8:
		return e.EncodeUint(uint64(v))
	case uint16:
		return e.EncodeUint(uint64(v))
	case uint32:
		return e.EncodeUint(uint64(v))
	case uint64:
		return e.EncodeUint(v)
	case float64:
		return e.EncodeFloat64(v)
	case float32:
		return e.EncodeFloat32(v)
	case json.Number:
		return w.number(string(v))
	case ID:
		return w.id(v)
	case []byte:
		return e.EncodeBytes(v)
	case object:
		if err := w.enter(); err != nil {
			return err
		}
		if err := e.EncodeMapLen(len(v)); err != nil {
			return err
		}
		for _, f := range v {
			if err := e.EncodeString(f.key); err != nil {
				return err
			}
			if err := w.value(f.val); err != nil {
				return fieldErr(f.key, err)
			}
		}
		w.depth--
		return nil
	case []any:
		return msgpackList(w, v, w.value)
	case []ID:
		return msgpackList(w, v, w.id)
	case []string:
		return msgpackList(w, v, e.EncodeString)
	case []int:
		return msgpackList(w, v, func(n int) error { return e.EncodeInt(int64(n)) })
	case []int64:
		return msgpackList(w, v, e.EncodeInt)
	case []float64:
		return msgpackList(w, v, e.EncodeFloat64)
	case map[string]any:
		return msgpackMap(w, v)
	case map[string]string:
		return msgpackMap(w, v)
	case map[string][]string:
		return msgpackMap(w, v)
	default:
		if err := e.Encode(v); err != nil {
			return fmt.Errorf("%w: %w", ErrUnsupportedValue, err)
		}
		return nil
	}
}

// number writes a JSON number literal as a msgpack int, uint or float.
func (w *msgpackWriter) number(lit string) error {
	if !isJSONNumber(lit) {
		return fmt.Errorf("%w: %q is not a JSON number", ErrUnsupportedValue, truncate(lit, 40))
	}
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return w.enc.EncodeInt(n)
	}
	if n, err := strconv.ParseUint(lit, 10, 64); err == nil {
		return w.enc.EncodeUint(n)
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return fmt.Errorf("%w: number %s overflows float64", ErrUnsupportedValue, truncate(lit, 40))
	}
	return w.enc.EncodeFloat64(f)
}

func (w *msgpackWriter) id(id ID) error {
	switch {
	case id.IsZero():
		return fmt.Errorf("%w: the zero ID has no wire form", ErrUnsupportedValue)
	case id.number:
		return w.number(id.text)
	default:
		return w.enc.EncodeString(id.text)
	}
}

func msgpackList[T any](w *msgpackWriter, s []T, elem func(T) error) error {
	if err := w.enter(); err != nil {
		return err
	}
	if err := w.enc.EncodeArrayLen(len(s)); err != nil {
		return err
	}
	for _, e := range s {
		if err := elem(e); err != nil {
			return err
		}
	}
	w.depth--
	return nil
}

func msgpackMap[V any](w *msgpackWriter, m map[string]V) error {
	if m == nil {
		return w.enc.EncodeNil()
	}
	if err := w.enter(); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := w.enc.EncodeMapLen(len(keys)); err != nil {
		return err
	}
	for _, k := range keys {
		if err := w.enc.EncodeString(k); err != nil {
			return err
		}
		if err := w.value(m[k]); err != nil {
			return err
		}
	}
	w.depth--
	return nil
}
