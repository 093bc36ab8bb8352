package nimbus

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/squall-streams/squall/internal/nimbus/storm"
)

// ErrInvalidTopology is wrapped by every reason a submitted topology cannot
// run on squall; the server answers it as Storm's InvalidTopologyException.
var ErrInvalidTopology = errors.New("invalid topology")

// Keys of the Flux definition a StormTopology becomes, as the node's flux
// factory reads them (cmd/node: fluxKind, fluxYAMLKey) and multilang's
// serializer key.
const (
	FluxKind      = "flux"
	ConfFluxYAML  = "squall.flux.yaml"
	serializerKey = "topology.multilang.serializer"
)

// Java class names squall runs as its own Kafka spout and bolt (the names
// cmd/node's Flux registry knows, plus the reserved squall.kafka.* ones).
const (
	KafkaSpoutClass = "org.apache.storm.kafka.spout.KafkaSpout"
	KafkaBoltClass  = "org.apache.storm.kafka.bolt.KafkaBolt"
)

var (
	kafkaSpoutClasses = []string{KafkaSpoutClass, "squall.kafka.KafkaSpout"}
	kafkaBoltClasses  = []string{KafkaBoltClass, "squall.kafka.KafkaBolt"}
	// kafkaFields are what squall's Kafka spout emits on the default
	// stream (kafka.DefaultFields, storm-kafka-client's).
	kafkaFields = []string{"topic", "partition", "offset", "key", "value"}
)

// partialKeyClass is Storm's PartialKeyGrouping, which squall has natively.
const partialKeyClass = "org.apache.storm.grouping.PartialKeyGrouping"

// topologyName is Storm's rule for topology names (Nimbus.validateTopologyName).
var topologyName = regexp.MustCompile(`^[^/.:\\]+$`)

// ValidName reports whether Storm accepts name as a topology name.
func ValidName(name string) bool { return topologyName.MatchString(name) }

// maxParallelism bounds a component's parallelism hint (flux.MaxTasks).
const maxParallelism = 4096

// fluxDoc is the Flux definition written for the node: squall's subset of
// Flux YAML (see package flux), in a fixed order so equal topologies give
// equal text.
type fluxDoc struct {
	Name    string         `yaml:"name"`
	Config  map[string]any `yaml:"config,omitempty"`
	Spouts  []fluxComp     `yaml:"spouts"`
	Bolts   []fluxComp     `yaml:"bolts,omitempty"`
	Streams []fluxStream   `yaml:"streams,omitempty"`
}

type fluxComp struct {
	ID          string         `yaml:"id"`
	ClassName   string         `yaml:"className,omitempty"`
	Command     []string       `yaml:"command,omitempty,flow"`
	Script      string         `yaml:"script,omitempty"`
	Parallelism int            `yaml:"parallelism"`
	Outputs     yaml.Node      `yaml:"outputs,omitempty"`
	Config      map[string]any `yaml:"config,omitempty"`
}

type fluxStream struct {
	Name     string       `yaml:"name"`
	From     string       `yaml:"from"`
	To       string       `yaml:"to"`
	Grouping fluxGrouping `yaml:"grouping"`
}

type fluxGrouping struct {
	Type     string   `yaml:"type"`
	StreamID string   `yaml:"streamId,omitempty"`
	Args     []string `yaml:"args,omitempty,flow"`
}

// component is one spout or bolt of a StormTopology, whichever map it came from.
type component struct {
	id     string
	spout  bool
	object *storm.ComponentObject
	common *storm.ComponentCommon
}

func (c component) kind() string {
	if c.spout {
		return "spout"
	}
	return "bolt"
}

// Convert turns a topology as `sparse submit` sends it (its name, its
// jsonConf decoded, its StormTopology) into the Flux definition squall
// builds it from: shell components keep execution_command and script as
// the argv Storm gives them, a "-s json|msgpack" script prefix sets the
// topology's multilang serializer, groupings, named and direct streams,
// parallelism hints and each component's json_conf carry over. JVM
// components are rejected, except storm-kafka-client's spout and bolt.
// Every problem found is reported, each wrapping ErrInvalidTopology.
func Convert(name string, conf map[string]any, t *storm.StormTopology) ([]byte, error) {
	doc, err := convert(name, conf, t)
	if err != nil {
		return nil, err
	}
	return doc.marshal()
}

func (doc *fluxDoc) marshal() ([]byte, error) {
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("topology %q: write flux definition: %w", doc.Name, err)
	}
	return out, nil
}

func convert(name string, conf map[string]any, t *storm.StormTopology) (*fluxDoc, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidTopology}, args...)...))
	}
	if !ValidName(name) {
		bad("name %q: a topology name must not be empty nor contain / . : or \\", name)
	}
	if t == nil {
		bad("no topology")
		return nil, errors.Join(errs...)
	}
	if len(t.StateSpouts) > 0 {
		bad("state spouts (%s) are not supported", strings.Join(slices.Sorted(maps.Keys(t.StateSpouts)), ", "))
	}
	byID := map[string]component{}
	var comps []component
	for _, id := range slices.Sorted(maps.Keys(t.Spouts)) {
		s := t.Spouts[id]
		if s == nil || s.SpoutObject == nil || s.Common == nil {
			bad("spout %q: no component object or common part", id)
			continue
		}
		comps = append(comps, component{id: id, spout: true, object: s.SpoutObject, common: s.Common})
	}
	for _, id := range slices.Sorted(maps.Keys(t.Bolts)) {
		b := t.Bolts[id]
		if b == nil || b.BoltObject == nil || b.Common == nil {
			bad("bolt %q: no component object or common part", id)
			continue
		}
		if _, dup := t.Spouts[id]; dup {
			bad("component id %q is used by a spout and a bolt", id)
			continue
		}
		comps = append(comps, component{id: id, object: b.BoltObject, common: b.Common})
	}
	for _, c := range comps {
		byID[c.id] = c
	}
	doc := fluxDoc{Name: name, Config: maps.Clone(conf)}
	if doc.Config == nil {
		doc.Config = map[string]any{}
	}
	serializers := map[string][]string{} // serializer -> components
	for _, c := range comps {
		fc, ser, err := convertComponent(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ser != "" {
			serializers[ser] = append(serializers[ser], c.id)
		}
		if c.spout {
			doc.Spouts = append(doc.Spouts, fc)
		} else {
			doc.Bolts = append(doc.Bolts, fc)
		}
		if c.spout && len(c.common.Inputs) > 0 {
			bad("spout %q has inputs: spouts cannot subscribe to streams", c.id)
			continue
		}
		streams, err := convertInputs(c, byID)
		if err != nil {
			errs = append(errs, err)
		}
		doc.Streams = append(doc.Streams, streams...)
	}
	if len(t.Spouts) == 0 {
		bad("no spouts: a topology needs at least one")
	}
	switch len(serializers) {
	case 0:
	case 1:
		for ser := range serializers {
			if given, ok := doc.Config[serializerKey]; ok && given != ser {
				bad("config %s is %v, but the components are started with -s %s", serializerKey, given, ser)
			}
			doc.Config[serializerKey] = ser
		}
	default:
		var parts []string
		for _, ser := range slices.Sorted(maps.Keys(serializers)) {
			parts = append(parts, fmt.Sprintf("-s %s (%s)", ser, strings.Join(serializers[ser], ", ")))
		}
		bad("shell components use different serializers: %s; squall runs one per topology", strings.Join(parts, ", "))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(doc.Config) == 0 {
		doc.Config = nil
	}
	return &doc, nil
}

// convertComponent maps one component and returns the serializer its
// script's "-s X" prefix names, if any.
func convertComponent(c component) (fluxComp, string, error) {
	fc := fluxComp{ID: c.id, Parallelism: 1}
	bad := func(format string, args ...any) (fluxComp, string, error) {
		return fluxComp{}, "", fmt.Errorf("%w: %s %q: "+format, append([]any{ErrInvalidTopology, c.kind(), c.id}, args...)...)
	}
	if strings.HasPrefix(c.id, "__") {
		return bad("ids starting with __ are reserved")
	}
	if p := c.common.ParallelismHint; p != nil {
		if *p < 1 || *p > maxParallelism {
			return bad("parallelism hint %d: want 1 to %d", *p, maxParallelism)
		}
		fc.Parallelism = int(*p)
	}
	if c.common.JSONConf != nil && strings.TrimSpace(*c.common.JSONConf) != "" {
		var cc map[string]any
		if err := json.Unmarshal([]byte(*c.common.JSONConf), &cc); err != nil {
			return bad("json_conf is not a JSON object: %v", err)
		}
		if len(cc) > 0 {
			fc.Config = cc
		}
	}
	outputs, err := outputsNode(c)
	if err != nil {
		return fluxComp{}, "", err
	}
	var ser string
	switch o := c.object; {
	case o.IsSetShell():
		cmd := o.Shell.GetExecutionCommand()
		if strings.TrimSpace(cmd) == "" {
			return bad("shell component with an empty execution_command")
		}
		fc.Command, fc.Script = []string{cmd}, o.Shell.GetScript()
		ser = scriptSerializer(fc.Script)
		if ser != "" && ser != "json" && ser != "msgpack" {
			return bad("script %q: serializer %q: squall speaks json and msgpack", fc.Script, ser)
		}
		fc.Outputs = outputs
	case o.IsSetJavaObject():
		class := o.JavaObject.GetFullClassName()
		switch {
		case c.spout && slices.Contains(kafkaSpoutClasses, class):
			fc.ClassName = KafkaSpoutClass
			if err := kafkaSpoutStreams(c); err != nil {
				return fluxComp{}, "", err
			}
		case !c.spout && slices.Contains(kafkaBoltClasses, class):
			fc.ClassName = KafkaBoltClass
			if len(c.common.Streams) > 0 {
				return bad("%s emits nothing; declare no outputs", class)
			}
		default:
			return bad("JVM class %s cannot run on squall (no JVM); use a Python %s, or squall's Kafka %s (class %s, configured by the component's config)",
				class, c.kind(), c.kind(), map[bool]string{true: KafkaSpoutClass, false: KafkaBoltClass}[c.spout])
		}
		cc, err := kafkaArgs(o.JavaObject)
		if err != nil {
			return bad("%s: %v", class, err)
		}
		if len(cc) > 0 {
			if fc.Config == nil {
				fc.Config = map[string]any{}
			}
			maps.Copy(fc.Config, cc)
		}
	case o.IsSetSerializedJava():
		return bad("a serialized Java object cannot run on squall (no JVM); use a Python %s", c.kind())
	default:
		return bad("the component object sets none of shell, java_object, serialized_java")
	}
	return fc, ser, nil
}

// scriptSerializer returns X of a script that starts "-s X" or
// "--serializer X" (streamparse's prefix), else "".
func scriptSerializer(script string) string {
	f := strings.Fields(script)
	for i := 0; i+1 < len(f); i++ {
		switch {
		case f[i] == "-s" || f[i] == "--serializer":
			return f[i+1]
		case strings.HasPrefix(f[i], "-"):
			continue
		default:
			return ""
		}
	}
	return ""
}

// kafkaSpoutStreams checks that a Kafka spout declares what squall's emits.
func kafkaSpoutStreams(c component) error {
	for id, s := range c.common.Streams {
		if id != "default" || s == nil || !slices.Equal(s.OutputFields, kafkaFields) || s.Direct {
			return fmt.Errorf("%w: spout %q: squall's Kafka spout emits %v on stream default; declare outputs=%q",
				ErrInvalidTopology, c.id, kafkaFields, kafkaFields)
		}
	}
	return nil
}

// kafkaArgs reads the Kafka components' constructor arguments: none, or
// one string holding a JSON object of kafka.* settings.
func kafkaArgs(o *storm.JavaObject) (map[string]any, error) {
	switch args := o.GetArgsList(); {
	case len(args) == 0:
		return nil, nil
	case len(args) == 1 && args[0] != nil && args[0].IsSetStringArg():
		var cc map[string]any
		if err := json.Unmarshal([]byte(args[0].GetStringArg()), &cc); err != nil {
			return nil, fmt.Errorf("its one argument must be a JSON object of settings: %v", err)
		}
		return cc, nil
	}
	return nil, fmt.Errorf("takes no arguments (set it up with the component's config) or one JSON object string, got %d", len(o.GetArgsList()))
}

// outputsNode writes a component's streams as squall's outputs mapping,
// default first, then by name.
func outputsNode(c component) (yaml.Node, error) {
	n := yaml.Node{}
	ids := slices.Sorted(maps.Keys(c.common.Streams))
	if i := slices.Index(ids, "default"); i > 0 {
		ids = append([]string{"default"}, slices.Delete(ids, i, i+1)...)
	}
	if len(ids) == 0 {
		return n, nil
	}
	n.Kind = yaml.MappingNode
	for _, id := range ids {
		s := c.common.Streams[id]
		if strings.HasPrefix(id, "__") {
			return n, fmt.Errorf("%w: %s %q: stream %q: ids starting with __ are reserved", ErrInvalidTopology, c.kind(), c.id, id)
		}
		if s == nil {
			return n, fmt.Errorf("%w: %s %q: stream %q has no stream info", ErrInvalidTopology, c.kind(), c.id, id)
		}
		fields := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, f := range s.OutputFields {
			fields.Content = append(fields.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: f})
		}
		val := fields
		if s.Direct {
			val = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Value: "fields"}, fields,
				{Kind: yaml.ScalarNode, Value: "direct"}, {Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"},
			}}
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: id}, val)
	}
	return n, nil
}

// convertInputs maps a bolt's subscriptions to Flux streams, checking them
// as Storm's validateStructure does.
func convertInputs(c component, byID map[string]component) ([]fluxStream, error) {
	var errs []error
	var out []fluxStream
	type input struct {
		id *storm.GlobalStreamId
		g  *storm.Grouping
	}
	var inputs []input
	for id, g := range c.common.Inputs {
		if id == nil {
			errs = append(errs, fmt.Errorf("%w: bolt %q: an input without a stream id", ErrInvalidTopology, c.id))
			continue
		}
		inputs = append(inputs, input{id, g})
	}
	slices.SortFunc(inputs, func(a, b input) int {
		return strings.Compare(a.id.ComponentId+"\x00"+a.id.StreamId, b.id.ComponentId+"\x00"+b.id.StreamId)
	})
	for _, in := range inputs {
		from, stream := in.id.ComponentId, in.id.StreamId
		where := fmt.Sprintf("bolt %q: input %s/%s", c.id, from, stream)
		src, ok := byID[from]
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s: no component %q", ErrInvalidTopology, where, from))
			continue
		}
		info := src.common.Streams[stream]
		if info == nil {
			errs = append(errs, fmt.Errorf("%w: %s: %s %q declares no stream %q (it declares %v)", ErrInvalidTopology, where,
				src.kind(), from, stream, slices.Sorted(maps.Keys(src.common.Streams))))
			continue
		}
		g, err := convertGrouping(in.g, info, src)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrInvalidTopology, where, err))
			continue
		}
		if stream != "default" {
			g.StreamID = stream
		}
		out = append(out, fluxStream{Name: from + " --" + stream + "--> " + c.id, From: from, To: c.id, Grouping: g})
	}
	return out, errors.Join(errs...)
}

func convertGrouping(g *storm.Grouping, info *storm.StreamInfo, src component) (fluxGrouping, error) {
	if g == nil {
		return fluxGrouping{}, errors.New("no grouping")
	}
	var set []string
	for name, on := range map[string]bool{"fields": g.IsSetFields(), "shuffle": g.IsSetShuffle(), "all": g.IsSetAll(),
		"none": g.IsSetNone(), "direct": g.IsSetDirect(), "custom_object": g.IsSetCustomObject(),
		"custom_serialized": g.IsSetCustomSerialized(), "local_or_shuffle": g.IsSetLocalOrShuffle()} {
		if on {
			set = append(set, name)
		}
	}
	if len(set) != 1 {
		slices.Sort(set)
		return fluxGrouping{}, fmt.Errorf("a grouping sets exactly one kind, this one %v", set)
	}
	switch {
	case g.IsSetFields() && len(g.Fields) == 0:
		return fluxGrouping{Type: "GLOBAL"}, nil
	case g.IsSetFields():
		for _, f := range g.Fields {
			if !slices.Contains(info.OutputFields, f) {
				return fluxGrouping{}, fmt.Errorf("fields grouping on %q: the stream declares %v", f, info.OutputFields)
			}
		}
		return fluxGrouping{Type: "FIELDS", Args: g.Fields}, nil
	case g.IsSetShuffle():
		return fluxGrouping{Type: "SHUFFLE"}, nil
	case g.IsSetAll():
		return fluxGrouping{Type: "ALL"}, nil
	case g.IsSetNone():
		return fluxGrouping{Type: "NONE"}, nil
	case g.IsSetDirect():
		if !info.Direct {
			return fluxGrouping{}, errors.New("direct grouping of a stream that is not direct")
		}
		return fluxGrouping{Type: "DIRECT"}, nil
	case g.IsSetLocalOrShuffle():
		return fluxGrouping{Type: "LOCAL_OR_SHUFFLE"}, nil
	case g.IsSetCustomObject() && g.CustomObject.GetFullClassName() == partialKeyClass && len(g.CustomObject.GetArgsList()) == 0:
		// Storm's no-argument form keys on the first value.
		if len(info.OutputFields) == 0 {
			return fluxGrouping{}, fmt.Errorf("%s keys on the first field, and the stream has none", path.Ext(partialKeyClass)[1:])
		}
		return fluxGrouping{Type: "PARTIAL_KEY", Args: info.OutputFields[:1]}, nil
	case g.IsSetCustomObject():
		return fluxGrouping{}, fmt.Errorf("custom grouping class %s cannot run on squall (no JVM); squall maps only %s (no arguments)",
			g.CustomObject.GetFullClassName(), partialKeyClass)
	}
	return fluxGrouping{}, errors.New("a serialized Java custom grouping cannot run on squall (no JVM)")
}
