package cluster

import (
	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/supervisor"
	"github.com/squall-streams/squall/topology"
)

// A batch the transport drops on its way to another node (its queue full,
// the node unreachable or gone, a write that failed) never reaches its
// task. Left alone, every tree it belongs to waits for its message timeout
// (30 s by default) before its spout replays it. The transport hands such
// batches to failDropped (transport.Config.OnDrop), which fails them at
// once:
//
//   - tuples: each root of their anchors is failed at the tracker shard
//     that owns it (routing.Mix64(root) mod #trackers, as the emitting
//     task chose it), which tells the spout task: it replays now. A fail
//     that reaches the tracker before the tree's init is kept and settles
//     the tree when the init arrives.
//   - tracker inits (from this node's spouts: the tracker is remote): the
//     tree was never started at its tracker, so the spout task, here, is
//     told it failed.
//
// Acks, fails and completions lost on their way are not recoverable here
// (the tracker or spout they were for is the unreachable one): those trees
// time out as before. A write that failed may have delivered part of what
// is reported: such a tree fails and replays although it might have
// completed — a duplicate, which at-least-once allows. Failing a tree is a
// message to a task, never a wait: failDropped runs on the transport's
// drop goroutine and sends through the topology's directory; a batch of
// fails for a remote tracker that is dropped in turn ends there
// (failDropped acts on tuples and inits only).

// failDropped fails at once the trees of a batch the transport dropped.
func (n *Node) failDropped(m wire.Message) {
	switch b := m.Payload.(type) {
	case *messages.TupleBatch:
		r, err := n.sup.Get(m.To.Topology)
		if err != nil || len(b.Tuples) == 0 {
			return // stopped meanwhile: its trees stop with it
		}
		env := r.Env()
		for tracker, fails := range treeFails(b, env.Topology.Trackers) {
			sendTo(r, tracker, fails)
		}
	case *messages.TrackerBatch:
		r, err := n.sup.Get(m.To.Topology)
		if err != nil || len(b.Inits) == 0 {
			return
		}
		for spout, done := range initFails(b) {
			if pid, ok := r.Env().Directory.Local(spout); ok {
				r.Env().System.Root.Send(pid, done)
			}
		}
	}
}

// sendTo sends batch to task of r, here or on its node.
func sendTo(r *supervisor.Running, task topology.TaskID, batch *messages.TrackerBatch) {
	env := r.Env()
	if pid, ok := env.Directory.Local(task); ok {
		env.System.Root.Send(pid, batch)
		return
	}
	env.Directory.SendRemote(task, batch)
}

// treeFails is the fails of every tree b's tuples belong to, by the
// tracker task that owns each root; each root once, in the order first
// met. Nil when the topology has no trackers (acking off) or no tuple is
// in a tree.
func treeFails(b *messages.TupleBatch, trackers []topology.TaskID) map[topology.TaskID]*messages.TrackerBatch {
	if len(trackers) == 0 {
		return nil
	}
	var out map[topology.TaskID]*messages.TrackerBatch
	seen := map[uint64]bool{}
	for _, t := range b.Tuples {
		for _, a := range t.GetAnchors() {
			if a == nil || a.Root == 0 || seen[a.Root] {
				continue
			}
			seen[a.Root] = true
			tracker := trackers[routing.Mix64(a.Root)%uint64(len(trackers))]
			if out == nil {
				out = map[topology.TaskID]*messages.TrackerBatch{}
			}
			f := out[tracker]
			if f == nil {
				f = &messages.TrackerBatch{Topology: b.Topology, Epoch: b.Epoch, TrackerTask: int32(tracker)}
				out[tracker] = f
			}
			f.Fails = append(f.Fails, &messages.TrackerFail{Root: a.Root})
		}
	}
	return out
}

// initFails is a failed completion for every tree b starts, by the spout
// task that emitted it.
func initFails(b *messages.TrackerBatch) map[topology.TaskID]*messages.CompletionBatch {
	var out map[topology.TaskID]*messages.CompletionBatch
	for _, in := range b.Inits {
		if in == nil || in.Root == 0 || in.SpoutTask < 1 {
			continue
		}
		spout := topology.TaskID(in.SpoutTask)
		if out == nil {
			out = map[topology.TaskID]*messages.CompletionBatch{}
		}
		c := out[spout]
		if c == nil {
			c = &messages.CompletionBatch{Topology: b.Topology, Epoch: b.Epoch, SpoutTask: in.SpoutTask}
			out[spout] = c
		}
		c.Completions = append(c.Completions, &messages.Completion{Root: in.Root, Failed: true})
	}
	return out
}
