// Package replay is a replayable input for tests, like the records of a
// Kafka topic: ids 0..n-1 that spout instances emit until each is acked.
// A spout emits the ids it saw fail again first; a new instance (a
// restart, or a task moved to another node) starts from the first id not
// yet acked, so the ids in flight at a dead spout are not lost.
package replay

import (
	"context"
	"sync"

	"github.com/squall-streams/squall/topology"
)

// Source is the input: shared by every spout instance in the process.
type Source struct {
	n     int
	mu    sync.Mutex
	limit int // ids from limit on are held back
	acked map[int]bool
	opens int
}

// NewSource is an input of the ids 0..n-1, all of them released.
func NewSource(n int) *Source { return &Source{n: n, limit: n, acked: map[int]bool{}} }

// Release lets spouts emit the ids below m only (failed ids replay
// regardless), like a topic that has m records so far.
func (s *Source) Release(m int) {
	s.mu.Lock()
	s.limit = min(m, s.n)
	s.mu.Unlock()
}

// Acked is the number of distinct ids acked.
func (s *Source) Acked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

// Opens is how many spout instances opened so far.
func (s *Source) Opens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// Spout returns a new spout instance over s that emits values(id) with
// the id as message id.
func (s *Source) Spout(values func(id int) topology.Values) *Spout {
	return &Spout{src: s, values: values}
}

// Spout emits a Source's ids; see the package comment.
type Spout struct {
	topology.BaseSpout
	src    *Source
	values func(id int) topology.Values
	out    topology.SpoutCollector
	next   int
	replay []int
}

// Open implements topology.Spout.
func (sp *Spout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	sp.out = c
	sp.src.mu.Lock()
	sp.src.opens++
	sp.src.mu.Unlock()
	return nil
}

// NextTuple implements topology.Spout.
func (sp *Spout) NextTuple() {
	var id int
	if len(sp.replay) > 0 {
		id, sp.replay = sp.replay[0], sp.replay[1:]
	} else {
		sp.src.mu.Lock()
		for sp.next < sp.src.limit && sp.src.acked[sp.next] {
			sp.next++
		}
		held := sp.next >= sp.src.limit
		sp.src.mu.Unlock()
		if held {
			return
		}
		id = sp.next
		sp.next++
	}
	sp.out.Emit(sp.values(id), id)
}

// Ack implements topology.Spout.
func (sp *Spout) Ack(m any) {
	sp.src.mu.Lock()
	sp.src.acked[m.(int)] = true
	sp.src.mu.Unlock()
}

// Fail implements topology.Spout: the id is emitted again next.
func (sp *Spout) Fail(m any) { sp.replay = append(sp.replay, m.(int)) }
