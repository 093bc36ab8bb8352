package multilang

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// The exact JSON squall writes for each message type.
var encodeJSONTests = []struct {
	name string
	msg  Message
	want string
}{
	{"next", Next{}, `{"command":"next","id":""}`},
	{"activate", Activate{}, `{"command":"activate","id":""}`},
	{"deactivate", Deactivate{}, `{"command":"deactivate","id":""}`},
	{"ack string id", Ack{ID: StringID("123123")}, `{"command":"ack","id":"123123"}`},
	{"ack number id", Ack{ID: IntID(1231231)}, `{"command":"ack","id":1231231}`},
	{"fail", Fail{ID: StringID("m-2")}, `{"command":"fail","id":"m-2"}`},
	{"tuple", Tuple{ID: StringID("-6955786537413359385"), Comp: "example-spout", Stream: "default", Task: 9, Values: []any{"snow white", "field2", int64(3)}},
		`{"id":"-6955786537413359385","comp":"example-spout","stream":"default","task":9,"tuple":["snow white","field2",3]}`},
	{"heartbeat", NewHeartbeat(StringID("7")), `{"id":"7","comp":null,"stream":"__heartbeat","task":-1,"tuple":[]}`},
	{"tick", NewTick(StringID("8"), 5), `{"id":"8","comp":"__system","stream":"__tick","task":-1,"tuple":[5]}`},
	{"nil tuple values", Tuple{ID: StringID("9"), Comp: "c", Stream: "s", Task: 1}, `{"id":"9","comp":"c","stream":"s","task":1,"tuple":[]}`},
	{"task ids", TaskIDs{12, 22, 24}, `[12,22,24]`},
	{"no task ids", TaskIDs(nil), `[]`},
	{"pid", PIDReply{PID: 1234}, `{"pid":1234}`},
	{"emit spout", Emit{ID: StringID("1231231"), Stream: "s", Task: 9, Values: []any{"field1", 2, 3}},
		`{"command":"emit","id":"1231231","stream":"s","task":9,"tuple":["field1",2,3],"need_task_ids":false}`},
	{"emit bolt", Emit{Anchors: []ID{StringID("1231231"), StringID("-234234234")}, NeedTaskIDs: true, Values: []any{"w"}},
		`{"command":"emit","anchors":["1231231","-234234234"],"stream":"default","tuple":["w"],"need_task_ids":true}`},
	{"log", Log{Msg: "hello", Level: LogWarn}, `{"command":"log","msg":"hello","level":3}`},
	{"error", ReportError{Msg: "traceback...\n"}, `{"command":"error","msg":"traceback...\n"}`},
	{"metrics", Metrics{Name: "my-metric", Params: map[string]any{"b": 1, "a": []any{2.5}}}, `{"command":"metrics","name":"my-metric","params":{"a":[2.5],"b":1}}`},
	{"metrics nil", Metrics{Name: "m"}, `{"command":"metrics","name":"m","params":null}`},
	{"sync", Sync{}, `{"command":"sync"}`},
	{"handshake", Handshake{PIDDir: "/p", Conf: map[string]any{"topology.name": "t"}, Context: Context{
		TaskToComponent: map[int]string{10: "b", 2: "a"}, TaskID: 2, ComponentID: "a",
		StreamToTargetToGrouping: map[string]map[string]Grouping{"default": {
			"b": {Type: GroupingFields}, "c": {Type: GroupingLocalOrShuffle, Fields: []string{"ignored"}},
		}},
	}}, `{"pidDir":"/p","conf":{"topology.name":"t"},"context":{"task->component":{"2":"a","10":"b"},"taskid":2,"componentid":"a","streams":[],` +
		`"stream->outputfields":{},"stream->target->grouping":{"default":{"b":{"type":"FIELDS","fields":[]},"c":{"type":"LOCAL_OR_SHUFFLE"}}},` +
		`"source->stream->grouping":{},"source->stream->fields":{}}}`},
	{"handshake nil conf", Handshake{PIDDir: "/p"}, `{"pidDir":"/p","conf":{},"context":{"task->component":{},"taskid":0,"componentid":"",` +
		`"streams":[],"stream->outputfields":{},"stream->target->grouping":{},"source->stream->grouping":{},"source->stream->fields":{}}}`},
}

func TestEncodeJSON(t *testing.T) {
	for _, tt := range encodeJSONTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendFrame(nil, JSON, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want + "\nend\n"; string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestEncodeMsgpackMatchesJSON checks each msgpack frame against its JSON
// twin with an independent decoder: the msgpack library's.
func TestEncodeMsgpackMatchesJSON(t *testing.T) {
	for _, tt := range encodeJSONTests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendFrame(nil, Msgpack, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			dec := msgpack.NewDecoder(bytes.NewReader(b))
			dec.UseLooseInterfaceDecoding(true)
			dec.SetMapDecoder(func(d *msgpack.Decoder) (any, error) { return d.DecodeMap() })
			got, err := dec.DecodeInterface()
			if err != nil {
				t.Fatal(err)
			}
			if rest := dec.Buffered(); rest != nil {
				if n, _ := rest.Read(make([]byte, 1)); n > 0 {
					t.Fatal("bytes after the msgpack object")
				}
			}
			var want any
			d := json.NewDecoder(bytes.NewReader([]byte(tt.want)))
			if err := d.Decode(&want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(jsonish(got), jsonish(want)) {
				t.Errorf("msgpack decodes to %#v\nJSON decodes to    %#v", jsonish(got), jsonish(want))
			}
		})
	}
}

// jsonish makes the msgpack library's and encoding/json's values comparable.
func jsonish(v any) any {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonish(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = jsonish(e)
		}
		return out
	default:
		return v
	}
}

func TestEncodeJSONValues(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, `null`},
		{"string escapes", "a\"b\\c\n\t\r\b\f\x01/<>&", `"a\"b\\c\n\t\r\b\f\u0001/<>&"`},
		{"unicode kept", "naïve ☃", `"naïve ☃"`},
		{"invalid utf8", "a\xffb", `"a\ufffdb"`},
		{"line separators", "\u2028\u2029", `"\u2028\u2029"`},
		{"ints", []any{int8(-1), int16(2), int32(3), int64(-4), 5, uint(6), uint8(7), uint16(8), uint32(9), uint64(math.MaxUint64)}, `[-1,2,3,-4,5,6,7,8,9,18446744073709551615]`},
		{"float stays float", []any{1.0, -2.0, 0.0, 2.5, 1e21, 1e-7, float32(1.5), float32(3)}, `[1.0,-2.0,0.0,2.5,1e+21,1e-7,1.5,3.0]`},
		{"bool", []any{true, false}, `[true,false]`},
		{"bytes", []byte("hi"), `"aGk="`},
		{"nil bytes", []byte(nil), `null`},
		{"typed slices", []any{[]string{"a"}, []int{1}, []int64{2}, []float64{3}}, `[["a"],[1],[2],[3.0]]`},
		{"sorted map", map[string]any{"b": 1, "a": map[string]string{"y": "1", "x": "2"}}, `{"a":{"x":"2","y":"1"},"b":1}`},
		{"map of lists", map[string][]string{"k": {"v"}}, `{"k":["v"]}`},
		{"nil map", map[string]any(nil), `null`},
		{"json.Number", json.Number("12.50"), `12.50`},
		{"struct through encoding/json", point{X: 1}, `{"x":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendFrame(nil, JSON, Metrics{Name: "m", Params: tt.v})
			if err != nil {
				t.Fatal(err)
			}
			want := `{"command":"metrics","name":"m","params":` + tt.want + "}\nend\n"
			if string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	tests := []struct {
		name string
		msg  Message
		json bool // fails in JSON only
	}{
		{"nil message", nil, false},
		{"zero ack id", Ack{}, false},
		{"zero anchor", Emit{Anchors: []ID{{}}}, false},
		{"cyclic list", Emit{Values: []any{cyclic}}, false},
		{"channel", Emit{Values: []any{make(chan int)}}, false},
		{"bad json.Number", Emit{Values: []any{json.Number("abc")}}, false},
		{"NaN", Emit{Values: []any{math.NaN()}}, true},
		{"Inf", Metrics{Name: "m", Params: math.Inf(-1)}, true},
	}
	for _, tt := range tests {
		for _, s := range serializers {
			t.Run(tt.name+"/"+s.String(), func(t *testing.T) {
				dst := []byte("keep")
				got, err := AppendFrame(dst, s, tt.msg)
				if tt.json && s == Msgpack {
					if err != nil {
						t.Fatalf("msgpack: %v", err)
					}
					return
				}
				if !errors.Is(err, ErrUnsupportedValue) {
					t.Fatalf("error = %v, want ErrUnsupportedValue", err)
				}
				if string(got) != "keep" {
					t.Errorf("dst = %q, want it unchanged", got)
				}
			})
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// countingWriter records the size of each Write.
type countingWriter struct{ writes []int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return len(p), nil
}

func TestEncoder(t *testing.T) {
	if _, err := NewEncoder(nil, JSON); err == nil {
		t.Error("NewEncoder(nil) succeeded")
	}
	if _, err := NewEncoder(&bytes.Buffer{}, 0); !errors.Is(err, ErrUnknownSerializer) {
		t.Errorf("NewEncoder(serializer 0) error = %v", err)
	}
	for _, s := range serializers {
		cw := &countingWriter{}
		enc, err := NewEncoder(cw, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []Message{Sync{}, Emit{Values: []any{"x"}}, Ack{}, Sync{}} {
			_ = enc.Encode(m) // Ack{} fails and writes nothing
		}
		if len(cw.writes) != 3 {
			t.Errorf("%v: %d writes, want one per encoded message (3)", s, len(cw.writes))
		}
		enc, _ = NewEncoder(failingWriter{errors.New("EPIPE")}, s)
		if err := enc.Encode(Sync{}); !errors.Is(err, ErrBrokenPipe) {
			t.Errorf("%v: write error = %v, want ErrBrokenPipe", s, err)
		}
	}
}
