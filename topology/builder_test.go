package topology_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

type nopSpout struct{ topology.BaseSpout }

func (nopSpout) NextTuple() {}

type nopBolt struct{ topology.BaseBolt }

func (nopBolt) Prepare(context.Context, *topology.Context, topology.OutputCollector) error {
	return nil
}
func (nopBolt) Execute(topology.Tuple) {}

func newSpout() topology.Spout { return nopSpout{} }
func newBolt() topology.Bolt   { return nopBolt{} }

// declaringSpout declares its own streams, like Storm's declareOutputFields.
type declaringSpout struct{ nopSpout }

func (declaringSpout) DeclareOutputFields(d topology.OutputFieldsDeclarer) {
	d.Declare("id", "line")
	d.DeclareStream("control", true, "cmd")
}

type declaringBolt struct{ nopBolt }

func (declaringBolt) DeclareOutputFields(d topology.OutputFieldsDeclarer) {
	d.DeclareStream("words", false, "word")
}

type declaringBasicBolt struct{ topology.BaseBolt }

func (declaringBasicBolt) Prepare(context.Context, *topology.Context) error { return nil }
func (declaringBasicBolt) Execute(topology.Tuple, topology.BasicCollector) error {
	return nil
}

func (declaringBasicBolt) DeclareOutputFields(d topology.OutputFieldsDeclarer) {
	d.Declare("word", "count")
}

type nopCustom struct{}

func (nopCustom) Prepare(*topology.Context, topology.StreamID, []topology.TaskID) {}
func (nopCustom) ChooseTasks(_ topology.Values, dst []topology.TaskID) []topology.TaskID {
	return dst
}

// problems returns the messages of the separate problems Build reported: the
// error is "topology %q: " wrapping an errors.Join of them.
func problems(t *testing.T, err error) []string {
	t.Helper()
	outer := errors.Unwrap(err)
	if outer == nil {
		t.Fatalf("error %q does not wrap the joined problems", err)
	}
	j, ok := outer.(interface{ Unwrap() []error })
	if !ok {
		return []string{outer.Error()}
	}
	var out []string
	for _, e := range j.Unwrap() {
		if !errors.Is(e, topology.ErrInvalid) {
			t.Errorf("problem %q does not match ErrInvalid", e)
		}
		out = append(out, e.Error())
	}
	return out
}

// wordsBuilder is a valid base topology: spout "words" [word], bolt "count".
func wordsBuilder(name string) (*topology.Builder, *topology.Declarer, *topology.Declarer) {
	b := topology.NewBuilder(name)
	s := b.SetSpout("words", newSpout, 1).Output("word")
	c := b.SetBolt("count", newBolt, 1)
	return b, s, c
}

func TestBuildValidationErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func() (*topology.Builder, topology.Config)
		// want are substrings of the whole error; n is the number of separate
		// problems reported (so no spurious ones sneak in).
		want []string
		n    int
	}{
		{
			name: "unknown source component",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.ShuffleGrouping("wrods")
				return b, nil
			},
			want: []string{`bolt "count": shuffle grouping on unknown component "wrods"`},
			n:    1,
		},
		{
			name: "undeclared stream",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.Input("words", "lines", topology.ShuffleGrouping())
				return b, nil
			},
			want: []string{`bolt "count": shuffle grouping on stream "lines" of "words", which declares streams [default]`},
			n:    1,
		},
		{
			name: "fields grouping on undeclared field",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("split", newSpout, 1).Output("word")
				b.SetBolt("count", newBolt, 1).FieldsGrouping("split", "wrod")
				return b, nil
			},
			want: []string{`bolt "count": fields grouping on "wrod": stream "default" of "split" declares [word]`},
			n:    1,
		},
		{
			name: "partial-key grouping on undeclared field",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.PartialKeyGrouping("words", "word", "user")
				return b, nil
			},
			want: []string{`bolt "count": partial-key grouping on "user": stream "default" of "words" declares [word]`},
			n:    1,
		},
		{
			name: "duplicate bolt id",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.ShuffleGrouping("words")
				b.SetBolt("count", newBolt, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`bolt "count": duplicate id (already a bolt)`},
			n:    1,
		},
		{
			name: "bolt with a spout's id",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.ShuffleGrouping("words")
				b.SetBolt("words", newBolt, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`bolt "words": duplicate id (already a spout)`},
			n:    1,
		},
		{
			name: "empty component id",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.ShuffleGrouping("words")
				b.SetBolt("", newBolt, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`bolt with empty id`},
			n:    1,
		},
		{
			name: "parallelism zero",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", newSpout, 1).Output("word")
				b.SetBolt("count", newBolt, 0).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`bolt "count": parallelism must be >= 1, got 0`},
			n:    1,
		},
		{
			name: "negative spout parallelism",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", newSpout, -2).Output("word")
				b.SetBolt("count", newBolt, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`spout "words": parallelism must be >= 1, got -2`},
			n:    1,
		},
		{
			name: "NumTasks below parallelism",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", newSpout, 1).Output("word")
				b.SetBolt("count", newBolt, 4).NumTasks(2).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`bolt "count": NumTasks 2 is below parallelism 4`},
			n:    1,
		},
		{
			name: "direct grouping on a non-direct stream",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.DirectGrouping("words", topology.DefaultStream)
				return b, nil
			},
			want: []string{`bolt "count": direct grouping on stream "default" of "words", which is not declared direct`},
			n:    1,
		},
		{
			name: "shuffle grouping on a direct stream",
			build: func() (*topology.Builder, topology.Config) {
				b, s, c := wordsBuilder("t")
				s.DirectStream("control", "cmd")
				c.Input("words", "control", topology.ShuffleGrouping())
				return b, nil
			},
			want: []string{`bolt "count": shuffle grouping on direct stream "control" of "words" (use a direct grouping)`},
			n:    1,
		},
		{
			name: "bolt with no inputs",
			build: func() (*topology.Builder, topology.Config) {
				b, _, _ := wordsBuilder("t")
				return b, nil
			},
			want: []string{`bolt "count": has no inputs`},
			n:    1,
		},
		{
			name: "spout with inputs",
			build: func() (*topology.Builder, topology.Config) {
				b, s, c := wordsBuilder("t")
				c.ShuffleGrouping("words")
				s.ShuffleGrouping("count")
				return b, nil
			},
			want: []string{`spout "words": spouts take no inputs, but it subscribes to "count"`},
			n:    1,
		},
		{
			name: "reserved component id",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("__x", newSpout, 1).Output("word")
				b.SetBolt("count", newBolt, 1).ShuffleGrouping("__x")
				return b, nil
			},
			want: []string{`spout "__x": ids starting with __ are reserved`},
			n:    1,
		},
		{
			name: "reserved stream",
			build: func() (*topology.Builder, topology.Config) {
				b, s, c := wordsBuilder("t")
				s.OutputStream("__x", "word")
				c.ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`spout "words": stream name "__x" is empty or reserved`},
			n:    1,
		},
		{
			name: "empty stream name",
			build: func() (*topology.Builder, topology.Config) {
				b, s, c := wordsBuilder("t")
				s.OutputStream("", "word")
				c.ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`spout "words": stream name "" is empty or reserved`},
			n:    1,
		},
		{
			name: "duplicate field name",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", newSpout, 1).Output("word", "n", "word")
				b.SetBolt("count", newBolt, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`spout "words": stream "default" declares field "word" twice`},
			n:    1,
		},
		{
			name: "empty field name",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", newSpout, 1).Output("word", "")
				b.SetBolt("count", newBolt, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`spout "words": stream "default" has an empty field name`},
			n:    1,
		},
		{
			name: "stream declared twice",
			build: func() (*topology.Builder, topology.Config) {
				b, s, c := wordsBuilder("t")
				s.Output("line")
				c.ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`spout "words": stream "default" declared twice`},
			n:    1,
		},
		{
			name: "same stream subscribed twice",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.ShuffleGrouping("words").FieldsGrouping("words", "word")
				return b, nil
			},
			want: []string{`bolt "count": subscribes to stream "default" of "words" twice`},
			n:    1,
		},
		{
			name: "fields grouping with no fields",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.FieldsGrouping("words")
				return b, nil
			},
			want: []string{`bolt "count": fields grouping on stream "default" of "words" names no fields`},
			n:    1,
		},
		{
			name: "partial-key grouping with no fields",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.PartialKeyGrouping("words")
				return b, nil
			},
			want: []string{`bolt "count": partial-key grouping on stream "default" of "words" names no fields`},
			n:    1,
		},
		{
			name: "nil custom grouping",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.CustomGrouping("words", nil)
				return b, nil
			},
			want: []string{`bolt "count": custom grouping on stream "default" of "words" has no CustomStreamGrouping`},
			n:    1,
		},
		{
			name: "zero grouping",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.Input("words", topology.DefaultStream, topology.Grouping{})
				return b, nil
			},
			want: []string{`bolt "count": unknown grouping kind 0 on stream "default" of "words"`},
			n:    1,
		},
		{
			name: "nil spout factory",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", nil, 1).Output("word")
				b.SetBolt("count", newBolt, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`spout "words": factory is nil`},
			n:    1,
		},
		{
			name: "nil bolt factory",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", newSpout, 1).Output("word")
				b.SetBolt("count", nil, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`bolt "count": factory is nil`},
			n:    1,
		},
		{
			name: "nil basic bolt factory",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", newSpout, 1).Output("word")
				b.SetBasicBolt("count", nil, 1).ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`bolt "count": factory is nil`},
			n:    1,
		},
		{
			name: "empty topology",
			build: func() (*topology.Builder, topology.Config) {
				return topology.NewBuilder("t"), nil
			},
			want: []string{`topology "t" has no components`},
			n:    1,
		},
		{
			name: "no spout",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetBolt("a", newBolt, 1).Output("x").ShuffleGrouping("b")
				b.SetBolt("b", newBolt, 1).Output("x").ShuffleGrouping("a")
				return b, nil
			},
			want: []string{`topology "t" has no spout`},
			n:    1,
		},
		{
			name: "empty topology name",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder(" ")
				c.ShuffleGrouping("words")
				return b, nil
			},
			want: []string{`topology name is empty`},
			n:    1,
		},
		{
			name: "message timeout not a number",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.ShuffleGrouping("words")
				return b, topology.Config{topology.MessageTimeoutSecs: "abc"}
			},
			want: []string{`topology.message.timeout.secs`, `abc`},
			n:    1,
		},
		{
			name: "negative max spout pending",
			build: func() (*topology.Builder, topology.Config) {
				b, _, c := wordsBuilder("t")
				c.ShuffleGrouping("words")
				return b, topology.Config{topology.MaxSpoutPending: -1}
			},
			want: []string{`topology.max.spout.pending`, `-1`},
			n:    1,
		},
		{
			name: "several problems at once",
			build: func() (*topology.Builder, topology.Config) {
				b := topology.NewBuilder("t")
				b.SetSpout("words", newSpout, 0).Output("word")
				b.SetBolt("count", newBolt, 1).FieldsGrouping("words", "wrod")
				b.SetBolt("sink", newBolt, 1).ShuffleGrouping("cuont")
				return b, topology.Config{topology.AckerExecutors: "many"}
			},
			want: []string{
				`spout "words": parallelism must be >= 1, got 0`,
				`bolt "count": fields grouping on "wrod": stream "default" of "words" declares [word]`,
				`bolt "sink": shuffle grouping on unknown component "cuont"`,
				`topology.acker.executors`,
			},
			n: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, conf := tt.build()
			topo, err := b.Build(conf)
			if err == nil {
				t.Fatalf("Build succeeded, want an error containing %q", tt.want)
			}
			if topo != nil {
				t.Errorf("Build returned a topology with its error")
			}
			if !errors.Is(err, topology.ErrInvalid) {
				t.Errorf("errors.Is(%q, ErrInvalid) = false", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if got := problems(t, err); len(got) != tt.n {
				t.Errorf("got %d problems, want %d:\n%s", len(got), tt.n, strings.Join(got, "\n"))
			}
		})
	}
}

// The style guide's example message, exactly.
func TestBuildFieldsErrorMessage(t *testing.T) {
	b := topology.NewBuilder("wc")
	b.SetSpout("split", newSpout, 1).Output("word")
	b.SetBolt("count", newBolt, 1).FieldsGrouping("split", "wrod")
	_, err := b.Build(nil)
	got := problems(t, err)
	want := []string{`bolt "count": fields grouping on "wrod": stream "default" of "split" declares [word]`}
	if !slices.Equal(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
	if !strings.HasPrefix(err.Error(), `topology "wc": `) {
		t.Errorf("error %q does not name the topology first", err)
	}
}

func TestBuildAssignsTasks(t *testing.T) {
	b := topology.NewBuilder("wc")
	// Declared out of order: task IDs follow the sorted component IDs.
	b.SetBolt("split", newBolt, 3).NumTasks(5).
		ShuffleGrouping("sentences").
		Output("sentence_id", "word")
	b.SetSpout("sentences", newSpout, 2).Output("sentence_id", "line")
	b.SetBolt("count", newBolt, 2).FieldsGrouping("split", "word")
	b.SetBolt("audit", newBolt, 1).
		PartialKeyGrouping("split", "word", "sentence_id").
		AllGrouping("sentences")
	topo, err := b.Build(topology.Config{topology.AckerExecutors: 3})
	if err != nil {
		t.Fatal(err)
	}

	wantTasks := []struct {
		id          topology.ComponentID
		kind        topology.ComponentKind
		parallelism int
		tasks       []topology.TaskID
	}{
		{"audit", topology.KindBolt, 1, []topology.TaskID{1}},
		{"count", topology.KindBolt, 2, []topology.TaskID{2, 3}},
		{"sentences", topology.KindSpout, 2, []topology.TaskID{4, 5}},
		{"split", topology.KindBolt, 3, []topology.TaskID{6, 7, 8, 9, 10}},
	}
	if len(topo.Components) != len(wantTasks) {
		t.Fatalf("%d components, want %d", len(topo.Components), len(wantTasks))
	}
	for i, w := range wantTasks {
		c := topo.Components[i]
		if c.ID != w.id || c.Kind != w.kind || c.Parallelism != w.parallelism || !slices.Equal(c.Tasks, w.tasks) {
			t.Errorf("Components[%d] = %s %s parallelism %d tasks %v, want %s %s parallelism %d tasks %v",
				i, c.ID, c.Kind, c.Parallelism, c.Tasks, w.id, w.kind, w.parallelism, w.tasks)
		}
		if topo.Component(w.id) != c {
			t.Errorf("Component(%q) is not Components[%d]", w.id, i)
		}
		for _, task := range w.tasks {
			if got := topo.ComponentOf(task); got != c {
				t.Errorf("ComponentOf(%d) = %v, want %s", task, got, w.id)
			}
		}
	}
	if want := []topology.TaskID{11, 12, 13}; !slices.Equal(topo.Trackers, want) {
		t.Errorf("Trackers = %v, want %v", topo.Trackers, want)
	}
	if topo.NumTasks() != 13 {
		t.Errorf("NumTasks() = %d, want 13", topo.NumTasks())
	}
	for _, task := range []topology.TaskID{-1, 0, 11, 13, 14} {
		if c := topo.ComponentOf(task); c != nil {
			t.Errorf("ComponentOf(%d) = %s, want nil", task, c.ID)
		}
	}
	if topo.Component("nope") != nil {
		t.Errorf("Component(nope) is not nil")
	}
	if topo.Runtime.Trackers != 3 || topo.Name != "wc" {
		t.Errorf("Runtime.Trackers = %d, Name = %q", topo.Runtime.Trackers, topo.Name)
	}

	type sub struct {
		consumer topology.ComponentID
		kind     topology.GroupingKind
		index    []int
		tasks    []topology.TaskID
	}
	wantSubs := []struct {
		source topology.ComponentID
		stream topology.StreamID
		subs   []sub
	}{
		{"sentences", topology.DefaultStream, []sub{
			{"audit", topology.KindAll, nil, []topology.TaskID{1}},
			{"split", topology.KindShuffle, nil, []topology.TaskID{6, 7, 8, 9, 10}},
		}},
		{"split", topology.DefaultStream, []sub{
			{"audit", topology.KindPartialKey, []int{1, 0}, []topology.TaskID{1}},
			{"count", topology.KindFields, []int{1}, []topology.TaskID{2, 3}},
		}},
	}
	for _, w := range wantSubs {
		got := topo.Component(w.source).Consumers[w.stream]
		if len(got) != len(w.subs) {
			t.Errorf("%s/%s has %d consumers, want %d", w.source, w.stream, len(got), len(w.subs))
			continue
		}
		for i, ws := range w.subs {
			g := got[i]
			if g.Consumer != ws.consumer || g.Grouping.Kind != ws.kind || !slices.Equal(g.FieldIndex, ws.index) || !slices.Equal(g.Tasks, ws.tasks) {
				t.Errorf("%s/%s consumer %d = {%s %s %v %v}, want {%s %s %v %v}", w.source, w.stream, i,
					g.Consumer, g.Grouping.Kind, g.FieldIndex, g.Tasks, ws.consumer, ws.kind, ws.index, ws.tasks)
			}
		}
	}
	for _, id := range []topology.ComponentID{"count", "audit"} {
		if n := len(topo.Component(id).Consumers); n != 0 {
			t.Errorf("%s has %d consumed streams, want 0", id, n)
		}
	}
}

func TestBuildTrackerCount(t *testing.T) {
	for _, tc := range []struct {
		conf topology.Config
		want []topology.TaskID
	}{
		{nil, []topology.TaskID{3}}, // default: one tracker
		{topology.Config{topology.AckerExecutors: 0}, nil},
		{topology.Config{topology.AckerExecutors: "2"}, []topology.TaskID{3, 4}},
	} {
		b, _, c := wordsBuilder("t")
		c.ShuffleGrouping("words")
		topo, err := b.Build(tc.conf)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(topo.Trackers, tc.want) {
			t.Errorf("conf %v: Trackers = %v, want %v", tc.conf, topo.Trackers, tc.want)
		}
		if topo.NumTasks() != 2+len(tc.want) {
			t.Errorf("conf %v: NumTasks() = %d", tc.conf, topo.NumTasks())
		}
	}
}

func TestBuildHonoursOutputDeclarer(t *testing.T) {
	b := topology.NewBuilder("t")
	b.SetSpout("lines", func() topology.Spout { return declaringSpout{} }, 1)
	b.SetBolt("split", func() topology.Bolt { return declaringBolt{} }, 1).ShuffleGrouping("lines")
	b.SetBasicBolt("count", func() topology.BasicBolt { return declaringBasicBolt{} }, 1).
		FieldsGrouping("split", "word").Input("split", "words", topology.FieldsGrouping("word"))
	b.SetBolt("ctl", newBolt, 2).DirectGrouping("lines", "control")
	topo, err := b.Build(nil)
	// split declares only "words", so the default-stream subscription of count is invalid.
	if err == nil || !strings.Contains(err.Error(), `bolt "count": fields grouping on stream "default" of "split", which declares streams [words]`) {
		t.Fatalf("Build error = %v, want count's default-stream subscription rejected", err)
	}

	b = topology.NewBuilder("t")
	b.SetSpout("lines", func() topology.Spout { return declaringSpout{} }, 1)
	b.SetBolt("split", func() topology.Bolt { return declaringBolt{} }, 1).ShuffleGrouping("lines")
	b.SetBasicBolt("count", func() topology.BasicBolt { return declaringBasicBolt{} }, 1).
		Input("split", "words", topology.FieldsGrouping("word"))
	b.SetBolt("ctl", newBolt, 2).DirectGrouping("lines", "control")
	topo, err = b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[topology.ComponentID]map[topology.StreamID]topology.Stream{
		"lines": {
			topology.DefaultStream: {ID: topology.DefaultStream, Fields: topology.Fields{"id", "line"}},
			"control":              {ID: "control", Fields: topology.Fields{"cmd"}, Direct: true},
		},
		"split": {"words": {ID: "words", Fields: topology.Fields{"word"}}},
		"count": {topology.DefaultStream: {ID: topology.DefaultStream, Fields: topology.Fields{"word", "count"}}},
		"ctl":   {},
	}
	for id, streams := range want {
		c := topo.Component(id)
		if len(c.Streams) != len(streams) {
			t.Errorf("%s declares %d streams, want %d", id, len(c.Streams), len(streams))
		}
		for sid, ws := range streams {
			s := c.Streams[sid]
			if s == nil || s.ID != ws.ID || s.Direct != ws.Direct || !slices.Equal(s.Fields, ws.Fields) {
				t.Errorf("%s stream %s = %+v, want %+v", id, sid, s, ws)
			}
		}
	}
	subs := topo.Component("lines").Consumers["control"]
	if len(subs) != 1 || subs[0].Consumer != "ctl" || subs[0].Grouping.Kind != topology.KindDirect {
		t.Errorf("lines/control consumers = %+v, want ctl with a direct grouping", subs)
	}
	if c := topo.Component("count"); c.NewBolt == nil || c.NewSpout != nil {
		t.Errorf("count: NewBolt nil = %v, NewSpout nil = %v", c.NewBolt == nil, c.NewSpout == nil)
	}
	if c := topo.Component("lines"); c.NewSpout == nil || c.NewBolt != nil {
		t.Errorf("lines: NewSpout nil = %v, NewBolt nil = %v", c.NewSpout == nil, c.NewBolt == nil)
	}
}

func TestBuildAcceptsEveryGrouping(t *testing.T) {
	b := topology.NewBuilder("t")
	b.SetSpout("s", newSpout, 1).Output("k", "v").DirectStream("d", "k")
	b.SetBolt("b1", newBolt, 1).ShuffleGrouping("s")
	b.SetBolt("b2", newBolt, 1).FieldsGrouping("s", "v", "k")
	b.SetBolt("b3", newBolt, 1).AllGrouping("s")
	b.SetBolt("b4", newBolt, 1).GlobalGrouping("s")
	b.SetBolt("b5", newBolt, 1).NoneGrouping("s")
	b.SetBolt("b6", newBolt, 1).DirectGrouping("s", "d")
	b.SetBolt("b7", newBolt, 1).LocalOrShuffleGrouping("s")
	b.SetBolt("b8", newBolt, 1).PartialKeyGrouping("s", "k")
	b.SetBolt("b9", newBolt, 1).CustomGrouping("s", nopCustom{})
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, sub := range topo.Component("s").Consumers[topology.DefaultStream] {
		kinds = append(kinds, string(sub.Consumer)+":"+sub.Grouping.String())
	}
	want := []string{"b1:shuffle", "b2:fields", "b3:all", "b4:global", "b5:none", "b7:local-or-shuffle", "b8:partial-key", "b9:custom"}
	if !slices.Equal(kinds, want) {
		t.Errorf("default consumers = %v, want %v", kinds, want)
	}
	if got := topo.Component("s").Consumers[topology.DefaultStream][1].FieldIndex; !slices.Equal(got, []int{1, 0}) {
		t.Errorf("b2 FieldIndex = %v, want [1 0]", got)
	}
}

func TestNewContext(t *testing.T) {
	b := topology.NewBuilder("wc")
	b.SetSpout("words", newSpout, 2).Output("word")
	b.SetBolt("count", newBolt, 3).FieldsGrouping("words", "word")
	topo, err := b.Build(topology.Config{topology.AckerExecutors: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		task  topology.TaskID
		comp  topology.ComponentID
		index int
	}{
		{1, "count", 0},
		{3, "count", 2},
		{4, "words", 0},
		{5, "words", 1},
		{6, topology.TrackerComponent, 0},
	}
	for _, tt := range tests {
		tc := topoaccess.NewContext(topo, tt.task, nil)
		if tc.Component != tt.comp || tc.TaskIndex != tt.index || tc.Task != tt.task || tc.Topology != "wc" {
			t.Errorf("NewContext(%d) = %s index %d task %d topology %q, want %s index %d",
				tt.task, tc.Component, tc.TaskIndex, tc.Task, tc.Topology, tt.comp, tt.index)
		}
	}
	tc := topoaccess.NewContext(topo, 1, nil)
	got := tc.ComponentTasks("words")
	if !slices.Equal(got, []topology.TaskID{4, 5}) {
		t.Errorf("ComponentTasks(words) = %v", got)
	}
	got[0] = 99 // a copy: the topology is immutable
	if again := tc.ComponentTasks("words"); again[0] != 4 {
		t.Errorf("ComponentTasks returned the topology's own slice")
	}
	if tc.ComponentTasks("nope") != nil {
		t.Errorf("ComponentTasks(nope) is not nil")
	}
}

// commandBolt runs a subprocess, as multilang's shell components do.
type commandBolt struct{ nopBolt }

func (commandBolt) CommandLine() []string { return []string{"python3", "split.py"} }

// TestCommandsRecorded: a CommandRunner's command line is the component's
// Command, and Commands lists only the components that run one.
func TestCommandsRecorded(t *testing.T) {
	b := topology.NewBuilder("cmds")
	b.SetSpout("s", newSpout, 1).Output("line")
	b.SetBolt("split", func() topology.Bolt { return commandBolt{} }, 2).Output("word").ShuffleGrouping("s")
	b.SetBolt("sink", newBolt, 1).ShuffleGrouping("split")
	top, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := top.Commands()
	if len(got) != 1 || !slices.Equal(got["split"], []string{"python3", "split.py"}) {
		t.Fatalf("Commands() = %v, want only split: [python3 split.py]", got)
	}
	if top.Component("sink").Command != nil || top.Component("s").Command != nil {
		t.Fatal("a component without a CommandRunner has a Command")
	}
}
