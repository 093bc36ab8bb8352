package cluster

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/cluster/transport"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/topology"
)

// directory resolves the tasks of one topology to where the current
// assignment placed them: an actor here, or the transport's queue to a
// node and the task's address there. The node swaps the whole table on every
// assignment; tasks read it once per batch, lock-free.
type directory struct {
	table atomic.Pointer[dirTable]
	t     *transport.Transport
}

type dirTable struct {
	entries []dirEntry // by task-1
}

type dirEntry struct {
	local *actor.PID      // set when the task runs here
	peer  *transport.Peer // the transport's queue to the node running it
	addr  wire.TaskAddr   // the task there
}

// Local implements actors.Directory.
func (d *directory) Local(task topology.TaskID) (*actor.PID, bool) {
	e, ok := d.entry(task)
	return e.local, ok && e.local != nil
}

// SendRemote implements actors.Directory.
func (d *directory) SendRemote(task topology.TaskID, batch proto.Message) bool {
	e, ok := d.entry(task)
	if !ok || e.peer == nil {
		return false
	}
	return d.t.Send(e.peer, wire.Message{To: e.addr, Payload: batch})
}

func (d *directory) entry(task topology.TaskID) (dirEntry, bool) {
	t := d.table.Load()
	if t == nil || task < 1 || int(task) > len(t.entries) {
		return dirEntry{}, false
	}
	return t.entries[task-1], true
}
