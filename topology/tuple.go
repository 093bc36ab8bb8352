package topology

import (
	"fmt"
	"slices"
)

// ComponentID names a spout or bolt in a topology.
type ComponentID string

// StreamID names a stream of a component. Components emit on DefaultStream
// unless they name another.
type StreamID string

// TaskID is a task's number, dense and fixed per topology. Task IDs start at 1
// like Storm's; -1 is the system task that emits tick tuples.
type TaskID int32

// Reserved names.
const (
	DefaultStream   StreamID    = "default"
	SystemComponent ComponentID = "__system"
	TickStream      StreamID    = "__tick"
	SystemTask      TaskID      = -1
)

// Values are the values of one tuple, in the order of the stream's fields.
// Values that cross a node boundary must be string, []byte, int, int64, int32,
// uint32, float64, float32, bool, nil, or a []any of these.
type Values []any

// Fields are the declared field names of a stream.
type Fields []string

// Index returns the position of name in f, or -1.
func (f Fields) Index(name string) int {
	for i, n := range f {
		if n == name {
			return i
		}
	}
	return -1
}

// Tuple is one tuple as a bolt sees it. Implementations are owned by the task
// that received the tuple; a Tuple must not be used after it was acked or
// failed, and its Values must not be modified.
type Tuple interface {
	// SourceComponent is the component that emitted the tuple.
	SourceComponent() ComponentID
	// SourceTask is the task that emitted the tuple.
	SourceTask() TaskID
	// Stream is the stream the tuple was emitted on.
	Stream() StreamID
	// Fields are the declared fields of the tuple's stream.
	Fields() Fields
	// Values are the tuple's values, in field order.
	Values() Values
}

// TupleHeader is what every tuple one task emits on one stream shares: its
// origin and the stream's fields. Runtimes make one per (task, stream) and
// point every tuple at it, so a tuple carries one pointer, not five fields.
type TupleHeader struct {
	Component ComponentID
	Task      TaskID
	Stream    StreamID
	Fields    Fields
}

// TupleData is the plain part of a Tuple: its header and its values.
// Runtimes embed it in their tuple type; tests use it through NewTuple.
type TupleData struct {
	header *TupleHeader
	values Values
}

// makeTupleData returns tuple data with the given header and values. The
// header must not be modified afterwards. Runtimes call it
// (internal/topoaccess).
func makeTupleData(h *TupleHeader, values Values) TupleData {
	return TupleData{header: h, values: values}
}

// SourceComponent implements Tuple.
func (d *TupleData) SourceComponent() ComponentID { return d.header.Component }

// SourceTask implements Tuple.
func (d *TupleData) SourceTask() TaskID { return d.header.Task }

// Stream implements Tuple.
func (d *TupleData) Stream() StreamID { return d.header.Stream }

// Fields implements Tuple.
func (d *TupleData) Fields() Fields { return d.header.Fields }

// Values implements Tuple.
func (d *TupleData) Values() Values { return d.values }

// NewTuple returns a standalone Tuple, for unit tests of bolts. Acking it
// through a runtime collector does nothing.
func NewTuple(component ComponentID, task TaskID, stream StreamID, fields Fields, values Values) Tuple {
	d := makeTupleData(&TupleHeader{Component: component, Task: task, Stream: stream, Fields: fields}, slices.Clone(values))
	return &d
}

// IsTick reports whether t is a tick tuple (topology.tick.tuple.freq.secs).
func IsTick(t Tuple) bool {
	return t.SourceComponent() == SystemComponent && t.Stream() == TickStream
}

// Value returns the value of field name in t, or nil when t's stream has no
// such field.
func Value(t Tuple, name string) any {
	i := t.Fields().Index(name)
	if i < 0 || i >= len(t.Values()) {
		return nil
	}
	return t.Values()[i]
}

// String returns field name of t as a string. It returns "" when the field is
// missing or not a string.
func String(t Tuple, name string) string {
	s, _ := Value(t, name).(string)
	return s
}

// Int64 returns field name of t as an int64, converting from the Go integer
// types; ok is false when the field is missing or not an integer.
func Int64(t Tuple, name string) (v int64, ok bool) {
	switch x := Value(t, name).(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	}
	return 0, false
}

// Float64 returns field name of t as a float64; ok is false when the field is
// missing or not a float.
func Float64(t Tuple, name string) (v float64, ok bool) {
	switch x := Value(t, name).(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	return 0, false
}

// Bool returns field name of t as a bool; ok is false when it is missing or
// not a bool.
func Bool(t Tuple, name string) (v, ok bool) {
	v, ok = Value(t, name).(bool)
	return v, ok
}

// Bytes returns field name of t as a []byte; ok is false when it is missing
// or not a []byte.
func Bytes(t Tuple, name string) (v []byte, ok bool) {
	v, ok = Value(t, name).([]byte)
	return v, ok
}

// Describe returns a short human description of t for logs and errors.
func Describe(t Tuple) string {
	return fmt.Sprintf("%s:%d/%s", t.SourceComponent(), t.SourceTask(), t.Stream())
}
