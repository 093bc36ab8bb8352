package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// trackerTask is Storm's acker: it owns the Ledger of the trees whose root
// hashes to it (root mod #trackers) and tells each tree's spout task when the
// tree completed or failed, in batches.
type trackerTask struct {
	env    *Env
	task   topology.TaskID
	ledger *Ledger
	out    *output
	stats  *TaskStats
}

func newTracker(env *Env, task topology.TaskID) *trackerTask {
	// Trees the spout has given up on are forgotten after twice the timeout;
	// late updates for them find nothing to complete.
	retention := 2 * int64(env.Topology.Runtime.MessageTimeout)
	return &trackerTask{env: env, task: task, stats: env.Stats(task), ledger: NewLedger(retention, ledgerLimit(env.Topology))}
}

// The bounds of a tracker's ledger, in trees. A spout task keeps at most
// max.spout.pending trees; the trees it timed out stay in the ledger for
// the retention (two timeouts), and late acks of failed trees add entries
// of their own, so a tracker's share of the spouts' pending trees, times
// 16, leaves room for all of that. The floor keeps small topologies clear
// of the bound; the ceiling (also the bound when max.spout.pending is 0,
// unlimited) caps what a flood of forged updates can hold: about 100 MiB.
const (
	ledgerFloor   = 1 << 16
	ledgerCeiling = 1 << 20
)

// ledgerLimit is the most trees one tracker task of t holds.
func ledgerLimit(t *topology.Topology) int {
	pending := t.Runtime.MaxSpoutPending
	if pending <= 0 || len(t.Trackers) == 0 {
		return ledgerCeiling
	}
	spouts := 0
	for _, c := range t.Components {
		if c.Kind == topology.KindSpout {
			spouts += len(c.Tasks)
		}
	}
	if pending > ledgerCeiling { // no overflow below
		return ledgerCeiling
	}
	return min(max(16*spouts*pending/len(t.Trackers), ledgerFloor), ledgerCeiling)
}

// fromSpout reports whether task is a spout task of the topology: only
// spouts start trees. An init naming any other task (a bolt, a tracker, a
// task the topology does not have) is forged or corrupt; the tracker drops
// it rather than hold a tree nobody will ever time out.
func (k *trackerTask) fromSpout(task topology.TaskID) bool {
	c := k.env.Topology.ComponentOf(task)
	return c != nil && c.Kind == topology.KindSpout
}

// Receive implements actor.Actor.
func (k *trackerTask) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *trackerBatch:
		k.apply(m)
	case *messages.TrackerBatch:
		if !k.env.current(m.Topology, m.Epoch) {
			k.stats.Dropped.Add(int64(len(m.Inits) + len(m.Acks) + len(m.Fails) + len(m.Resets)))
			break
		}
		k.apply(fromWireTracker(m))
	case *flushMsg:
		k.out.flush()
		return
	case *tickMsg:
		k.ledger.Expire(k.env.now())
		k.stats.Pending.Store(int64(k.ledger.Len()))
	case *actor.Started:
		k.out = newOutput(k.env, nil, k.task, nil)
		k.out.self = ctx.Self()
		k.out.done = make([][]completion, k.env.Topology.NumTasks())
	case *actor.Restarting:
		k.stats.Restarts.Add(1)
	}
	k.out.afterMessage()
}

func (k *trackerTask) apply(m *trackerBatch) {
	now := k.env.now()
	forged := 0
	for _, in := range m.inits {
		if !k.fromSpout(in.spout) {
			forged++
			continue
		}
		o, spout := k.ledger.Init(in.root, in.xor, in.spout, now)
		k.settle(in.root, o, spout)
	}
	for _, a := range m.acks {
		o, spout := k.ledger.Ack(a.root, a.xor, now)
		k.settle(a.root, o, spout)
	}
	for _, root := range m.fails {
		o, spout := k.ledger.Fail(root, now)
		k.settle(root, o, spout)
	}
	for _, root := range m.resets {
		if spout, ok := k.ledger.Reset(root, now); ok {
			k.out.complete(spout, root, treeReset)
		}
	}
	if forged > 0 {
		k.stats.Dropped.Add(int64(forged))
	}
	k.stats.Executed.Add(int64(len(m.inits) - forged + len(m.acks) + len(m.fails)))
}

func (k *trackerTask) settle(root uint64, o Outcome, spout topology.TaskID) {
	switch o {
	case Completed:
		k.stats.Acked.Add(1)
		k.out.complete(spout, root, treeAcked)
	case Failed:
		k.stats.Failed.Add(1)
		k.out.complete(spout, root, treeFailed)
	case Refused:
		k.stats.Dropped.Add(1)
	}
}
