package plan

import (
	"fmt"
	"maps"
	"slices"

	"github.com/squall-streams/squall/topology"
)

// Running is what a node runs of one topology: the plan it last applied.
type Running struct {
	Epoch  uint64 // the Layout's
	Wire   uint64 // the Plan's
	Active bool
	Tasks  []topology.TaskID // in task order
}

// Op is what a Step does.
type Op int

// The ops of a Step.
const (
	// Start starts the topology's tasks on the node.
	Start Op = iota + 1
	// Apply moves the running topology to a new task set, epoch or
	// activation.
	Apply
	// Stop stops every task of the topology on the node.
	Stop
)

func (o Op) String() string {
	switch o {
	case Start:
		return "start"
	case Apply:
		return "apply"
	case Stop:
		return "stop"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Step is one thing a node does to run its share of a plan.
type Step struct {
	Op       Op
	Topology string
	// Running is what the node runs after the step (zero for Stop).
	Running Running
}

// Steps compares node's share of p with what it runs (by topology name)
// and returns the steps that make it run exactly its share, in topology
// order: Start for a topology with tasks here that does not run, Apply
// for one whose epoch, wire epoch or activation changed, Stop for one that
// runs but has no task here any more, or is no longer planned. A topology
// whose steps fail is left out of running, or keeps its old Running, so the
// next Steps proposes them again.
func (p *Plan) Steps(node string, running map[string]Running) []Step {
	var out []Step
	names := slices.Sorted(maps.Keys(p.Topologies))
	for _, name := range names {
		l := p.Topologies[name]
		want := Running{Epoch: l.Epoch, Wire: p.wire, Active: l.Active, Tasks: p.Tasks(name, node)}
		r, ok := running[name]
		switch {
		case !ok && len(want.Tasks) > 0:
			out = append(out, Step{Op: Start, Topology: name, Running: want})
		case ok && len(want.Tasks) == 0:
			out = append(out, Step{Op: Stop, Topology: name})
		case ok && (r.Epoch != want.Epoch || r.Wire != want.Wire || r.Active != want.Active):
			out = append(out, Step{Op: Apply, Topology: name, Running: want})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(running)) {
		if p.Topologies[name] == nil {
			out = append(out, Step{Op: Stop, Topology: name})
		}
	}
	return out
}
