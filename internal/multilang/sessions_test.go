package multilang

// The sessions of the golden transcripts in testdata/. squallToBolt and
// squallToSpout are what squall writes; testdata/<kind>.<serializer>.in is
// their encoding (rewritten by `go test -run TestGoldenInput -update`), and
// testdata/<kind>.<serializer>.out is what pystorm 3.1.4 answered when
// testdata/capture_pystorm.py ran it on that input. boltReplies and
// spoutReplies are what those answers must decode to.
//
// pystorm 3.1.4 turns the values of each tuple into a namedtuple of the
// fields in the handshake's "source->stream->fields", so a tuple with more or
// fewer values than its stream declares kills the bolt with a TypeError; the
// sessions respect that.

// goldenPIDDir must match PID_DIR in testdata/capture_pystorm.py.
const goldenPIDDir = "/tmp/squall-multilang-capture/pids"

// goldenPID is the pid capture_pystorm.py makes the components report.
const goldenPID = 4242

var goldenConf = map[string]any{
	"pystorm.log.format":            "%(name)s - %(message)s",
	"topology.debug":                false,
	"topology.message.timeout.secs": int64(30),
	"topology.name":                 "example",
	"topology.tick.tuple.freq.secs": int64(1),
}

var goldenTasks = map[int]string{1: "example-spout", 2: "__acker", 3: "example-bolt", 4: "example-bolt2", 5: "example-bolt2"}

var squallToBolt = []Message{
	Handshake{
		PIDDir: goldenPIDDir,
		Conf:   goldenConf,
		Context: Context{
			TaskToComponent:      goldenTasks,
			TaskID:               3,
			ComponentID:          "example-bolt",
			Streams:              []string{"default", "s"},
			StreamToOutputFields: map[string][]string{"default": {"word"}, "s": {"sentence", "note", "extra"}},
			StreamToTargetToGrouping: map[string]map[string]Grouping{
				"default": {"example-bolt2": {Type: GroupingShuffle}},
				"s":       {"example-bolt2": {Type: GroupingDirect}},
			},
			SourceToStreamToGrouping: map[string]map[string]Grouping{
				"example-spout": {"default": {Type: GroupingFields, Fields: []string{"sentence"}}},
			},
			SourceToStreamToFields: map[string]map[string][]string{
				"example-spout": {"default": {"sentence", "note", "extra"}},
			},
		},
	},
	Tuple{
		ID:     StringID("-6955786537413359385"),
		Comp:   "example-spout",
		Stream: "default",
		Task:   1,
		Values: []any{"snow white", "naïve ☃", map[string]any{"k": []any{int64(1), 2.5, nil, true}}},
	},
	NewHeartbeat(StringID("8435634287430101937")),
	TaskIDs{4, 5},
	Tuple{ID: StringID("-234234234"), Comp: "example-spout", Stream: "default", Task: 1, Values: []any{"boom", "", nil}},
	NewTick(StringID("5214338458238093557"), 1),
}

// The error pystorm reports for the "boom" tuple; user_code.py is the name
// capture_pystorm.py compiles the component code under.
const goldenBoltError = "Python ValueError raised while processing Tuple " +
	"Tuple(id='-234234234', component='example-spout', stream='default', task=1, " +
	"values=Example_SpoutDefaultTuple(sentence='boom', note='', extra=None))\n" +
	"Traceback (most recent call last):\n" +
	"  File \"user_code.py\", line 13, in process\n" +
	"ValueError: boom\n"

const goldenLoggingEnabled = `pystorm StormHandler logging enabled, so all messages at levels greater than "pystorm.log.level" (info) will be sent to Storm.`

const goldenExit = "pystorm.component - Exiting because parent Storm process went away."

var boltReplies = []Message{
	PIDReply{PID: goldenPID},
	Log{Msg: goldenLoggingEnabled, Level: LogInfo},
	// The first tuple: "snow" needs task ids, which arrive after the
	// heartbeat that pystorm queues meanwhile.
	Emit{Anchors: []ID{StringID("-6955786537413359385")}, Stream: "default", NeedTaskIDs: true, Values: []any{"snow"}},
	Emit{Anchors: []ID{StringID("-6955786537413359385")}, Stream: "default", Values: []any{"white"}},
	Emit{
		Anchors: []ID{StringID("-6955786537413359385")}, Stream: "s", Task: 5,
		Values: []any{"snow white", "naïve ☃", map[string]any{"k": []any{int64(1), 2.5, nil, true}}},
	},
	Log{Msg: "task ids [4, 5]", Level: LogWarn},
	Ack{ID: StringID("-6955786537413359385")},
	// The queued heartbeat.
	Sync{},
	// "boom": error, sync, fail.
	ReportError{Msg: goldenBoltError},
	Sync{},
	Fail{ID: StringID("-234234234")},
	// The tick.
	Metrics{Name: "ticks", Params: map[string]any{"count": int64(1), "freq": int64(1)}},
	Log{Msg: "tick", Level: LogDebug},
	Ack{ID: StringID("5214338458238093557")},
	// EOF on stdin.
	Log{Msg: goldenExit, Level: LogInfo},
}

var squallToSpout = []Message{
	Handshake{
		PIDDir: goldenPIDDir,
		Conf:   goldenConf,
		Context: Context{
			TaskToComponent:      goldenTasks,
			TaskID:               1,
			ComponentID:          "example-spout",
			Streams:              []string{"default", "words"},
			StreamToOutputFields: map[string][]string{"default": {"sentence", "note", "extra"}, "words": {"word"}},
			StreamToTargetToGrouping: map[string]map[string]Grouping{
				"default": {"example-bolt": {Type: GroupingFields, Fields: []string{"sentence"}}},
				"words":   {"example-bolt2": {Type: GroupingFields, Fields: []string{}}}, // global
			},
			SourceToStreamToGrouping: map[string]map[string]Grouping{},
			SourceToStreamToFields:   map[string]map[string][]string{},
		},
	},
	Activate{},
	Next{},
	Next{},
	Next{},
	TaskIDs{3},
	Next{},
	Ack{ID: IntID(1)},
	Fail{ID: StringID("m-2")},
	Next{},
	Deactivate{},
}

func mustNumberID(lit string) ID {
	id, err := NumberID(lit)
	if err != nil {
		panic(err)
	}
	return id
}

var spoutReplies = []Message{
	PIDReply{PID: goldenPID},
	Log{Msg: goldenLoggingEnabled, Level: LogInfo},
	Log{Msg: "activated", Level: LogInfo},
	Sync{},
	Emit{ID: IntID(1), Stream: "default", Values: []any{"snow white", "", nil}},
	Sync{},
	Emit{ID: StringID("m-2"), Stream: "words", Values: []any{"seven"}},
	Sync{},
	Emit{ID: mustNumberID("3.5"), Stream: "default", NeedTaskIDs: true, Values: []any{"x", "", nil}},
	Log{Msg: "task ids [3]", Level: LogInfo},
	Sync{},
	Emit{Stream: "default", Task: 3, Values: []any{"direct", "", nil}},
	Sync{},
	Log{Msg: "acked 1", Level: LogInfo},
	Sync{},
	Log{Msg: "failed 'm-2'", Level: LogInfo},
	Sync{},
	Metrics{Name: "emitted", Params: int64(4)},
	Sync{},
	Log{Msg: "deactivated", Level: LogInfo},
	Sync{},
	Log{Msg: goldenExit, Level: LogInfo},
}
