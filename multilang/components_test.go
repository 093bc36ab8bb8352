package multilang

import (
	"context"
	"slices"
	"sync"

	"github.com/squall-streams/squall/topology"
)

// ledger is the shared account of a ledgerSpout's tasks.
type ledger struct {
	mu      sync.Mutex
	values  []string
	acked   map[int]int
	fails   int
	emitted int
}

func newLedger(values ...string) *ledger {
	return &ledger{values: values, acked: map[int]int{}}
}

func (l *ledger) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *ledger) snapshot() (acked, fails, emitted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked), l.fails, l.emitted
}

// ledgerSpout emits the ledger's values once each (message id: the index),
// replays what fails, and records every ack and fail.
type ledgerSpout struct {
	topology.BaseSpout
	l      *ledger
	out    topology.SpoutCollector
	next   int
	replay []int
}

func (s *ledgerSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *ledgerSpout) NextTuple() {
	i := -1
	switch {
	case len(s.replay) > 0:
		i, s.replay = s.replay[0], s.replay[1:]
	case s.next < len(s.l.values):
		i = s.next
		s.next++
	default:
		return
	}
	s.l.mu.Lock()
	s.l.emitted++
	v := s.l.values[i]
	s.l.mu.Unlock()
	s.out.Emit(topology.Values{v}, i)
}

func (s *ledgerSpout) Ack(id any) {
	s.l.mu.Lock()
	s.l.acked[id.(int)]++
	s.l.mu.Unlock()
}

func (s *ledgerSpout) Fail(id any) {
	s.l.mu.Lock()
	s.l.fails++
	s.l.mu.Unlock()
	s.replay = append(s.replay, id.(int))
}

// received is what sink bolts saw.
type received struct {
	mu     sync.Mutex
	tuples []recv
}

type recv struct {
	task   topology.TaskID
	source topology.ComponentID
	stream topology.StreamID
	values topology.Values
}

func (r *received) all() []recv {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tuples)
}

func (r *received) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tuples)
}

// sinkBolt records and acks every tuple.
type sinkBolt struct {
	r    *received
	out  topology.OutputCollector
	task topology.TaskID
}

func (b *sinkBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.out, b.task = c, tc.Task
	return nil
}

func (b *sinkBolt) Execute(t topology.Tuple) {
	if topology.IsTick(t) {
		b.out.Ack(t)
		return
	}
	b.r.mu.Lock()
	b.r.tuples = append(b.r.tuples, recv{task: b.task, source: t.SourceComponent(), stream: t.Stream(), values: slices.Clone(t.Values())})
	b.r.mu.Unlock()
	b.out.Ack(t)
}

func (b *sinkBolt) Cleanup() error { return nil }

func sink(r *received) func() topology.Bolt { return func() topology.Bolt { return &sinkBolt{r: r} } }
