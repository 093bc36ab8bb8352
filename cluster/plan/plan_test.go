package plan_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/squall-streams/squall/cluster/plan"
	"github.com/squall-streams/squall/topology"
)

// wordcount is spout (2 tasks), split (hint 2, 4 tasks), count (hint 3, 6
// tasks) and one tracker, numbered as a build numbers them.
func wordcount() plan.Topology {
	return plan.Topology{
		Name: "wc",
		Components: []plan.Component{
			{ID: "count", Parallelism: 3, Tasks: []topology.TaskID{1, 2, 3, 4, 5, 6}},
			{ID: "split", Parallelism: 2, Tasks: []topology.TaskID{7, 8, 9, 10}},
			{ID: "spout", Parallelism: 2, Tasks: []topology.TaskID{11, 12}},
		},
		Trackers: []topology.TaskID{13},
		Active:   true,
	}
}

func threeNodes() []plan.Member {
	return []plan.Member{{Name: "n1", BootID: "a"}, {Name: "n2", BootID: "b"}, {Name: "n3", BootID: "c"}}
}

func running(p *plan.Plan, name string) []topology.TaskID {
	return slices.Sorted(maps.Keys(p.Placement.Of(name)))
}

func TestComputeParallelismAndRouting(t *testing.T) {
	for _, c := range []struct {
		name             string
		parallelism      map[topology.ComponentID]int
		routing          map[topology.ComponentID]int
		wantPar, wantRte map[topology.ComponentID]int
		wantTasks        []topology.TaskID
	}{{
		name:      "hints",
		wantPar:   map[topology.ComponentID]int{"count": 3, "split": 2, "spout": 2},
		wantRte:   map[topology.ComponentID]int{"count": 3, "split": 2, "spout": 2},
		wantTasks: []topology.TaskID{1, 2, 3, 7, 8, 11, 12, 13},
	}, {
		name:        "override",
		parallelism: map[topology.ComponentID]int{"count": 6, "split": 1},
		wantPar:     map[topology.ComponentID]int{"count": 6, "split": 1, "spout": 2},
		wantRte:     map[topology.ComponentID]int{"count": 6, "split": 1, "spout": 2},
		wantTasks:   []topology.TaskID{1, 2, 3, 4, 5, 6, 7, 11, 12, 13},
	}, {
		name:        "invalid overrides are ignored",
		parallelism: map[topology.ComponentID]int{"count": 7, "split": 0, "nope": 2},
		wantPar:     map[topology.ComponentID]int{"count": 3, "split": 2, "spout": 2},
		wantRte:     map[topology.ComponentID]int{"count": 3, "split": 2, "spout": 2},
		wantTasks:   []topology.TaskID{1, 2, 3, 7, 8, 11, 12, 13},
	}, {
		name:        "routing lags a grow",
		parallelism: map[topology.ComponentID]int{"count": 5},
		routing:     map[topology.ComponentID]int{"count": 3},
		wantPar:     map[topology.ComponentID]int{"count": 5, "split": 2, "spout": 2},
		wantRte:     map[topology.ComponentID]int{"count": 3, "split": 2, "spout": 2},
		wantTasks:   []topology.TaskID{1, 2, 3, 4, 5, 7, 8, 11, 12, 13},
	}, {
		name:      "routing outside 1..running-1 is ignored",
		routing:   map[topology.ComponentID]int{"count": 3, "split": 0, "spout": 9, "nope": 1},
		wantPar:   map[topology.ComponentID]int{"count": 3, "split": 2, "spout": 2},
		wantRte:   map[topology.ComponentID]int{"count": 3, "split": 2, "spout": 2},
		wantTasks: []topology.TaskID{1, 2, 3, 7, 8, 11, 12, 13},
	}} {
		t.Run(c.name, func(t *testing.T) {
			wc := wordcount()
			wc.Parallelism, wc.Routing = c.parallelism, c.routing
			p := plan.Compute(threeNodes(), []plan.Topology{wc})
			l := p.Topologies["wc"]
			if !maps.Equal(l.Parallelism, c.wantPar) {
				t.Errorf("parallelism %v, want %v", l.Parallelism, c.wantPar)
			}
			if !maps.Equal(l.Routing, c.wantRte) {
				t.Errorf("routing %v, want %v", l.Routing, c.wantRte)
			}
			if got := running(p, "wc"); !slices.Equal(got, c.wantTasks) {
				t.Errorf("running tasks %v, want %v", got, c.wantTasks)
			}
		})
	}
}

func TestComputeIsDeterministicWhateverTheInputOrder(t *testing.T) {
	wc := wordcount()
	other := plan.Topology{Name: "other", Components: []plan.Component{{ID: "s", Parallelism: 4, Tasks: []topology.TaskID{1, 2, 3, 4}}}}
	p1 := plan.Compute(threeNodes(), []plan.Topology{wc, other})
	ms := threeNodes()
	slices.Reverse(ms)
	shuffled := wordcount()
	slices.Reverse(shuffled.Components)
	p2 := plan.Compute(ms, []plan.Topology{other, shuffled})
	if !maps.Equal(p1.Placement, p2.Placement) || p1.Wire() != p2.Wire() {
		t.Fatal("plan depends on the order of members or topologies")
	}
	for name, l := range p1.Topologies {
		if l2 := p2.Topologies[name]; l2.Epoch != l.Epoch {
			t.Errorf("%s: epoch %x, then %x", name, l.Epoch, l2.Epoch)
		}
	}
}

// TestEpochs: what changes a topology's epoch and the wire epoch, and what
// does not.
func TestEpochs(t *testing.T) {
	base := plan.Compute(threeNodes(), []plan.Topology{wordcount()})
	for _, c := range []struct {
		name        string
		members     []plan.Member
		change      func(*plan.Topology)
		epoch, wire bool // whether they change
	}{
		{name: "nothing", members: threeNodes()},
		{name: "deactivate", members: threeNodes(), change: func(t *plan.Topology) { t.Active = false }},
		{name: "rebalance", members: threeNodes(), change: func(t *plan.Topology) { t.Parallelism = map[topology.ComponentID]int{"count": 6} }, epoch: true},
		{name: "routing", members: threeNodes(), change: func(t *plan.Topology) {
			t.Parallelism = map[topology.ComponentID]int{"count": 6}
			t.Routing = map[topology.ComponentID]int{"count": 3}
		}, epoch: true},
		{name: "restart", members: []plan.Member{{Name: "n1", BootID: "a"}, {Name: "n2", BootID: "b2"}, {Name: "n3", BootID: "c"}}, epoch: true, wire: true},
		{name: "join", members: append(threeNodes(), plan.Member{Name: "n4", BootID: "d"}), epoch: true, wire: true},
		{name: "capacity", members: []plan.Member{{Name: "n1", BootID: "a", Capacity: 3}, {Name: "n2", BootID: "b"}, {Name: "n3", BootID: "c"}}, epoch: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			wc := wordcount()
			if c.change != nil {
				c.change(&wc)
			}
			p := plan.Compute(c.members, []plan.Topology{wc})
			if got := p.Topologies["wc"].Epoch != base.Topologies["wc"].Epoch; got != c.epoch {
				t.Errorf("epoch changed: %t, want %t", got, c.epoch)
			}
			if got := p.Wire() != base.Wire(); got != c.wire {
				t.Errorf("wire epoch changed: %t, want %t", got, c.wire)
			}
			if p.Topologies["wc"].Epoch&1 == 0 || p.Wire()&1 == 0 {
				t.Error("an epoch can be 0")
			}
		})
	}
}

func TestComputeWithoutMembersPlansTopologiesWithNoTasks(t *testing.T) {
	p := plan.Compute(nil, []plan.Topology{wordcount()})
	if len(p.Placement) != 0 {
		t.Fatalf("placed %v with no members", p.Placement)
	}
	if p.Topologies["wc"] == nil {
		t.Fatal("the topology is not planned")
	}
	if steps := p.Steps("n1", map[string]plan.Running{"wc": {Epoch: 1}}); len(steps) != 1 || steps[0].Op != plan.Stop {
		t.Fatalf("steps %v, want the topology stopped", steps)
	}
}
