package multilang

import (
	"log/slog"
	"slices"
	"strconv"
)

// Message is one multilang message. The concrete types are values (not
// pointers) of:
//
//   - squall to the subprocess: Handshake, Next, Activate, Deactivate, Ack,
//     Fail (spout commands), Tuple (bolt input, heartbeats and ticks),
//     TaskIDs (the reply to an emit);
//   - the subprocess to squall: PIDReply, Emit, Ack, Fail (bolt acks), Log,
//     ReportError, Metrics, Sync.
//
// Ack and Fail have the same bytes in both directions.
type Message interface {
	// Command is the message's "command" value, or "" for the messages that
	// have none (Handshake, PIDReply, Tuple, TaskIDs).
	Command() string
	// wire returns the message's wire shape: an object whose fields are in
	// the order they are written, or a []int for TaskIDs.
	wire() any
}

// Commands, as they appear in the "command" field.
const (
	cmdNext       = "next"
	cmdActivate   = "activate"
	cmdDeactivate = "deactivate"
	cmdAck        = "ack"
	cmdFail       = "fail"
	cmdEmit       = "emit"
	cmdLog        = "log"
	cmdError      = "error"
	cmdMetrics    = "metrics"
	cmdSync       = "sync"
)

// Well-known stream, component and task names.
const (
	// DefaultStream is the stream of an emit that names none.
	DefaultStream = "default"
	// HeartbeatStream is the stream of the heartbeat tuples ShellBolt sends.
	HeartbeatStream = "__heartbeat"
	// SystemComponent is the component of tick tuples.
	SystemComponent = "__system"
	// TickStream is the stream of tick tuples.
	TickStream = "__tick"
	// SystemTask is the task of heartbeat and tick tuples.
	SystemTask = -1
)

// object is an ordered JSON object / msgpack map; field order is wire order.
type object []field

type field struct {
	key string
	val any
}

// Handshake is the first message squall writes to a subprocess:
//
//	{"pidDir": "<dir>", "conf": {...}, "context": {...}}
//
// The subprocess creates an empty file named after its pid in PIDDir and
// replies with a PIDReply.
type Handshake struct {
	PIDDir  string         // "pidDir"
	Conf    map[string]any // "conf": the full merged topology config
	Context Context        // "context"
}

// Context is TopologyContext.toJSONString(): where the task sits in the
// topology. squall always writes all eight keys (nil maps and slices as {}
// and []); a decoder accepts a context with only "taskid" and
// "task->component", as Storm < 0.10 and the Pyleus serializer send.
type Context struct {
	TaskToComponent          map[int]string                 // "task->component" (keys are decimal strings on the wire)
	TaskID                   int                            // "taskid"
	ComponentID              string                         // "componentid"
	Streams                  []string                       // "streams": this component's output streams
	StreamToOutputFields     map[string][]string            // "stream->outputfields"
	StreamToTargetToGrouping map[string]map[string]Grouping // "stream->target->grouping"
	SourceToStreamToGrouping map[string]map[string]Grouping // "source->stream->grouping"
	SourceToStreamToFields   map[string]map[string][]string // "source->stream->fields"
}

// GroupingType is the Thrift Grouping union field name, upper-cased.
type GroupingType string

// Grouping types as TopologyContext writes them. A global grouping is
// GroupingFields with no fields.
const (
	GroupingFields           GroupingType = "FIELDS"
	GroupingShuffle          GroupingType = "SHUFFLE"
	GroupingAll              GroupingType = "ALL"
	GroupingNone             GroupingType = "NONE"
	GroupingDirect           GroupingType = "DIRECT"
	GroupingCustomObject     GroupingType = "CUSTOM_OBJECT"
	GroupingCustomSerialized GroupingType = "CUSTOM_SERIALIZED"
	GroupingLocalOrShuffle   GroupingType = "LOCAL_OR_SHUFFLE"
)

// Grouping is one grouping in a Context: {"type": "FIELDS", "fields": [...]}.
// "fields" is written if and only if Type is GroupingFields (as [] for a
// global grouping), like Storm's groupingToJSONableMap.
type Grouping struct {
	Type   GroupingType
	Fields []string
}

// PIDReply is the subprocess's answer to the Handshake: {"pid": 1234}.
type PIDReply struct {
	PID int
}

// Next asks a spout for its next tuples: {"command": "next", "id": ""}.
type Next struct{}

// Activate tells a spout it is active, once before the first Next and after
// every reactivation: {"command": "activate", "id": ""}.
type Activate struct{}

// Deactivate tells a spout it is deactivated: {"command": "deactivate", "id": ""}.
type Deactivate struct{}

// Ack is {"command": "ack", "id": ...}. From squall to a spout it says the
// tree of the tuple the spout emitted with ID completed; from a bolt
// subprocess it acks the input Tuple with ID.
type Ack struct {
	ID ID
}

// Fail is {"command": "fail", "id": ...}, in the same two directions as Ack.
type Fail struct {
	ID ID
}

// Tuple is a tuple squall delivers to a bolt subprocess:
//
//	{"id": "-6955786537413359385", "comp": "example-spout", "stream": "default", "task": 9, "tuple": [...]}
//
// ID is a fresh handle for this delivery (not the Storm tuple id); the
// subprocess acks, fails and anchors to it. An empty Comp is written as
// null, as for heartbeats.
type Tuple struct {
	ID     ID     // "id"
	Comp   string // "comp": the source component; "" is null
	Stream string // "stream"
	Task   int    // "task": the source task
	Values []any  // "tuple"
}

// NewHeartbeat returns the heartbeat tuple ShellBolt sends every second; the
// subprocess answers it with Sync.
func NewHeartbeat(id ID) Tuple {
	return Tuple{ID: id, Stream: HeartbeatStream, Task: SystemTask, Values: []any{}}
}

// NewTick returns a tick tuple, sent every topology.tick.tuple.freq.secs;
// the subprocess acks it like any tuple.
func NewTick(id ID, freqSecs int64) Tuple {
	return Tuple{ID: id, Comp: SystemComponent, Stream: TickStream, Task: SystemTask, Values: []any{freqSecs}}
}

// IsHeartbeat reports whether t is a heartbeat tuple, by pystorm's test:
// task -1 on stream "__heartbeat".
func (t Tuple) IsHeartbeat() bool { return t.Task == SystemTask && t.Stream == HeartbeatStream }

// IsTick reports whether t is a tick tuple, by pystorm's test: component
// "__system", stream "__tick".
func (t Tuple) IsTick() bool { return t.Comp == SystemComponent && t.Stream == TickStream }

// TaskIDs is squall's reply to an Emit that needs task ids: the tasks the
// tuple went to, as a bare JSON array ([12, 22, 24]).
type TaskIDs []int

// Emit is a tuple the subprocess emits:
//
//	{"command": "emit", "id": "1231231", "anchors": [...], "stream": "s", "task": 9, "tuple": [...], "need_task_ids": false}
//
// A decoded Emit has its defaults filled in: Stream "default" when absent
// and NeedTaskIDs true when absent or null (Storm's default).
type Emit struct {
	// ID is a spout's message id; zero for an unreliable emit and for bolts.
	ID ID
	// Anchors are the bolt input tuple ids the tuple is anchored to. A
	// single string on the wire is one anchor; an empty list is nil.
	Anchors []ID
	// Stream is the output stream; "" is written as "default".
	Stream string
	// Task is the target task of an emitDirect, or 0 for a normal emit. A
	// direct emit gets no TaskIDs reply.
	Task int
	// NeedTaskIDs asks squall to reply with the TaskIDs the tuple went to.
	NeedTaskIDs bool
	// Values are the tuple's values ("tuple").
	Values []any
}

// LogLevel is the "level" of a Log command (Storm's ShellLogLevel).
type LogLevel int

// Log levels. Storm and squall read a missing or unknown level as LogInfo;
// pystorm sends "critical" as LogError and "warning" as LogWarn.
const (
	LogTrace LogLevel = 0
	LogDebug LogLevel = 1
	LogInfo  LogLevel = 2
	LogWarn  LogLevel = 3
	LogError LogLevel = 4
)

func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "TRACE"
	case LogDebug:
		return "DEBUG"
	case LogInfo:
		return "INFO"
	case LogWarn:
		return "WARN"
	case LogError:
		return "ERROR"
	default:
		return "LogLevel(" + strconv.Itoa(int(l)) + ")"
	}
}

// SlogLevel maps the level to log/slog: TRACE is slog.LevelDebug-4.
func (l LogLevel) SlogLevel() slog.Level {
	switch l {
	case LogTrace:
		return slog.LevelDebug - 4
	case LogDebug:
		return slog.LevelDebug
	case LogWarn:
		return slog.LevelWarn
	case LogError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Log is a log line from the subprocess: {"command": "log", "msg": "hello", "level": 2}.
type Log struct {
	Msg   string
	Level LogLevel
}

// ReportError is {"command": "error", "msg": "..."}: the subprocess reports
// an error (Storm: collector.reportError("Shell Process Exception: " + msg)).
type ReportError struct {
	Msg string
}

// Metrics is {"command": "metrics", "name": "m", "params": <any JSON>}: an
// update to the shell metric registered under Name.
type Metrics struct {
	Name   string
	Params any
}

// Sync ends a spout's reply to a command and answers a bolt heartbeat:
// {"command": "sync"}.
type Sync struct{}

func (Handshake) Command() string   { return "" }
func (PIDReply) Command() string    { return "" }
func (Next) Command() string        { return cmdNext }
func (Activate) Command() string    { return cmdActivate }
func (Deactivate) Command() string  { return cmdDeactivate }
func (Ack) Command() string         { return cmdAck }
func (Fail) Command() string        { return cmdFail }
func (Tuple) Command() string       { return "" }
func (TaskIDs) Command() string     { return "" }
func (Emit) Command() string        { return cmdEmit }
func (Log) Command() string         { return cmdLog }
func (ReportError) Command() string { return cmdError }
func (Metrics) Command() string     { return cmdMetrics }
func (Sync) Command() string        { return cmdSync }

func (m Handshake) wire() any {
	conf := m.Conf
	if conf == nil {
		conf = map[string]any{}
	}
	return object{{"pidDir", m.PIDDir}, {"conf", conf}, {"context", m.Context.wire()}}
}

func (c Context) wire() any {
	tasks := make([]int, 0, len(c.TaskToComponent))
	for t := range c.TaskToComponent {
		tasks = append(tasks, t)
	}
	slices.Sort(tasks)
	t2c := make(object, 0, len(tasks))
	for _, t := range tasks {
		t2c = append(t2c, field{strconv.Itoa(t), c.TaskToComponent[t]})
	}
	streams := c.Streams
	if streams == nil {
		streams = []string{}
	}
	return object{
		{"task->component", t2c},
		{"taskid", c.TaskID},
		{"componentid", c.ComponentID},
		{"streams", streams},
		{"stream->outputfields", sortedObject(c.StreamToOutputFields, func(v []string) any { return nonNilStrings(v) })},
		{"stream->target->grouping", groupings(c.StreamToTargetToGrouping)},
		{"source->stream->grouping", groupings(c.SourceToStreamToGrouping)},
		{"source->stream->fields", sortedObject(c.SourceToStreamToFields, func(v map[string][]string) any {
			return sortedObject(v, func(f []string) any { return nonNilStrings(f) })
		})},
	}
}

func groupings(m map[string]map[string]Grouping) object {
	return sortedObject(m, func(inner map[string]Grouping) any {
		return sortedObject(inner, func(g Grouping) any { return g.wire() })
	})
}

func (g Grouping) wire() any {
	if g.Type == GroupingFields {
		return object{{"type", string(g.Type)}, {"fields", nonNilStrings(g.Fields)}}
	}
	return object{{"type", string(g.Type)}}
}

// nonNilStrings writes a nil list as [] rather than null.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// sortedObject turns a map into an object with its keys in order.
func sortedObject[V any](m map[string]V, conv func(V) any) object {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	o := make(object, 0, len(keys))
	for _, k := range keys {
		o = append(o, field{k, conv(m[k])})
	}
	return o
}

func (m PIDReply) wire() any { return object{{"pid", m.PID}} }

// Java's ShellSpout always writes "id", as "" when there is none.
func (Next) wire() any       { return object{{"command", cmdNext}, {"id", ""}} }
func (Activate) wire() any   { return object{{"command", cmdActivate}, {"id", ""}} }
func (Deactivate) wire() any { return object{{"command", cmdDeactivate}, {"id", ""}} }
func (m Ack) wire() any      { return object{{"command", cmdAck}, {"id", m.ID}} }
func (m Fail) wire() any     { return object{{"command", cmdFail}, {"id", m.ID}} }

func (m Tuple) wire() any {
	var comp any
	if m.Comp != "" {
		comp = m.Comp
	}
	return object{{"id", m.ID}, {"comp", comp}, {"stream", m.Stream}, {"task", m.Task}, {"tuple", values(m.Values)}}
}

func (m TaskIDs) wire() any {
	if m == nil {
		return []int{}
	}
	return []int(m)
}

func (m Emit) wire() any {
	o := make(object, 0, 7)
	o = append(o, field{"command", cmdEmit})
	if !m.ID.IsZero() {
		o = append(o, field{"id", m.ID})
	}
	if len(m.Anchors) > 0 {
		o = append(o, field{"anchors", m.Anchors})
	}
	stream := m.Stream
	if stream == "" {
		stream = DefaultStream
	}
	o = append(o, field{"stream", stream})
	if m.Task != 0 {
		o = append(o, field{"task", m.Task})
	}
	return append(o, field{"tuple", values(m.Values)}, field{"need_task_ids", m.NeedTaskIDs})
}

func (m Log) wire() any {
	return object{{"command", cmdLog}, {"msg", m.Msg}, {"level", int(m.Level)}}
}

func (m ReportError) wire() any { return object{{"command", cmdError}, {"msg", m.Msg}} }

func (m Metrics) wire() any {
	return object{{"command", cmdMetrics}, {"name", m.Name}, {"params", m.Params}}
}

func (Sync) wire() any { return object{{"command", cmdSync}} }

// values writes a nil tuple as [] rather than null.
func values(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}
