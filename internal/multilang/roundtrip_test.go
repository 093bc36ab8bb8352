package multilang

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Messages as a decoder returns them (defaults filled in), so that
// decode(encode(m)) must equal m.
var roundTripMessages = []struct {
	side Side
	msg  Message
}{
	{FromSquall, squallToBolt[0]},
	{FromSquall, squallToSpout[0]},
	{FromSquall, Handshake{PIDDir: "/p", Conf: map[string]any{}, Context: Context{
		TaskToComponent: map[int]string{}, Streams: []string{}, StreamToOutputFields: map[string][]string{},
		StreamToTargetToGrouping: map[string]map[string]Grouping{}, SourceToStreamToGrouping: map[string]map[string]Grouping{},
		SourceToStreamToFields: map[string]map[string][]string{},
	}}},
	{FromSquall, Next{}},
	{FromSquall, Activate{}},
	{FromSquall, Deactivate{}},
	{FromSquall, Ack{ID: IntID(math.MinInt64)}},
	{FromSquall, Ack{ID: StringID("")}},
	{FromSquall, Fail{ID: StringID("m-2")}},
	{FromSquall, Tuple{ID: StringID("-1"), Comp: "c", Stream: "s", Task: 1<<31 + 5, Values: []any{}}},
	{FromSquall, NewHeartbeat(StringID("1"))},
	{FromSquall, NewTick(StringID("2"), 60)},
	{FromSquall, TaskIDs{}},
	{FromSquall, TaskIDs{1, 2, 3}},
	{FromSubprocess, PIDReply{PID: 1 << 22}},
	{FromSubprocess, Emit{Stream: "default", Values: []any{}}},
	{FromSubprocess, Emit{ID: StringID("x"), Anchors: []ID{StringID("a"), IntID(-3)}, Stream: "s", Task: -1, NeedTaskIDs: true, Values: allValues()}},
	{FromSubprocess, Ack{ID: StringID("-6955786537413359385")}},
	{FromSubprocess, Fail{ID: IntID(0)}},
	{FromSubprocess, Log{Msg: "", Level: LogTrace}},
	{FromSubprocess, Log{Msg: "multi\nline ☃", Level: LogError}},
	{FromSubprocess, ReportError{Msg: "Traceback...\n"}},
	{FromSubprocess, Metrics{Name: "m", Params: nil}},
	{FromSubprocess, Metrics{Name: "m", Params: map[string]any{"nested": allValues()}}},
	{FromSubprocess, Sync{}},
}

// allValues has one of every mapped value type that both serializers carry.
func allValues() []any {
	return []any{
		"", "s", "naïve ☃ \x00 \"q\" \\ \n", strings.Repeat("long ", 100),
		int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64),
		0.0, 1.0, -2.5, 1e300, 5e-324,
		true, false, nil,
		[]any{}, []any{[]any{int64(1)}, map[string]any{}},
		map[string]any{"": nil, "k": []any{"v"}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range roundTripMessages {
		for _, s := range serializers {
			t.Run(s.String()+"/"+describe(tt.msg), func(t *testing.T) {
				b, err := AppendFrame(nil, s, tt.msg)
				if err != nil {
					t.Fatal(err)
				}
				got := decodeOne(t, b, s, tt.side)
				if !reflect.DeepEqual(got, tt.msg) {
					t.Errorf("got  %#v\nwant %#v", got, tt.msg)
				}
				// And the second encoding is the same bytes.
				b2, err := AppendFrame(nil, s, got)
				if err != nil || !bytes.Equal(b, b2) {
					t.Errorf("re-encoding differs: %v\n%q\n%q", err, b, b2)
				}
			})
		}
	}
}

// TestRoundTripBytes: []byte is a bin in msgpack and base64 text in JSON.
func TestRoundTripBytes(t *testing.T) {
	m := Emit{Stream: "default", Values: []any{[]byte{0, 1, 0xff}, []byte{}}}
	b, err := AppendFrame(nil, Msgpack, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeOne(t, b, Msgpack, FromSubprocess); !reflect.DeepEqual(got, m) {
		t.Errorf("msgpack: got %#v", got)
	}
	b, err = AppendFrame(nil, JSON, m)
	if err != nil {
		t.Fatal(err)
	}
	want := Emit{Stream: "default", Values: []any{"AAH/", ""}}
	if got := decodeOne(t, b, JSON, FromSubprocess); !reflect.DeepEqual(got, want) {
		t.Errorf("json: got %#v", got)
	}
}

// TestRoundTripGoTypes: Go types without a wire twin come back as their mapping.
func TestRoundTripGoTypes(t *testing.T) {
	in := []any{7, int8(-8), uint16(9), uint64(10), float32(0.5), []string{"a"}, []int{1}, map[string]string{"k": "v"}, map[string][]string{"k": {"v"}}}
	want := []any{int64(7), int64(-8), int64(9), int64(10), 0.5, []any{"a"}, []any{int64(1)}, map[string]any{"k": "v"}, map[string]any{"k": []any{"v"}}}
	for _, s := range serializers {
		b, err := AppendFrame(nil, s, Emit{Values: in})
		if err != nil {
			t.Fatal(err)
		}
		got := decodeOne(t, b, s, FromSubprocess).(Emit)
		if !reflect.DeepEqual(got.Values, want) {
			t.Errorf("%v: got %#v\nwant %#v", s, got.Values, want)
		}
	}
}
