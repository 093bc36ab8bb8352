package multilang

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// Every malformed message a decoder must reject, with the sentinel it wraps.
// Each document is tried in JSON and, re-encoded, in msgpack.
var malformedDocs = []struct {
	side Side
	doc  string
	is   error
}{
	// The message itself.
	{FromSubprocess, `"sync"`, ErrWrongType},
	{FromSubprocess, `5`, ErrWrongType},
	{FromSubprocess, `null`, ErrWrongType},
	{FromSubprocess, `true`, ErrWrongType},
	{FromSubprocess, `[1,2]`, ErrWrongType},
	{FromSquall, `"next"`, ErrWrongType},
	{FromSubprocess, `{}`, ErrMissingField},
	{FromSubprocess, `{"command":null}`, ErrMissingField},
	{FromSubprocess, `{"command":5}`, ErrWrongType},
	{FromSubprocess, `{"command":["sync"]}`, ErrWrongType},
	// Unknown commands, and commands of the other side.
	{FromSubprocess, `{"command":"bogus"}`, ErrUnknownCommand},
	{FromSubprocess, `{"command":"SYNC"}`, ErrUnknownCommand},
	{FromSubprocess, `{"command":""}`, ErrUnknownCommand},
	{FromSubprocess, `{"command":"next","id":""}`, ErrUnknownCommand},
	{FromSubprocess, `{"command":"activate","id":""}`, ErrUnknownCommand},
	{FromSquall, `{"command":"emit","tuple":[]}`, ErrUnknownCommand},
	{FromSquall, `{"command":"sync"}`, ErrUnknownCommand},
	{FromSquall, `{"command":"log","msg":"x"}`, ErrUnknownCommand},
	// pid reply.
	{FromSubprocess, `{"pid":null}`, ErrMissingField},
	{FromSubprocess, `{"pid":"1234"}`, ErrWrongType},
	{FromSubprocess, `{"pid":12.5}`, ErrWrongType},
	{FromSubprocess, `{"pid":0}`, ErrWrongType},
	{FromSubprocess, `{"pid":-1}`, ErrWrongType},
	{FromSubprocess, `{"pid":99999999999999999999}`, ErrWrongType},
	// ack, fail.
	{FromSubprocess, `{"command":"ack"}`, ErrMissingField},
	{FromSubprocess, `{"command":"ack","id":null}`, ErrMissingField},
	{FromSubprocess, `{"command":"fail"}`, ErrMissingField},
	{FromSubprocess, `{"command":"ack","id":true}`, ErrWrongType},
	{FromSubprocess, `{"command":"ack","id":["a"]}`, ErrWrongType},
	{FromSubprocess, `{"command":"fail","id":{"a":1}}`, ErrWrongType},
	{FromSquall, `{"command":"ack"}`, ErrMissingField},
	{FromSquall, `{"command":"fail","id":false}`, ErrWrongType},
	// emit.
	{FromSubprocess, `{"command":"emit"}`, ErrMissingField},
	{FromSubprocess, `{"command":"emit","tuple":null}`, ErrMissingField},
	{FromSubprocess, `{"command":"emit","tuple":"x"}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":{"a":1}}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"stream":1}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"task":"9"}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"task":9.5}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"task":99999999999999999999}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"need_task_ids":"no"}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"need_task_ids":0}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"anchors":5}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"anchors":{"a":1}}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"anchors":["a",{}]}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"anchors":[null]}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"id":{}}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"id":[1]}`, ErrWrongType},
	{FromSubprocess, `{"command":"emit","tuple":[],"id":false}`, ErrWrongType},
	// log, error, metrics.
	{FromSubprocess, `{"command":"log"}`, ErrMissingField},
	{FromSubprocess, `{"command":"log","msg":null,"level":2}`, ErrMissingField},
	{FromSubprocess, `{"command":"log","msg":1}`, ErrWrongType},
	{FromSubprocess, `{"command":"error"}`, ErrMissingField},
	{FromSubprocess, `{"command":"error","msg":["x"]}`, ErrWrongType},
	{FromSubprocess, `{"command":"metrics"}`, ErrMissingField},
	{FromSubprocess, `{"command":"metrics","params":1}`, ErrMissingField},
	{FromSubprocess, `{"command":"metrics","name":[],"params":1}`, ErrWrongType},
	// tuple.
	{FromSquall, `{}`, ErrMissingField},
	{FromSquall, `{"comp":"c","stream":"s","task":1,"tuple":[]}`, ErrMissingField},
	{FromSquall, `{"id":"1","comp":"c","task":1,"tuple":[]}`, ErrMissingField},
	{FromSquall, `{"id":"1","comp":"c","stream":"s","tuple":[]}`, ErrMissingField},
	{FromSquall, `{"id":"1","comp":"c","stream":"s","task":1}`, ErrMissingField},
	{FromSquall, `{"id":true,"comp":"c","stream":"s","task":1,"tuple":[]}`, ErrWrongType},
	{FromSquall, `{"id":"1","comp":5,"stream":"s","task":1,"tuple":[]}`, ErrWrongType},
	{FromSquall, `{"id":"1","comp":"c","stream":[],"task":1,"tuple":[]}`, ErrWrongType},
	{FromSquall, `{"id":"1","comp":"c","stream":"s","task":"1","tuple":[]}`, ErrWrongType},
	{FromSquall, `{"id":"1","comp":"c","stream":"s","task":1,"tuple":"v"}`, ErrWrongType},
	{FromSquall, `{"pid":1}`, ErrMissingField},
	// task ids.
	{FromSquall, `[1,"2"]`, ErrWrongType},
	{FromSquall, `[1.5]`, ErrWrongType},
	{FromSquall, `[null]`, ErrWrongType},
	{FromSquall, `[[1]]`, ErrWrongType},
	{FromSquall, `[99999999999999999999]`, ErrWrongType},
	// handshake.
	{FromSquall, `{"pidDir":null,"conf":{},"context":{"taskid":1,"task->component":{}}}`, ErrMissingField},
	{FromSquall, `{"pidDir":1,"conf":{},"context":{"taskid":1,"task->component":{}}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","context":{"taskid":1,"task->component":{}}}`, ErrMissingField},
	{FromSquall, `{"pidDir":"/p","conf":[],"context":{"taskid":1,"task->component":{}}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{}}`, ErrMissingField},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":"c"}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"task->component":{}}}`, ErrMissingField},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":"1","task->component":{}}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1}}`, ErrMissingField},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{"x":"a"}}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{"1":2}}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"componentid":1}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"streams":"default"}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"streams":[1]}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"stream->outputfields":{"s":"f"}}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"stream->target->grouping":{"s":{"b":{}}}}}`, ErrMissingField},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"stream->target->grouping":{"s":{"b":"SHUFFLE"}}}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"source->stream->grouping":{"a":{"s":{"type":"FIELDS","fields":[1]}}}}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"source->stream->grouping":[]}}`, ErrWrongType},
	{FromSquall, `{"pidDir":"/p","conf":{},"context":{"taskid":1,"task->component":{},"source->stream->fields":{"a":{"s":[true]}}}}`, ErrWrongType},
}

func TestMalformedMessages(t *testing.T) {
	for _, tt := range malformedDocs {
		for _, s := range serializers {
			t.Run(s.String()+"/"+tt.side.String()+"/"+tt.doc, func(t *testing.T) {
				in := []byte(tt.doc + "\nend\n")
				if s == Msgpack {
					in = jsonToMsgpack(t, tt.doc)
				}
				m, err := newTestDecoder(t, bytes.NewReader(in), s, tt.side).Decode()
				if !errors.Is(err, tt.is) {
					t.Fatalf("Decode = %#v, %v; want an error wrapping %v", m, err, tt.is)
				}
				if !strings.HasPrefix(err.Error(), "multilang: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
			})
		}
	}
}

// Byte-level framing errors of one serializer only.
var malformedFrames = []struct {
	name string
	s    Serializer
	in   string
	is   error
	also error // a second error the result must wrap
}{
	{"json eof", JSON, "", ErrBrokenPipe, io.EOF},
	{"json eof after blank lines", JSON, "\n\n", ErrBrokenPipe, io.EOF},
	{"json eof in message", JSON, "{\"command\":\"sync\"}\n", ErrBrokenPipe, io.ErrUnexpectedEOF},
	{"json eof in line", JSON, "{\"command\":\"sync\"}", ErrBrokenPipe, io.ErrUnexpectedEOF},
	{"json eof in end", JSON, "{\"command\":\"sync\"}\nen", ErrBrokenPipe, io.ErrUnexpectedEOF},
	{"json empty message", JSON, "end\n", ErrMalformed, nil},
	{"json blank then end", JSON, "\n\nend\n", ErrMalformed, nil},
	{"json truncated", JSON, "{\"command\":\nend\n", ErrMalformed, nil},
	{"json not json", JSON, "hello\nend\n", ErrMalformed, nil},
	{"json two documents", JSON, "{} {}\nend\n", ErrMalformed, nil},
	{"json trailing garbage", JSON, "{\"command\":\"sync\"}x\nend\n", ErrMalformed, nil},
	{"json NaN", JSON, "{\"command\":\"emit\",\"tuple\":[NaN]}\nend\n", ErrMalformed, nil},
	{"json single quotes", JSON, "{'command':'sync'}\nend\n", ErrMalformed, nil},
	{"json end inside string", JSON, "{\"command\":\"log\",\"msg\":\"a\nend\nb\"}\nend\n", ErrMalformed, nil},
	{"json end with spaces is not end", JSON, "{\"command\":\"sync\"}\n end\n", ErrBrokenPipe, io.ErrUnexpectedEOF},
	{"json number overflow", JSON, "{\"command\":\"emit\",\"tuple\":[1e400]}\nend\n", ErrWrongType, nil},
	{"json overflow in params", JSON, "{\"command\":\"metrics\",\"name\":\"m\",\"params\":{\"a\":[-1e999]}}\nend\n", ErrWrongType, nil},
	{"json too deep", JSON, "{\"command\":\"emit\",\"tuple\":" + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "}\nend\n", ErrMalformed, nil},
	{"msgpack eof", Msgpack, "", ErrBrokenPipe, io.EOF},
	{"msgpack eof in map", Msgpack, "\x81\xa7command", ErrBrokenPipe, io.ErrUnexpectedEOF},
	{"msgpack eof in length", Msgpack, "\xda\x00", ErrBrokenPipe, io.ErrUnexpectedEOF},
	{"msgpack eof in float", Msgpack, "\x91\xcb\x00\x00", ErrBrokenPipe, io.ErrUnexpectedEOF},
	{"msgpack never-used byte", Msgpack, "\xc1", ErrMalformed, nil},
	{"msgpack never-used byte nested", Msgpack, "\x81\xa1a\xc1", ErrMalformed, nil},
	{"msgpack too deep", Msgpack, strings.Repeat("\x91", 10002) + "\xc0", ErrMalformed, nil},
	{"msgpack top-level string", Msgpack, "\xa4sync", ErrWrongType, nil},
	{"msgpack top-level int", Msgpack, "\x05", ErrWrongType, nil},
	{"msgpack top-level nil", Msgpack, "\xc0", ErrWrongType, nil},
	{"msgpack fixext in tuple", Msgpack, "\x82\xa7command\xa4emit\xa5tuple\x91\xd6\xff\x00\x00\x00\x00", ErrWrongType, nil},
	{"msgpack ext8 in tuple", Msgpack, "\x82\xa7command\xa4emit\xa5tuple\x91\xc7\x01\x05\x00", ErrWrongType, nil},
	{"msgpack list as map key", Msgpack, "\x81\x90\xc0", ErrWrongType, nil},
	{"msgpack map as map key", Msgpack, "\x81\x80\xc0", ErrWrongType, nil},
	{"msgpack bin command", Msgpack, "\x81\xc4\x07command\xc4\x05bogus", ErrUnknownCommand, nil},
}

func TestMalformedFrames(t *testing.T) {
	for _, tt := range malformedFrames {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newTestDecoder(t, strings.NewReader(tt.in), tt.s, FromSubprocess).Decode()
			if !errors.Is(err, tt.is) || (tt.also != nil && !errors.Is(err, tt.also)) {
				t.Fatalf("Decode = %#v, %v; want an error wrapping %v and %v", m, err, tt.is, tt.also)
			}
		})
	}
}

func TestNumberOverflowInConf(t *testing.T) {
	in := `{"pidDir":"/p","conf":{"a":1e999},"context":{"taskid":1,"task->component":{}}}` + "\nend\n"
	if _, err := newTestDecoder(t, strings.NewReader(in), JSON, FromSquall).Decode(); !errors.Is(err, ErrWrongType) {
		t.Fatalf("error = %v, want ErrWrongType", err)
	}
}

func TestMaxMessageSize(t *testing.T) {
	msg := `{"command":"log","msg":"` + strings.Repeat("x", 100) + `"}`
	tests := []struct {
		name string
		s    Serializer
		in   []byte
		max  int
		is   error
	}{
		{"json fits exactly", JSON, []byte(msg + "\nend\n"), len(msg), nil},
		{"json one byte over", JSON, []byte(msg + "\nend\n"), len(msg) - 1, ErrTooLarge},
		{"json fits with CRLF end", JSON, []byte(msg + "\r\nend\r\n"), len(msg) + 1, nil},
		{"json blank lines count", JSON, []byte(strings.Repeat("\n", 200) + `{"command":"sync"}` + "\nend\n"), 100, ErrTooLarge},
		{"json lines count", JSON, []byte(strings.Repeat("\"x\",\n", 100) + "\nend\n"), 100, ErrTooLarge},
		{"msgpack fits exactly", Msgpack, jsonToMsgpack(t, msg), len(jsonToMsgpack(t, msg)), nil},
		{"msgpack one byte over", Msgpack, jsonToMsgpack(t, msg), len(jsonToMsgpack(t, msg)) - 1, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTestDecoder(t, bytes.NewReader(tt.in), tt.s, FromSubprocess, WithMaxMessageSize(tt.max)).Decode()
			if tt.is == nil && err != nil || !errors.Is(err, tt.is) {
				t.Fatalf("error = %v, want %v", err, tt.is)
			}
		})
	}
}

// TestHugeClaimsAllocateLittle feeds headers that claim gigabytes, with and
// without the bytes behind them, and checks that the decoder neither reads
// nor allocates for the claim.
func TestHugeClaimsAllocateLittle(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		is   error
	}{
		{"str32 4 GiB", []byte{0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'}, ErrTooLarge},
		{"bin32 4 GiB", []byte{0x91, 0xc6, 0xff, 0xff, 0xff, 0xff}, ErrTooLarge},
		{"ext32 4 GiB", []byte{0x91, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, ErrTooLarge},
		{"str32 15 MiB, 1 byte sent", []byte{0x91, 0xdb, 0x00, 0xf0, 0x00, 0x00, 'x'}, ErrBrokenPipe},
		{"array32 4G items", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}, ErrBrokenPipe},
		{"map32 4G pairs", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0}, ErrBrokenPipe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := newTestDecoder(t, bytes.NewReader(tt.in), Msgpack, FromSubprocess).Decode()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tt.is) {
				t.Fatalf("error = %v, want %v", err, tt.is)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("allocated %d bytes for a %d-byte input", n, len(tt.in))
			}
		})
	}
}

// TestDepthLimit checks that decoders and encoders agree on the nesting
// limit: 10000 containers, counting the message object, and no more.
func TestDepthLimit(t *testing.T) {
	for _, tt := range []struct {
		name       string
		containers int  // in the whole message
		emptyInner bool // the innermost container is an empty list
	}{
		{"at the limit", maxDepth, false},
		{"at the limit, innermost empty", maxDepth, true},
		{"one over", maxDepth + 1, false},
		{"one over, innermost empty", maxDepth + 1, true},
	} {
		// The message object and the tuple list are two of the containers.
		lists := tt.containers - 2
		var inner any = int64(1)
		jsonInner, mpInner := "1", byte(0x01)
		if tt.emptyInner {
			lists--
			inner, jsonInner, mpInner = []any{}, "[]", 0x90
		}
		v := inner
		for range lists {
			v = []any{v}
		}
		m := Emit{Stream: "default", Values: []any{v}}
		ok := tt.containers <= maxDepth
		for _, s := range serializers {
			t.Run(tt.name+"/"+s.String(), func(t *testing.T) {
				b, err := AppendFrame(nil, s, m)
				if ok {
					if err != nil {
						t.Fatal(err)
					}
					got := decodeOne(t, b, s, FromSubprocess)
					if _, err := AppendFrame(nil, s, got); err != nil {
						t.Errorf("re-encoding: %v", err)
					}
					return
				}
				if !errors.Is(err, ErrUnsupportedValue) {
					t.Errorf("encoding: %v, want ErrUnsupportedValue", err)
				}
				// The decoder refuses the same nesting built by hand.
				var in []byte
				if s == JSON {
					in = []byte(`{"command":"emit","tuple":[` + strings.Repeat("[", lists) + jsonInner + strings.Repeat("]", lists) + "]}\nend\n")
				} else {
					in = append([]byte{0x82, 0xa7}, "command"...)
					in = append(in, 0xa4)
					in = append(in, "emit"...)
					in = append(in, 0xa5)
					in = append(in, "tuple"...)
					in = append(in, 0x91)
					in = append(in, bytes.Repeat([]byte{0x91}, lists)...)
					in = append(in, mpInner)
				}
				if _, err := newTestDecoder(t, bytes.NewReader(in), s, FromSubprocess).Decode(); !errors.Is(err, ErrMalformed) {
					t.Errorf("decoding: %v, want ErrMalformed", err)
				}
			})
		}
	}
}
