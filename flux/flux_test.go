package flux_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/flux"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func loadFile(t *testing.T, name string, opts ...flux.Option) *topology.Topology {
	t.Helper()
	topo, err := flux.LoadFile(filepath.Join("testdata", name), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func inputs(topo *topology.Topology, id topology.ComponentID) string {
	c := topo.Component(id)
	if c == nil {
		return "<no component>"
	}
	var s []string
	for _, in := range c.Inputs {
		g := in.Grouping.Kind.String()
		if len(in.Grouping.Fields) > 0 {
			g += fmt.Sprint(in.Grouping.Fields)
		}
		s = append(s, fmt.Sprintf("%s/%s:%s", in.Source, in.Stream, g))
	}
	return strings.Join(s, " ")
}

func streams(topo *topology.Topology, id topology.ComponentID) string {
	c := topo.Component(id)
	var s []string
	for sid, st := range c.Streams {
		d := ""
		if st.Direct {
			d = "!"
		}
		s = append(s, fmt.Sprintf("%s%s%v", sid, d, []string(st.Fields)))
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// TestLoadStormMultilangExample loads the shape of Storm's own Flux example
// unchanged.
func TestLoadStormMultilangExample(t *testing.T) {
	topo := loadFile(t, "storm_multilang.yaml")
	if topo.Name != "shell-topology" || topo.Config["topology.workers"] != 1 {
		t.Errorf("name %q config %v", topo.Name, topo.Config)
	}
	cases := []struct{ id, kind, streams, inputs string }{
		{"sentence-spout", "spout", "default[word]", ""},
		{"splitsentence", "bolt", "default[word] dlq[source stream values error]", "sentence-spout/default:shuffle"},
		{"count", "bolt", "default[word count]", "splitsentence/default:fields[word]"},
		{"log", "bolt", "", "count/default:shuffle"},
	}
	for _, tc := range cases {
		c := topo.Component(topology.ComponentID(tc.id))
		if c == nil {
			t.Errorf("no component %q", tc.id)
			continue
		}
		if c.Kind.String() != tc.kind || streams(topo, c.ID) != tc.streams || inputs(topo, c.ID) != tc.inputs {
			t.Errorf("%s: %s streams %q inputs %q, want %s %q %q", tc.id, c.Kind, streams(topo, c.ID), inputs(topo, c.ID), tc.kind, tc.streams, tc.inputs)
		}
	}
	// The resources dir defaults to the file's directory.
	abs, _ := filepath.Abs("testdata")
	if got := topo.Config[multilang.ResourcesDirKey]; got != abs {
		t.Errorf("resources dir %v, want %s", got, abs)
	}
}

func TestParseStormShellComponents(t *testing.T) {
	data, err := os.ReadFile("testdata/storm_multilang.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := flux.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	s := d.Spouts[0]
	if s.ClassName != flux.ShellSpoutClass || s.Line != 20 || len(s.ConfigMethods) != 2 ||
		!reflect.DeepEqual(s.ConstructorArgs, []any{[]any{"node", "randomsentence.js"}, []any{"word"}}) {
		t.Errorf("spout %+v", s)
	}
	if m := s.ConfigMethods[1]; m.Name != "addComponentConfig" || !reflect.DeepEqual(m.Args, []any{"publisher.data_paths", []any{"actions"}}) {
		t.Errorf("config method %+v", m)
	}
	if g := d.Streams[1].Grouping; g.Type != "FIELDS" || !reflect.DeepEqual(g.Args, []string{"word"}) || g.StreamID != "default" {
		t.Errorf("grouping %+v", g)
	}
}

func TestLoadSquallShellForm(t *testing.T) {
	data, err := os.ReadFile("testdata/squall_shell.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := flux.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Spouts[0].Command; !reflect.DeepEqual(got, []string{"streamparse_run", "-s msgpack wordcount.SentenceSpout"}) {
		t.Errorf("streamparse command %q: want exactly [execution_command, script]", got)
	}
	if got := d.Bolts[0].Command; !reflect.DeepEqual(got, []string{"python3", "wordcount.py", "SplitBolt", "-s", "msgpack"}) {
		t.Errorf("list command %q", got)
	}
	if d.Bolts[0].Conf["split.lowercase"] != true {
		t.Errorf("component config %v", d.Bolts[0].Conf)
	}
	topo, err := d.Build(flux.WithResourcesDir("/res"), flux.WithConfig(topology.Config{"topology.max.spout.pending": 7}))
	if err != nil {
		t.Fatal(err)
	}
	if got := streams(topo, "split"); got != "default[word] dlq[source stream values error] errors[error] hints![word task]" {
		t.Errorf("split streams %s", got)
	}
	if c := topo.Component("split"); len(c.Tasks) != 4 || c.Parallelism != 2 {
		t.Errorf("split tasks %v parallelism %d", c.Tasks, c.Parallelism)
	}
	if got := inputs(topo, "hinted"); got != "split/hints:direct" {
		t.Errorf("hinted inputs %s", got)
	}
	if got := inputs(topo, "dead"); got != "split/dlq:shuffle" {
		t.Errorf("dead-letter inputs %s", got)
	}
	if got := inputs(topo, "split"); got != "sentences/default:local-or-shuffle" {
		t.Errorf("split inputs %s", got)
	}
	if topo.Config[multilang.ResourcesDirKey] != "/res" || topo.Runtime.MaxSpoutPending != 7 ||
		topo.Config[multilang.SerializerKey] != "msgpack" {
		t.Errorf("config %v", topo.Config)
	}
}

func TestLoadGroupings(t *testing.T) {
	topo := loadFile(t, "groupings.yaml")
	want := map[string]string{
		"shuffle":        "src/default:shuffle",
		"fields":         "src/default:fields[k]",
		"all":            "src/default:all",
		"global":         "src/default:global",
		"none":           "src/default:none",
		"direct":         "src/direct:direct",
		"localorshuffle": "src/default:local-or-shuffle",
		"partialkey":     "src/default:partial-key[k]",
		"custompk":       "src/default:partial-key[v]",
	}
	for id, w := range want {
		if got := inputs(topo, topology.ComponentID(id)); got != w {
			t.Errorf("%s: %s, want %s", id, got, w)
		}
	}
}

// TestLoadErrors: errors name the line and the field, and all are reported.
func TestLoadErrors(t *testing.T) {
	const head = "name: t\nspouts:\n  - {id: s, command: [x], fields: [w]}\n"
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"not yaml", "name: [", []string{"not YAML"}},
		{"empty", "", []string{"empty"}},
		{"not a mapping", "- a\n- b\n", []string{"line 1: want a mapping"}},
		{"no name", "spouts:\n  - {id: s, command: x}\n", []string{"line 1: name: missing"}},
		{"no spouts", "name: t\n", []string{"spouts: missing"}},
		{"unknown top-level", head + "bogus: 1\n", []string{"line 4: bogus: unknown field"}},
		{"flux components", head + "components:\n  - id: x\n", []string{"line 4: components: Flux's components are not supported"}},
		{"unknown component field", head + "bolts:\n  - {id: b, command: x, paralelism: 2}\n", []string{"line 5: bolts[0].paralelism: unknown field"}},
		{"bad parallelism", head + "bolts:\n  - id: b\n    command: x\n    parallelism: many\n", []string{"line 7: bolts[0].parallelism: want an integer"}},
		{"huge parallelism", head + "bolts:\n  - {id: b, command: x, parallelism: 100000000}\n", []string{"line 5: bolts[0].parallelism: want an integer from 1 to 4096"}},
		{"no class", head + "bolts:\n  - id: b\n", []string{"line 5: bolts[0].className: missing"}},
		{"unknown class", head + "bolts:\n  - id: b\n    className: com.example.Nope\n", []string{`line 5: bolts[0].className: unknown bolt class "com.example.Nope"`}},
		{"duplicate id", head + "bolts:\n  - {id: s, command: x}\n", []string{`line 5: bolts[0].id: id "s" is already used at line 3`}},
		{"bad grouping", head + "bolts:\n  - {id: b, command: x}\nstreams:\n  - from: s\n    to: b\n    grouping:\n      type: SHUFLE\n", []string{`line 10: streams[0].grouping.type: unknown grouping "SHUFLE"`}},
		{"fields without args", head + "bolts:\n  - {id: b, command: x}\nstreams:\n  - {from: s, to: b, grouping: {type: FIELDS}}\n", []string{"line 7: streams[0].grouping.args: a FIELDS grouping needs the fields"}},
		{"unknown field", head + "bolts:\n  - {id: b, command: x}\nstreams:\n  - from: s\n    to: b\n    grouping: {type: FIELDS, args: [wrod]}\n", []string{`line 9: streams[0].grouping.args: no field "wrod" in stream "default" of "s", which declares [w]`}},
		{"unknown source and target", head + "bolts:\n  - {id: b, command: x}\nstreams:\n  - from: nope\n    to: s\n    grouping: {type: SHUFFLE}\n",
			[]string{`line 7: streams[0].from: no spout or bolt "nope"`, `line 7: streams[0].to: "s" is a spout`}},
		{"stream missing fields", head + "streams:\n  - {from: s}\n", []string{"line 5: streams[0].to: missing", "line 5: streams[0].grouping: missing"}},
		{"shell constructor args", head + "bolts:\n  - id: b\n    className: org.apache.storm.flux.wrappers.bolts.FluxShellBolt\n    constructorArgs: [python3]\n",
			[]string{"line 5: bolts[0].constructorArgs[0]: want the command line as a non-empty list of strings"}},
		{"shell spout as bolt", head + "bolts:\n  - id: b\n    className: org.apache.storm.flux.wrappers.spouts.FluxShellSpout\n    constructorArgs: [[x]]\n",
			[]string{"line 5: bolts[0].className: org.apache.storm.flux.wrappers.spouts.FluxShellSpout is a spout"}},
		{"unknown config method", head + "bolts:\n  - id: b\n    className: org.apache.storm.flux.wrappers.bolts.FluxShellBolt\n    constructorArgs: [[x]]\n    configMethods:\n      - {name: setFoo, args: [1]}\n",
			[]string{`line 9: bolts[0].configMethods[0].name: unknown method "setFoo"`}},
		{"bad config value", "name: t\nconfig:\n  topology.max.spout.pending: lots\n  topology.multilang.serializer: thrift\nspouts:\n  - {id: s, command: x}\n",
			[]string{"line 3: config.topology.max.spout.pending:", "line 4: config.topology.multilang.serializer:"}},
		{"script without command", head + "bolts:\n  - {id: b, script: x.py}\n", []string{"line 5: bolts[0].script: script needs a command"}},
		{"both command and class", head + "bolts:\n  - {id: b, command: x, className: y}\n", []string{"line 5: bolts[0]: give either command"}},
		{"empty command", head + "bolts:\n  - {id: b, command: []}\n", []string{"line 5: bolts[0].command: empty command"}},
		{"duplicate key", "name: t\nname: u\n", []string{"line 2: name: given twice"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flux.Load([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("loaded; want errors %q", tc.want)
			}
			if !errors.Is(err, flux.ErrInvalid) && !strings.Contains(tc.name, "config") {
				t.Errorf("%v does not match ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// TestLoadRegistry: Go components and groupings from the caller's registry,
// with the component as written and the merged config.
func TestLoadRegistry(t *testing.T) {
	var got *flux.Component
	var gotConf topology.Config
	reg := flux.Registry{
		Spouts: map[string]flux.SpoutFactory{"go.Words": func(c *flux.Component, conf topology.Config) (func() topology.Spout, error) {
			got, gotConf = c, conf
			return func() topology.Spout { return &wordSpout{} }, nil
		}},
		Groupings: map[string]flux.GroupingFactory{"go.First": func(args []any) (topology.CustomStreamGrouping, error) {
			return firstTask{}, nil
		}},
	}
	yaml := `
name: reg
config: {kafka.topic: words}
spouts:
  - id: words
    className: go.Words
    constructorArgs: [a, 1]
    properties:
      - {name: brokers, value: "127.0.0.1:9092"}
    outputs: {default: [word]}
bolts:
  - {id: b, command: x}
streams:
  - from: words
    to: b
    grouping: {type: CUSTOM, customClass: {className: go.First}}
`
	topo, err := flux.Load([]byte(yaml), flux.WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.ID != "words" || !reflect.DeepEqual(got.ConstructorArgs, []any{"a", 1}) ||
		got.Properties["brokers"] != "127.0.0.1:9092" || gotConf["kafka.topic"] != "words" {
		t.Errorf("factory saw %+v %v", got, gotConf)
	}
	if inputs(topo, "b") != "words/default:custom" || streams(topo, "words") != "default[word]" {
		t.Errorf("inputs %s streams %s", inputs(topo, "b"), streams(topo, "words"))
	}
	// A factory error is reported at the component.
	reg.Spouts["go.Words"] = func(*flux.Component, topology.Config) (func() topology.Spout, error) {
		return nil, errors.New("no brokers")
	}
	_, err = flux.Load([]byte(yaml), flux.WithRegistry(reg))
	if err == nil || !strings.Contains(err.Error(), `line 5: spouts[0]: go.Words "words": no brokers`) {
		t.Errorf("err %v", err)
	}
}

type wordSpout struct{ topology.BaseSpout }

func (wordSpout) NextTuple() {}

type firstTask struct{ tasks []topology.TaskID }

func (f firstTask) Prepare(_ *topology.Context, _ topology.StreamID, targets []topology.TaskID) {}
func (f firstTask) ChooseTasks(_ topology.Values, dst []topology.TaskID) []topology.TaskID {
	return dst
}

// TestPythonFluxWordCount runs a Flux file of pystorm components, with the
// venv's python3 first on PATH as a deployment would have it.
func TestPythonFluxWordCount(t *testing.T) {
	py := os.Getenv("SQUALL_PYTHON")
	if py == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)`")
	}
	t.Setenv("PATH", filepath.Dir(py)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in testdata
	resources, err := filepath.Abs("../multilang/testdata/resources")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	counts := map[string]int64{}
	reg := flux.Registry{Bolts: map[string]flux.BoltFactory{"test.Sink": func(*flux.Component, topology.Config) (func() topology.Bolt, error) {
		return topology.Basic(func() topology.BasicBolt {
			return topology.BoltFunc(func(t topology.Tuple, _ topology.BasicCollector) error {
				w, n := topology.String(t, "word"), topology.Value(t, "count")
				mu.Lock()
				counts[w] = max(counts[w], n.(int64))
				mu.Unlock()
				return nil
			})
		}), nil
	}}}
	topo := loadFile(t, "python_wordcount.yaml", flux.WithRegistry(reg), flux.WithResourcesDir(resources))
	c, err := local.Start(context.Background(), topo)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"the": 5, "moon": 2, "cow": 1, "seas": 1, "away": 1}
	poll.Until(t, 30*time.Second, "the words counted", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for w, n := range want {
			if counts[w] != n {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBuilderErrorsGetLines(t *testing.T) {
	_, err := flux.Load([]byte("name: t\nspouts:\n  - {id: s, className: org.apache.storm.testing.TestWordSpout}\nbolts:\n  - {id: b, command: x}\nstreams:\n  - {from: s, to: b, grouping: {type: FIELDS, args: [nope]}}\n"))
	if err == nil || !errors.Is(err, topology.ErrInvalid) || !errors.Is(err, flux.ErrInvalid) ||
		!strings.Contains(err.Error(), "line 7: streams[0].grouping: bolt \"b\": fields grouping on \"nope\"") {
		t.Errorf("err %v", err)
	}
}
