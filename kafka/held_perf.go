package kafka

import "slices"

// heldRecords is what a spout task keeps of one partition's records, by
// offset, from their emit until they are done (held). Not safe for
// concurrent use: the spout task owns it.
//
// It replaces a map keyed by MessageID, whose hashing (the topic string)
// and growth showed in the spout's CPU profile: records are emitted in
// offset order and mostly finish in about that order, so the items are a
// slice in ascending offset order, a finished item is zeroed in place (it
// keeps its offset, so the order holds) and the finished items at the front
// are cut off (head moves past them). Its length is bounded by the partition's uncommitted offsets
// (PartitionOffsets.Uncommitted, at most about MaxUncommitted): the first
// held item is not done, so nothing after it is committed.
//
// The methods of a nil *heldRecords hold nothing and do nothing: the spout
// gets nil for a message id of another generation or a partition it no
// longer owns.
type heldRecords struct {
	items []heldItem // items[head:] in ascending offset order; items[:head] are all finished
	head  int
	live  int // items with a record
}

type heldItem struct {
	off int64
	h   held // h.msg == nil: finished
}

// find returns the index in items of offset, searching items[head:], or
// where it would be inserted and false; the same search as findSlot.
func (r *heldRecords) find(offset int64) (int, bool) {
	s := r.items[r.head:]
	n := len(s)
	if n == 0 || offset < s[0].off {
		return r.head, false
	}
	if offset > s[n-1].off {
		return r.head + n, false
	}
	d := offset - s[0].off
	if d < int64(n) && s[d].off == offset {
		return r.head + int(d), true
	}
	hi := n
	if d < int64(n) {
		hi = int(d) + 1
	}
	i, found := slices.BinarySearchFunc(s[:hi], offset, func(it heldItem, off int64) int {
		switch {
		case it.off < off:
			return -1
		case it.off > off:
			return 1
		}
		return 0
	})
	return r.head + i, found
}

// get returns the record held for offset.
func (r *heldRecords) get(offset int64) (held, bool) {
	if r == nil {
		return held{}, false
	}
	if i, ok := r.find(offset); ok && r.items[i].h.msg != nil {
		return r.items[i].h, true
	}
	return held{}, false
}

// put holds h (whose msg must not be nil) for offset, replacing what was
// held for it.
func (r *heldRecords) put(offset int64, h held) {
	if r == nil {
		return
	}
	if r.live == 0 {
		r.items, r.head = r.items[:0], 0 // finished items hold nothing
	}
	n := len(r.items)
	if n == r.head || r.items[n-1].off < offset {
		if n == cap(r.items) && r.head > 0 && r.head >= n/2 {
			// Reuse the finished front rather than grow.
			m := copy(r.items, r.items[r.head:])
			clear(r.items[m:])
			r.items, r.head = r.items[:m], 0
		}
		r.items = append(r.items, heldItem{off: offset, h: h})
		r.live++
		return
	}
	i, found := r.find(offset)
	if found {
		if r.items[i].h.msg == nil {
			r.live++
		}
		r.items[i].h = h
		return
	}
	// Below the highest offset held: a record emitted after a seek back.
	r.live++
	if i == r.head && r.head > 0 {
		// Below every item from head on: take the finished one before.
		r.head--
		r.items[r.head] = heldItem{off: offset, h: h}
		return
	}
	r.items = slices.Insert(r.items, i, heldItem{off: offset, h: h})
}

// remove forgets what is held for offset.
func (r *heldRecords) remove(offset int64) {
	if r == nil {
		return
	}
	i, ok := r.find(offset)
	if !ok || r.items[i].h.msg == nil {
		return
	}
	r.items[i].h = held{}
	r.live--
	for r.head < len(r.items) && r.items[r.head].h.msg == nil {
		r.head++
	}
	if r.live == 0 {
		r.items, r.head = r.items[:0], 0
	}
}

// len returns how many records are held.
func (r *heldRecords) len() int {
	if r == nil {
		return 0
	}
	return r.live
}
