package topology

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every validation error Build returns.
var ErrInvalid = errors.New("invalid topology")

// problem is one validation error; it matches ErrInvalid with errors.Is.
type problem struct{ msg string }

func (p *problem) Error() string        { return p.msg }
func (p *problem) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error { return &problem{msg: fmt.Sprintf(format, args...)} }

func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// ComponentKind says whether a component is a spout or a bolt.
type ComponentKind int

// The kinds of component.
const (
	KindSpout ComponentKind = iota + 1
	KindBolt
)

func (k ComponentKind) String() string {
	if k == KindSpout {
		return "spout"
	}
	return "bolt"
}

// OutputDeclarer is implemented by components that declare their own output
// streams, like Storm's declareOutputFields. The builder calls it once, on an
// instance made by the component's factory.
type OutputDeclarer interface {
	DeclareOutputFields(d OutputFieldsDeclarer)
}

// OutputFieldsDeclarer declares a component's output streams.
type OutputFieldsDeclarer interface {
	// Declare declares the fields of the default stream.
	Declare(fields ...string)
	// DeclareStream declares a named stream; direct streams are emitted with
	// EmitDirect and consumed with a direct grouping.
	DeclareStream(stream StreamID, direct bool, fields ...string)
}

// Builder wires spouts and bolts into a Topology. It records mistakes as it
// goes; Build reports all of them.
type Builder struct {
	name  string
	comps []*Declarer
}

// NewBuilder starts a topology called name.
func NewBuilder(name string) *Builder { return &Builder{name: name} }

// Declarer declares one component's outputs and, for bolts, its inputs.
type Declarer struct {
	id          ComponentID
	kind        ComponentKind
	parallelism int
	numTasks    int
	command     []string
	newSpout    func() Spout
	newBolt     func() Bolt
	streams     []*Stream
	inputs      []Input
	caps        Capabilities
	errs        []error
}

// SetSpout adds a spout with parallelism tasks, each made by factory.
func (b *Builder) SetSpout(id ComponentID, factory func() Spout, parallelism int) *Declarer {
	return add(b, &Declarer{id: id, kind: KindSpout, parallelism: parallelism, newSpout: factory}, factory)
}

// SetBolt adds a bolt with parallelism tasks, each made by factory.
func (b *Builder) SetBolt(id ComponentID, factory func() Bolt, parallelism int) *Declarer {
	return add(b, &Declarer{id: id, kind: KindBolt, parallelism: parallelism, newBolt: factory}, factory)
}

// add adds component d, made by factory, letting an instance declare its
// outputs when it is an OutputDeclarer.
func add[C any](b *Builder, d *Declarer, factory func() C) *Declarer {
	if factory == nil {
		d.errs = append(d.errs, invalid("%s %q: factory is nil", d.kind, d.id))
	} else {
		inst := any(factory())
		if od, ok := inst.(OutputDeclarer); ok {
			od.DeclareOutputFields(d)
		}
		if cr, ok := inst.(CommandRunner); ok {
			d.command = slices.Clone(cr.CommandLine())
		}
		d.caps = capabilitiesOf(inst)
	}
	b.comps = append(b.comps, d)
	return d
}

// SetBasicBolt adds a BasicBolt (see Basic).
func (b *Builder) SetBasicBolt(id ComponentID, factory func() BasicBolt, parallelism int) *Declarer {
	if factory == nil {
		return b.SetBolt(id, nil, parallelism)
	}
	// Basic's wrapper passes DeclareOutputFields on to the BasicBolt.
	return b.SetBolt(id, Basic(factory), parallelism)
}

// Output declares the fields of the default stream.
func (d *Declarer) Output(fields ...string) *Declarer { d.Declare(fields...); return d }

// OutputStream declares the fields of a named stream.
func (d *Declarer) OutputStream(stream StreamID, fields ...string) *Declarer {
	d.DeclareStream(stream, false, fields...)
	return d
}

// DirectStream declares a direct stream (emitted with EmitDirect).
func (d *Declarer) DirectStream(stream StreamID, fields ...string) *Declarer {
	d.DeclareStream(stream, true, fields...)
	return d
}

// Declare implements OutputFieldsDeclarer.
func (d *Declarer) Declare(fields ...string) { d.DeclareStream(DefaultStream, false, fields...) }

// DeclareStream implements OutputFieldsDeclarer.
func (d *Declarer) DeclareStream(stream StreamID, direct bool, fields ...string) {
	d.streams = append(d.streams, &Stream{ID: stream, Fields: slices.Clone(Fields(fields)), Direct: direct})
}

// NumTasks sets the component's maximum parallelism (Storm's
// setNumTasks; Flink's max parallelism): it gets n tasks, one per key
// group, of which the first parallelism run. A rebalance changes how many
// run, up to n, while the topology runs (cluster.Node.Rebalance). Default:
// the parallelism, which then cannot grow.
func (d *Declarer) NumTasks(n int) *Declarer { d.numTasks = n; return d }

// Input subscribes the bolt to stream of source with grouping g.
func (d *Declarer) Input(source ComponentID, stream StreamID, g Grouping) *Declarer {
	d.inputs = append(d.inputs, Input{Source: source, Stream: stream, Grouping: g})
	return d
}

// ShuffleGrouping subscribes to source's default stream, shuffled.
func (d *Declarer) ShuffleGrouping(source ComponentID) *Declarer {
	return d.Input(source, DefaultStream, ShuffleGrouping())
}

// FieldsGrouping subscribes to source's default stream, grouped by fields.
func (d *Declarer) FieldsGrouping(source ComponentID, fields ...string) *Declarer {
	return d.Input(source, DefaultStream, FieldsGrouping(fields...))
}

// AllGrouping subscribes to source's default stream, every task getting every tuple.
func (d *Declarer) AllGrouping(source ComponentID) *Declarer {
	return d.Input(source, DefaultStream, AllGrouping())
}

// GlobalGrouping subscribes to source's default stream, all to the lowest task.
func (d *Declarer) GlobalGrouping(source ComponentID) *Declarer {
	return d.Input(source, DefaultStream, GlobalGrouping())
}

// NoneGrouping subscribes to source's default stream (shuffle).
func (d *Declarer) NoneGrouping(source ComponentID) *Declarer {
	return d.Input(source, DefaultStream, NoneGrouping())
}

// DirectGrouping subscribes to source's direct stream.
func (d *Declarer) DirectGrouping(source ComponentID, stream StreamID) *Declarer {
	return d.Input(source, stream, DirectGrouping())
}

// LocalOrShuffleGrouping subscribes to source's default stream, local tasks first.
func (d *Declarer) LocalOrShuffleGrouping(source ComponentID) *Declarer {
	return d.Input(source, DefaultStream, LocalOrShuffleGrouping())
}

// PartialKeyGrouping subscribes to source's default stream, each key over two tasks.
func (d *Declarer) PartialKeyGrouping(source ComponentID, fields ...string) *Declarer {
	return d.Input(source, DefaultStream, PartialKeyGrouping(fields...))
}

// CustomGrouping subscribes to source's default stream with g.
func (d *Declarer) CustomGrouping(source ComponentID, g CustomStreamGrouping) *Declarer {
	return d.Input(source, DefaultStream, CustomGrouping(g))
}

// Stream is a declared output stream.
type Stream struct {
	ID     StreamID
	Fields Fields
	Direct bool
}

// Input is one stream a bolt consumes.
type Input struct {
	Source   ComponentID
	Stream   StreamID
	Grouping Grouping
}

// Subscription is one consumer of a stream, as the emitter routes to it.
type Subscription struct {
	Consumer ComponentID
	Grouping Grouping
	// FieldIndex are the positions of the grouping fields in the stream.
	FieldIndex []int
	// Tasks are all the consumer's tasks (its key groups), in order; the
	// first of them run, as many as the consumer's live parallelism.
	Tasks []TaskID
}

// Component is a compiled spout or bolt.
type Component struct {
	ID   ComponentID
	Kind ComponentKind
	// Parallelism is the number of tasks that run when the topology starts
	// (the parallelism hint). A rebalance changes how many run now, which
	// is the runtime's to know (Context.RunningTasks).
	Parallelism int
	// Tasks are the component's task ids, NumTasks of them (at least
	// Parallelism): one per key group. Running tasks are a prefix.
	Tasks    []TaskID
	NewSpout func() Spout
	NewBolt  func() Bolt
	Streams  map[StreamID]*Stream
	Inputs   []Input
	// Consumers lists, per output stream, who subscribes to it.
	Consumers map[StreamID][]Subscription
	// Command is the command line the component's tasks run as
	// subprocesses (multilang's shell components: a CommandRunner), nil
	// for components that run in the node. A cluster takes topologies
	// with commands only from an authenticated admin, and its UI shows
	// them.
	Command []string
	// Capabilities are what an instance said it can do for exactly-once
	// (CheckExactlyOnce reads them).
	Capabilities Capabilities
}

// CommandRunner is a spout or bolt that runs a command line as a
// subprocess (multilang's shell components). The Builder asks one
// instance, as it asks an OutputDeclarer for its fields, and records the
// command in Component.Command.
type CommandRunner interface {
	CommandLine() []string
}

// Commands lists the command lines t's components run, by component;
// empty when t runs no subprocess.
func (t *Topology) Commands() map[ComponentID][]string {
	out := map[ComponentID][]string{}
	for _, c := range t.Components {
		if c.Command != nil {
			out[c.ID] = slices.Clone(c.Command)
		}
	}
	return out
}

// Topology is a validated, compiled topology: components with their tasks
// and the routing of every stream. It is immutable after Build.
type Topology struct {
	Name string
	// ID names this deployment of the topology (Storm's topology id): it is
	// new for every Build, and in a cluster every node gets the same one.
	ID         string
	Config     Config
	Runtime    Runtime
	Components []*Component // sorted by ID
	// Trackers are the tracker (acker) tasks, after every component's tasks.
	Trackers []TaskID
	byID     map[ComponentID]*Component
	byTask   []*Component // index task-1; nil for trackers
}

// deployed returns a copy of t running under another name and deployment
// id (the cluster names each submitted instance of a registered topology,
// and gives every node the same id for it).
func (t *Topology) deployed(name, id string) *Topology {
	c := *t
	c.Name, c.ID = name, id
	return &c
}

// Component returns the component called id, or nil.
func (t *Topology) Component(id ComponentID) *Component { return t.byID[id] }

// NumTasks is the number of tasks, trackers included.
func (t *Topology) NumTasks() int { return len(t.byTask) }

// ComponentOf returns the component of task, or nil for trackers and unknown tasks.
func (t *Topology) ComponentOf(task TaskID) *Component {
	if task < 1 || int(task) > len(t.byTask) {
		return nil
	}
	return t.byTask[task-1]
}

func (t *Topology) componentOfTask(task TaskID) *Component {
	if c := t.ComponentOf(task); c != nil {
		return c
	}
	return &Component{ID: TrackerComponent, Tasks: t.Trackers}
}

// TrackerComponent is the component name of tracker tasks (Storm's __acker).
const TrackerComponent ComponentID = "__acker"

// Build validates the topology and compiles it with conf (over DefaultConfig).
// Every problem found is reported, each naming its component, stream and field.
func (b *Builder) Build(conf Config) (*Topology, error) {
	var errs []error
	if strings.TrimSpace(b.name) == "" {
		errs = append(errs, invalid("topology name is empty"))
	}
	conf = DefaultConfig().Merge(conf)
	rt, err := conf.Runtime()
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalid, err))
	}
	applyGuarantee(conf, &rt)
	byID := map[ComponentID]*Declarer{}
	spouts := 0
	for _, d := range b.comps {
		errs = append(errs, d.errs...)
		switch {
		case d.id == "":
			errs = append(errs, invalid("%s with empty id", d.kind))
			continue
		case strings.HasPrefix(string(d.id), "__"):
			errs = append(errs, invalid("%s %q: ids starting with __ are reserved", d.kind, d.id))
		case byID[d.id] != nil:
			errs = append(errs, invalid("%s %q: duplicate id (already a %s)", d.kind, d.id, byID[d.id].kind))
			continue
		}
		byID[d.id] = d
		if d.kind == KindSpout {
			spouts++
		}
		if d.parallelism < 1 {
			errs = append(errs, invalid("%s %q: parallelism must be >= 1, got %d", d.kind, d.id, d.parallelism))
		}
		if d.numTasks != 0 && d.numTasks < d.parallelism {
			errs = append(errs, invalid("%s %q: NumTasks %d is below parallelism %d", d.kind, d.id, d.numTasks, d.parallelism))
		}
		seen := map[StreamID]bool{}
		for _, s := range d.streams {
			if s.ID == "" || strings.HasPrefix(string(s.ID), "__") {
				errs = append(errs, invalid("%s %q: stream name %q is empty or reserved", d.kind, d.id, s.ID))
			}
			if seen[s.ID] {
				errs = append(errs, invalid("%s %q: stream %q declared twice", d.kind, d.id, s.ID))
			}
			seen[s.ID] = true
			fs := map[string]bool{}
			for _, f := range s.Fields {
				if f == "" {
					errs = append(errs, invalid("%s %q: stream %q has an empty field name", d.kind, d.id, s.ID))
				}
				if fs[f] {
					errs = append(errs, invalid("%s %q: stream %q declares field %q twice", d.kind, d.id, s.ID, f))
				}
				fs[f] = true
			}
		}
		if d.kind == KindSpout && len(d.inputs) > 0 {
			errs = append(errs, invalid("spout %q: spouts take no inputs, but it subscribes to %q", d.id, d.inputs[0].Source))
		}
		if d.kind == KindBolt && len(d.inputs) == 0 {
			errs = append(errs, invalid("bolt %q: has no inputs (add a grouping)", d.id))
		}
	}
	if len(b.comps) > 0 && spouts == 0 {
		errs = append(errs, invalid("topology %q has no spout", b.name))
	}
	if len(b.comps) == 0 {
		errs = append(errs, invalid("topology %q has no components", b.name))
	}
	// Inputs: every source, stream and field must exist.
	for _, d := range b.comps {
		if d.kind != KindBolt {
			continue
		}
		type source struct {
			c ComponentID
			s StreamID
		}
		subscribed := map[source]bool{}
		for _, in := range d.inputs {
			key := source{in.Source, in.Stream}
			if subscribed[key] {
				errs = append(errs, invalid("bolt %q: subscribes to stream %q of %q twice", d.id, in.Stream, in.Source))
			}
			subscribed[key] = true
			errs = append(errs, checkInput(d.id, in, byID)...)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("topology %q: %w", b.name, joinErrors(errs))
	}
	t := compile(b.name, conf, rt, b.comps)
	if err := checkGuarantee(t); err != nil {
		return nil, fmt.Errorf("topology %q: %w", b.name, err)
	}
	return t, nil
}

func checkInput(bolt ComponentID, in Input, byID map[ComponentID]*Declarer) []error {
	src := byID[in.Source]
	g := in.Grouping
	if src == nil {
		return []error{invalid("bolt %q: %s grouping on unknown component %q", bolt, g.Kind, in.Source)}
	}
	var s *Stream
	var declared []string
	for _, st := range src.streams {
		declared = append(declared, string(st.ID))
		if st.ID == in.Stream {
			s = st
		}
	}
	if s == nil {
		return []error{invalid("bolt %q: %s grouping on stream %q of %q, which declares streams %v", bolt, g.Kind, in.Stream, in.Source, declared)}
	}
	var errs []error
	switch g.Kind {
	case KindFields, KindPartialKey:
		if len(g.Fields) == 0 {
			errs = append(errs, invalid("bolt %q: %s grouping on stream %q of %q names no fields", bolt, g.Kind, in.Stream, in.Source))
		}
		for _, f := range g.Fields {
			if s.Fields.Index(f) < 0 {
				errs = append(errs, invalid("bolt %q: %s grouping on %q: stream %q of %q declares %v", bolt, g.Kind, f, in.Stream, in.Source, []string(s.Fields)))
			}
		}
	case KindCustom:
		if g.Custom == nil {
			errs = append(errs, invalid("bolt %q: custom grouping on stream %q of %q has no CustomStreamGrouping", bolt, in.Stream, in.Source))
		}
	case KindShuffle, KindAll, KindGlobal, KindNone, KindDirect, KindLocalOrShuffle:
	default:
		errs = append(errs, invalid("bolt %q: unknown grouping kind %d on stream %q of %q", bolt, g.Kind, in.Stream, in.Source))
	}
	if g.Kind == KindDirect && !s.Direct {
		errs = append(errs, invalid("bolt %q: direct grouping on stream %q of %q, which is not declared direct (use DirectStream)", bolt, in.Stream, in.Source))
	}
	if g.Kind != KindDirect && s.Direct {
		errs = append(errs, invalid("bolt %q: %s grouping on direct stream %q of %q (use a direct grouping)", bolt, g.Kind, in.Stream, in.Source))
	}
	return errs
}

// compile assigns task IDs like Storm: components sorted by ID, tasks dense
// from 1, trackers last.
func compile(name string, conf Config, rt Runtime, decls []*Declarer) *Topology {
	t := &Topology{Name: name, ID: fmt.Sprintf("%s-%d", name, time.Now().UnixMilli()), Config: conf, Runtime: rt, byID: map[ComponentID]*Component{}}
	sorted := slices.Clone(decls)
	slices.SortFunc(sorted, func(a, b *Declarer) int { return strings.Compare(string(a.id), string(b.id)) })
	next := TaskID(1)
	for _, d := range sorted {
		n := max(d.parallelism, d.numTasks)
		c := &Component{
			ID: d.id, Kind: d.kind, Parallelism: d.parallelism,
			NewSpout: d.newSpout, NewBolt: d.newBolt,
			Streams: map[StreamID]*Stream{}, Inputs: slices.Clone(d.inputs),
			Consumers: map[StreamID][]Subscription{},
			Command:   slices.Clone(d.command),
			Capabilities: Capabilities{Checkpointed: d.caps.Checkpointed, TwoPhase: d.caps.TwoPhase,
				State: State{Keyed: slices.Clone(d.caps.State.Keyed), Task: slices.Clone(d.caps.State.Task)}},
		}
		for _, s := range d.streams {
			c.Streams[s.ID] = s
		}
		for range n {
			c.Tasks = append(c.Tasks, next)
			t.byTask = append(t.byTask, c)
			next++
		}
		t.Components = append(t.Components, c)
		t.byID[c.ID] = c
	}
	for range rt.Trackers {
		t.Trackers = append(t.Trackers, next)
		t.byTask = append(t.byTask, nil)
		next++
	}
	for _, c := range t.Components {
		for _, in := range c.Inputs {
			src := t.byID[in.Source]
			s := src.Streams[in.Stream]
			sub := Subscription{Consumer: c.ID, Grouping: in.Grouping, Tasks: c.Tasks}
			for _, f := range in.Grouping.Fields {
				sub.FieldIndex = append(sub.FieldIndex, s.Fields.Index(f))
			}
			src.Consumers[in.Stream] = append(src.Consumers[in.Stream], sub)
		}
	}
	return t
}
