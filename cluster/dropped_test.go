package cluster

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/cluster/transport"
	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/supervisor"
	"github.com/squall-streams/squall/topology"
)

func TestTreeFails(t *testing.T) {
	tuple := func(roots ...uint64) *messages.Tuple {
		tu := &messages.Tuple{Stream: "default"}
		for _, r := range roots {
			tu.Anchors = append(tu.Anchors, &messages.Edge{Root: r, Id: r * 3})
		}
		return tu
	}
	b := &messages.TupleBatch{Topology: "wc", Epoch: 7, Tuples: []*messages.Tuple{
		tuple(11), tuple(12, 13), tuple(), tuple(11, 14), tuple(0), // root 0: not in a tree
	}}
	trackers := []topology.TaskID{20, 21, 22}
	got := treeFails(b, trackers)
	want := map[topology.TaskID][]uint64{}
	for _, root := range []uint64{11, 12, 13, 14} { // each root once, in the order met
		tr := trackers[routing.Mix64(root)%3]
		want[tr] = append(want[tr], root)
	}
	if len(got) != len(want) {
		t.Fatalf("fails for %d trackers, want %d", len(got), len(want))
	}
	for tr, roots := range want {
		f := got[tr]
		if f == nil || f.Topology != "wc" || f.Epoch != 7 || f.TrackerTask != int32(tr) || len(f.Inits)+len(f.Acks)+len(f.Resets) != 0 {
			t.Fatalf("tracker %d: %v", tr, f)
		}
		var fails []uint64
		for _, x := range f.Fails {
			fails = append(fails, x.Root)
		}
		if !slices.Equal(fails, roots) {
			t.Errorf("tracker %d: fails %v, want %v", tr, fails, roots)
		}
	}
	if treeFails(b, nil) != nil {
		t.Error("fails without trackers (acking off)")
	}
	if treeFails(&messages.TupleBatch{Tuples: []*messages.Tuple{tuple()}}, trackers) != nil {
		t.Error("fails for untracked tuples")
	}
}

func TestInitFails(t *testing.T) {
	b := &messages.TrackerBatch{Topology: "wc", Epoch: 3, TrackerTask: 9,
		Inits: []*messages.TrackerInit{{Root: 1, SpoutTask: 2}, {Root: 2, SpoutTask: 3}, {Root: 3, SpoutTask: 2}, {Root: 0, SpoutTask: 2}, {Root: 4}},
		Acks:  []*messages.TrackerAck{{Root: 5}}}
	got := initFails(b)
	want := map[topology.TaskID]*messages.CompletionBatch{
		2: {Topology: "wc", Epoch: 3, SpoutTask: 2, Completions: []*messages.Completion{{Root: 1, Failed: true}, {Root: 3, Failed: true}}},
		3: {Topology: "wc", Epoch: 3, SpoutTask: 3, Completions: []*messages.Completion{{Root: 2, Failed: true}}},
	}
	if len(got) != len(want) {
		t.Fatalf("completions for %d spout tasks, want %d", len(got), len(want))
	}
	for task, w := range want {
		if !proto.Equal(got[task], w) {
			t.Errorf("spout task %d: %v, want %v", task, got[task], w)
		}
	}
}

// onceSpout emits one tracked tuple and reports its fails.
type onceSpout struct {
	topology.BaseSpout
	c      topology.SpoutCollector
	done   bool
	failed chan any
}

func (s *onceSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.c = c
	return nil
}

func (s *onceSpout) NextTuple() {
	if !s.done {
		s.done = true
		s.c.Emit(topology.Values{"x"}, "m1")
	}
}

func (s *onceSpout) Fail(id any) { s.failed <- id }

// splitDirectory runs the tasks in local here; every other task is on a
// peer the transport cannot reach.
type splitDirectory struct {
	local map[topology.TaskID]*actor.PID
	tr    *transport.Transport
	peer  *transport.Peer
	name  string
}

func (d *splitDirectory) Local(task topology.TaskID) (*actor.PID, bool) {
	pid, ok := d.local[task]
	return pid, ok
}

func (d *splitDirectory) SendRemote(task topology.TaskID, batch proto.Message) bool {
	return d.tr.Send(d.peer, wire.Message{To: wire.TaskAddr{Topology: d.name, Boot: "0123456789abcdef", Task: task}, Payload: batch})
}

// TestDroppedBatchFailsItsTrees: a tuple batch the transport drops (its
// node unreachable) fails its tree at once: the spout's Fail is called
// long before the message timeout (an hour here) would have.
func TestDroppedBatchFailsItsTrees(t *testing.T) {
	ctx := context.Background()
	failed := make(chan any, 4)
	b := topology.NewBuilder("dropped")
	b.SetSpout("src", func() topology.Spout { return &onceSpout{failed: failed} }, 1).Output("x")
	b.SetBolt("far", topology.Basic(func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
	}), 1).ShuffleGrouping("src")
	topo, err := b.Build(topology.Config{topology.MessageTimeoutSecs: 3600})
	if err != nil {
		t.Fatal(err)
	}

	sup := supervisor.NewNode(nil)
	defer func() { // bounded: a tree still in flight (the test failed) would hold a drain
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = sup.Shutdown(sctx)
	}()
	n := &Node{sup: sup}
	tr, err := transport.Listen(func() transport.Config {
		cfg := transport.DefaultConfig()
		cfg.Deliver = func(wire.Message, *transport.Source) {}
		cfg.OnDrop = n.failDropped
		return cfg
	}())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close() // nothing listens there: the peer is unreachable

	const instance = "local"
	spout := topo.Component("src").Tasks[0]
	dir := &splitDirectory{local: map[topology.TaskID]*actor.PID{}, tr: tr, peer: tr.Peer(gone), name: topo.Name}
	here := append([]topology.TaskID{spout}, topo.Trackers...)
	for _, task := range here {
		dir.local[task] = sup.TaskPID(wire.TaskAddr{Topology: topo.Name, Boot: instance, Task: task})
	}
	if _, err := sup.StartAssigned(ctx, topo, supervisor.Assignment{Epoch: 1, Instance: instance, Tasks: here, Directory: dir, Active: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-failed:
		if id != "m1" {
			t.Fatalf("Fail(%v), want m1", id)
		}
	case <-time.After(30 * time.Second): // a bound on the test, not a measurement: the timeout is an hour
		t.Fatal("the dropped batch's tree did not fail")
	}
	if tr.Dropped.Load() < 1 {
		t.Fatal("no drop counted")
	}
}
