package actors

import (
	"reflect"
	"testing"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// TestWireRoundTrip: a batch converted for the wire and back is the
// batch, values of every kind, anchors and all; a value that cannot cross
// fails its tuple's trees and leaves the others.
func TestWireRoundTrip(t *testing.T) {
	topo := routerTopology(t, &recordingGrouping{})
	env := NewEnv(topo, 4, nil, nowhere{}, nil)
	src := topo.Component("s")
	dest := topo.Component("b-fields").Tasks[0]
	o := &output{env: env, task: src.Tasks[0], comp: src.ID, stats: env.Stats(src.Tasks[0]), trackers: []topology.TaskID{topo.Component("b-fields").Tasks[0]}}
	o.trk, o.trkSizes = make([]*trackerBatch, 1), make([]int, 1)
	o.spout = true
	h := &topology.TupleHeader{Component: src.ID, Task: src.Tasks[0], Stream: "d", Fields: topology.Fields{"k"}}
	mk := func(v any, anchors ...edge) *tuple {
		t := &tuple{TupleData: topoaccess.MakeTupleData(h, topology.Values{v}), held: -1}
		for _, a := range anchors {
			t.addAnchor(a.root, a.id)
		}
		return t
	}
	in := &tupleBatch{tuples: []*tuple{
		mk("word", edge{1, 2}),
		mk(int64(-3)),
		mk(struct{}{}, edge{5, 6}), // cannot cross
		mk([]any{"a", 1.5, true, nil, []byte{7}}, edge{3, 4}, edge{8, 9}),
		mk("last", edge{10, 11}),
	}}
	w := o.wireTuples(in, dest)
	if len(w.Tuples) != 4 || w.Epoch != 4 || w.Topology != topo.Name {
		t.Fatalf("wire batch: %d tuples, epoch %d, topology %q", len(w.Tuples), w.Epoch, w.Topology)
	}
	if b := o.trk[0]; b == nil || len(b.fails) != 1 || b.fails[0] != 5 {
		t.Errorf("the tuple that cannot cross did not fail its tree: %+v", o.trk[0])
	}
	for i, wt := range w.Tuples {
		if len(wt.Values) != 1 || cap(wt.Values) != 1 {
			t.Errorf("wire tuple %d: %d values (cap %d), want 1 of its own", i, len(wt.Values), cap(wt.Values))
		}
	}
	out := env.fromWireTuples(w, dest, headers{}, env.Stats(dest))
	want := []*tuple{in.tuples[0], in.tuples[1], in.tuples[3], in.tuples[4]}
	if len(out.tuples) != len(want) {
		t.Fatalf("got %d tuples back, want %d", len(out.tuples), len(want))
	}
	for i, g := range out.tuples {
		wv := want[i].Values()
		if !reflect.DeepEqual(g.Values(), wv) || !reflect.DeepEqual(g.anchors, want[i].anchors) || g.Stream() != "d" || g.SourceTask() != src.Tasks[0] {
			t.Errorf("tuple %d: got %v %v on %s from %d, want %v %v", i, g.Values(), g.anchors, g.Stream(), g.SourceTask(), wv, want[i].anchors)
		}
		if cap(g.Values()) != len(g.Values()) {
			t.Errorf("tuple %d: values of cap %d share room with the next tuple's", i, cap(g.Values()))
		}
	}
}

func TestWireTrackerAndCompletionsRoundTrip(t *testing.T) {
	topo := routerTopology(t, &recordingGrouping{})
	o := &output{env: NewEnv(topo, 2, nil, nowhere{}, nil)}
	tb := &trackerBatch{inits: []trackerInit{{1, 2, 3}, {4, 5, 6}}, acks: []trackerAck{{7, 8}}, fails: []uint64{9}, resets: []uint64{10}}
	if got := fromWireTracker(o.wireTracker(tb, 1)); !reflect.DeepEqual(got, tb) {
		t.Errorf("tracker batch: got %+v, want %+v", got, tb)
	}
	cb := &completionBatch{done: []completion{{1, treeAcked}, {2, treeFailed}, {3, treeReset}}}
	if got := fromWireCompletions(o.wireCompletions(cb, 1)); !reflect.DeepEqual(got, cb) {
		t.Errorf("completion batch: got %+v, want %+v", got, cb)
	}
}
