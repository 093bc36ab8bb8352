package multilang

import (
	"encoding/json"
	"slices"

	wire "github.com/squall-streams/squall/internal/multilang"
	"github.com/squall-streams/squall/topology"
)

// handshakeConf is the configuration sent to the subprocess: the topology's
// config with the component's own entries over it, and topology.name (which
// pystorm reads) set. Values with no JSON form are left out.
func handshakeConf(tc *topology.Context, extra map[string]any) map[string]any {
	conf := make(map[string]any, len(tc.Config)+len(extra)+1)
	for _, src := range []map[string]any{tc.Config, extra} {
		for k, v := range src {
			if _, err := json.Marshal(v); err == nil {
				conf[k] = v
			}
		}
	}
	if _, ok := conf["topology.name"]; !ok {
		conf["topology.name"] = tc.Topology
	}
	return conf
}

// handshakeContext is TopologyContext.toJSONString() for task tc. With the
// compiled topology it is complete; without it, it knows the component's
// own tasks and output streams only.
func handshakeContext(tc *topology.Context, t *topology.Topology, own []streamDecl) wire.Context {
	c := wire.Context{
		TaskToComponent:          map[int]string{int(topology.SystemTask): string(topology.SystemComponent)},
		TaskID:                   int(tc.Task),
		ComponentID:              string(tc.Component),
		StreamToOutputFields:     map[string][]string{},
		StreamToTargetToGrouping: map[string]map[string]wire.Grouping{},
		SourceToStreamToGrouping: map[string]map[string]wire.Grouping{},
		SourceToStreamToFields:   map[string]map[string][]string{},
	}
	for _, s := range own {
		c.Streams = append(c.Streams, string(s.id))
		c.StreamToOutputFields[string(s.id)] = slices.Clone(s.fields)
	}
	slices.Sort(c.Streams)
	for _, task := range tc.ComponentTasks(tc.Component) {
		c.TaskToComponent[int(task)] = string(tc.Component)
	}
	if t == nil {
		return c
	}
	for _, comp := range t.Components {
		for _, task := range comp.Tasks {
			c.TaskToComponent[int(task)] = string(comp.ID)
		}
	}
	for _, task := range t.Trackers {
		c.TaskToComponent[int(task)] = string(topology.TrackerComponent)
	}
	me := t.Component(tc.Component)
	if me == nil {
		return c
	}
	for stream, subs := range me.Consumers {
		m := map[string]wire.Grouping{}
		for _, sub := range subs {
			m[string(sub.Consumer)] = wireGrouping(sub.Grouping)
		}
		c.StreamToTargetToGrouping[string(stream)] = m
	}
	for _, in := range me.Inputs {
		src := string(in.Source)
		if c.SourceToStreamToGrouping[src] == nil {
			c.SourceToStreamToGrouping[src] = map[string]wire.Grouping{}
			c.SourceToStreamToFields[src] = map[string][]string{}
		}
		c.SourceToStreamToGrouping[src][string(in.Stream)] = wireGrouping(in.Grouping)
		if sc := t.Component(in.Source); sc != nil {
			if s := sc.Streams[in.Stream]; s != nil {
				c.SourceToStreamToFields[src][string(in.Stream)] = slices.Clone([]string(s.Fields))
			}
		}
	}
	return c
}

// wireGrouping is Storm's JSON form of a grouping: the Thrift union field
// name upper-cased; global is FIELDS with no fields; partial key and custom
// groupings are serialized Java objects in Storm.
func wireGrouping(g topology.Grouping) wire.Grouping {
	switch g.Kind {
	case topology.KindFields:
		return wire.Grouping{Type: wire.GroupingFields, Fields: slices.Clone(g.Fields)}
	case topology.KindGlobal:
		return wire.Grouping{Type: wire.GroupingFields, Fields: []string{}}
	case topology.KindAll:
		return wire.Grouping{Type: wire.GroupingAll}
	case topology.KindNone:
		return wire.Grouping{Type: wire.GroupingNone}
	case topology.KindDirect:
		return wire.Grouping{Type: wire.GroupingDirect}
	case topology.KindLocalOrShuffle:
		return wire.Grouping{Type: wire.GroupingLocalOrShuffle}
	case topology.KindPartialKey, topology.KindCustom:
		return wire.Grouping{Type: wire.GroupingCustomSerialized}
	default:
		return wire.Grouping{Type: wire.GroupingShuffle}
	}
}
