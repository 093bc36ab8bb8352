package wire

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/messages"
)

var addr = TaskAddr{Topology: "wc", Boot: "0123456789abcdef", Task: 7}

func TestRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{To: addr, Payload: &messages.TupleBatch{Topology: "wc", Epoch: 3, Tuples: []*messages.Tuple{{Stream: "default", SourceTask: 2, DestTask: 7,
			Values: []*messages.Value{{Kind: &messages.Value_Str{Str: "word"}}}, Anchors: []*messages.Edge{{Root: 1, Id: 2}}}}}},
		{To: addr, Payload: &messages.TrackerBatch{Topology: "wc", Epoch: 3, TrackerTask: 7, Acks: []*messages.TrackerAck{{Root: 1, Xor: 2}}}},
		{To: TaskAddr{Topology: "a/b", Boot: "x", Task: 1}, Payload: &messages.CompletionBatch{Topology: "a/b", SpoutTask: 1, Completions: []*messages.Completion{{Root: 9, Failed: true}}}},
		{To: addr, Payload: &messages.TupleBatch{}}, // an empty batch is still a batch
	} {
		frame, err := AppendFrame([]byte("prefix"), m, 1<<20)
		if err != nil {
			t.Fatalf("AppendFrame(%v): %v", m.To, err)
		}
		if !bytes.HasPrefix(frame, []byte("prefix")) {
			t.Fatal("AppendFrame overwrote dst")
		}
		frame = frame[len("prefix"):]
		n := BodyLen([HeaderLen]byte(frame[:HeaderLen]))
		if n != len(frame)-HeaderLen {
			t.Fatalf("length prefix %d, body %d bytes", n, len(frame)-HeaderLen)
		}
		got, err := Decode(frame[HeaderLen:])
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if got.To != m.To || !proto.Equal(got.Payload, m.Payload) {
			t.Errorf("round trip of %v: got %v %v", m.To, got.To, got.Payload)
		}
	}
}

func TestAppendFrameRefuses(t *testing.T) {
	big := &messages.TupleBatch{Topology: string(make([]byte, 2000))}
	for _, c := range []struct {
		name string
		m    Message
		want error
	}{
		{"no topology", Message{To: TaskAddr{Boot: "b", Task: 1}, Payload: &messages.TupleBatch{}}, ErrMalformed},
		{"no boot", Message{To: TaskAddr{Topology: "t", Task: 1}, Payload: &messages.TupleBatch{}}, ErrMalformed},
		{"slash in boot", Message{To: TaskAddr{Topology: "t", Boot: "b/c", Task: 1}, Payload: &messages.TupleBatch{}}, ErrMalformed},
		{"task 0", Message{To: TaskAddr{Topology: "t", Boot: "b"}, Payload: &messages.TupleBatch{}}, ErrMalformed},
		{"no payload", Message{To: addr}, ErrMalformed},
		{"nil batch", Message{To: addr, Payload: (*messages.TupleBatch)(nil)}, ErrMalformed},
		{"not a batch", Message{To: addr, Payload: &messages.Control{}}, ErrMalformed},
		{"too large", Message{To: addr, Payload: big}, ErrTooLarge},
	} {
		dst := []byte("keep")
		out, err := AppendFrame(dst, c.m, 1000)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst changed to %q", c.name, out)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	marshal := func(env *messages.Envelope) []byte {
		b, err := proto.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tuples := &messages.Envelope_Tuples{Tuples: &messages.TupleBatch{}}
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"truncated field", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"unknown wire type", []byte{0xff}},
		{"no address", marshal(&messages.Envelope{Payload: tuples})},
		{"no boot", marshal(&messages.Envelope{ToTopology: "wc", ToTask: 1, Payload: tuples})},
		{"slash in boot", marshal(&messages.Envelope{ToTopology: "a", ToBoot: "b/c", ToTask: 1, Payload: tuples})},
		{"negative task", marshal(&messages.Envelope{ToTopology: "wc", ToBoot: "b", ToTask: -3, Payload: tuples})},
		{"no payload", marshal(&messages.Envelope{ToTopology: "wc", ToBoot: "b", ToTask: 1})},
		{"field 1 (reserved: the actor name)", append([]byte{0x0a, 0x03}, "a/b"...)},
	} {
		if m, err := Decode(c.body); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode = %v, %v; want ErrMalformed", c.name, m, err)
		}
	}
}

// FuzzDecode: no bytes make Decode panic, and whatever decodes re-encodes
// to a frame that decodes to the same message.
func FuzzDecode(f *testing.F) {
	for _, m := range []Message{
		{To: addr, Payload: &messages.TupleBatch{Topology: "wc", Tuples: []*messages.Tuple{{Stream: "s", Values: []*messages.Value{{Kind: &messages.Value_Int{Int: -1}}}}}}},
		{To: addr, Payload: &messages.TrackerBatch{Inits: []*messages.TrackerInit{{Root: 1, Xor: 2, SpoutTask: 3}}, Resets: []uint64{4}}},
		{To: addr, Payload: &messages.CompletionBatch{Completions: []*messages.Completion{{Root: 1, RestartTimeout: true}}}},
	} {
		frame, err := AppendFrame(nil, m, 1<<20)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame[HeaderLen:])
	}
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		frame, err := AppendFrame(nil, m, len(body)+1<<20)
		if err != nil {
			t.Fatalf("a decoded message does not encode: %v", err)
		}
		again, err := Decode(frame[HeaderLen:])
		if err != nil || again.To != m.To || !proto.Equal(again.Payload, m.Payload) {
			t.Fatalf("re-decoded %v %v, %v; want %v %v", again.To, again.Payload, err, m.To, m.Payload)
		}
	})
}

func TestSeq(t *testing.T) {
	frame, err := AppendFrame(nil, Message{To: addr, Payload: &messages.TupleBatch{Topology: "wc"}}, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	hdr := [HeaderLen]byte(frame[:HeaderLen])
	if Seq(hdr) != 0 || BodyLen(hdr) != len(frame)-HeaderLen {
		t.Fatalf("a new frame: seq %d, body %d of %d bytes", Seq(hdr), BodyLen(hdr), len(frame)-HeaderLen)
	}
	SetSeq(frame, 1<<40+3)
	hdr = [HeaderLen]byte(frame[:HeaderLen])
	if Seq(hdr) != 1<<40+3 || BodyLen(hdr) != len(frame)-HeaderLen {
		t.Fatalf("after SetSeq: seq %d, body %d", Seq(hdr), BodyLen(hdr))
	}
	if _, err := Decode(frame[HeaderLen:]); err != nil {
		t.Fatalf("SetSeq broke the body: %v", err)
	}
}

// TestSplit: a batch too large for one frame is cut, in order, into parts
// that each fit and that together are the batch; an item too large on its
// own is set apart.
func TestSplit(t *testing.T) {
	const limit = 4 << 10
	word := func(n int) []*messages.Value {
		return []*messages.Value{{Kind: &messages.Value_Str{Str: string(bytes.Repeat([]byte{'w'}, n))}}}
	}
	tuples := &messages.TupleBatch{Topology: "wc", Epoch: 9}
	for i := range 100 {
		n := 100
		if i == 42 {
			n = 2 * limit // alone too large
		}
		tuples.Tuples = append(tuples.Tuples, &messages.Tuple{Stream: "s", SourceTask: int32(i + 1), DestTask: 7, Values: word(n),
			Anchors: []*messages.Edge{{Root: uint64(i + 1), Id: 1}}})
	}
	fits, tooLarge, err := Split(Message{To: addr, Payload: tuples}, limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(fits) < 2 || len(tooLarge) != 1 {
		t.Fatalf("%d parts and %d items too large, want several and 1", len(fits), len(tooLarge))
	}
	if big := tooLarge[0].Payload.(*messages.TupleBatch); len(big.Tuples) != 1 || big.Tuples[0].SourceTask != 43 {
		t.Fatalf("the item too large: %v", big)
	}
	next := int32(1)
	for _, part := range fits {
		frame, err := AppendFrame(nil, part, limit)
		if err != nil {
			t.Fatalf("a part does not fit: %v", err)
		}
		got, _ := Decode(frame[HeaderLen:])
		b := got.Payload.(*messages.TupleBatch)
		if got.To != addr || b.Topology != "wc" || b.Epoch != 9 {
			t.Fatalf("a part lost its address or header: %v %v", got.To, b)
		}
		for _, tu := range b.Tuples {
			if next == 43 {
				next++
			}
			if tu.SourceTask != next {
				t.Fatalf("tuple %d where %d was due: order not kept", tu.SourceTask, next)
			}
			next++
		}
	}
	if next != 101 {
		t.Fatalf("parts hold tuples up to %d, want all 100", next-1)
	}

	// A tracker batch is cut across its lists in the order they apply.
	tr := &messages.TrackerBatch{Topology: "wc", Epoch: 1, TrackerTask: 9}
	for i := range 300 {
		tr.Inits = append(tr.Inits, &messages.TrackerInit{Root: uint64(i), Xor: 1, SpoutTask: 1})
		tr.Acks = append(tr.Acks, &messages.TrackerAck{Root: uint64(i), Xor: 1})
		tr.Fails = append(tr.Fails, &messages.TrackerFail{Root: uint64(i)})
		tr.Resets = append(tr.Resets, uint64(i))
	}
	fits, tooLarge, err = Split(Message{To: addr, Payload: tr}, limit)
	if err != nil || len(tooLarge) != 0 || len(fits) < 2 {
		t.Fatalf("tracker batch: %d parts, %d too large, %v", len(fits), len(tooLarge), err)
	}
	joined := &messages.TrackerBatch{Topology: "wc", Epoch: 1, TrackerTask: 9}
	for _, part := range fits {
		if part.Size() > limit {
			t.Fatalf("a part of %d bytes", part.Size())
		}
		b := part.Payload.(*messages.TrackerBatch)
		if b.TrackerTask != 9 {
			t.Fatal("a part lost its tracker task")
		}
		if len(joined.Resets) > 0 && len(b.Inits)+len(b.Acks)+len(b.Fails) > 0 ||
			len(joined.Fails) > 0 && len(b.Inits)+len(b.Acks) > 0 || len(joined.Acks) > 0 && len(b.Inits) > 0 {
			t.Fatal("parts out of apply order")
		}
		joined.Inits = append(joined.Inits, b.Inits...)
		joined.Acks = append(joined.Acks, b.Acks...)
		joined.Fails = append(joined.Fails, b.Fails...)
		joined.Resets = append(joined.Resets, b.Resets...)
	}
	if !proto.Equal(joined, tr) {
		t.Fatal("the parts of a tracker batch are not the batch")
	}
}

func TestSize(t *testing.T) {
	m := Message{To: addr, Payload: &messages.TupleBatch{Topology: "wc", Tuples: []*messages.Tuple{{Stream: "s"}}}}
	frame, err := AppendFrame(nil, m, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(frame[HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	if n := len(frame) - HeaderLen; m.Size() != n || got.Size() != n {
		t.Errorf("Size: %d before sending, %d received; the body is %d bytes", m.Size(), got.Size(), n)
	}
	if n := (Message{To: addr}).Size(); n != 0 {
		t.Errorf("a message without a payload has size %d", n)
	}
}
