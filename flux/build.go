package flux

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

// Storm's class names that squall knows.
const (
	ShellSpoutClass         = "org.apache.storm.flux.wrappers.spouts.FluxShellSpout"
	ShellBoltClass          = "org.apache.storm.flux.wrappers.bolts.FluxShellBolt"
	PartialKeyGroupingClass = "org.apache.storm.grouping.PartialKeyGrouping"
)

// Registry maps the className of components that are not shell components
// to Go code: built-in spouts and bolts (the Kafka spout, say) and custom
// groupings. Factories get the component as the file gives it and the
// topology's merged configuration; their errors are reported at the
// component's line.
type Registry struct {
	Spouts    map[string]SpoutFactory
	Bolts     map[string]BoltFactory
	Groupings map[string]GroupingFactory
}

// SpoutFactory makes the task factory of a registry spout.
type SpoutFactory func(c *Component, conf topology.Config) (func() topology.Spout, error)

// BoltFactory makes the task factory of a registry bolt.
type BoltFactory func(c *Component, conf topology.Config) (func() topology.Bolt, error)

// GroupingFactory makes a CUSTOM grouping from customClass.constructorArgs.
type GroupingFactory func(args []any) (topology.CustomStreamGrouping, error)

// Option configures Build.
type Option func(*options)

type options struct {
	reg              Registry
	conf             topology.Config
	resources        string
	resourcesDefault string
	shell            []multilang.Option
}

// WithRegistry adds r's entries to the default registry (StormRegistry).
func WithRegistry(r Registry) Option {
	return func(o *options) {
		maps.Copy(o.reg.Spouts, r.Spouts)
		maps.Copy(o.reg.Bolts, r.Bolts)
		maps.Copy(o.reg.Groupings, r.Groupings)
	}
}

// WithConfig overrides entries of the file's config (node run's --set).
func WithConfig(conf topology.Config) Option {
	return func(o *options) { maps.Copy(o.conf, conf) }
}

// WithResourcesDir sets the working directory of shell components
// (multilang.ResourcesDirKey), over the file's config and WithConfig.
func WithResourcesDir(dir string) Option { return func(o *options) { o.resources = dir } }

// WithShellOptions adds options to every shell component (timeouts in
// tests, a metrics handler, ...).
func WithShellOptions(opts ...multilang.Option) Option {
	return func(o *options) { o.shell = append(o.shell, opts...) }
}

// Load parses a topology file and builds it.
func Load(data []byte, opts ...Option) (*topology.Topology, error) {
	d, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return d.Build(opts...)
}

// LoadFile loads the topology file at path. Unless WithResourcesDir or the
// config (multilang.ResourcesDirKey) says otherwise, shell components run
// in the file's directory.
func LoadFile(path string, opts ...Option) (*topology.Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if abs, err := filepath.Abs(filepath.Dir(path)); err == nil {
		opts = append([]Option{func(o *options) { o.resourcesDefault = abs }}, opts...)
	}
	t, err := d.Build(opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Build wires the definition into a topology with topology.Builder.
// Everything wrong is reported, with lines where the file has them.
func (d *Definition) Build(opts ...Option) (*topology.Topology, error) {
	def := StormRegistry()
	o := options{reg: Registry{Spouts: def.Spouts, Bolts: def.Bolts, Groupings: def.Groupings}, conf: topology.Config{}}
	for _, opt := range opts {
		opt(&o)
	}
	conf := topology.Config{}
	if o.resourcesDefault != "" {
		conf[multilang.ResourcesDirKey] = o.resourcesDefault
	}
	maps.Copy(conf, d.Config)
	maps.Copy(conf, o.conf)
	if o.resources != "" {
		conf[multilang.ResourcesDirKey] = o.resources
	}
	b := &builder{d: d, o: &o, conf: conf, tb: topology.NewBuilder(d.Name), byID: map[string]*Component{},
		decls: map[string]*topology.Declarer{}}
	b.checkConfig()
	for _, c := range slices.Concat(d.Spouts, d.Bolts) {
		b.component(c)
	}
	for _, s := range d.Streams {
		b.stream(s)
	}
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	t, err := b.tb.Build(conf)
	if err != nil {
		return nil, b.locate(err)
	}
	b.topo = t
	return t, nil
}

type builder struct {
	d     *Definition
	o     *options
	conf  topology.Config
	tb    *topology.Builder
	byID  map[string]*Component
	decls map[string]*topology.Declarer
	errs  []error
	topo  *topology.Topology
}

// locate gives the builder's errors (which name components, streams and
// fields) the line of the stream or component they are about.
func (b *builder) locate(err error) error {
	inner := errors.Unwrap(err)
	if inner == nil {
		return err
	}
	var out []error
	for _, e := range unjoin(inner) {
		msg := e.Error()
		line, field := 0, ""
		for _, s := range b.d.Streams {
			if strings.Contains(msg, fmt.Sprintf("bolt %q", s.To)) && strings.Contains(msg, fmt.Sprintf("of %q", s.From)) {
				line, field = s.Line, s.field("grouping")
				break
			}
		}
		if line == 0 {
			for _, c := range slices.Concat(b.d.Spouts, b.d.Bolts) {
				if strings.Contains(msg, fmt.Sprintf("%s %q", strings.TrimSuffix(c.kind, "s"), c.ID)) {
					line, field = c.Line, c.field("")
					break
				}
			}
		}
		if line == 0 {
			out = append(out, e)
			continue
		}
		out = append(out, &Error{Line: line, Field: field, Msg: msg, Err: e})
	}
	return fmt.Errorf("topology %q: %w", b.d.Name, errors.Join(out...))
}

func (b *builder) errorf(line int, field, format string, args ...any) {
	b.errs = append(b.errs, &Error{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// checkConfig validates the runtime's and the shell components' keys,
// naming the line of the key in the file.
func (b *builder) checkConfig() {
	var errs []error
	if _, err := topology.DefaultConfig().Merge(b.conf).Runtime(); err != nil {
		errs = append(errs, unjoin(err)...)
	}
	if err := multilang.ValidateConfig(b.conf); err != nil {
		errs = append(errs, err)
	}
	keys := slices.Collect(maps.Keys(b.d.configLines))
	slices.SortFunc(keys, func(a, c string) int { return len(c) - len(a) }) // longest first
	for _, err := range errs {
		line, field := 0, "config"
		for _, k := range keys {
			if strings.Contains(err.Error(), k) {
				line, field = b.d.configLines[k], "config."+k
				break
			}
		}
		b.errorf(line, field, "%v", err)
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (b *builder) component(c *Component) {
	if c.ID == "" {
		return
	}
	b.byID[c.ID] = c
	spout := c.kind == "spouts"
	if c.ClassName == ShellSpoutClass || c.ClassName == ShellBoltClass {
		if (c.ClassName == ShellSpoutClass) != spout {
			b.errorf(c.Line, c.field("className"), "%s is a %s, but it is listed under %s", c.ClassName,
				map[bool]string{true: "spout", false: "bolt"}[c.ClassName == ShellSpoutClass], c.kind)
			return
		}
		if !b.fluxShell(c) {
			return
		}
	}
	var decl *topology.Declarer
	switch {
	case c.Command != nil:
		opts := []multilang.Option{multilang.WithTopology(func() *topology.Topology { return b.topo })}
		for _, out := range c.Outputs {
			switch {
			case out.Direct:
				opts = append(opts, multilang.DirectStream(topology.StreamID(out.Stream), out.Fields...))
			default:
				opts = append(opts, multilang.OutputStream(topology.StreamID(out.Stream), out.Fields...))
			}
		}
		if len(c.Conf) > 0 {
			opts = append(opts, multilang.WithConf(c.Conf))
		}
		opts = append(opts, b.o.shell...)
		if spout {
			decl = b.tb.SetSpout(topology.ComponentID(c.ID), multilang.SpoutFactory(c.Command, opts...), c.Parallelism)
		} else {
			decl = b.tb.SetBolt(topology.ComponentID(c.ID), multilang.BoltFactory(c.Command, opts...), c.Parallelism)
		}
	case spout:
		f := b.o.reg.Spouts[c.ClassName]
		if f == nil {
			b.unknownClass(c, slices.Collect(maps.Keys(b.o.reg.Spouts)))
			return
		}
		factory, err := f(c, b.conf)
		if err != nil {
			b.errorf(c.Line, c.field(""), "%s %q: %v", c.ClassName, c.ID, err)
			return
		}
		decl = b.tb.SetSpout(topology.ComponentID(c.ID), factory, c.Parallelism)
		b.declareOutputs(decl, c)
	default:
		f := b.o.reg.Bolts[c.ClassName]
		if f == nil {
			b.unknownClass(c, slices.Collect(maps.Keys(b.o.reg.Bolts)))
			return
		}
		factory, err := f(c, b.conf)
		if err != nil {
			b.errorf(c.Line, c.field(""), "%s %q: %v", c.ClassName, c.ID, err)
			return
		}
		decl = b.tb.SetBolt(topology.ComponentID(c.ID), factory, c.Parallelism)
		b.declareOutputs(decl, c)
	}
	if c.NumTasks > 0 {
		decl.NumTasks(c.NumTasks)
	}
	b.decls[c.ID] = decl
}

func (b *builder) declareOutputs(decl *topology.Declarer, c *Component) {
	for _, out := range c.Outputs {
		decl.DeclareStream(topology.StreamID(out.Stream), out.Direct, out.Fields...)
	}
}

func (b *builder) unknownClass(c *Component, known []string) {
	known = append(known, ShellSpoutClass, ShellBoltClass)
	slices.Sort(known)
	b.errorf(c.Line, c.field("className"), "unknown %s class %q: not a shell component and not in the registry (known: %s)",
		strings.TrimSuffix(c.kind, "s"), c.ClassName, strings.Join(known, ", "))
}

// fluxShell reads Flux's FluxShellSpout/Bolt: constructorArgs
// [[command, args...], [fields]] and the configMethods setDefaultStream,
// setNamedStream and addComponentConfig.
func (b *builder) fluxShell(c *Component) bool {
	ok := true
	if len(c.ConstructorArgs) < 1 || len(c.ConstructorArgs) > 2 {
		b.errorf(c.Line, c.field("constructorArgs"), "%s takes [[command, args...]] or [[command, args...], [output fields]], got %d arguments",
			c.ClassName, len(c.ConstructorArgs))
		return false
	}
	cmd, good := stringList(c.ConstructorArgs[0])
	if !good || len(cmd) == 0 || cmd[0] == "" {
		b.errorf(c.Line, c.field("constructorArgs[0]"), "want the command line as a non-empty list of strings, got %v", c.ConstructorArgs[0])
		ok = false
	}
	c.Command = cmd
	if len(c.ConstructorArgs) == 2 {
		fields, good := stringList(c.ConstructorArgs[1])
		if !good {
			b.errorf(c.Line, c.field("constructorArgs[1]"), "want the output fields as a list of strings, got %v", c.ConstructorArgs[1])
			ok = false
		}
		c.Outputs = append(c.Outputs, Output{Stream: "default", Fields: fields, Line: c.Line})
	}
	for i, m := range c.ConfigMethods {
		f := c.field(fmt.Sprintf("configMethods[%d]", i))
		switch m.Name {
		case "setDefaultStream":
			fields, good := oneStringList(m.Args)
			if !good {
				b.errorf(m.Line, f+".args", "setDefaultStream takes one list of field names, got %v", m.Args)
				ok = false
				continue
			}
			c.Outputs = setOutput(c.Outputs, Output{Stream: "default", Fields: fields, Line: m.Line})
		case "setNamedStream":
			if len(m.Args) != 2 {
				b.errorf(m.Line, f+".args", "setNamedStream takes a stream name and a list of field names, got %v", m.Args)
				ok = false
				continue
			}
			name, good1 := m.Args[0].(string)
			fields, good2 := stringList(m.Args[1])
			if !good1 || !good2 || name == "" {
				b.errorf(m.Line, f+".args", "setNamedStream takes a stream name and a list of field names, got %v", m.Args)
				ok = false
				continue
			}
			c.Outputs = setOutput(c.Outputs, Output{Stream: name, Fields: fields, Line: m.Line})
		case "addComponentConfig":
			key, good := "", len(m.Args) == 2
			if good {
				key, good = m.Args[0].(string)
			}
			if !good || key == "" {
				b.errorf(m.Line, f+".args", "addComponentConfig takes a key and a value, got %v", m.Args)
				ok = false
				continue
			}
			if c.Conf == nil {
				c.Conf = map[string]any{}
			}
			c.Conf[key] = m.Args[1]
		default:
			b.errorf(m.Line, f+".name", "unknown method %q of %s (known: setDefaultStream, setNamedStream, addComponentConfig)", m.Name, c.ClassName)
			ok = false
		}
	}
	return ok
}

// setOutput replaces the declaration of o's stream or adds it.
func setOutput(outs []Output, o Output) []Output {
	for i := range outs {
		if outs[i].Stream == o.Stream {
			outs[i] = o
			return outs
		}
	}
	return append(outs, o)
}

func stringList(v any) ([]string, bool) {
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// oneStringList accepts [[a, b]] (one list argument) or [a, b] (Flux
// passes a YAML list to a String[] parameter either way).
func oneStringList(args []any) ([]string, bool) {
	if len(args) == 1 {
		if l, ok := stringList(args[0]); ok {
			return l, true
		}
	}
	return stringList(args)
}

func (b *builder) stream(s *Stream) {
	from, to := b.byID[s.From], b.byID[s.To]
	ok := true
	if s.From != "" && from == nil {
		b.errorf(s.Line, s.field("from"), "no spout or bolt %q", s.From)
		ok = false
	}
	if s.To != "" && to == nil {
		b.errorf(s.Line, s.field("to"), "no bolt %q", s.To)
		ok = false
	} else if to != nil && to.kind == "spouts" {
		b.errorf(s.Line, s.field("to"), "%q is a spout: streams go to bolts", s.To)
		ok = false
	}
	g, good := b.grouping(s)
	if !ok || !good || b.decls[s.To] == nil || b.decls[s.From] == nil {
		return
	}
	// Check the stream and fields when the file declares the source's outputs.
	if len(from.Outputs) > 0 {
		outs := from.Outputs
		if from.Command != nil && from.kind == "bolts" {
			outs = append(slices.Clone(outs), Output{Stream: string(multilang.DeadLetterStream), Fields: multilang.DeadLetterFields})
		}
		var out *Output
		for i := range outs {
			if outs[i].Stream == s.Grouping.StreamID {
				out = &outs[i]
			}
		}
		if out == nil {
			var names []string
			for _, o := range outs {
				names = append(names, o.Stream)
			}
			b.errorf(s.Grouping.Line, s.field("grouping.streamId"), "%q declares no stream %q (it declares %v)", s.From, s.Grouping.StreamID, names)
			return
		}
		for _, f := range g.Fields {
			if !slices.Contains(out.Fields, f) {
				b.errorf(s.Grouping.Line, s.field("grouping.args"), "no field %q in stream %q of %q, which declares %v",
					f, s.Grouping.StreamID, s.From, out.Fields)
				return
			}
		}
	}
	b.decls[s.To].Input(topology.ComponentID(s.From), topology.StreamID(s.Grouping.StreamID), g)
}

func (b *builder) grouping(s *Stream) (topology.Grouping, bool) {
	g := s.Grouping
	switch g.Type {
	case "SHUFFLE":
		return topology.ShuffleGrouping(), true
	case "FIELDS":
		return topology.FieldsGrouping(g.Args...), true
	case "ALL":
		return topology.AllGrouping(), true
	case "GLOBAL":
		return topology.GlobalGrouping(), true
	case "NONE":
		return topology.NoneGrouping(), true
	case "DIRECT":
		return topology.DirectGrouping(), true
	case "LOCAL_OR_SHUFFLE":
		return topology.LocalOrShuffleGrouping(), true
	case "PARTIAL_KEY":
		return topology.PartialKeyGrouping(g.Args...), true
	case "CUSTOM":
		cc := g.CustomClass
		if cc == nil {
			return topology.Grouping{}, false
		}
		if cc.ClassName == PartialKeyGroupingClass {
			fields := g.Args
			if len(fields) == 0 && len(cc.ConstructorArgs) == 1 {
				fields, _ = stringList(cc.ConstructorArgs[0])
			}
			if len(fields) == 0 {
				b.errorf(cc.Line, s.field("grouping.customClass.constructorArgs"), "PartialKeyGrouping needs the fields: [[field, ...]] or grouping args")
				return topology.Grouping{}, false
			}
			return topology.PartialKeyGrouping(fields...), true
		}
		f := b.o.reg.Groupings[cc.ClassName]
		if f == nil {
			known := append(slices.Collect(maps.Keys(b.o.reg.Groupings)), PartialKeyGroupingClass)
			slices.Sort(known)
			b.errorf(cc.Line, s.field("grouping.customClass.className"), "unknown grouping class %q (known: %s)", cc.ClassName, strings.Join(known, ", "))
			return topology.Grouping{}, false
		}
		cg, err := f(cc.ConstructorArgs)
		if err != nil {
			b.errorf(cc.Line, s.field("grouping.customClass"), "%s: %v", cc.ClassName, err)
			return topology.Grouping{}, false
		}
		return topology.CustomGrouping(cg), true
	}
	return topology.Grouping{}, false
}
