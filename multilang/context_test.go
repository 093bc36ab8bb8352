package multilang

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	wire "github.com/squall-streams/squall/internal/multilang"
	"github.com/squall-streams/squall/internal/procenv"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

type nopSpout struct{ topology.BaseSpout }

func (nopSpout) NextTuple() {}

func nopBolt() topology.Bolt {
	return topology.Basic(func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
	})()
}

// contextTopology: spout -> split (shell, 2 tasks) -> count (fields, 2) and all (all).
func contextTopology(t *testing.T) *topology.Topology {
	t.Helper()
	b := topology.NewBuilder("ctx")
	b.SetSpout("spout", func() topology.Spout { return nopSpout{} }, 1).Output("sentence")
	b.SetBolt("split", BoltFactory([]string{"x"}, Output("word"), OutputStream("other", "a", "b")), 2).
		ShuffleGrouping("spout")
	b.SetBolt("count", nopBolt, 2).FieldsGrouping("split", "word")
	b.SetBolt("everyone", nopBolt, 2).AllGrouping("split").Input("split", "other", topology.GlobalGrouping())
	topo, err := b.Build(topology.Config{topology.AckerExecutors: 1})
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestHandshakeContext(t *testing.T) {
	topo := contextTopology(t)
	split := topo.Component("split")
	tc := topoaccess.NewContext(topo, split.Tasks[1], nil)
	own := []streamDecl{{id: "default", fields: []string{"word"}}, {id: "other", fields: []string{"a", "b"}}, {id: DeadLetterStream, fields: DeadLetterFields}}
	got := handshakeContext(tc, topo, own)
	// Tasks: count 1-2, everyone 3-4, split 5-6, spout 7, tracker 8.
	want := wire.Context{
		TaskToComponent: map[int]string{-1: "__system", 1: "count", 2: "count", 3: "everyone", 4: "everyone",
			5: "split", 6: "split", 7: "spout", 8: "__acker"},
		TaskID:      6,
		ComponentID: "split",
		Streams:     []string{"default", "dlq", "other"},
		StreamToOutputFields: map[string][]string{"default": {"word"}, "other": {"a", "b"},
			"dlq": DeadLetterFields},
		StreamToTargetToGrouping: map[string]map[string]wire.Grouping{
			"default": {"count": {Type: wire.GroupingFields, Fields: []string{"word"}}, "everyone": {Type: wire.GroupingAll}},
			"other":   {"everyone": {Type: wire.GroupingFields, Fields: []string{}}},
		},
		SourceToStreamToGrouping: map[string]map[string]wire.Grouping{"spout": {"default": {Type: wire.GroupingShuffle}}},
		SourceToStreamToFields:   map[string]map[string][]string{"spout": {"default": {"sentence"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("context\n got %+v\nwant %+v", got, want)
	}
	// Without the topology: its own tasks and outputs only.
	got = handshakeContext(tc, nil, own[:1])
	if fmt.Sprint(got.TaskToComponent) != "map[-1:__system 5:split 6:split]" || got.TaskID != 6 ||
		fmt.Sprint(got.Streams) != "[default]" || len(got.SourceToStreamToFields) != 0 {
		t.Errorf("context without topology: %+v", got)
	}
}

func TestHandshakeConfKeepsJSONValues(t *testing.T) {
	topo := contextTopology(t)
	tc := topoaccess.NewContext(topo, 1, nil)
	tc.Config = topology.Config{"a": 1, "f": func() {}, "topology.debug": true}
	conf := handshakeConf(tc, map[string]any{"b": []any{"x"}})
	if _, ok := conf["f"]; ok {
		t.Error("a func went into the handshake conf")
	}
	if conf["topology.name"] != "ctx" || conf["a"] != 1 || conf["topology.debug"] != true || conf["b"] == nil {
		t.Errorf("conf %v", conf)
	}
}

func TestResolveSettings(t *testing.T) {
	cases := []struct {
		name string
		conf topology.Config
		opts []Option
		err  string // substring; "" for none
		chk  func(settings) bool
	}{
		{"defaults", nil, nil, "", func(s settings) bool {
			return s.timeout == 30*time.Second && s.heartbeat == time.Second && s.maxPending == 100 &&
				s.ser == wire.JSON && s.backoff == 100*time.Millisecond && s.backoffMax == 10*time.Second
		}},
		{"storm keys", topology.Config{SubprocessTimeoutKey: 2, MaxPendingKey: "7", SerializerKey: "com.yelp.pyleus.serializer.MessagePackSerializer"}, nil, "",
			func(s settings) bool {
				return s.timeout == 2*time.Second && s.heartbeat == 500*time.Millisecond && s.maxPending == 7 && s.ser == wire.Msgpack
			}},
		{"worker timeout fallback", topology.Config{WorkerTimeoutKey: 5}, nil, "", func(s settings) bool { return s.timeout == 5*time.Second }},
		{"options win", topology.Config{SubprocessTimeoutKey: 2, ResourcesDirKey: "/r"},
			[]Option{WithTimeout(time.Minute), WithSerializer("msgpack"), WithDir("/d"), WithMaxPending(3)}, "",
			func(s settings) bool {
				return s.timeout == time.Minute && s.ser == wire.Msgpack && s.dir == "/d" && s.maxPending == 3
			}},
		{"resources dir", topology.Config{ResourcesDirKey: "/r"}, nil, "", func(s settings) bool { return s.dir == "/r" }},
		{"startup default", nil, nil, "", func(s settings) bool { return s.startup == time.Minute }},
		{"startup key", topology.Config{StartupTimeoutKey: 90}, nil, "", func(s settings) bool { return s.startup == 90*time.Second }},
		{"startup option", topology.Config{StartupTimeoutKey: 90}, []Option{WithStartupTimeout(time.Second), WithTimeout(500 * time.Millisecond)}, "", func(s settings) bool { return s.startup == time.Second }},
		{"startup at least the timeout", topology.Config{SubprocessTimeoutKey: 120}, nil, "", func(s settings) bool { return s.startup == 120*time.Second }},
		{"bad startup", topology.Config{StartupTimeoutKey: "later"}, nil, StartupTimeoutKey, nil},
		{"bad serializer", topology.Config{SerializerKey: "thrift"}, nil, SerializerKey, nil},
		{"bad timeout", topology.Config{SubprocessTimeoutKey: "soon"}, nil, SubprocessTimeoutKey, nil},
		{"zero timeout", topology.Config{SubprocessTimeoutKey: 0}, nil, SubprocessTimeoutKey, nil},
		{"bad pending", topology.Config{MaxPendingKey: -1}, nil, MaxPendingKey, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultOptions()
			for _, opt := range tc.opts {
				opt(&o)
			}
			s, err := resolve([]string{"python"}, o, tc.conf, topology.KindBolt)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrConfig) {
					t.Fatalf("err %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil || !tc.chk(s) {
				t.Fatalf("settings %+v, err %v", s, err)
			}
		})
	}
	if err := ValidateConfig(topology.Config{SerializerKey: "nope"}); err == nil {
		t.Error("ValidateConfig accepted a bad serializer")
	}
}

func TestEnvironAppendsPath(t *testing.T) {
	env, err := environ([]string{"PATH=/bin"}, nil, map[string]string{"PATH": "/venv/bin", "X_SQUALL": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"PATH=/bin:/venv/bin", "X_SQUALL=1"}; !slices.Equal(env, want) {
		t.Errorf("env %q, want %q", env, want)
	}
}

// TestEnviron: a subprocess gets the node's environment without its
// secrets, then topology.environment, then WithEnv; neither may set a
// secret (issue 11: any dependency of a Python bolt held cluster admin).
func TestEnviron(t *testing.T) {
	node := []string{"PATH=/bin", "SQUALL_ADMIN_TOKEN=t0k", "HOME=/h", "SQUALL_GOSSIP_KEY=k3y", "SQUALL_HTTP=:8080", "LANG=C"}
	for _, tc := range []struct {
		name        string
		topo, extra map[string]string
		want        []string
		err         string
	}{
		{"secrets dropped", nil, nil, []string{"PATH=/bin", "HOME=/h", "SQUALL_HTTP=:8080", "LANG=C"}, ""},
		{"topology.environment added and replacing",
			map[string]string{"LANG": "en_US.UTF-8", "APP_MODE": "test"}, nil,
			[]string{"PATH=/bin", "HOME=/h", "SQUALL_HTTP=:8080", "APP_MODE=test", "LANG=en_US.UTF-8"}, ""},
		{"WithEnv over topology.environment, PATH appended to the topology's",
			map[string]string{"PATH": "/opt/bin", "A": "topo"}, map[string]string{"A": "opt", "PATH": "/venv/bin"},
			[]string{"HOME=/h", "SQUALL_HTTP=:8080", "LANG=C", "A=opt", "PATH=/opt/bin:/venv/bin"}, ""},
		{"topology.environment may not set a secret", map[string]string{"SQUALL_ADMIN_TOKEN": "mine"}, nil, nil,
			"topology.environment: SQUALL_ADMIN_TOKEN is a squall secret"},
		{"nor may WithEnv", nil, map[string]string{"SQUALL_GOSSIP_KEY": "mine"}, nil,
			"multilang.WithEnv: topology.environment: SQUALL_GOSSIP_KEY is a squall secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, err := environ(slices.Clone(node), tc.topo, tc.extra)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, procenv.ErrEnvironment) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(env, tc.want) {
				t.Errorf("env %q\nwant %q", env, tc.want)
			}
		})
	}
}

func TestTopologyEnvironmentKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want map[string]string
		err  string
	}{
		{"unset", nil, nil, ""},
		{"strings", map[string]string{"A": "1"}, map[string]string{"A": "1"}, ""},
		{"YAML/JSON scalars", map[string]any{"A": "x", "N": int64(3), "F": 1.5, "B": true},
			map[string]string{"A": "x", "N": "3", "F": "1.5", "B": "true"}, ""},
		{"a nested value", map[string]any{"A": []any{"x"}}, nil, "topology.environment: A: [x] ([]interface {}) is not a string"},
		{"not a map", "A=1", nil, "topology.environment: A=1 (string) is not a map"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := topology.Config{}
			if tc.v != nil {
				conf[EnvironmentKey] = tc.v
			}
			got, err := topologyEnvironment(conf)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				if verr := ValidateConfig(conf); verr == nil || !errors.Is(verr, ErrConfig) {
					t.Errorf("ValidateConfig: %v, want ErrConfig", verr)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if err := ValidateConfig(topology.Config{EnvironmentKey: map[string]any{"SQUALL_ADMIN_TOKEN": "x"}}); err == nil ||
		!strings.Contains(err.Error(), "topology.environment: SQUALL_ADMIN_TOKEN") {
		t.Errorf("ValidateConfig of a secret in topology.environment: %v", err)
	}
}

func TestQueue(t *testing.T) {
	var q queue[int]
	for i := range 3000 {
		q.push(i)
	}
	for i := range 2500 {
		if v := q.pop(); v != i {
			t.Fatalf("pop %d, want %d", v, i)
		}
	}
	q.push(3000)
	for i := 2500; i <= 3000; i++ {
		if v := q.pop(); v != i {
			t.Fatalf("pop %d, want %d", v, i)
		}
	}
	if q.len() != 0 {
		t.Fatalf("len %d", q.len())
	}
}

func TestPoisonTracker(t *testing.T) {
	p := newPoisonTracker(3)
	a := topology.NewTuple("s", 1, "default", topology.Fields{"w"}, topology.Values{"a"})
	a2 := topology.NewTuple("s", 2, "default", topology.Fields{"w"}, topology.Values{"a"}) // a replay, from another task
	b := topology.NewTuple("s", 1, "default", topology.Fields{"w"}, topology.Values{"b"})
	if p.active() || p.lookup(p.key(a)) != nil {
		t.Fatal("new tracker is active")
	}
	p.record(a, "x")
	p.record(a2, "y")
	if e := p.lookup(p.key(a)); e == nil || e.count != 2 || e.reason != "y" {
		t.Fatalf("entry %+v", e)
	}
	if p.lookup(p.key(b)) != nil {
		t.Fatal("b is poison")
	}
	p.forget(p.key(a))
	if p.active() {
		t.Fatal("still active after forget")
	}
	for i := range maxPoisonEntries + 10 {
		p.record(topology.NewTuple("s", 1, "default", nil, topology.Values{i}), "z")
	}
	if len(p.entries) > maxPoisonEntries {
		t.Fatalf("%d entries", len(p.entries))
	}
	if newPoisonTracker(0).enabled() {
		t.Fatal("after 0 is enabled")
	}
}

func TestOutboxBoundsUnwrittenTuples(t *testing.T) {
	rooms := 0
	o := newOutbox(2, func() { rooms++ })
	o.push([]byte("a"))
	if !o.hasRoom() {
		t.Fatal("no room after 1 of 2")
	}
	o.push([]byte("b"))
	if o.hasRoom() {
		t.Fatal("room after 2 of 2")
	}
	o.pushPrio([]byte("ids"))   // priority frames do not count
	o.pushCommand([]byte("hb")) // nor do commands, but they are counted as handed
	prio, normal, cmds, closed := o.take(nil, nil)
	if len(prio) != 2 || len(normal) != 2 || cmds != 3 || closed {
		t.Fatalf("take %q %q, %d commands, %v", prio, normal, cmds, closed)
	}
	if _, _, cmds, _ := o.take(nil, nil); cmds != 0 {
		t.Fatalf("%d commands counted twice", cmds)
	}
	o.written(2)
	if rooms != 1 || !o.hasRoom() {
		t.Fatalf("rooms %d", rooms)
	}
	o.written(0)
	if rooms != 1 {
		t.Fatalf("onRoom called without a waiter")
	}
	o.close()
	o.push([]byte("c"))
	if _, normal, _, closed := o.take(nil, nil); len(normal) != 0 || !closed {
		t.Fatalf("after close: %q %v", normal, closed)
	}
}

func TestSetGauges(t *testing.T) {
	for _, tc := range []struct {
		params any
		want   map[string]float64 // gauge key label ("" for none) -> value
	}{
		{int64(3), map[string]float64{"": 3}},
		{2.5, map[string]float64{"": 2.5}},
		{map[string]any{"a": int64(1), "b": 0.5, "s": "x", "l": []any{int64(1)}}, map[string]float64{"a": 1, "b": 0.5}},
		{"high", nil},
		{true, nil},
		{nil, nil},
		{[]any{int64(1)}, nil},
		{map[string]any{"s": "x"}, nil},
	} {
		var g topology.Gauges
		if got, refused := setGauges(&g, "m", tc.params); got != (len(tc.want) > 0) || refused != 0 {
			t.Errorf("setGauges(%#v) = %v, %d refused", tc.params, got, refused)
		}
		got := map[string]float64{}
		for _, x := range g.All() {
			if x.Name != "m" {
				t.Errorf("setGauges(%#v): gauge named %q", tc.params, x.Name)
			}
			got[x.Labels["key"]] = x.Value
		}
		if len(tc.want) == 0 && len(got) == 0 {
			continue
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("setGauges(%#v): gauges %v, want %v", tc.params, got, tc.want)
		}
	}
}

// TestSetGaugesCountsRefusedKeys: keys beyond topology.MaxGaugesPerName are
// counted as refused; the kept ones still update.
func TestSetGaugesCountsRefusedKeys(t *testing.T) {
	var g topology.Gauges
	big := map[string]any{}
	for i := range topology.MaxGaugesPerName + 50 {
		big[fmt.Sprintf("w%d", i)] = int64(i)
	}
	if set, refused := setGauges(&g, "words", big); !set || refused != 50 || len(g.All()) != topology.MaxGaugesPerName {
		t.Fatalf("set %v, %d refused, %d gauges; want true, 50, %d", set, refused, len(g.All()), topology.MaxGaugesPerName)
	}
}
