package actors

import "github.com/squall-streams/squall/topology"

// Ledger is the tracker's pure core, Storm's acker: for every tuple tree it
// keeps the XOR of the edge ids seen so far. The spout's init XORs in every
// edge it emitted; every ack XORs in the acked edge and every edge created
// from it; so the value returns to zero exactly when every tuple of the tree
// has been acked (a false zero needs a 64-bit collision).
//
// Updates may arrive in any order — acks before the init, a fail before the
// init — and entries older than the retention (counted from their first
// update or their last Reset) are dropped silently: the spout times the tree out itself.
//
// The ledger holds at most limit trees: updates arrive from other processes,
// and a flood of forged ones must not grow it without bound. When it is
// full, an update for a tree it does not know is Refused (after expiring
// what is due); updates of known trees still apply. A refused tree times
// out at its spout and replays. Not safe for concurrent use; one tracker
// task owns it.
type Ledger struct {
	entries   *expiring[ledgerEntry]
	retention int64 // ns; 0 keeps entries until they complete
	limit     int   // trees; 0: no limit
}

type ledgerEntry struct {
	val    uint64
	spout  topology.TaskID
	inited bool
	failed bool
}

// Outcome is what an update decided for a tree.
type Outcome uint8

// Outcomes.
const (
	Pending   Outcome = iota // the tree is not done
	Completed                // every tuple acked: tell the spout Ack
	Failed                   // a tuple failed: tell the spout Fail
	Refused                  // the ledger is full: the update of an unknown tree was not recorded
)

// NewLedger returns a ledger that forgets trees idle for longer than
// retention nanoseconds (0: never) and holds at most limit trees (0: no
// limit).
func NewLedger(retention int64, limit int) *Ledger {
	return &Ledger{entries: newExpiring[ledgerEntry](), retention: retention, limit: limit}
}

// Len is the number of trees the ledger knows.
func (l *Ledger) Len() int { return l.entries.len() }

// Init records the spout's start of tree root with the XOR of its edges.
func (l *Ledger) Init(root, xor uint64, spout topology.TaskID, now int64) (Outcome, topology.TaskID) {
	e, known := l.entries.get(root)
	e.val ^= xor
	e.spout = spout
	e.inited = true
	return l.decide(root, e, known, now)
}

// Ack XORs xor into tree root.
func (l *Ledger) Ack(root, xor uint64, now int64) (Outcome, topology.TaskID) {
	e, known := l.entries.get(root)
	e.val ^= xor
	return l.decide(root, e, known, now)
}

// Fail marks tree root failed.
func (l *Ledger) Fail(root uint64, now int64) (Outcome, topology.TaskID) {
	e, known := l.entries.get(root)
	e.failed = true
	return l.decide(root, e, known, now)
}

func (l *Ledger) decide(root uint64, e ledgerEntry, known bool, now int64) (Outcome, topology.TaskID) {
	if e.inited {
		if e.failed {
			l.entries.take(root)
			return Failed, e.spout
		}
		if e.val == 0 {
			l.entries.take(root)
			return Completed, e.spout
		}
	}
	if !known && l.full(now) {
		return Refused, 0
	}
	if known {
		// Retention runs from the tree's first update (a tree's life is
		// bounded by the spout's timeout; ResetTimeout restarts it).
		l.entries.update(root, e)
	} else {
		l.entries.put(root, e, now)
	}
	return Pending, 0
}

// full reports whether a new tree would exceed the limit, once the trees
// due to expire at now are gone.
func (l *Ledger) full(now int64) bool {
	if l.limit <= 0 || l.entries.len() < l.limit {
		return false
	}
	l.Expire(now)
	return l.entries.len() >= l.limit
}

// Expire drops trees first seen (or reset) before now-retention and returns
// how many.
func (l *Ledger) Expire(now int64) int {
	if l.retention == 0 {
		return 0
	}
	n := 0
	l.entries.expire(now-l.retention, func(uint64, ledgerEntry) { n++ })
	return n
}

// Reset restarts the retention of tree root and returns its spout task, if
// the tree's init has been seen.
func (l *Ledger) Reset(root uint64, now int64) (topology.TaskID, bool) {
	e, ok := l.entries.get(root)
	if !ok {
		return 0, false
	}
	l.entries.put(root, e, now)
	return e.spout, e.inited
}
