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
	return &trackerTask{env: env, task: task, stats: env.Stats(task), ledger: NewLedger(2 * int64(env.Topology.Runtime.MessageTimeout))}
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
	for _, in := range m.inits {
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
	k.stats.Executed.Add(int64(len(m.inits) + len(m.acks) + len(m.fails)))
}

func (k *trackerTask) settle(root uint64, o Outcome, spout topology.TaskID) {
	switch o {
	case Completed:
		k.stats.Acked.Add(1)
		k.out.complete(spout, root, treeAcked)
	case Failed:
		k.stats.Failed.Add(1)
		k.out.complete(spout, root, treeFailed)
	}
}
