package cluster

import (
	"github.com/squall-streams/squall/cluster/plan"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// view is a plan (package plan) with what this node needs to carry it
// out: the members it places on, the specs and builds it planned.
type view struct {
	*plan.Plan
	byName map[string]member
	live   map[string]*messages.TopologySpec
	topos  map[string]*topology.Topology
}

// planOf plans specs (tombstones skipped) over members; a spec counts
// only when topo returns its build. It is pure.
func planOf(members []member, specs []*messages.TopologySpec, topo func(*messages.TopologySpec) *topology.Topology) *view {
	v := &view{byName: map[string]member{}, live: map[string]*messages.TopologySpec{}, topos: map[string]*topology.Topology{}}
	var ms []plan.Member
	for _, m := range members {
		v.byName[m.name] = m
		ms = append(ms, plan.Member{Name: m.name, BootID: m.meta.BootId, Capacity: int(m.meta.Capacity)})
	}
	var ts []plan.Topology
	for _, s := range specs {
		if s.Killed {
			continue
		}
		t := topo(s)
		if t == nil {
			continue
		}
		v.live[s.Name], v.topos[s.Name] = s, t
		ts = append(ts, planTopology(t, s))
	}
	v.Plan = plan.Compute(ms, ts)
	return v
}

// planTopology is what the planner needs of t, built for spec s.
func planTopology(t *topology.Topology, s *messages.TopologySpec) plan.Topology {
	pt := plan.Topology{Name: s.Name, Trackers: t.Trackers, Active: s.Active,
		Parallelism: componentCounts(s.Parallelism), Routing: componentCounts(s.Routing)}
	for _, c := range t.Components {
		pt.Components = append(pt.Components, plan.Component{ID: c.ID, Parallelism: c.Parallelism, Tasks: c.Tasks})
	}
	return pt
}

func componentCounts(m map[string]int32) map[topology.ComponentID]int {
	if m == nil {
		return nil
	}
	out := make(map[topology.ComponentID]int, len(m))
	for c, k := range m {
		out[topology.ComponentID(c)] = int(k)
	}
	return out
}

// parallelism is every component's number of running tasks of the
// topology called name (nil when it is not planned).
func (v *view) parallelism(name string) map[topology.ComponentID]int {
	if l := v.Topologies[name]; l != nil {
		return l.Parallelism
	}
	return nil
}

// epoch is the placement epoch of the topology called name (0 when it is
// not planned).
func (v *view) epoch(name string) uint64 {
	if l := v.Topologies[name]; l != nil {
		return l.Epoch
	}
	return 0
}

// planLocked computes the plan of the current membership and topology set
// from the topologies this node has built (it builds nothing). n.mu must
// be held.
func (n *Node) planLocked() *view {
	return planOf(n.members(), n.state.All(), func(s *messages.TopologySpec) *topology.Topology {
		if b := n.built[s.Name]; b != nil {
			return b.topo
		}
		return nil
	})
}
