package cluster

import (
	"bytes"
	"errors"
	"sync"

	"github.com/hashicorp/memberlist"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/messages"
)

// delegate connects memberlist to the node. memberlist calls it from its
// own goroutines, some under its node lock: nothing here blocks or calls
// back into memberlist; changes are signalled on a channel the node's loop
// reads.
type delegate struct {
	meta    []byte
	state   *State
	queue   *memberlist.TransmitLimitedQueue
	changed chan struct{} // capacity 1: a pending "reconcile"

	mu       sync.Mutex
	departed map[string]*memberlist.Node // dead or left, by name
	// live are copies of the alive and suspect members, by name, taken in
	// the event callbacks: memberlist calls them under its node lock, the
	// one place a Node's fields can be read without racing the alive
	// messages that rewrite them in place (hashicorp/memberlist#306), which
	// reads through Members() do.
	live map[string]memberlist.Node
}

func (d *delegate) signal() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// NodeMeta implements memberlist.Delegate.
func (d *delegate) NodeMeta(limit int) []byte {
	if len(d.meta) > limit {
		return nil
	}
	return d.meta
}

// NotifyMsg receives broadcast topology specs.
func (d *delegate) NotifyMsg(b []byte) {
	specs, err := DecodeState(b)
	if err != nil {
		return // malformed: ignore; push/pull repairs anything lost
	}
	if d.state.Merge(specs) {
		// Re-broadcast what was new to us: broadcasts are best effort.
		d.broadcast(specs)
		d.signal()
	}
}

// GetBroadcasts implements memberlist.Delegate.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.queue.GetBroadcasts(overhead, limit)
}

// LocalState implements memberlist.Delegate: the whole topology set.
func (d *delegate) LocalState(bool) []byte { return d.state.Encode() }

// MergeRemoteState implements memberlist.Delegate.
func (d *delegate) MergeRemoteState(b []byte, _ bool) {
	specs, err := DecodeState(b)
	if err != nil {
		return
	}
	if d.state.Merge(specs) {
		d.signal()
	}
}

func (d *delegate) broadcast(specs []*messages.TopologySpec) {
	for _, s := range specs {
		b, err := proto.Marshal(&messages.ClusterState{Topologies: []*messages.TopologySpec{s}})
		if err != nil {
			continue
		}
		d.queue.QueueBroadcast(specBroadcast{name: s.Name, msg: b})
	}
}

// NotifyJoin implements memberlist.EventDelegate.
func (d *delegate) NotifyJoin(n *memberlist.Node) {
	d.mu.Lock()
	delete(d.departed, n.Name)
	d.setLive(n)
	d.mu.Unlock()
	d.signal()
}

// NotifyLeave implements memberlist.EventDelegate.
func (d *delegate) NotifyLeave(n *memberlist.Node) {
	c := *n
	d.mu.Lock()
	d.departed[n.Name] = &c
	delete(d.live, n.Name)
	d.mu.Unlock()
	d.signal()
}

// NotifyUpdate implements memberlist.EventDelegate.
func (d *delegate) NotifyUpdate(n *memberlist.Node) {
	d.mu.Lock()
	d.setLive(n)
	d.mu.Unlock()
	d.signal()
}

// setLive records a copy of n (memberlist replaces a Node's Meta rather
// than writing into it, so sharing its bytes is safe). d.mu must be held.
func (d *delegate) setLive(n *memberlist.Node) {
	if d.live == nil {
		d.live = map[string]memberlist.Node{}
	}
	d.live[n.Name] = *n
}

// liveNodes are copies of the alive and suspect members, as Members()
// lists them, safe to read.
func (d *delegate) liveNodes() []memberlist.Node {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]memberlist.Node, 0, len(d.live))
	for _, n := range d.live {
		out = append(out, n)
	}
	return out
}

func (d *delegate) departedNodes() []memberlist.Node {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]memberlist.Node, 0, len(d.departed))
	for _, n := range d.departed {
		out = append(out, *n)
	}
	return out
}

// specBroadcast is one topology spec to gossip; a newer one for the same
// name replaces it in the queue.
type specBroadcast struct {
	name string
	msg  []byte
}

func (b specBroadcast) Invalidates(o memberlist.Broadcast) bool {
	ob, ok := o.(specBroadcast)
	return ok && ob.name == b.name
}
func (b specBroadcast) Message() []byte { return b.msg }
func (b specBroadcast) Finished()       {}

// errSolo is why a Solo node ignores another member.
var errSolo = errors.New("this node is solo (cluster.Config.Solo): it has no peers")

// soloDelegate keeps a Solo node alone: as memberlist's AliveDelegate it
// refuses every alive message but the node's own (its name and its meta,
// which carries its boot id), so no other node ever enters the member
// list, the member events or the plan; as its MergeDelegate it refuses
// every join, in either direction, before any remote state is merged.
type soloDelegate struct {
	name string
	meta []byte
}

// NotifyAlive implements memberlist.AliveDelegate.
func (s soloDelegate) NotifyAlive(peer *memberlist.Node) error {
	if peer.Name == s.name && bytes.Equal(peer.Meta, s.meta) {
		return nil
	}
	return errSolo
}

// NotifyMerge implements memberlist.MergeDelegate.
func (s soloDelegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, p := range peers {
		if err := s.NotifyAlive(p); err != nil {
			return err
		}
	}
	return nil
}
