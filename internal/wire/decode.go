package wire

import (
	"errors"
	"math"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// The decoder of frame bodies: hand-written for the messages an Envelope
// holds, because it is the hot half of the transport (protobuf's
// reflection-driven Unmarshal was a quarter of a 3-node cluster's CPU) and
// because the generated fast codec (messages/*_vtproto.pb.go, used to
// encode) has no bound on nesting, which a decoder of outside bytes needs.
//
// It reads exactly what proto.Unmarshal reads, with protobuf's merge rules
// (the last scalar wins, repeated fields append, a oneof's message merges
// with one of the same kind), and is stricter in two ways: unknown fields
// are skipped (not kept), and values nest at most maxValueDepth lists.
// Strings must be UTF-8, as protobuf requires of proto3 strings.
//
// Allocation is per frame, not per item: the messages of a batch come
// from slabs, the tuples' value and anchor pointers share one backing
// array, and a tuple's stream and source component reuse the previous
// tuple's strings when equal. Nothing aliases the body.

// maxValueDepth bounds nested lists in a received value: well above
// messages.MaxListDepth, which senders keep to (messages.FromGo); a frame
// nesting deeper is hostile and refused.
const maxValueDepth = 4 * messages.MaxListDepth

var (
	errField = errors.New("truncated or invalid field")
	errUTF8  = errors.New("string field is not UTF-8")
	errDepth = errors.New("values nested too deep")
	errFixed = errors.New("packed fixed64 field of a length not a multiple of 8")
)

// slab hands out *T from chunks it allocates, growing them to 256.
type slab[T any] struct {
	free []T
	n    int
}

// reserve makes room for n more without another allocation.
func (s *slab[T]) reserve(n int) {
	if len(s.free) < n {
		s.free = make([]T, n)
		s.n = n
	}
}

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.n = min(max(2*s.n, 8), 256)
		s.free = make([]T, s.n)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// decoder decodes one frame body.
type decoder struct {
	tuples      slab[messages.Tuple]
	edges       slab[messages.Edge]
	values      slab[messages.Value]
	strs        slab[messages.Value_Str]
	inits       slab[messages.TrackerInit]
	acks        slab[messages.TrackerAck]
	completions slab[messages.Completion]
	// valuePtrs and edgePtrs back the tuples' Values and Anchors: each
	// tuple's are contiguous, and the tuple gets them as a full slice.
	valuePtrs []*messages.Value
	edgePtrs  []*messages.Edge
	// The previous strings of each kind, reused when equal.
	topology, stream, component string
}

// next reads a field's tag off b.
func next(b []byte) (protowire.Number, protowire.Type, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return 0, 0, nil, errField
	}
	return num, typ, b[n:], nil
}

// skip consumes the value of a field not decoded (unknown, or of another
// wire type than its declaration's: protobuf keeps those as unknown too).
func skip(num protowire.Number, typ protowire.Type, b []byte) ([]byte, error) {
	n := protowire.ConsumeFieldValue(num, typ, b)
	if n < 0 {
		return nil, errField
	}
	return b[n:], nil
}

func bytesField(b []byte) ([]byte, []byte, error) {
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, nil, errField
	}
	return v, b[n:], nil
}

func varint(b []byte) (uint64, []byte, error) {
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, nil, errField
	}
	return v, b[n:], nil
}

func fixed64(b []byte) (uint64, []byte, error) {
	v, n := protowire.ConsumeFixed64(b)
	if n < 0 {
		return 0, nil, errField
	}
	return v, b[n:], nil
}

// str reads a string field, reusing *last when it holds the same bytes.
func str(b []byte, last *string) (string, []byte, error) {
	v, rest, err := bytesField(b)
	if err != nil {
		return "", nil, err
	}
	if string(v) == *last { // compared without a copy
		return *last, rest, nil
	}
	if !utf8.Valid(v) {
		return "", nil, errUTF8
	}
	*last = string(v)
	return *last, rest, nil
}

// freshStr reads a string field into a new string.
func freshStr(b []byte) (string, []byte, error) {
	var none string
	return str(b, &none)
}

// envelope decodes an Envelope into m.
func (d *decoder) envelope(b []byte, m *Message) error {
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		var v []byte
		switch {
		case num == 2 && typ == protowire.BytesType:
			if v, rest, err = bytesField(rest); err == nil {
				p, ok := m.Payload.(*messages.TupleBatch)
				if !ok {
					p = &messages.TupleBatch{}
					m.Payload = p
				}
				err = d.tupleBatch(v, p)
			}
		case num == 3 && typ == protowire.BytesType:
			if v, rest, err = bytesField(rest); err == nil {
				p, ok := m.Payload.(*messages.TrackerBatch)
				if !ok {
					p = &messages.TrackerBatch{}
					m.Payload = p
				}
				err = d.trackerBatch(v, p)
			}
		case num == 4 && typ == protowire.BytesType:
			if v, rest, err = bytesField(rest); err == nil {
				p, ok := m.Payload.(*messages.CompletionBatch)
				if !ok {
					p = &messages.CompletionBatch{}
					m.Payload = p
				}
				err = d.completionBatch(v, p)
			}
		case num == 5 && typ == protowire.BytesType:
			m.To.Topology, rest, err = str(rest, &d.topology)
		case num == 6 && typ == protowire.BytesType:
			m.To.Boot, rest, err = freshStr(rest)
		case num == 7 && typ == protowire.VarintType:
			var x uint64
			x, rest, err = varint(rest)
			m.To.Task = topology.TaskID(int32(x))
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// count counts the length-delimited fields num of message b (0 if b
// does not parse: the decoder then says why).
func count(b []byte, num protowire.Number) int {
	n := 0
	for len(b) > 0 {
		k, typ, rest, err := next(b)
		if err != nil {
			return n
		}
		if k == num && typ == protowire.BytesType {
			n++
		}
		if b, err = skip(k, typ, rest); err != nil {
			return n
		}
	}
	return n
}

func (d *decoder) tupleBatch(b []byte, p *messages.TupleBatch) error {
	// Sized for a tuple of one value and one anchor, the usual: one
	// allocation of each kind per batch.
	n := count(b, 3)
	d.tuples.reserve(n)
	d.values.reserve(n)
	d.strs.reserve(n)
	d.edges.reserve(n)
	d.valuePtrs = slices.Grow(d.valuePtrs, n)
	d.edgePtrs = slices.Grow(d.edgePtrs, n)
	p.Tuples = slices.Grow(p.Tuples, n)
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			p.Topology, rest, err = str(rest, &d.topology)
		case num == 2 && typ == protowire.VarintType:
			p.Epoch, rest, err = varint(rest)
		case num == 3 && typ == protowire.BytesType:
			var v []byte
			if v, rest, err = bytesField(rest); err == nil {
				t := d.tuples.new()
				err = d.tuple(v, t)
				p.Tuples = append(p.Tuples, t)
			}
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func (d *decoder) tuple(b []byte, t *messages.Tuple) error {
	values, edges := len(d.valuePtrs), len(d.edgePtrs)
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		var v []byte
		var x uint64
		switch {
		case num == 1 && typ == protowire.BytesType:
			t.Stream, rest, err = str(rest, &d.stream)
		case num == 2 && typ == protowire.BytesType:
			t.SourceComponent, rest, err = str(rest, &d.component)
		case num == 3 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			t.SourceTask = int32(x)
		case num == 4 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			t.DestTask = int32(x)
		case num == 5 && typ == protowire.BytesType:
			if v, rest, err = bytesField(rest); err == nil {
				val := d.values.new()
				err = d.value(v, val, 0)
				d.valuePtrs = append(d.valuePtrs, val)
			}
		case num == 6 && typ == protowire.BytesType:
			if v, rest, err = bytesField(rest); err == nil {
				e := d.edges.new()
				err = edge(v, e)
				d.edgePtrs = append(d.edgePtrs, e)
			}
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	if n := len(d.valuePtrs); n > values {
		t.Values = d.valuePtrs[values:n:n]
	}
	if n := len(d.edgePtrs); n > edges {
		t.Anchors = d.edgePtrs[edges:n:n]
	}
	return nil
}

func edge(b []byte, e *messages.Edge) error {
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		switch {
		case num == 1 && typ == protowire.Fixed64Type:
			e.Root, rest, err = fixed64(rest)
		case num == 2 && typ == protowire.Fixed64Type:
			e.Id, rest, err = fixed64(rest)
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// value decodes a Value nested in depth lists.
func (d *decoder) value(b []byte, val *messages.Value, depth int) error {
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		var x uint64
		switch {
		case num == 1 && typ == protowire.BytesType:
			k := d.strs.new()
			k.Str, rest, err = freshStr(rest)
			val.Kind = k
		case num == 2 && typ == protowire.BytesType:
			var v []byte
			v, rest, err = bytesField(rest)
			val.Kind = &messages.Value_Bytes{Bytes: append([]byte{}, v...)}
		case num == 3 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			val.Kind = &messages.Value_Int{Int: protowire.DecodeZigZag(x)}
		case num == 4 && typ == protowire.Fixed64Type:
			x, rest, err = fixed64(rest)
			val.Kind = &messages.Value_Double{Double: math.Float64frombits(x)}
		case num == 5 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			val.Kind = &messages.Value_Bool{Bool: protowire.DecodeBool(x)}
		case num == 6 && typ == protowire.BytesType:
			if depth >= maxValueDepth {
				return errDepth
			}
			var v []byte
			if v, rest, err = bytesField(rest); err == nil {
				k, ok := val.Kind.(*messages.Value_List)
				if !ok {
					k = &messages.Value_List{List: &messages.List{}}
					val.Kind = k
				}
				err = d.list(v, k.List, depth+1)
			}
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func (d *decoder) list(b []byte, l *messages.List, depth int) error {
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			var v []byte
			if v, rest, err = bytesField(rest); err == nil {
				val := &messages.Value{}
				err = d.value(v, val, depth)
				l.Values = append(l.Values, val)
			}
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func (d *decoder) trackerBatch(b []byte, p *messages.TrackerBatch) error {
	if n := count(b, 4); n > 0 {
		d.inits.reserve(n)
		p.Inits = slices.Grow(p.Inits, n)
	}
	if n := count(b, 5); n > 0 {
		d.acks.reserve(n)
		p.Acks = slices.Grow(p.Acks, n)
	}
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		var v []byte
		var x uint64
		switch {
		case num == 1 && typ == protowire.BytesType:
			p.Topology, rest, err = str(rest, &d.topology)
		case num == 2 && typ == protowire.VarintType:
			p.Epoch, rest, err = varint(rest)
		case num == 3 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			p.TrackerTask = int32(x)
		case num == 4 && typ == protowire.BytesType:
			if v, rest, err = bytesField(rest); err == nil {
				in := d.inits.new()
				err = trackerInit(v, in)
				p.Inits = append(p.Inits, in)
			}
		case num == 5 && typ == protowire.BytesType:
			if v, rest, err = bytesField(rest); err == nil {
				a := d.acks.new()
				err = trackerAck(v, a)
				p.Acks = append(p.Acks, a)
			}
		case num == 6 && typ == protowire.BytesType:
			if v, rest, err = bytesField(rest); err == nil {
				f := &messages.TrackerFail{}
				err = trackerFail(v, f)
				p.Fails = append(p.Fails, f)
			}
		case num == 7 && typ == protowire.Fixed64Type:
			x, rest, err = fixed64(rest)
			p.Resets = append(p.Resets, x)
		case num == 7 && typ == protowire.BytesType: // packed
			if v, rest, err = bytesField(rest); err == nil {
				p.Resets, err = packedFixed64(v, p.Resets)
			}
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func packedFixed64(b []byte, dst []uint64) ([]uint64, error) {
	if len(b)%8 != 0 {
		return dst, errFixed
	}
	if dst == nil {
		dst = make([]uint64, 0, len(b)/8)
	}
	for len(b) > 0 {
		x, n := protowire.ConsumeFixed64(b)
		dst = append(dst, x)
		b = b[n:]
	}
	return dst, nil
}

func trackerInit(b []byte, in *messages.TrackerInit) error {
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		var x uint64
		switch {
		case num == 1 && typ == protowire.Fixed64Type:
			in.Root, rest, err = fixed64(rest)
		case num == 2 && typ == protowire.Fixed64Type:
			in.Xor, rest, err = fixed64(rest)
		case num == 3 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			in.SpoutTask = int32(x)
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func trackerAck(b []byte, a *messages.TrackerAck) error {
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		switch {
		case num == 1 && typ == protowire.Fixed64Type:
			a.Root, rest, err = fixed64(rest)
		case num == 2 && typ == protowire.Fixed64Type:
			a.Xor, rest, err = fixed64(rest)
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func trackerFail(b []byte, f *messages.TrackerFail) error {
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		switch {
		case num == 1 && typ == protowire.Fixed64Type:
			f.Root, rest, err = fixed64(rest)
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func (d *decoder) completionBatch(b []byte, p *messages.CompletionBatch) error {
	n := count(b, 4)
	d.completions.reserve(n)
	p.Completions = slices.Grow(p.Completions, n)
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		var x uint64
		switch {
		case num == 1 && typ == protowire.BytesType:
			p.Topology, rest, err = str(rest, &d.topology)
		case num == 2 && typ == protowire.VarintType:
			p.Epoch, rest, err = varint(rest)
		case num == 3 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			p.SpoutTask = int32(x)
		case num == 4 && typ == protowire.BytesType:
			var v []byte
			if v, rest, err = bytesField(rest); err == nil {
				c := d.completions.new()
				err = completion(v, c)
				p.Completions = append(p.Completions, c)
			}
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func completion(b []byte, c *messages.Completion) error {
	for len(b) > 0 {
		num, typ, rest, err := next(b)
		if err != nil {
			return err
		}
		var x uint64
		switch {
		case num == 1 && typ == protowire.Fixed64Type:
			c.Root, rest, err = fixed64(rest)
		case num == 2 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			c.Failed = protowire.DecodeBool(x)
		case num == 3 && typ == protowire.VarintType:
			x, rest, err = varint(rest)
			c.RestartTimeout = protowire.DecodeBool(x)
		default:
			rest, err = skip(num, typ, rest)
		}
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}
