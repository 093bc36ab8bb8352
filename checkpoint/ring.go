package checkpoint

import (
	"errors"
	"fmt"
)

// ErrNoFreeSlot: a participant's transactions are all pending (checkpoints
// were aborted and not yet subsumed by a completed one), so it cannot
// pre-commit another: it declines the checkpoint and keeps writing into
// its open transaction, which the next checkpoint then covers.
var ErrNoFreeSlot = errors.New("checkpoint: every transaction slot is pending")

// RingSize is the number of transaction slots a participant needs when
// tolerable checkpoints in a row may fail with one checkpoint in flight:
// one open, one per tolerated failure still pending, one for the checkpoint
// in flight.
func RingSize(tolerable int) int { return max(tolerable, 0) + 2 }

// Prepared is a pre-committed transaction: the slot it is on and the
// checkpoint whose barrier closed it. The shell keeps (transactional id,
// producer id, epoch) per slot and sends them in the checkpoint's ack.
type Prepared struct {
	Slot int
	ID   ID
}

// Ring is the bookkeeping of one two-phase participant's ring of
// transactional ids (a Kafka bolt, a changelog writer): which slot takes
// the writes now, which hold pre-committed transactions waiting for their
// checkpoint to complete. Slot s is transactional id
// squall.<topology>.<component>.<task>.<s>, stable across restores, so a
// new owner can fence every slot. It never reuses a slot whose transaction
// is pending, and commits pending transactions oldest first. Not safe for
// concurrent use: the participant's task owns it.
type Ring struct {
	pending []ID // by slot; 0 = free
	open    int  // the slot taking writes
	wrote   bool // the open transaction has data
}

// NewRing makes a ring of size slots (RingSize), writing into slot 0.
func NewRing(size int) (*Ring, error) {
	if size < 2 {
		return nil, fmt.Errorf("checkpoint: a transaction ring needs at least 2 slots, got %d", size)
	}
	return &Ring{pending: make([]ID, size)}, nil
}

// Open is the slot whose transaction takes the writes now.
func (r *Ring) Open() int { return r.open }

// Wrote records that the open transaction has data.
func (r *Ring) Wrote() { r.wrote = true }

// PreCommit closes the open transaction at barrier id, once every write in
// it is acknowledged. If it has no data it stays open and there is nothing
// to commit (ok false). Otherwise it becomes pending and the writes move to
// the next free slot; ErrNoFreeSlot (nothing changed) if there is none.
func (r *Ring) PreCommit(id ID) (p Prepared, ok bool, err error) {
	if !r.wrote {
		return Prepared{}, false, nil
	}
	next := -1
	for i := 1; i < len(r.pending); i++ {
		if s := (r.open + i) % len(r.pending); r.pending[s] == 0 {
			next = s
			break
		}
	}
	if next < 0 {
		return Prepared{}, false, fmt.Errorf("%w: checkpoint %d, %d slots pending %v", ErrNoFreeSlot, id, len(r.pending)-1, r.pending)
	}
	p = Prepared{Slot: r.open, ID: id}
	r.pending[r.open] = id
	r.open, r.wrote = next, false
	return p, true, nil
}

// Complete returns the pending transactions that checkpoint id covers
// (those pre-committed at id or before: a completed checkpoint subsumes
// the aborted ones before it), oldest first, and frees their slots. The
// shell commits them in that order.
func (r *Ring) Complete(id ID) []Prepared {
	var out []Prepared
	for s, p := range r.pending {
		if p != 0 && p <= id {
			out = append(out, Prepared{Slot: s, ID: p})
		}
	}
	for i := 1; i < len(out); i++ { // insertion sort: at most a few slots
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	for _, p := range out {
		r.pending[p.Slot] = 0
	}
	return out
}

// Pending returns the pending transactions, by slot.
func (r *Ring) Pending() []Prepared {
	var out []Prepared
	for s, p := range r.pending {
		if p != 0 {
			out = append(out, Prepared{Slot: s, ID: p})
		}
	}
	return out
}

// Reset is the state after a restore: the coordinator recommitted the
// restored checkpoint's transactions, the participant fenced every slot
// (a new producer per slot aborts whatever was open), and writes start on
// slot 0 again.
func (r *Ring) Reset() {
	clear(r.pending)
	r.open, r.wrote = 0, false
}
