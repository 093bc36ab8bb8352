package multilang

import (
	"sync"

	"github.com/cespare/xxhash/v2"

	wire "github.com/squall-streams/squall/internal/multilang"
	"github.com/squall-streams/squall/topology"
)

// poisonTracker remembers the tuples that were being processed when a
// subprocess died, by a hash of their source component, stream and values
// (a replay is a new tuple with the same content), and how many deaths each
// caused. It is bounded; it is only consulted while it is not empty, so a
// healthy bolt pays nothing for it. A tuple that is acked is forgotten.
type poisonTracker struct {
	after   int
	entries map[uint64]*poisonEntry
	seq     uint64
	buf     []byte
}

type poisonEntry struct {
	count  int
	reason string
	seq    uint64 // last update, for eviction
}

const maxPoisonEntries = 1024

func newPoisonTracker(after int) *poisonTracker {
	return &poisonTracker{after: after, entries: map[uint64]*poisonEntry{}}
}

func (p *poisonTracker) enabled() bool { return p != nil && p.after > 0 }

func (p *poisonTracker) active() bool { return p.enabled() && len(p.entries) > 0 }

// key hashes what identifies a tuple across replays. The key is never 0.
func (p *poisonTracker) key(t topology.Tuple) uint64 {
	m := wire.Tuple{ID: wire.StringID(""), Comp: string(t.SourceComponent()), Stream: string(t.Stream()), Values: t.Values()}
	b, err := wire.AppendFrame(p.buf[:0], wire.JSON, m)
	if err != nil {
		b = append(p.buf[:0], topology.Describe(t)...)
	}
	p.buf = b[:0]
	return xxhash.Sum64(b) | 1
}

func (p *poisonTracker) lookup(k uint64) *poisonEntry { return p.entries[k] }

// record counts a death caused by t and returns its entry.
func (p *poisonTracker) record(t topology.Tuple, reason string) *poisonEntry {
	k := p.key(t)
	e := p.entries[k]
	if e == nil {
		if len(p.entries) >= maxPoisonEntries {
			p.evict()
		}
		e = &poisonEntry{}
		p.entries[k] = e
	}
	p.seq++
	e.count++
	e.reason = reason
	e.seq = p.seq
	return e
}

func (p *poisonTracker) forget(k uint64) { delete(p.entries, k) }

func (p *poisonTracker) evict() {
	var oldest uint64
	var seq uint64
	for k, e := range p.entries {
		if seq == 0 || e.seq < seq {
			oldest, seq = k, e.seq
		}
	}
	delete(p.entries, oldest)
}

// poisonMemory keeps each task's poisonTracker from one instance of a
// shell bolt to the next, for the instances one BoltFactory makes. In
// exactly-once a death of the subprocess fails the tuples it held, which
// restores the whole topology: a fresh instance of the bolt (and a new
// subprocess) replaces this one, and the replay brings the tuple that
// killed the old subprocess back. Without the memory of its deaths it
// would kill every new subprocess for ever; with it, it goes to the
// dead-letter stream after DefaultDeadLetterAfter deaths as it does in
// at-least-once. The same holds for a task the supervisor restarts.
type poisonMemory struct {
	mu    sync.Mutex
	tasks map[topology.TaskID]*poisonTracker
}

// take hands task's tracker to a new instance (a fresh one the first time,
// or for a nil memory: a bolt made by NewShellBolt alone).
func (m *poisonMemory) take(task topology.TaskID, after int) *poisonTracker {
	if m == nil {
		return newPoisonTracker(after)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.tasks[task]
	delete(m.tasks, task)
	if p == nil || p.after != after {
		p = newPoisonTracker(after)
	}
	return p
}

// give keeps task's tracker for its next instance.
func (m *poisonMemory) give(task topology.TaskID, p *poisonTracker) {
	if m == nil || p == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tasks == nil {
		m.tasks = map[topology.TaskID]*poisonTracker{}
	}
	m.tasks[task] = p
}
