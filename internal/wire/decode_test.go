package wire

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/squall-streams/squall/messages"
)

// benchBatch is a full batch as a bolt sends it: 256 tuples of one string
// value and one anchor.
func benchBatch() Message {
	b := &messages.TupleBatch{Topology: "wc", Epoch: 3}
	for i := range 256 {
		b.Tuples = append(b.Tuples, &messages.Tuple{Stream: "default", SourceComponent: "split", SourceTask: 2, DestTask: 7,
			Values:  []*messages.Value{{Kind: &messages.Value_Str{Str: fmt.Sprintf("word%d", i)}}},
			Anchors: []*messages.Edge{{Root: uint64(i) * 7919, Id: uint64(i) * 104729}}})
	}
	return Message{To: addr, Payload: b}
}

// envelopeOf is the Envelope proto.Unmarshal makes of body.
func envelopeOf(body []byte) (*messages.Envelope, error) {
	env := &messages.Envelope{}
	return env, proto.Unmarshal(body, env)
}

// hasUnknown reports whether m or a message in it kept unknown fields.
func hasUnknown(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				found = found || hasUnknown(v.List().Get(i).Message())
			}
		case fd.Message() != nil && !fd.IsMap():
			found = found || hasUnknown(v.Message())
		}
		return !found
	})
	return found
}

// checkLikeProto: what Decode accepts, proto.Unmarshal accepts too, with
// the same content (unless protobuf kept unknown fields, which Decode
// skips).
func checkLikeProto(t *testing.T, body []byte) {
	t.Helper()
	m, err := Decode(body)
	if err != nil {
		return
	}
	env, perr := envelopeOf(body)
	if perr != nil {
		t.Fatalf("Decode accepted what proto.Unmarshal refuses (%v): %v", perr, m)
	}
	want, err := envelope(m)
	if err != nil {
		t.Fatal(err)
	}
	if !hasUnknown(env.ProtoReflect()) && !proto.Equal(want, env) {
		t.Fatalf("Decode made %v, proto.Unmarshal %v", want, env)
	}
}

func TestDecodeLikeProto(t *testing.T) {
	frame, err := AppendFrame(nil, benchBatch(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	body := frame[HeaderLen:]
	m, err := Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m.Payload, benchBatch().Payload) {
		t.Fatal("a full batch does not round-trip")
	}
	checkLikeProto(t, body)

	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	bytesOf := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(tag(num, protowire.BytesType), b)
	}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	to := cat(bytesOf(5, []byte("wc")), bytesOf(6, []byte("boot")), protowire.AppendVarint(tag(7, protowire.VarintType), 1))
	tuple := func(parts ...[]byte) []byte { return bytesOf(2, bytesOf(3, cat(parts...))) }
	for name, body := range map[string][]byte{
		"merged batches":          cat(to, tuple(bytesOf(1, []byte("s"))), tuple(bytesOf(1, []byte("t")))),
		"another payload wins":    cat(to, tuple(bytesOf(1, []byte("s"))), bytesOf(4, nil)),
		"unknown fields":          cat(to, bytesOf(99, []byte("x")), tuple(bytesOf(42, nil), bytesOf(1, []byte("s")))),
		"known field, wrong type": cat(to, tuple(protowire.AppendVarint(tag(1, protowire.VarintType), 3))),
		"packed and unpacked resets": cat(to, bytesOf(3, cat(
			protowire.AppendFixed64(tag(7, protowire.Fixed64Type), 1),
			bytesOf(7, protowire.AppendFixed64(protowire.AppendFixed64(nil, 2), 3))))),
		"a value's kind replaced": cat(to, tuple(bytesOf(5, cat(bytesOf(1, []byte("a")), protowire.AppendVarint(tag(3, protowire.VarintType), 5))))),
		"merged lists":            cat(to, tuple(bytesOf(5, cat(bytesOf(6, bytesOf(1, nil)), bytesOf(6, bytesOf(1, nil)))))),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(body); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkLikeProto(t, body)
		})
	}
}

func TestDecodeRefusesDeepAndNotUTF8(t *testing.T) {
	nested := []byte{} // a Value of lists in lists
	for range maxValueDepth + 1 {
		nested = protowire.AppendBytes(protowire.AppendTag(nil, 6, protowire.BytesType),
			protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), nested))
	}
	bytesOf := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
	}
	to := append(append(bytesOf(5, []byte("wc")), bytesOf(6, []byte("boot"))...), protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.VarintType), 1)...)
	body := append(to, bytesOf(2, bytesOf(3, bytesOf(5, nested)))...)
	if _, err := Decode(body); !errors.Is(err, ErrMalformed) || !errors.Is(err, errDepth) {
		t.Errorf("values nested %d deep: Decode = %v, want ErrMalformed (too deep)", maxValueDepth+1, err)
	}

	bad := Message{To: addr, Payload: &messages.TupleBatch{Tuples: []*messages.Tuple{{Values: []*messages.Value{{Kind: &messages.Value_Str{Str: "a\xffb"}}}}}}}
	if _, err := AppendFrame(nil, bad, 1<<20); !errors.Is(err, ErrMalformed) {
		t.Errorf("AppendFrame of a string not UTF-8 = %v, want ErrMalformed", err)
	}
	raw, err := proto.MarshalOptions{}.Marshal(&messages.Envelope{ToTopology: "wc", ToBoot: "b", ToTask: 1,
		Payload: &messages.Envelope_Tuples{Tuples: &messages.TupleBatch{}}})
	if err != nil {
		t.Fatal(err)
	}
	raw = protowire.AppendBytes(protowire.AppendTag(raw, 5, protowire.BytesType), []byte("w\xffc"))
	if _, err := Decode(raw); !errors.Is(err, ErrMalformed) {
		t.Errorf("Decode of a topology not UTF-8 = %v, want ErrMalformed", err)
	}
}

// FuzzDecodeLikeProto: Decode accepts no more than proto.Unmarshal, and
// reads the same.
func FuzzDecodeLikeProto(f *testing.F) {
	frame, err := AppendFrame(nil, benchBatch(), 1<<20)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(frame[HeaderLen:])
	for _, m := range []Message{
		{To: addr, Payload: &messages.TrackerBatch{Inits: []*messages.TrackerInit{{Root: 1, Xor: 2, SpoutTask: 3}}, Acks: []*messages.TrackerAck{{Root: 4}}, Fails: []*messages.TrackerFail{{Root: 5}}, Resets: []uint64{4}}},
		{To: addr, Payload: &messages.CompletionBatch{Completions: []*messages.Completion{{Root: 1, RestartTimeout: true}}}},
		{To: addr, Payload: &messages.TupleBatch{Tuples: []*messages.Tuple{{Values: []*messages.Value{{Kind: &messages.Value_List{List: &messages.List{Values: []*messages.Value{
			{Kind: &messages.Value_Bytes{Bytes: []byte{1}}}, {Kind: &messages.Value_Double{Double: 1.5}}, {Kind: &messages.Value_Bool{Bool: true}}, {}}}}}}}}}},
	} {
		frame, err := AppendFrame(nil, m, 1<<20)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame[HeaderLen:])
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkLikeProto(t, body) })
}

func BenchmarkDecode(b *testing.B) {
	frame, err := AppendFrame(nil, benchBatch(), 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	body := frame[HeaderLen:]
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := Decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := envelopeOf(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendFrame(b *testing.B) {
	m := benchBatch()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = AppendFrame(buf[:0], m, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}
