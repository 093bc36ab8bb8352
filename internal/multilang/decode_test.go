package multilang

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// mp encodes v with the package's msgpack writer (object keeps key order).
func mp(t testing.TB, v any) []byte {
	t.Helper()
	w := newMsgpackWriter(nil)
	if err := w.value(v); err != nil {
		t.Fatal(err)
	}
	return w.done()
}

// jsonToMsgpack re-encodes one JSON document as msgpack.
func jsonToMsgpack(t testing.TB, doc string) []byte {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return mp(t, v)
}

func newTestDecoder(t testing.TB, r io.Reader, s Serializer, side Side, opts ...DecoderOption) *Decoder {
	t.Helper()
	d, err := NewDecoder(r, s, side, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func decodeOne(t *testing.T, in []byte, s Serializer, side Side) Message {
	t.Helper()
	m, err := newTestDecoder(t, bytes.NewReader(in), s, side).Decode()
	if err != nil {
		t.Fatalf("Decode(%q): %v", in, err)
	}
	return m
}

func TestNewDecoderValidates(t *testing.T) {
	r := strings.NewReader("")
	if _, err := NewDecoder(nil, JSON, FromSubprocess); err == nil {
		t.Error("nil reader accepted")
	}
	if _, err := NewDecoder(r, 0, FromSubprocess); !errors.Is(err, ErrUnknownSerializer) {
		t.Errorf("serializer 0: %v", err)
	}
	if _, err := NewDecoder(r, JSON, 0); err == nil {
		t.Error("side 0 accepted")
	}
	if _, err := NewDecoder(r, JSON, FromSubprocess, WithMaxMessageSize(0)); err == nil {
		t.Error("max size 0 accepted")
	}
	br := bufio.NewReaderSize(r, 8192)
	d, err := NewDecoder(br, JSON, FromSubprocess)
	if err != nil || d.r != br {
		t.Errorf("a *bufio.Reader is not reused: %v", err)
	}
}

// TestJSONFraming covers what the line reader tolerates, as Java's
// JsonSerializer and pystorm do.
func TestJSONFraming(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Message
	}{
		{"one", "{\"command\":\"sync\"}\nend\n", []Message{Sync{}}},
		{"two", "{\"command\":\"sync\"}\nend\n{\"pid\":1}\nend\n", []Message{Sync{}, PIDReply{PID: 1}}},
		{"pretty printed over lines", "{\n  \"command\": \"log\",\n  \"msg\": \"hi\"\n}\nend\n", []Message{Log{Msg: "hi", Level: LogInfo}}},
		{"blank lines skipped", "\n\n{\"command\":\"sync\"}\n\nend\n\n\n", []Message{Sync{}}},
		{"CRLF", "{\"command\":\"sync\"}\r\nend\r\n", []Message{Sync{}}},
		{"end at EOF without newline", "{\"command\":\"sync\"}\nend", []Message{Sync{}}},
		{"whitespace lines are JSON whitespace", "  \n{\"command\":\"sync\"}\n\t\nend\n", []Message{Sync{}}},
		{"pystorm spacing", "{\"command\": \"ack\", \"id\": \"-1\"}\nend\n", []Message{Ack{ID: StringID("-1")}}},
		{"only blank lines", "\n\n\n", nil},
		{"empty", "", nil},
		{"long line", "{\"command\":\"log\",\"msg\":\"" + strings.Repeat("x", 10000) + "\"}\nend\n", []Message{Log{Msg: strings.Repeat("x", 10000), Level: LogInfo}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range map[string]io.Reader{
				"whole":   strings.NewReader(tt.in),
				"onebyte": iotest.OneByteReader(strings.NewReader(tt.in)),
			} {
				got := decodeAll(t, r, JSON, FromSubprocess)
				assertMessages(t, got, tt.want)
			}
		})
	}
}

func TestMsgpackFraming(t *testing.T) {
	var stream []byte
	want := []Message{Sync{}, Emit{Stream: "s", NeedTaskIDs: true, Values: []any{strings.Repeat("y", 70000)}}, Ack{ID: IntID(7)}}
	for _, m := range want {
		stream = append(stream, mp(t, m.wire())...)
	}
	for name, r := range map[string]io.Reader{
		"whole":   bytes.NewReader(stream),
		"onebyte": iotest.OneByteReader(bytes.NewReader(stream)),
		"half":    iotest.HalfReader(bytes.NewReader(stream)),
	} {
		t.Run(name, func(t *testing.T) {
			assertMessages(t, decodeAll(t, r, Msgpack, FromSubprocess), want)
		})
	}
}

// TestValueMapping checks the JSON and msgpack to Go value mapping.
func TestValueMapping(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		in := `{"command":"emit","tuple":[1,-1,0,-0,9223372036854775807,-9223372036854775808,9223372036854775808,` +
			`1.5,1e3,2.0,-2.5e-3,"s","\u00e9\ud83d\ude00",true,false,null,[1,[2]],{"a":{"b":1},"":[]}]}` + "\nend\n"
		m := decodeOne(t, []byte(in), JSON, FromSubprocess).(Emit)
		want := []any{int64(1), int64(-1), int64(0), int64(0), int64(math.MaxInt64), int64(math.MinInt64), float64(9223372036854775808),
			1.5, float64(1000), 2.0, -2.5e-3, "s", "é😀", true, false, nil, []any{int64(1), []any{int64(2)}},
			map[string]any{"a": map[string]any{"b": int64(1)}, "": []any{}}}
		if !reflect.DeepEqual(m.Values, want) {
			t.Errorf("got  %#v\nwant %#v", m.Values, want)
		}
	})
	t.Run("msgpack", func(t *testing.T) {
		// Hand-written msgpack, one of each encoding.
		values := [][]byte{
			{0x05},                         // positive fixint
			{0xff},                         // negative fixint -1
			{0xcc, 0xc8},                   // uint8 200
			{0xcd, 0x01, 0x00},             // uint16 256
			{0xce, 0x00, 0x01, 0x00, 0x00}, // uint32 65536
			{0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // uint64 max
			{0xd0, 0x9c},                         // int8 -100
			{0xd1, 0xff, 0x00},                   // int16 -256
			{0xd2, 0xff, 0xff, 0xff, 0x00},       // int32 -256
			{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0},    // int64 min
			{0xca, 0x3f, 0xc0, 0x00, 0x00},       // float32 1.5
			{0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0}, // float64 2.5
			{0xa1, 'a'},                          // fixstr
			{0xd9, 0x01, 'b'},                    // str8
			{0xda, 0x00, 0x01, 'c'},              // str16
			{0xdb, 0, 0, 0, 0x01, 'd'},           // str32
			{0xc4, 0x02, 0x00, 0xff},             // bin8
			{0xc0}, {0xc3}, {0xc2},               // nil true false
			{0xdc, 0x00, 0x01, 0x01}, // array16 [1]
			{0xdd, 0, 0, 0, 0},       // array32 []
			{0x84, 0x01, 0xa1, 'i', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xa1, 'f', 0xc3, 0xa1, 'b', 0xc0, 0xa1, 'n'}, // {1:"i", 1.5:"f", true:"b", nil:"n"}
			{0xde, 0x00, 0x01, 0xc4, 0x01, 'k', 0x90}, // map16 {bin "k": []}
		}
		frame := []byte{0x82, 0xa7}
		frame = append(frame, "command"...)
		frame = append(frame, 0xa4)
		frame = append(frame, "emit"...)
		frame = append(frame, 0xa5)
		frame = append(frame, "tuple"...)
		frame = append(frame, 0xdc, 0x00, byte(len(values)))
		for _, v := range values {
			frame = append(frame, v...)
		}
		m := decodeOne(t, frame, Msgpack, FromSubprocess).(Emit)
		want := []any{int64(5), int64(-1), int64(200), int64(256), int64(65536), float64(math.MaxUint64), int64(-100), int64(-256), int64(-256),
			int64(math.MinInt64), 1.5, 2.5, "a", "b", "c", "d", []byte{0x00, 0xff}, nil, true, false, []any{int64(1)}, []any{},
			map[string]any{"1": "i", "1.5": "f", "true": "b", "null": "n"}, map[string]any{"k": []any{}}}
		if !reflect.DeepEqual(m.Values, want) {
			t.Errorf("got  %#v\nwant %#v", m.Values, want)
		}
	})
}

// TestDecodeDefaults checks the defaults Storm applies to a sparse emit and log.
func TestDecodeDefaults(t *testing.T) {
	tests := []struct {
		in   string
		want Message
	}{
		{`{"command":"emit","tuple":[]}`, Emit{Stream: "default", NeedTaskIDs: true, Values: []any{}}},
		{`{"command":"emit","tuple":[],"id":null,"anchors":null,"stream":null,"task":null,"need_task_ids":null}`, Emit{Stream: "default", NeedTaskIDs: true, Values: []any{}}},
		{`{"command":"emit","tuple":[],"anchors":[]}`, Emit{Stream: "default", NeedTaskIDs: true, Values: []any{}}},
		{`{"command":"emit","tuple":[],"anchors":"a"}`, Emit{Anchors: []ID{StringID("a")}, Stream: "default", NeedTaskIDs: true, Values: []any{}}},
		{`{"command":"emit","tuple":[],"anchors":["a",7]}`, Emit{Anchors: []ID{StringID("a"), IntID(7)}, Stream: "default", NeedTaskIDs: true, Values: []any{}}},
		{`{"command":"emit","tuple":[],"id":1.50,"task":0,"need_task_ids":false}`, Emit{ID: mustNumberID("1.50"), Stream: "default", Values: []any{}}},
		{`{"command":"log","msg":"m"}`, Log{Msg: "m", Level: LogInfo}},
		{`{"command":"log","msg":"m","level":0}`, Log{Msg: "m", Level: LogTrace}},
		{`{"command":"log","msg":"m","level":4}`, Log{Msg: "m", Level: LogError}},
		{`{"command":"log","msg":"m","level":7}`, Log{Msg: "m", Level: LogInfo}},
		{`{"command":"log","msg":"m","level":"warn"}`, Log{Msg: "m", Level: LogInfo}},
		{`{"command":"log","msg":"m","level":3.0}`, Log{Msg: "m", Level: LogInfo}},
		{`{"command":"metrics","name":"m"}`, Metrics{Name: "m"}},
		{`{"command":"sync","extra":"ignored"}`, Sync{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			for _, s := range serializers {
				in := []byte(tt.in + "\nend\n")
				if s == Msgpack {
					in = jsonToMsgpack(t, tt.in)
				}
				got := decodeOne(t, in, s, FromSubprocess)
				if s == Msgpack {
					if e, ok := tt.want.(Emit); ok && e.ID.IsNumber() {
						e.ID = floatID(1.5) // msgpack has no number literals
						tt.want = e
					}
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%v: got %#v, want %#v", s, got, tt.want)
				}
			}
		})
	}
}

// TestDecodeSides checks which side decodes which messages.
func TestDecodeSides(t *testing.T) {
	tests := []struct {
		in       string
		squall   Message // FromSquall, nil if an error
		sub      Message // FromSubprocess, nil if an error
		squallIs error
		subIs    error
	}{
		{`{"command":"next","id":""}`, Next{}, nil, nil, ErrUnknownCommand},
		{`{"command":"next"}`, Next{}, nil, nil, ErrUnknownCommand},
		{`{"command":"activate","id":""}`, Activate{}, nil, nil, ErrUnknownCommand},
		{`{"command":"deactivate","id":""}`, Deactivate{}, nil, nil, ErrUnknownCommand},
		{`{"command":"ack","id":5}`, Ack{ID: IntID(5)}, Ack{ID: IntID(5)}, nil, nil},
		{`{"command":"fail","id":"x"}`, Fail{ID: StringID("x")}, Fail{ID: StringID("x")}, nil, nil},
		{`{"command":"sync"}`, nil, Sync{}, ErrUnknownCommand, nil},
		{`{"command":"emit","tuple":[]}`, nil, Emit{Stream: "default", NeedTaskIDs: true, Values: []any{}}, ErrUnknownCommand, nil},
		{`{"pid":7}`, nil, PIDReply{PID: 7}, ErrMissingField, nil},
		{`[1,2]`, TaskIDs{1, 2}, nil, nil, ErrWrongType},
		{`[]`, TaskIDs{}, nil, nil, ErrWrongType},
		{`{"id":"1","comp":"c","stream":"s","task":2,"tuple":[]}`, Tuple{ID: StringID("1"), Comp: "c", Stream: "s", Task: 2, Values: []any{}}, nil, nil, ErrMissingField},
		{`{"id":"1","stream":"__heartbeat","task":-1,"tuple":[]}`, NewHeartbeat(StringID("1")), nil, nil, ErrMissingField},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			for _, s := range serializers {
				in := []byte(tt.in + "\nend\n")
				if s == Msgpack {
					in = jsonToMsgpack(t, tt.in)
				}
				for _, c := range []struct {
					side Side
					want Message
					is   error
				}{{FromSquall, tt.squall, tt.squallIs}, {FromSubprocess, tt.sub, tt.subIs}} {
					got, err := newTestDecoder(t, bytes.NewReader(in), s, c.side).Decode()
					if c.want == nil {
						if !errors.Is(err, c.is) {
							t.Errorf("%v from %v: error = %v, want %v", s, c.side, err, c.is)
						}
						continue
					}
					if err != nil || !reflect.DeepEqual(got, c.want) {
						t.Errorf("%v from %v: got %#v, %v; want %#v", s, c.side, got, err, c.want)
					}
				}
			}
		})
	}
}

func TestDecodeTupleHelpers(t *testing.T) {
	hb := decodeOne(t, []byte(`{"id":"1","comp":null,"stream":"__heartbeat","task":-1,"tuple":[]}`+"\nend\n"), JSON, FromSquall).(Tuple)
	if !hb.IsHeartbeat() || hb.IsTick() || hb.Comp != "" {
		t.Errorf("heartbeat %#v: IsHeartbeat %v IsTick %v", hb, hb.IsHeartbeat(), hb.IsTick())
	}
	tick := decodeOne(t, []byte(`{"id":"2","comp":"__system","stream":"__tick","task":-1,"tuple":[30]}`+"\nend\n"), JSON, FromSquall).(Tuple)
	if !tick.IsTick() || tick.IsHeartbeat() || !reflect.DeepEqual(tick, NewTick(StringID("2"), 30)) {
		t.Errorf("tick %#v", tick)
	}
}

// TestDecodeContinuesAfterMessageError checks that a bad but well-framed
// message is consumed whole.
func TestDecodeContinuesAfterMessageError(t *testing.T) {
	for _, s := range serializers {
		t.Run(s.String(), func(t *testing.T) {
			var in []byte
			if s == JSON {
				in = []byte("{\"command\":\n\"bogus\"}\nend\n{not json}\nend\n{\"command\":\"sync\"}\nend\n")
			} else {
				in = append(jsonToMsgpack(t, `{"command":"bogus"}`), 0xd4, 0x01, 0x00) // then a fixext
				in = append(in, jsonToMsgpack(t, `{"command":"sync"}`)...)
			}
			dec := newTestDecoder(t, bytes.NewReader(in), s, FromSubprocess)
			if _, err := dec.Decode(); !errors.Is(err, ErrUnknownCommand) {
				t.Fatalf("first: %v", err)
			}
			if _, err := dec.Decode(); err == nil || errors.Is(err, ErrBrokenPipe) {
				t.Fatalf("second: %v", err)
			}
			if m, err := dec.Decode(); err != nil || m != (Sync{}) {
				t.Fatalf("third: %#v, %v", m, err)
			}
		})
	}
}

// TestDecodeStickyErrors checks that errors that lose the framing repeat.
func TestDecodeStickyErrors(t *testing.T) {
	tests := []struct {
		name string
		s    Serializer
		in   []byte
		is   error
	}{
		{"json eof", JSON, nil, io.EOF},
		{"json too large", JSON, []byte(strings.Repeat("x", 100) + "\nend\n{\"command\":\"sync\"}\nend\n"), ErrTooLarge},
		{"msgpack eof", Msgpack, nil, io.EOF},
		{"msgpack truncated", Msgpack, []byte{0x81, 0xa1}, io.ErrUnexpectedEOF},
		{"msgpack too large", Msgpack, append([]byte{0xda, 0x00, 0xff}, make([]byte, 255)...), ErrTooLarge},
		{"msgpack never-used byte", Msgpack, []byte{0xc1, 0xc0}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := newTestDecoder(t, bytes.NewReader(tt.in), tt.s, FromSubprocess, WithMaxMessageSize(64))
			_, err1 := dec.Decode()
			_, err2 := dec.Decode()
			if !errors.Is(err1, tt.is) || err2 != err1 {
				t.Errorf("errors = %v, %v; want %v twice", err1, err2, tt.is)
			}
		})
	}
}

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("read /dev/stdin: file already closed")
	for _, s := range serializers {
		dec := newTestDecoder(t, iotest.ErrReader(boom), s, FromSubprocess)
		if _, err := dec.Decode(); !errors.Is(err, ErrBrokenPipe) || !errors.Is(err, boom) {
			t.Errorf("%v: error = %v, want ErrBrokenPipe wrapping the read error", s, err)
		}
	}
}
