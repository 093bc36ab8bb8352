package plan_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/squall-streams/squall/cluster/plan"
	"github.com/squall-streams/squall/topology"
)

// TestSteps is the decision of a node's reconcile: its share of a plan
// against what it runs.
func TestSteps(t *testing.T) {
	inactive := wordcount()
	inactive.Active = false
	other := plan.Topology{Name: "other", Components: []plan.Component{{ID: "s", Parallelism: 1, Tasks: []topology.TaskID{1}}}, Active: true}
	p := plan.Compute(threeNodes(), []plan.Topology{wordcount(), other})
	pInactive := plan.Compute(threeNodes(), []plan.Topology{inactive, other})
	// The node that runs "other" and the one that does not.
	withOther, without := "", ""
	for _, m := range threeNodes() {
		if len(p.Tasks("other", m.Name)) > 0 {
			withOther = m.Name
		} else if without == "" {
			without = m.Name
		}
	}
	current := func(p *plan.Plan, name, node string) plan.Running {
		return plan.Running{Epoch: p.Topologies[name].Epoch, Wire: p.Wire(), Active: p.Topologies[name].Active, Tasks: p.Tasks(name, node)}
	}
	for _, c := range []struct {
		name    string
		plan    *plan.Plan
		node    string
		running map[string]plan.Running
		want    []string // "op topology"
	}{
		{name: "fresh node starts its share", plan: p, node: withOther, running: nil, want: []string{"start other", "start wc"}},
		{name: "a node without a task of a topology does not start it", plan: p, node: without, running: nil, want: []string{"start wc"}},
		{name: "applied: nothing to do", plan: p, node: withOther,
			running: map[string]plan.Running{"wc": current(p, "wc", withOther), "other": current(p, "other", withOther)}},
		{name: "new epoch", plan: p, node: without,
			running: map[string]plan.Running{"wc": {Epoch: 3, Wire: p.Wire(), Active: true}}, want: []string{"apply wc"}},
		{name: "new wire epoch", plan: p, node: without,
			running: map[string]plan.Running{"wc": {Epoch: p.Topologies["wc"].Epoch, Wire: 5, Active: true}}, want: []string{"apply wc"}},
		{name: "deactivated", plan: pInactive, node: without,
			running: map[string]plan.Running{"wc": current(p, "wc", without)}, want: []string{"apply wc"}},
		{name: "no task here any more", plan: p, node: without,
			running: map[string]plan.Running{"wc": current(p, "wc", without), "other": {Epoch: 7}}, want: []string{"stop other"}},
		{name: "killed", plan: p, node: without,
			running: map[string]plan.Running{"wc": current(p, "wc", without), "gone": {Epoch: 9}}, want: []string{"stop gone"}},
		{name: "stops come in topology order", plan: plan.Compute(nil, nil), node: without,
			running: map[string]plan.Running{"b": {}, "a": {}, "c": {}}, want: []string{"stop a", "stop b", "stop c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			steps := c.plan.Steps(c.node, c.running)
			var got []string
			for _, s := range steps {
				got = append(got, fmt.Sprintf("%s %s", s.Op, s.Topology))
				switch s.Op {
				case plan.Start, plan.Apply:
					if want := current(c.plan, s.Topology, c.node); !equalRunning(s.Running, want) {
						t.Errorf("%s %s: running %+v, want %+v", s.Op, s.Topology, s.Running, want)
					}
				case plan.Stop:
					if len(s.Running.Tasks) != 0 {
						t.Errorf("stop %s carries tasks %v", s.Topology, s.Running.Tasks)
					}
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("steps %q, want %q", got, c.want)
			}
			// Applying the steps leaves nothing to do.
			after := map[string]plan.Running{}
			for k, v := range c.running {
				after[k] = v
			}
			for _, s := range steps {
				if s.Op == plan.Stop {
					delete(after, s.Topology)
				} else {
					after[s.Topology] = s.Running
				}
			}
			if again := c.plan.Steps(c.node, after); len(again) != 0 {
				t.Errorf("after applying the steps: %v", again)
			}
		})
	}
}

func equalRunning(a, b plan.Running) bool {
	return a.Epoch == b.Epoch && a.Wire == b.Wire && a.Active == b.Active && slices.Equal(a.Tasks, b.Tasks)
}

func TestOpString(t *testing.T) {
	for op, want := range map[plan.Op]string{plan.Start: "start", plan.Apply: "apply", plan.Stop: "stop", 0: "Op(0)"} {
		if got := op.String(); got != want {
			t.Errorf("%d: %q, want %q", int(op), got, want)
		}
	}
}
