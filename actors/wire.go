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

//
// Both directions allocate per batch rather than per tuple where they
// can: a batch's wire messages come from one slice of each kind (they
// live as long as the batch's encoding), and the pointers to them share
// a backing array.

func (o *output) wireTuples(b *tupleBatch, dest topology.TaskID) *messages.TupleBatch {
	n := len(b.tuples)
	w := &messages.TupleBatch{Topology: o.env.Topology.Name, Epoch: o.env.Epoch(), Tuples: make([]*messages.Tuple, 0, n)}
	tuples := make([]messages.Tuple, n)
	anchors, values := 0, 0
	for _, t := range b.tuples {
		anchors += len(t.anchors)
		values += len(t.Values())
	}
	edges := make([]messages.Edge, anchors)
	edgePtrs := make([]*messages.Edge, anchors)
	var vals wireValues
	vals.reserve(values)
	for i, t := range b.tuples {
		values, err := vals.fromGo(t.Values())
		if err != nil {
			o.stats.recordError(fmt.Errorf("component %q: tuple on stream %q cannot cross to task %d: %w", o.comp, t.Stream(), dest, err))
			for _, e := range t.anchors {
				o.trackFail(e.root)
			}
			continue
		}
		wt := &tuples[i]
		wt.Stream, wt.SourceComponent, wt.SourceTask, wt.DestTask, wt.Values = string(t.Stream()), string(t.SourceComponent()), int32(t.SourceTask()), int32(dest), values
		if k := len(t.anchors); k > 0 {
			wt.Anchors = edgePtrs[:k:k]
			for j, e := range t.anchors {
				edges[j] = messages.Edge{Root: e.root, Id: e.id}
				wt.Anchors[j] = &edges[j]
			}
			edges, edgePtrs = edges[k:], edgePtrs[k:]
		}
		w.Tuples = append(w.Tuples, wt)
	}
	return w
}

// wireValues converts tuples' values to their wire form, the strings
// (the common kind) from one slice per batch and the rest by
// messages.FromGo.
type wireValues struct {
	ptrs   []*messages.Value
	values []messages.Value
	strs   []messages.Value_Str
}

// reserve makes room for n values.
func (w *wireValues) reserve(n int) {
	w.ptrs, w.values, w.strs = make([]*messages.Value, n), make([]messages.Value, n), make([]messages.Value_Str, n)
}

// fromGo converts vs as messages.ValuesFromGo does.
func (w *wireValues) fromGo(vs []any) ([]*messages.Value, error) {
	if len(vs) == 0 {
		return []*messages.Value{}, nil
	}
	if len(w.ptrs) < len(vs) {
		w.reserve(max(len(vs), 64))
	}
	out := w.ptrs[:len(vs):len(vs)]
	for i, v := range vs {
		if s, ok := v.(string); ok {
			w.strs[i].Str = s
			w.values[i].Kind = &w.strs[i]
			out[i] = &w.values[i]
			continue
		}
		wv, err := messages.FromGo(v)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", i, err)
		}
		out[i] = wv
	}
	w.ptrs, w.values, w.strs = w.ptrs[len(vs):], w.values[len(vs):], w.strs[len(vs):]
	return out, nil
}

func (o *output) wireTracker(b *trackerBatch, tracker topology.TaskID) *messages.TrackerBatch {
	w := &messages.TrackerBatch{Topology: o.env.Topology.Name, Epoch: o.env.Epoch(), TrackerTask: int32(tracker)}
	if len(b.inits) > 0 {
		inits := make([]messages.TrackerInit, len(b.inits))
		w.Inits = make([]*messages.TrackerInit, len(b.inits))
		for i, in := range b.inits {
			inits[i] = messages.TrackerInit{Root: in.root, Xor: in.xor, SpoutTask: int32(in.spout)}
			w.Inits[i] = &inits[i]
		}
	}
	if len(b.acks) > 0 {
		acks := make([]messages.TrackerAck, len(b.acks))
		w.Acks = make([]*messages.TrackerAck, len(b.acks))
		for i, a := range b.acks {
			acks[i] = messages.TrackerAck{Root: a.root, Xor: a.xor}
			w.Acks[i] = &acks[i]
		}
	}
	for _, f := range b.fails {
		w.Fails = append(w.Fails, &messages.TrackerFail{Root: f})
	}
	w.Resets = b.resets
	return w
}

func (o *output) wireCompletions(b *completionBatch, spout topology.TaskID) *messages.CompletionBatch {
	w := &messages.CompletionBatch{Topology: o.env.Topology.Name, Epoch: o.env.Epoch(), SpoutTask: int32(spout), Completions: make([]*messages.Completion, len(b.done))}
	done := make([]messages.Completion, len(b.done))
	for i, c := range b.done {
		done[i] = messages.Completion{Root: c.root, Failed: c.kind == treeFailed, RestartTimeout: c.kind == treeReset}
		w.Completions[i] = &done[i]
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
	// The tuples and their values come from slices shared by slabTuples
	// tuples: a bolt that holds one tuple keeps at most that many tuples
	// and their values alive.
	var slab []any
	var ts []tuple
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
		if len(wt.Values) != len(h.Fields) {
			stats.recordError(fmt.Errorf("dropped a malformed tuple from %s:%d/%s: %d values for %d fields", h.Component, h.Task, h.Stream, len(wt.Values), len(h.Fields)))
			continue
		}
		if len(slab) < len(wt.Values) {
			slab = make([]any, len(wt.Values)*min(slabTuples, len(w.Tuples)-len(b.tuples)))
		}
		vals, err := messages.ValuesToGoInto(wt.Values, slab[:len(wt.Values):len(wt.Values)])
		if err != nil {
			stats.recordError(fmt.Errorf("dropped a malformed tuple from %s:%d/%s: %w", h.Component, h.Task, h.Stream, err))
			continue
		}
		slab = slab[len(vals):]
		if len(ts) == 0 {
			ts = make([]tuple, min(slabTuples, len(w.Tuples)-len(b.tuples)))
		}
		t := &ts[0]
		ts = ts[1:]
		t.TupleData, t.held = topoaccess.MakeTupleData(h, vals), -1
		for _, a := range wt.Anchors {
			if a != nil && a.Root != 0 {
				t.addAnchor(a.Root, a.Id)
			}
		}
		b.tuples = append(b.tuples, t)
	}
	return b
}

// slabTuples is how many received tuples' values share one allocation.
const slabTuples = 16

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
