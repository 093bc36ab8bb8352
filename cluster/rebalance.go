package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/squall-streams/squall/cluster/plan"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// ErrRebalance is wrapped by every error about a rebalance's options (an
// unknown component, a parallelism outside 1..NumTasks): the caller's
// mistake, an HTTP 400.
var ErrRebalance = errors.New("invalid rebalance")

// RebalanceOptions are the options of a live rebalance.
type RebalanceOptions struct {
	// Parallelism sets components' numbers of running tasks, each at most
	// the component's NumTasks (its maximum, fixed at submit).
	Parallelism map[string]int
	// Wait bounds how long Rebalance waits for every node to apply the new
	// placement. Growing components takes two steps within it: every node
	// starts the new tasks, then all route to them. 0: do not wait, and
	// grow in one step (tuples routed to a new task before its node started
	// it replay).
	Wait time.Duration
}

// RebalanceResult reports a rebalance.
type RebalanceResult struct {
	Topology string `json:"topology"`
	// Moved is the number of tasks that changed node, started or stopped.
	// 0 when the topology was already spread over the current nodes (the
	// cluster re-spreads by itself when nodes join or leave) and no
	// parallelism changed.
	Moved int `json:"moved"`
	// Started and Stopped count the tasks a parallelism change started and
	// stopped (included in Moved).
	Started int `json:"started"`
	Stopped int `json:"stopped"`
	// Parallelism is every component's number of running tasks now.
	Parallelism map[string]int `json:"parallelism"`
	// Applied reports whether every live node applied the new placement
	// within Wait; Waiting names the nodes that had not.
	Applied bool     `json:"applied"`
	Waiting []string `json:"waiting,omitempty"`
	// Took is how long the nodes took to apply the new placement (until
	// Wait when they did not).
	TookMs float64 `json:"took_ms"`
}

// Rebalance re-spreads a running topology's tasks over the current nodes
// and applies Parallelism, without stopping it: new tasks start on every
// node before emitters route to them; bolt tasks that move or stop run on
// for a second to execute what was already on its way to them, and what
// they still held then fails and replays; spouts never stop accepting
// input (a spout task that moves is closed and opened on its new node). It
// publishes the change (a new spec version) and waits up to opts.Wait
// until every live node reports running the new placement. Errors about
// the options wrap ErrRebalance; an unknown topology is ErrTopologyNotFound.
func (n *Node) Rebalance(ctx context.Context, name string, opts RebalanceOptions) (*RebalanceResult, error) {
	spec, ok := n.state.Get(name)
	if !ok || spec.Killed {
		return nil, fmt.Errorf("%w: %q", ErrTopologyNotFound, name)
	}
	t, err := n.build(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("rebalance %q: %w", name, err)
	}
	if t.Runtime.Guarantee == topology.ExactlyOnce {
		// Its state moves at a checkpoint boundary, which only local mode
		// does (supervisor.Running.Rescale).
		return nil, fmt.Errorf("%w: %q: %s=%s: %w", ErrRebalance, name, topology.GuaranteeKey, topology.ExactlyOnce, topology.ErrExactlyOnceUnavailable)
	}
	n.mu.Lock()
	before := n.planLocked()
	n.mu.Unlock()
	want := map[topology.ComponentID]int{}
	for c, k := range opts.Parallelism {
		want[topology.ComponentID(c)] = k
	}
	if err := topoaccess.CheckParallelism(t, want); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRebalance, err)
	}
	start := time.Now()
	deadline := start.Add(opts.Wait)
	// Components that grow: first every node starts the new tasks while
	// emitters keep routing to the old ones, then all switch, so no tuple
	// goes to a task its node has not started yet.
	cur := before.parallelism(name)
	if cur == nil {
		cur = plan.Compute(nil, []plan.Topology{planTopology(t, spec)}).Topologies[name].Parallelism
	}
	grow := map[string]int32{}
	for c, k := range want {
		if k > cur[c] {
			grow[string(c)] = int32(cur[c])
		}
	}
	res := &RebalanceResult{Topology: name, Parallelism: map[string]int{}}
	if len(grow) > 0 && opts.Wait > 0 {
		if err := n.publishRebalance(name, want, grow); err != nil {
			return nil, err
		}
		res.Applied, res.Waiting = n.waitApplied(ctx, name, time.Until(deadline))
	}
	if err := n.publishRebalance(name, want, nil); err != nil {
		return nil, err
	}
	n.mu.Lock()
	after := n.planLocked()
	n.mu.Unlock()
	for c, k := range after.parallelism(name) {
		res.Parallelism[string(c)] = k
	}
	old, now := before.Placement.Of(name), after.Placement.Of(name)
	for s, node := range now {
		switch prev, ok := old[s]; {
		case !ok:
			res.Started++
			res.Moved++
		case prev != node:
			res.Moved++
		}
	}
	for s := range old {
		if _, ok := now[s]; !ok {
			res.Stopped++
			res.Moved++
		}
	}
	if opts.Wait > 0 {
		res.Applied, res.Waiting = n.waitApplied(ctx, name, max(time.Until(deadline), time.Millisecond))
	}
	res.TookMs = ms(time.Since(start))
	return res, nil
}

// publishRebalance publishes name's spec with parallelism and, while
// growing components start their new tasks, routing (nil: route to every
// running task).
func (n *Node) publishRebalance(name string, parallelism map[topology.ComponentID]int, routing map[string]int32) error {
	return n.update(name, func(s *messages.TopologySpec) {
		if s.Parallelism == nil {
			s.Parallelism = map[string]int32{}
		}
		for c, k := range parallelism {
			s.Parallelism[string(c)] = int32(k)
		}
		s.Routing = routing
		s.RebalancedUnixMs = time.Now().UnixMilli()
	})
}

// waitApplied polls every live node's local topologies until each runs
// exactly its tasks of the current placement under its epoch, or wait
// passes. The placement is recomputed at every poll: membership may change
// while the nodes apply it. It reports whether they did and which nodes
// had not.
func (n *Node) waitApplied(ctx context.Context, name string, wait time.Duration) (bool, []string) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		n.mu.Lock()
		pl := n.planLocked()
		n.mu.Unlock()
		epoch := pl.epoch(name)
		want := map[string][]int32{}
		for task, node := range pl.Placement.Of(name) {
			want[node] = append(want[node], int32(task))
		}
		for _, tasks := range want {
			slices.Sort(tasks)
		}
		var waiting []string
		reports := n.peerLocal(ctx)
		for _, m := range n.members() {
			lts, ok := reports[m.name]
			if !ok {
				waiting = append(waiting, m.name)
				continue
			}
			var got *LocalTopology
			for i := range lts {
				if lts[i].Name == name {
					got = &lts[i]
				}
			}
			switch {
			case got == nil && len(want[m.name]) == 0:
			case got == nil || got.Epoch != epoch || !slices.Equal(got.Tasks, want[m.name]):
				waiting = append(waiting, m.name)
			}
		}
		if len(waiting) == 0 {
			return true, nil
		}
		select {
		case <-ctx.Done():
			slices.Sort(waiting)
			return false, waiting
		case <-tick.C:
		}
	}
}
