package topology_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/squall-streams/squall/topology"
)

func TestTupleAccessors(t *testing.T) {
	fields := topology.Fields{"s", "i", "i64", "i32", "u32", "f", "f32", "b", "raw", "nil", "list"}
	tup := topology.NewTuple("split", 3, "words", fields, topology.Values{
		"hello", 7, int64(-8), int32(9), uint32(10), 1.5, float32(2.5), true, []byte("xy"), nil, []any{1, "a"},
	})

	strs := []struct {
		field, want string
	}{
		{"s", "hello"},
		{"i", ""}, // not a string
		{"missing", ""},
	}
	for _, tt := range strs {
		if got := topology.String(tup, tt.field); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.field, got, tt.want)
		}
	}

	ints := []struct {
		field string
		want  int64
		ok    bool
	}{
		{"i", 7, true},
		{"i64", -8, true},
		{"i32", 9, true},
		{"u32", 10, true},
		{"f", 0, false},
		{"s", 0, false},
		{"nil", 0, false},
		{"missing", 0, false},
	}
	for _, tt := range ints {
		if got, ok := topology.Int64(tup, tt.field); got != tt.want || ok != tt.ok {
			t.Errorf("Int64(%q) = %d, %v; want %d, %v", tt.field, got, ok, tt.want, tt.ok)
		}
	}

	floats := []struct {
		field string
		want  float64
		ok    bool
	}{
		{"f", 1.5, true},
		{"f32", 2.5, true},
		{"i", 0, false},
		{"missing", 0, false},
	}
	for _, tt := range floats {
		if got, ok := topology.Float64(tup, tt.field); got != tt.want || ok != tt.ok {
			t.Errorf("Float64(%q) = %v, %v; want %v, %v", tt.field, got, ok, tt.want, tt.ok)
		}
	}

	bools := []struct {
		field    string
		want, ok bool
	}{
		{"b", true, true},
		{"s", false, false},
		{"missing", false, false},
	}
	for _, tt := range bools {
		if got, ok := topology.Bool(tup, tt.field); got != tt.want || ok != tt.ok {
			t.Errorf("Bool(%q) = %v, %v; want %v, %v", tt.field, got, ok, tt.want, tt.ok)
		}
	}

	if got, ok := topology.Bytes(tup, "raw"); !ok || !bytes.Equal(got, []byte("xy")) {
		t.Errorf("Bytes(raw) = %q, %v", got, ok)
	}
	for _, f := range []string{"s", "missing"} {
		if got, ok := topology.Bytes(tup, f); ok || got != nil {
			t.Errorf("Bytes(%q) = %q, %v; want nil, false", f, got, ok)
		}
	}

	values := []struct {
		field string
		want  any
	}{
		{"s", "hello"},
		{"i", 7},
		{"b", true},
		{"nil", nil},
		{"missing", nil},
	}
	for _, tt := range values {
		if got := topology.Value(tup, tt.field); got != tt.want {
			t.Errorf("Value(%q) = %#v, want %#v", tt.field, got, tt.want)
		}
	}
	if got, ok := topology.Value(tup, "list").([]any); !ok || len(got) != 2 {
		t.Errorf("Value(list) = %#v", topology.Value(tup, "list"))
	}

	if tup.SourceComponent() != "split" || tup.SourceTask() != 3 || tup.Stream() != "words" || !slices.Equal(tup.Fields(), fields) {
		t.Errorf("header = %s %d %s %v", tup.SourceComponent(), tup.SourceTask(), tup.Stream(), tup.Fields())
	}
	if got := topology.Describe(tup); got != "split:3/words" {
		t.Errorf("Describe = %q", got)
	}
}

// A field declared but without a value (a short tuple) reads as missing.
func TestTupleShortValues(t *testing.T) {
	tup := topology.NewTuple("c", 1, topology.DefaultStream, topology.Fields{"a", "b"}, topology.Values{"x"})
	if v := topology.Value(tup, "b"); v != nil {
		t.Errorf("Value(b) = %#v, want nil", v)
	}
	if _, ok := topology.Int64(tup, "b"); ok {
		t.Errorf("Int64(b) ok on a missing value")
	}
}

func TestNewTupleCopiesValues(t *testing.T) {
	vals := topology.Values{"a", 1}
	tup := topology.NewTuple("c", 1, topology.DefaultStream, topology.Fields{"s", "n"}, vals)
	vals[0] = "changed"
	if got := topology.String(tup, "s"); got != "a" {
		t.Errorf("tuple sees the caller's later change: %q", got)
	}
}

func TestIsTick(t *testing.T) {
	tests := []struct {
		comp   topology.ComponentID
		stream topology.StreamID
		want   bool
	}{
		{topology.SystemComponent, topology.TickStream, true},
		{topology.SystemComponent, topology.DefaultStream, false},
		{"spout", topology.TickStream, false},
		{"spout", topology.DefaultStream, false},
	}
	for _, tt := range tests {
		tup := topology.NewTuple(tt.comp, topology.SystemTask, tt.stream, nil, nil)
		if got := topology.IsTick(tup); got != tt.want {
			t.Errorf("IsTick(%s/%s) = %v, want %v", tt.comp, tt.stream, got, tt.want)
		}
	}
}

// call is one call on a recordingCollector.
type call struct {
	op      string
	stream  topology.StreamID
	task    topology.TaskID
	values  topology.Values
	anchors []topology.Tuple
	tuple   topology.Tuple
	err     error
}

func (c call) String() string {
	return fmt.Sprintf("%s(stream=%s task=%d values=%v anchors=%d tuple=%v err=%v)", c.op, c.stream, c.task, c.values, len(c.anchors), c.tuple != nil, c.err)
}

// recordingCollector is a fake OutputCollector that records every call.
type recordingCollector struct{ calls []call }

var _ topology.OutputCollector = (*recordingCollector)(nil)

func (r *recordingCollector) Emit(values topology.Values, anchors ...topology.Tuple) {
	r.EmitStream(topology.DefaultStream, values, anchors...)
}

func (r *recordingCollector) EmitStream(stream topology.StreamID, values topology.Values, anchors ...topology.Tuple) {
	// Anchors are cloned: the caller may reuse its slice.
	r.calls = append(r.calls, call{op: "emit", stream: stream, values: values, anchors: slices.Clone(anchors)})
}

func (r *recordingCollector) EmitDirect(task topology.TaskID, stream topology.StreamID, values topology.Values, anchors ...topology.Tuple) {
	r.calls = append(r.calls, call{op: "direct", task: task, stream: stream, values: values, anchors: slices.Clone(anchors)})
}

func (r *recordingCollector) Ack(t topology.Tuple) {
	r.calls = append(r.calls, call{op: "ack", tuple: t})
}
func (r *recordingCollector) Fail(t topology.Tuple) {
	r.calls = append(r.calls, call{op: "fail", tuple: t})
}
func (r *recordingCollector) ResetTimeout(t topology.Tuple) {
	r.calls = append(r.calls, call{op: "reset", tuple: t})
}
func (r *recordingCollector) ReportError(err error) {
	r.calls = append(r.calls, call{op: "error", err: err})
}

// lifecycleBolt records Prepare and Cleanup around a BoltFunc.
type lifecycleBolt struct {
	topology.BoltFunc
	prepared   *topology.Context
	cleanupErr error
}

func (b *lifecycleBolt) Prepare(_ context.Context, tc *topology.Context) error {
	b.prepared = tc
	return nil
}
func (b *lifecycleBolt) Cleanup() error { return b.cleanupErr }

func TestBasic(t *testing.T) {
	errBad := errors.New("bad input")
	tests := []struct {
		name    string
		execute topology.BoltFunc
		// want is the expected calls; "input" anchors and tuples mean the input.
		want      []call
		wantPanic any
	}{
		{
			name: "emits anchored, acked on nil",
			execute: func(in topology.Tuple, c topology.BasicCollector) error {
				c.Emit(topology.Values{"a"})
				c.EmitStream("side", topology.Values{"b"})
				c.EmitDirect(7, "direct", topology.Values{"c"})
				return nil
			},
			want: []call{
				{op: "emit", stream: topology.DefaultStream, values: topology.Values{"a"}},
				{op: "emit", stream: "side", values: topology.Values{"b"}},
				{op: "direct", stream: "direct", task: 7, values: topology.Values{"c"}},
				{op: "ack"},
			},
		},
		{
			name:    "no emits, acked",
			execute: func(topology.Tuple, topology.BasicCollector) error { return nil },
			want:    []call{{op: "ack"}},
		},
		{
			name: "reported error passes through",
			execute: func(_ topology.Tuple, c topology.BasicCollector) error {
				c.ReportError(errBad)
				return nil
			},
			want: []call{{op: "error", err: errBad}, {op: "ack"}},
		},
		{
			name: "failed and reported on error",
			execute: func(_ topology.Tuple, c topology.BasicCollector) error {
				c.Emit(topology.Values{"a"})
				return errBad
			},
			want: []call{
				{op: "emit", stream: topology.DefaultStream, values: topology.Values{"a"}},
				{op: "error", err: errBad},
				{op: "fail"},
			},
		},
		{
			name: "failed on panic, panic re-raised",
			execute: func(_ topology.Tuple, c topology.BasicCollector) error {
				c.Emit(topology.Values{"a"})
				panic("boom")
			},
			want: []call{
				{op: "emit", stream: topology.DefaultStream, values: topology.Values{"a"}},
				{op: "fail"},
			},
			wantPanic: "boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &lifecycleBolt{BoltFunc: tt.execute}
			bolt := topology.Basic(func() topology.BasicBolt { return inner })()
			rec := &recordingCollector{}
			tc := &topology.Context{Component: "b", Task: 4}
			if err := bolt.Prepare(t.Context(), tc, rec); err != nil {
				t.Fatal(err)
			}
			if inner.prepared != tc {
				t.Errorf("inner Prepare got context %p, want %p", inner.prepared, tc)
			}
			in := topology.NewTuple("s", 1, topology.DefaultStream, topology.Fields{"x"}, topology.Values{"in"})

			gotPanic := func() (p any) {
				defer func() { p = recover() }()
				bolt.Execute(in)
				return nil
			}()
			if gotPanic != tt.wantPanic {
				t.Errorf("panic = %v, want %v", gotPanic, tt.wantPanic)
			}
			checkCalls(t, rec.calls, tt.want, in)

			// The bolt is usable again after an error or a panic, and the
			// next input is the one anchored, acked or failed.
			rec.calls = nil
			next := topology.NewTuple("s", 1, topology.DefaultStream, topology.Fields{"x"}, topology.Values{"next"})
			inner.BoltFunc = func(in topology.Tuple, c topology.BasicCollector) error {
				c.Emit(topology.Values{"again"})
				return nil
			}
			bolt.Execute(next)
			checkCalls(t, rec.calls, []call{
				{op: "emit", stream: topology.DefaultStream, values: topology.Values{"again"}},
				{op: "ack"},
			}, next)

			inner.cleanupErr = errBad
			if err := bolt.Cleanup(); err != errBad {
				t.Errorf("Cleanup() = %v, want the inner bolt's error", err)
			}
		})
	}
}

// checkCalls compares calls with want, where every emit must be anchored to
// exactly in and every ack or fail must be of in.
func checkCalls(t *testing.T, got, want []call, in topology.Tuple) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("calls:\n%v\nwant:\n%v", got, want)
	}
	for i, g := range got {
		w := want[i]
		if g.op != w.op || g.stream != w.stream || g.task != w.task || !slices.Equal(g.values, w.values) || g.err != w.err {
			t.Errorf("call %d = %v, want %v", i, g, w)
		}
		switch g.op {
		case "emit", "direct":
			if len(g.anchors) != 1 || g.anchors[0] != in {
				t.Errorf("call %d: %v is not anchored to exactly the input", i, g)
			}
		case "ack", "fail":
			if g.tuple != in {
				t.Errorf("call %d: %s of another tuple", i, g.op)
			}
		}
	}
}
