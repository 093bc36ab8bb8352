package plan

import (
	"cmp"
	"encoding/binary"
	"maps"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/squall-streams/squall/topology"
)

// Component is one spout or bolt of a topology, as the planner sees it.
type Component struct {
	ID topology.ComponentID
	// Parallelism is the component's parallelism hint: how many of its
	// tasks run unless the spec says otherwise.
	Parallelism int
	// Tasks are all the component's task ids (NumTasks of them); the
	// running ones are a prefix.
	Tasks []topology.TaskID
}

// Topology is one live topology to plan: the shape of its build and what
// its spec asks for.
type Topology struct {
	Name string
	// Components are the topology's spouts and bolts (in any order: the
	// planner orders them by ID, as a compiled topology does).
	Components []Component
	// Trackers are the tracker tasks; they always run.
	Trackers []topology.TaskID
	// Parallelism overrides components' parallelism hints (a rebalance);
	// an override outside 1..len(Tasks) is ignored.
	Parallelism map[topology.ComponentID]int
	// Routing lowers how many of a component's running tasks emitters
	// route to (while a rebalance that grows it starts its new tasks); a
	// value outside 1..running-1 is ignored.
	Routing map[topology.ComponentID]int
	// Active is whether the spouts emit. It does not move tasks: a plan
	// only passes it on to the nodes.
	Active bool
}

// Layout is the plan of one topology.
type Layout struct {
	// Parallelism is every component's number of running tasks.
	Parallelism map[topology.ComponentID]int
	// Routing is how many of them emitters route to.
	Routing map[topology.ComponentID]int
	Active  bool
	// Epoch numbers the placement: it hashes the routing and which node
	// (incarnation) runs each task, so every node computes the same epoch,
	// and any move, start or stop of a task, restart of its node, or change
	// of routing changes it. Nodes report it so a rebalance can tell they
	// applied a placement. Never 0.
	Epoch uint64
}

// Plan is the placement of every live topology over the live members.
type Plan struct {
	// Members are the live members, by name.
	Members map[string]Member
	// Topologies are the planned topologies, by name.
	Topologies map[string]*Layout
	// Placement is the node of every running task of every topology.
	Placement Placement
	wire      uint64
}

// Compute plans topologies over members. It is a pure function: every node
// that sees the same members and topologies, in whatever order, computes
// the same Plan.
func Compute(members []Member, topologies []Topology) *Plan {
	p := &Plan{Members: map[string]Member{}, Topologies: map[string]*Layout{}}
	for _, m := range members {
		p.Members[m.Name] = m
	}
	ws := make([]Workload, 0, len(topologies))
	comps := make(map[string][]Component, len(topologies))
	for _, t := range topologies {
		cs := slices.Clone(t.Components)
		slices.SortFunc(cs, func(a, b Component) int { return cmp.Compare(a.ID, b.ID) })
		par := parallelism(cs, t.Parallelism)
		p.Topologies[t.Name] = &Layout{Parallelism: par, Routing: routing(par, t.Routing), Active: t.Active}
		comps[t.Name] = cs
		ws = append(ws, Workload{Topology: t.Name, Tasks: order(cs, t.Trackers, par)})
	}
	p.Placement = Place(members, ws)
	for name, l := range p.Topologies {
		l.Epoch = p.epochOf(name, comps[name], l.Routing)
	}
	p.wire = wireEpoch(p.Members)
	return p
}

// order lists the running tasks in placement priority: every component's
// first task, then every component's second, ..., then the trackers.
// Starting or stopping a component's last tasks then leaves the choices of
// every task before them in the order alone, unless the per-node bound
// changed.
func order(cs []Component, trackers []topology.TaskID, par map[topology.ComponentID]int) []topology.TaskID {
	var out []topology.TaskID
	for idx := 0; ; idx++ {
		more := false
		for _, c := range cs {
			if idx < par[c.ID] && idx < len(c.Tasks) {
				out = append(out, c.Tasks[idx])
				more = true
			}
		}
		if !more {
			break
		}
	}
	return append(out, trackers...)
}

// parallelism is every component's number of running tasks: its override
// when it is valid, else its parallelism hint.
func parallelism(cs []Component, override map[topology.ComponentID]int) map[topology.ComponentID]int {
	out := make(map[topology.ComponentID]int, len(cs))
	for _, c := range cs {
		k := c.Parallelism
		if v, ok := override[c.ID]; ok && v >= 1 && v <= len(c.Tasks) {
			k = v
		}
		out[c.ID] = k
	}
	return out
}

// routing is how many of each component's running tasks (par) emitters
// route to.
func routing(par, lower map[topology.ComponentID]int) map[topology.ComponentID]int {
	out := maps.Clone(par)
	for c, k := range lower {
		if n, ok := out[c]; ok && k >= 1 && k < n {
			out[c] = k
		}
	}
	return out
}

// epochOf hashes the routing of every component (in ID order), then, in
// task order, every placed task with its node and the node's boot id.
func (p *Plan) epochOf(name string, cs []Component, route map[topology.ComponentID]int) uint64 {
	h := xxhash.New()
	var b [4]byte
	for _, c := range cs {
		binary.LittleEndian.PutUint32(b[:], uint32(route[c.ID]))
		h.Write(b[:])
	}
	tasks := p.Placement.Of(name)
	for _, task := range slices.Sorted(maps.Keys(tasks)) {
		node := tasks[task]
		binary.LittleEndian.PutUint32(b[:], uint32(task))
		h.Write(b[:])
		h.WriteString(node + "\x00" + p.Members[node].BootID + "\x00")
	}
	return h.Sum64() | 1
}

// wireEpoch hashes the members' incarnations.
func wireEpoch(members map[string]Member) uint64 {
	h := xxhash.New()
	for _, name := range slices.Sorted(maps.Keys(members)) {
		h.WriteString(name + "\x00" + members[name].BootID + "\x00")
	}
	return h.Sum64() | 1
}

// Wire is the epoch batches between nodes carry: a hash of the live
// members' incarnations. Batches from a node that sees another membership
// are dropped (their trees replay), as when a node dies or joins; a
// rebalance, which changes the placement under the same membership, keeps
// the wire epoch, so the batches in flight while the nodes apply it are
// delivered when their task still runs where they were sent. Never 0.
func (p *Plan) Wire() uint64 { return p.wire }

// Tasks are the tasks of the topology called name that node runs, in task
// order.
func (p *Plan) Tasks(name, node string) []topology.TaskID {
	var out []topology.TaskID
	for s, n := range p.Placement {
		if s.Topology == name && n == node {
			out = append(out, s.Task)
		}
	}
	slices.Sort(out)
	return out
}
