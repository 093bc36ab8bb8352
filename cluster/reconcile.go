package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/squall-streams/squall/cluster/plan"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/supervisor"
	"github.com/squall-streams/squall/topology"
)

// The reconcile loop is the shell around package plan: it builds the live
// topologies, plans under n.mu (pure and cheap), and carries the plan's
// steps out without n.mu. Only reconcile starts, applies and stops
// topologies and writes n.running; n.applyMu serialises it.

// lingerMoved is how long a bolt or tracker task that moves away from this
// node, or stops in a rebalance, keeps running to execute tuples already on
// their way to it: nodes apply a new placement within tens of
// milliseconds of each other (BENCHMARKS.md, "Live rebalance").
const lingerMoved = time.Second

// reconcile computes the plan from the current view and makes this node
// run exactly its share.
func (n *Node) reconcile(ctx context.Context) { n.reconcileWith(ctx, n.members) }

// reconcileWith is reconcile over the live members that members returns
// (called once the builds are done, so a long build plans with the
// membership of after it).
func (n *Node) reconcileWith(ctx context.Context, members func() []member) {
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	select {
	case <-n.stop:
		return
	default:
	}
	specs := n.state.All()
	topos := n.buildLive(ctx, specs)
	n.mu.Lock()
	v := planOf(members(), specs, func(s *messages.TopologySpec) *topology.Topology { return topos[s.Name] })
	running := make(map[string]plan.Running, len(n.running))
	var replaced []string
	for name, p := range n.running {
		if t := topos[name]; t != nil && t != p.run.Topology {
			// Another deployment of the name (a kill and a resubmit this
			// node saw as one change) or another configuration: the tasks
			// run the old build's code, so they stop and the new build
			// starts (left out of running, the plan's steps start it).
			replaced = append(replaced, name)
			continue
		}
		running[name] = plan.Running{Epoch: p.epoch, Wire: p.wire, Active: p.active, Tasks: p.tasks}
	}
	n.mu.Unlock()
	for _, name := range replaced {
		n.mu.Lock()
		p := n.running[name]
		n.mu.Unlock()
		n.stopPlaced(ctx, name, p)
	}
	for _, st := range v.Steps(n.cfg.Name, running) {
		n.carryOut(ctx, v, st)
	}
	// Forget the connections to nodes that are gone (a restarted node
	// listens at a new transport address).
	keep := make(map[string]bool, len(v.byName))
	for _, m := range v.byName {
		keep[m.meta.RemoteAddr] = true
	}
	n.tr.Retain(keep)
	// Batches that arrived before their task started here.
	n.park.release(time.Now(), n.sendLocal)
	n.releaseUnused(specs)
	// The resources of killed topologies, now that their tasks stopped.
	n.buildMu.Lock()
	n.collectResources()
	n.buildMu.Unlock()
}

// releaseUnused releases the builds of topologies that are killed or gone
// and have no task running here, so nothing a build started outlives its
// topology. The compiled topology stays for the API's pages. n.applyMu
// must be held (nothing starts a task meanwhile).
func (n *Node) releaseUnused(specs []*messages.TopologySpec) {
	live := make(map[string]bool, len(specs))
	for _, s := range specs {
		if !s.Killed {
			live[s.Name] = true
		}
	}
	var releases []func()
	n.mu.Lock()
	for name, b := range n.built {
		if live[name] || n.running[name] != nil || b.digest == "" {
			continue
		}
		if b.release != nil {
			releases = append(releases, b.release)
		}
		n.built[name] = &built{topo: b.topo} // never reused: digest ""
	}
	n.mu.Unlock()
	for _, release := range releases {
		release()
	}
}

// buildLive builds every live spec (errors logged once per error) and
// returns the builds by topology name. n.applyMu must be held.
func (n *Node) buildLive(ctx context.Context, specs []*messages.TopologySpec) map[string]*topology.Topology {
	out := make(map[string]*topology.Topology, len(specs))
	for _, s := range specs {
		if s.Killed {
			continue
		}
		t, err := n.build(ctx, s)
		if err != nil {
			if n.buildErr[s.Name] != err.Error() {
				n.log.Error("cannot build topology", "topology", s.Name, "kind", s.Kind, "err", err)
				n.buildErr[s.Name] = err.Error()
			}
			continue
		}
		delete(n.buildErr, s.Name)
		out[s.Name] = t
	}
	return out
}

// build returns this node's build of spec, building it (and fetching its
// resources) when its kind or configuration changed. It runs without n.mu
// (a download can take up to a minute), one build at a time.
func (n *Node) build(ctx context.Context, spec *messages.TopologySpec) (*topology.Topology, error) {
	n.buildMu.Lock()
	defer n.buildMu.Unlock()
	// A new deployment of the name (resubmitted after a kill) builds anew:
	// its tasks carry the new deployment id.
	digest := spec.Kind + "\x00" + topologyID(spec) + "\x00" + fmt.Sprint(sortedConf(spec.Conf))
	n.mu.Lock()
	b := n.built[spec.Name]
	n.mu.Unlock()
	if b != nil && b.digest == digest {
		return b.topo, nil
	}
	f := n.cfg.Topologies[spec.Kind]
	if f == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTopology, spec.Kind)
	}
	conf := topology.Config{}
	for k, v := range spec.Conf {
		conf[k] = v
	}
	if d := spec.Conf[ConfResourcesDigest]; d != "" {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		dir, err := n.ensureResources(ctx, d)
		cancel()
		if err != nil {
			return nil, err
		}
		conf[ConfResourcesDir] = dir
	}
	t, release, err := f(conf)
	if err != nil {
		return nil, err
	}
	// Every node names this deployment alike, as the REST API does:
	// connectors persist the id.
	t = topoaccess.Deployed(t, spec.Name, topologyID(spec))
	n.mu.Lock()
	if b != nil && b.release != nil {
		// Tasks of the old build may run until the new plan is applied.
		n.releases = append(n.releases, b.release)
	}
	n.built[spec.Name] = &built{digest: digest, topo: t, release: release}
	n.mu.Unlock()
	return t, nil
}

func sortedConf(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// carryOut does one step of the plan v, without n.mu. A step that fails
// is logged and leaves n.running as it was, so the next reconcile tries
// again.
func (n *Node) carryOut(ctx context.Context, v *view, st plan.Step) {
	name := st.Topology
	n.mu.Lock()
	p := n.running[name]
	var tasks []topology.TaskID
	if p != nil {
		tasks = p.tasks
	}
	n.mu.Unlock()
	if st.Op == plan.Stop {
		if p != nil {
			n.stopPlaced(ctx, name, p)
		}
		return
	}
	t, want := v.topos[name], st.Running
	tbl := n.directoryTable(v, name, t)
	a := supervisor.Assignment{Epoch: want.Wire, Instance: n.boot, Tasks: want.Tasks, Active: want.Active, Parallelism: v.Topologies[name].Routing, Linger: lingerMoved, Store: n.cfg.CheckpointStore}
	switch st.Op {
	case plan.Start:
		d := &directory{t: n.tr}
		d.table.Store(tbl)
		a.Directory = d
		run, err := n.sup.StartAssigned(ctx, t, a)
		if err != nil {
			n.log.Error("cannot start topology", "topology", name, "err", err)
			return
		}
		n.mu.Lock()
		n.running[name] = &placed{run: run, dir: d, epoch: want.Epoch, wire: want.Wire, active: want.Active, tasks: want.Tasks,
			resources: v.live[name].Conf[ConfResourcesDigest]}
		n.mu.Unlock()
		n.log.Info("running tasks", "topology", name, "tasks", want.Tasks, "epoch", want.Epoch, "wire_epoch", want.Wire)
	case plan.Apply:
		if p == nil {
			return // cannot happen: only reconcile removes what runs
		}
		p.dir.table.Store(tbl)
		a.Directory = p.dir
		if err := p.run.Apply(ctx, a); err != nil {
			n.log.Error("cannot apply assignment", "topology", name, "err", err)
			return
		}
		if !slices.Equal(tasks, want.Tasks) {
			n.log.Info("reassigned tasks", "topology", name, "tasks", want.Tasks, "epoch", want.Epoch)
		}
		n.mu.Lock()
		p.epoch, p.wire, p.active, p.tasks = want.Epoch, want.Wire, want.Active, want.Tasks
		n.mu.Unlock()
	}
}

// directoryTable resolves every placed task of the topology called name
// (built as t) under v: a local actor here, a peer and actor name
// elsewhere.
func (n *Node) directoryTable(v *view, name string, t *topology.Topology) *dirTable {
	tbl := &dirTable{entries: make([]dirEntry, t.NumTasks())}
	for task := topology.TaskID(1); int(task) <= t.NumTasks(); task++ {
		node, ok := v.Placement[plan.Slot{Topology: name, Task: task}]
		if !ok {
			continue
		}
		m := v.byName[node]
		addr := wire.TaskAddr{Topology: name, Boot: m.meta.BootId, Task: task}
		if node == n.cfg.Name {
			tbl.entries[task-1] = dirEntry{local: n.sup.TaskPID(addr)}
		} else {
			tbl.entries[task-1] = dirEntry{peer: n.tr.Peer(m.meta.RemoteAddr), addr: addr}
		}
	}
	return tbl
}

// stopPlaced stops this node's tasks of the topology called name (p),
// without n.mu, and forgets it.
func (n *Node) stopPlaced(ctx context.Context, name string, p *placed) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := p.run.Stop(sctx)
	if err != nil {
		n.log.Error("stopping topology", "topology", name, "err", err)
		if p.resources != "" {
			// Its tasks may still be closing, their subprocesses in the
			// resources directory: it stays while this node runs.
			_ = n.res.Hold(p.resources)
		}
	}
	n.mu.Lock()
	if n.running[name] == p {
		delete(n.running, name)
	}
	if b := n.built[name]; err != nil && b != nil && b.release != nil && b.topo == p.run.Topology {
		// Its tasks may still be closing: what the build started is
		// released when the node closes, not by releaseUnused now.
		n.releases = append(n.releases, b.release)
		n.built[name] = &built{digest: b.digest, topo: b.topo}
	}
	n.mu.Unlock()
	n.log.Info("stopped tasks", "topology", name)
}

// stopAll stops every topology running here (at shutdown, once the
// reconcile loop has exited).
func (n *Node) stopAll(ctx context.Context) {
	n.mu.Lock()
	running := maps.Clone(n.running)
	n.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(running)) {
		n.stopPlaced(ctx, name, running[name])
	}
}
