package kafka

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/topology"
)

// emitted is one tuple a fakeCollector saw.
type emitted struct {
	stream topology.StreamID
	values topology.Values
	id     any
}

type fakeCollector struct{ emits []emitted }

func (c *fakeCollector) Emit(v topology.Values, id any) { c.EmitStream(topology.DefaultStream, v, id) }
func (c *fakeCollector) EmitStream(s topology.StreamID, v topology.Values, id any) {
	c.emits = append(c.emits, emitted{s, v, id})
}
func (c *fakeCollector) EmitDirect(_ topology.TaskID, s topology.StreamID, v topology.Values, id any) {
	c.EmitStream(s, v, id)
}
func (c *fakeCollector) ReportError(error) {}

// taskSpout is a Spout as Open leaves it, without its goroutines: the
// channel from the claim goroutines is there, nothing reads the broker.
// It owns partitions 0 and 1 of "t" from offset 0 under generation 1.
func taskSpout(t *testing.T) (*Spout, *fakeCollector) {
	t.Helper()
	return taskSpoutOf(t, 2)
}

// taskSpoutOf is taskSpout owning partitions 0 to n-1.
func taskSpoutOf(t *testing.T, n int32) (*Spout, *fakeCollector) {
	t.Helper()
	cfg := DefaultSpoutConfig()
	cfg.Streams = map[topology.StreamID][]string{topology.DefaultStream: DefaultFields}
	offsets, err := NewOffsets(cfg.Offsets)
	if err != nil {
		t.Fatal(err)
	}
	out := new(fakeCollector)
	s := &Spout{cfg: cfg, metrics: new(SpoutMetrics), tc: &topology.Context{}, out: out, offsets: offsets, log: slog.New(slog.DiscardHandler),
		parked: map[TopicPartition][]*sarama.ConsumerMessage{}, paused: map[TopicPartition]bool{}}
	s.shell = &groupShell{spout: s}
	s.shell.batch, _ = deliveryBatch(cfg.BufferSize)
	s.shell.recs = make(chan delivery, 4)
	var parts []TopicPartition
	positions := map[TopicPartition]int64{}
	for p := range n {
		parts = append(parts, TopicPartition{"t", p})
		positions[parts[p]] = 0
	}
	if err := s.assign(assignment{gen: 1, partitions: parts}, positions, nil); err != nil {
		t.Fatal(err)
	}
	s.Activate()
	return s, out
}

func records(partition int32, offsets ...int64) []*sarama.ConsumerMessage {
	out := make([]*sarama.ConsumerMessage, len(offsets))
	for i, off := range offsets {
		out[i] = &sarama.ConsumerMessage{Topic: "t", Partition: partition, Offset: off, Value: fmt.Appendf(nil, "%d/%d", partition, off)}
	}
	return out
}

func TestDeliveryBatch(t *testing.T) {
	tests := []struct {
		buffer, batch, deliveries int
	}{
		{1, 1, 1},
		{2, 2, 1},
		{63, 63, 1},
		{64, 64, 1},
		{65, 64, 1},
		{128, 64, 2},
		{1024, 64, 16},
		{1000, 64, 15},
	}
	for _, tt := range tests {
		batch, deliveries := deliveryBatch(tt.buffer)
		if batch != tt.batch || deliveries != tt.deliveries {
			t.Errorf("deliveryBatch(%d) = %d, %d; want %d, %d", tt.buffer, batch, deliveries, tt.batch, tt.deliveries)
		}
		if batch*deliveries > tt.buffer {
			t.Errorf("deliveryBatch(%d): %d × %d records may wait", tt.buffer, deliveries, batch)
		}
	}
}

// Batched deliveries come out one record a NextTuple call, in order, with
// the default translator's fields; a delivery of another generation is
// dropped record by record.
func TestSpoutTakesBatchedDeliveries(t *testing.T) {
	s, out := taskSpout(t)
	s.shell.recs <- delivery{msgs: records(0, 0, 1, 2), gen: 1}
	s.shell.recs <- delivery{msgs: records(1, 5, 6), gen: 0} // stale
	s.shell.recs <- delivery{msgs: records(1, 0, 1), gen: 1}
	for range 10 {
		s.NextTuple()
	}
	want := []MessageID{{"t", 0, 0, 1}, {"t", 0, 1, 1}, {"t", 0, 2, 1}, {"t", 1, 0, 1}, {"t", 1, 1, 1}}
	if len(out.emits) != len(want) {
		t.Fatalf("%d tuples emitted, want %d: %v", len(out.emits), len(want), out.emits)
	}
	for i, e := range out.emits {
		id := want[i]
		if e.id != id || e.stream != topology.DefaultStream {
			t.Errorf("tuple %d: id %v on %q, want %v on default", i, e.id, e.stream, id)
		}
		wantV := topology.Values{"t", id.Partition, id.Offset, []byte(nil), fmt.Appendf(nil, "%d/%d", id.Partition, id.Offset)}
		if fmt.Sprintf("%#v", e.values) != fmt.Sprintf("%#v", wantV) {
			t.Errorf("tuple %d: values %#v, want %#v", i, e.values, wantV)
		}
		if cap(e.values) != len(DefaultFields) {
			t.Errorf("tuple %d: values have capacity %d: an append would write into the next tuple's", i, cap(e.values))
		}
	}
	if got := s.metrics.Dropped.Load(); got != 2 {
		t.Errorf("Dropped = %d, want 2 (the stale delivery's records)", got)
	}
	for _, e := range out.emits {
		s.Ack(e.id)
	}
	c, ok := s.offsets.NextCommit()
	if !ok || c.Positions[TopicPartition{"t", 0}] != 3 || c.Positions[TopicPartition{"t", 1}] != 2 {
		t.Errorf("NextCommit() = %v, %v; want t/0 at 3, t/1 at 2", c, ok)
	}
	for _, h := range s.held {
		if h.r.len() != 0 {
			t.Errorf("%v: %d records still held after every ack", h.tp, h.r.len())
		}
	}
}

// A failed record is held and emitted again with its values; an ack of an
// older generation touches nothing the new one holds.
func TestSpoutHeldRecordsAcrossRetriesAndGenerations(t *testing.T) {
	s, out := taskSpout(t)
	s.shell.recs <- delivery{msgs: records(0, 0, 1), gen: 1}
	s.NextTuple()
	s.NextTuple()
	s.Fail(out.emits[0].id)
	s.NextTuple() // the retry is due at once (Storm's first retry)
	if len(out.emits) != 3 || out.emits[2].id != out.emits[0].id {
		t.Fatalf("emits %v: want the failed record again", out.emits)
	}
	if fmt.Sprint(out.emits[2].values) != fmt.Sprint(out.emits[0].values) {
		t.Errorf("retry values %v, want %v", out.emits[2].values, out.emits[0].values)
	}
	// A new generation reads offset 1 again; the old id's ack is dropped.
	old := out.emits[1].id.(MessageID)
	parts := []TopicPartition{{"t", 0}}
	if err := s.assign(assignment{gen: 2, partitions: parts}, map[TopicPartition]int64{parts[0]: 1}, nil); err != nil {
		t.Fatal(err)
	}
	s.shell.recs <- delivery{msgs: records(0, 1), gen: 2}
	s.NextTuple()
	s.Ack(old)
	if n := s.heldOf(parts[0]).len(); n != 1 {
		t.Fatalf("after an old generation's ack %d records held, want 1", n)
	}
	s.Ack(out.emits[len(out.emits)-1].id)
	if n := s.heldOf(parts[0]).len(); n != 0 {
		t.Fatalf("after the ack %d records held, want 0", n)
	}
}

func TestSpoutWake(t *testing.T) {
	tests := []struct {
		name       string
		inactive   bool
		idleAgain  bool // NextTuple ran after the delivery and found nothing
		maxPending int
		pending    int
		emits      int
	}{
		{name: "a delivery wakes the task", emits: 1},
		{name: "not while deactivated", inactive: true},
		{name: "not when NextTuple took the delivery", idleAgain: true},
		{name: "not at max.spout.pending", maxPending: 2, pending: 2},
		{name: "below max.spout.pending", maxPending: 2, pending: 1, emits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out := taskSpout(t)
			s.NextTuple() // finds nothing: idle
			if len(out.emits) != 0 || !s.shell.idle.Load() {
				t.Fatalf("an empty NextTuple emitted %d, idle %v", len(out.emits), s.shell.idle.Load())
			}
			if tt.inactive {
				s.Deactivate()
			}
			s.maxPending, s.pending = tt.maxPending, tt.pending
			// What a claim goroutine does: deliver, then clear idle.
			s.shell.recs <- delivery{msgs: records(0, 0), gen: 1}
			if !s.shell.idle.CompareAndSwap(true, false) {
				t.Fatal("idle was not set")
			}
			if tt.idleAgain {
				s.shell.idle.Store(true)
			}
			s.wake()
			if len(out.emits) != tt.emits {
				t.Errorf("wake emitted %d tuples, want %d", len(out.emits), tt.emits)
			}
		})
	}
}

// With more partitions than a scan serves (ownedScan), the trackers and the
// held records are found through maps, and the same records come out.
func TestSpoutWithManyPartitions(t *testing.T) {
	for _, n := range []int32{1, ownedScan, ownedScan + 1, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s, out := taskSpoutOf(t, n)
			for p := range n {
				s.shell.recs = make(chan delivery, 1)
				s.shell.recs <- delivery{msgs: records(p, 0, 1), gen: 1}
				s.NextTuple()
				s.NextTuple()
			}
			if len(out.emits) != int(2*n) {
				t.Fatalf("%d tuples emitted, want %d", len(out.emits), 2*n)
			}
			// Ack in reverse: each finds its partition's held records.
			for i := len(out.emits) - 1; i >= 0; i-- {
				s.Ack(out.emits[i].id)
			}
			c, ok := s.offsets.NextCommit()
			if !ok || len(c.Positions) != int(n) {
				t.Fatalf("NextCommit() = %v, %v; want every partition", c, ok)
			}
			for tp, pos := range c.Positions {
				if pos != 2 {
					t.Errorf("%v commits %d, want 2", tp, pos)
				}
				if held := s.heldOf(tp).len(); held != 0 {
					t.Errorf("%v: %d records held after the acks", tp, held)
				}
			}
			if got := s.metrics.Acked.Load(); got != int64(2*n) {
				t.Errorf("Acked = %d, want %d", got, 2*n)
			}
		})
	}
}
