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
