package actors

import (
	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/topology"
)

// The messages tasks exchange inside a process. They carry Go values; the
// cluster converts them to the protobuf types of package messages at a node
// boundary.

// tupleBatch is a run of tuples for one task.
type tupleBatch struct {
	tuples []*tuple
	// untracked is how many of them are outside any tree (flow control).
	untracked int64
	// In exactly-once (eos.go): the sending task, its restore epoch, and a
	// barrier that follows the tuples (0: none).
	from    topology.TaskID
	epoch   uint64
	barrier checkpoint.ID
}

type trackerInit struct {
	root, xor uint64
	spout     topology.TaskID
}

type trackerAck struct{ root, xor uint64 }

// trackerBatch is a run of updates for one tracker task.
type trackerBatch struct {
	inits []trackerInit
	acks  []trackerAck
	fails []uint64
	// resets restart the timeout of trees (ResetTimeout); the tracker
	// forwards them to the trees' spout tasks, which own the timeouts.
	resets []uint64
}

type completionKind uint8

const (
	treeAcked completionKind = iota
	treeFailed
	treeReset // restart the tree's timeout
)

type completion struct {
	root uint64
	kind completionKind
}

// completionBatch tells a spout task which of its trees are done.
type completionBatch struct {
	done []completion
}

// submitted is a function a component handed to Context.Submit, from the
// instance gen of the task's component: a restore (exactly-once) makes a
// new instance, and what the old one submitted is dropped.
type submitted struct {
	fn  func()
	gen uint64
}

type (
	nextMsg  struct{} // a spout task: call NextTuple
	flushMsg struct{} // send what is buffered
	tickMsg  struct{} // the clock: check timeouts, tick tuples
	// eosResume: a bolt's last unacked tuple before a waiting barrier was
	// acked (eos.go).
	eosResume struct{}
)

var (
	theNext   = &nextMsg{}
	theFlush  = &flushMsg{}
	theTick   = &tickMsg{}
	theResume = &eosResume{}
)

// Control messages, sent by the supervisor.
type (
	// Activate starts a spout task's NextTuple calls.
	Activate struct{}
	// Deactivate pauses them; acks and fails still arrive.
	Deactivate struct{}
)

// edge is one tree a tuple belongs to, and its edge id in that tree.
type edge struct{ root, id uint64 }

// tuple is the runtime's Tuple: the user-visible data plus the acking state.
type tuple struct {
	topology.TupleData
	anchors []edge
	inline  [1]edge // backing store for the common single-tree case
	// ackVal is the XOR of the edges created from this tuple while it was held.
	ackVal uint64
	// held is the tuple's slot in its bolt task's held list, or -1.
	held int32
	// received is when the bolt task started executing it (Env.now), for
	// its process latency; 0: not timed. The tuple stays 96 bytes.
	received int64
}

var _ topology.Tuple = (*tuple)(nil)

// addAnchor XORs id into the tuple's edge for root, adding the root if new.
func (t *tuple) addAnchor(root, id uint64) {
	for i := range t.anchors {
		if t.anchors[i].root == root {
			t.anchors[i].id ^= id
			return
		}
	}
	if t.anchors == nil {
		t.anchors = t.inline[:0]
	}
	t.anchors = append(t.anchors, edge{root: root, id: id})
}
