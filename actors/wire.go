package actors

import (
	"fmt"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// A batch for a task in another process travels as a protobuf message of
// package messages. The sending task converts its Go batch (toWire*), the
// receiving task converts it back (fromWire*), after checking that the batch
// belongs to its topology and current epoch: anything else is dropped and
// its trees replay. Values that cannot cross (see messages.FromGo) fail
// their tuple's trees at the sender.

func (o *output) wireTuples(b *tupleBatch, dest topology.TaskID) *messages.TupleBatch {
	w := &messages.TupleBatch{Topology: o.env.Topology.Name, Epoch: o.env.Epoch(), Tuples: make([]*messages.Tuple, 0, len(b.tuples))}
	for _, t := range b.tuples {
		vals, err := messages.ValuesFromGo(t.Values())
		if err != nil {
			o.stats.recordError(fmt.Errorf("component %q: tuple on stream %q cannot cross to task %d: %w", o.comp, t.Stream(), dest, err))
			for _, e := range t.anchors {
				o.trackFail(e.root)
			}
			continue
		}
		wt := &messages.Tuple{Stream: string(t.Stream()), SourceComponent: string(t.SourceComponent()), SourceTask: int32(t.SourceTask()), DestTask: int32(dest), Values: vals}
		if len(t.anchors) > 0 {
			wt.Anchors = make([]*messages.Edge, len(t.anchors))
			for i, e := range t.anchors {
				wt.Anchors[i] = &messages.Edge{Root: e.root, Id: e.id}
			}
		}
		w.Tuples = append(w.Tuples, wt)
	}
	return w
}

func (o *output) wireTracker(b *trackerBatch, tracker topology.TaskID) *messages.TrackerBatch {
	w := &messages.TrackerBatch{Topology: o.env.Topology.Name, Epoch: o.env.Epoch(), TrackerTask: int32(tracker)}
	for _, in := range b.inits {
		w.Inits = append(w.Inits, &messages.TrackerInit{Root: in.root, Xor: in.xor, SpoutTask: int32(in.spout)})
	}
	for _, a := range b.acks {
		w.Acks = append(w.Acks, &messages.TrackerAck{Root: a.root, Xor: a.xor})
	}
	for _, f := range b.fails {
		w.Fails = append(w.Fails, &messages.TrackerFail{Root: f})
	}
	w.Resets = b.resets
	return w
}

func (o *output) wireCompletions(b *completionBatch, spout topology.TaskID) *messages.CompletionBatch {
	w := &messages.CompletionBatch{Topology: o.env.Topology.Name, Epoch: o.env.Epoch(), SpoutTask: int32(spout), Completions: make([]*messages.Completion, len(b.done))}
	for i, c := range b.done {
		w.Completions[i] = &messages.Completion{Root: c.root, Failed: c.kind == treeFailed, RestartTimeout: c.kind == treeReset}
	}
	return w
}

// current reports whether a batch from another process is for this
// topology's current epoch.
func (e *Env) current(topo string, epoch uint64) bool {
	return topo == e.Topology.Name && epoch == e.Epoch()
}

// headers caches the tuple headers of received tuples per (source task, stream).
type headers map[headerKey]*topology.TupleHeader

type headerKey struct {
	task   topology.TaskID
	stream topology.StreamID
}

// fromWireTuples converts a received batch for task self. Tuples that name
// an unknown source, stream or another destination, or whose values do not
// match the stream's fields, are dropped and counted as errors: their trees
// time out and replay.
func (e *Env) fromWireTuples(w *messages.TupleBatch, self topology.TaskID, hs headers, stats *TaskStats) *tupleBatch {
	b := &tupleBatch{tuples: make([]*tuple, 0, len(w.Tuples))}
	for _, wt := range w.Tuples {
		key := headerKey{task: topology.TaskID(wt.SourceTask), stream: topology.StreamID(wt.Stream)}
		h := hs[key]
		if h == nil {
			c := e.Topology.ComponentOf(key.task)
			if c == nil || string(c.ID) != wt.SourceComponent || c.Streams[key.stream] == nil {
				stats.recordError(fmt.Errorf("dropped a tuple from unknown source %s:%d/%s", wt.SourceComponent, wt.SourceTask, wt.Stream))
				continue
			}
			h = &topology.TupleHeader{Component: c.ID, Task: key.task, Stream: key.stream, Fields: c.Streams[key.stream].Fields}
			hs[key] = h
		}
		if topology.TaskID(wt.DestTask) != self {
			stats.recordError(fmt.Errorf("dropped a tuple for task %d delivered to task %d", wt.DestTask, self))
			continue
		}
		vals, err := messages.ValuesToGo(wt.Values)
		if err != nil || len(vals) != len(h.Fields) {
			stats.recordError(fmt.Errorf("dropped a malformed tuple from %s:%d/%s: %d values for %d fields (%v)", h.Component, h.Task, h.Stream, len(vals), len(h.Fields), err))
			continue
		}
		t := &tuple{TupleData: topoaccess.MakeTupleData(h, vals), held: -1}
		for _, a := range wt.Anchors {
			if a != nil && a.Root != 0 {
				t.addAnchor(a.Root, a.Id)
			}
		}
		b.tuples = append(b.tuples, t)
	}
	return b
}

func fromWireTracker(w *messages.TrackerBatch) *trackerBatch {
	b := &trackerBatch{}
	for _, in := range w.Inits {
		if in != nil {
			b.inits = append(b.inits, trackerInit{root: in.Root, xor: in.Xor, spout: topology.TaskID(in.SpoutTask)})
		}
	}
	for _, a := range w.Acks {
		if a != nil {
			b.acks = append(b.acks, trackerAck{root: a.Root, xor: a.Xor})
		}
	}
	for _, f := range w.Fails {
		if f != nil {
			b.fails = append(b.fails, f.Root)
		}
	}
	b.resets = w.Resets
	return b
}

func fromWireCompletions(w *messages.CompletionBatch) *completionBatch {
	b := &completionBatch{done: make([]completion, 0, len(w.Completions))}
	for _, c := range w.Completions {
		if c == nil {
			continue
		}
		k := treeAcked
		switch {
		case c.Failed:
			k = treeFailed
		case c.RestartTimeout:
			k = treeReset
		}
		b.done = append(b.done, completion{root: c.Root, kind: k})
	}
	return b
}
