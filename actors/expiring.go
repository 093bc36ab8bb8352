package actors

// expiring is a map from a 64-bit id to V whose entries expire a fixed time
// after they were added. All entries share one timeout and are added in time
// order, so a FIFO of (id, added) finds the expired ones without scanning the
// map; entries removed early stay in the FIFO until they reach its head or a
// compaction drops them. It is the spout's pending map and the tracker's
// ledger. Not safe for concurrent use.
type expiring[V any] struct {
	m     map[uint64]expEntry[V]
	queue []expKey // FIFO; head at queue[head]
	head  int
	seq   uint64 // numbers puts, so a re-put id's older queue entries are stale
}

type expEntry[V any] struct {
	v     V
	added int64
	seq   uint64
}

type expKey struct {
	id    uint64
	added int64
	seq   uint64
}

func newExpiring[V any]() *expiring[V] {
	return &expiring[V]{m: make(map[uint64]expEntry[V])}
}

func (e *expiring[V]) len() int { return len(e.m) }

// put adds or replaces id, restarting its time at now.
func (e *expiring[V]) put(id uint64, v V, now int64) {
	e.seq++
	e.m[id] = expEntry[V]{v: v, added: now, seq: e.seq}
	e.queue = append(e.queue, expKey{id: id, added: now, seq: e.seq})
	e.maybeCompact()
}

// get returns the value of id.
func (e *expiring[V]) get(id uint64) (V, bool) {
	x, ok := e.m[id]
	return x.v, ok
}

// update replaces the value of id, keeping its time.
func (e *expiring[V]) update(id uint64, v V) {
	if x, ok := e.m[id]; ok {
		x.v = v
		e.m[id] = x
	}
}

// take removes id and returns its value and when it was added.
func (e *expiring[V]) take(id uint64) (V, int64, bool) {
	x, ok := e.m[id]
	if ok {
		delete(e.m, id)
	}
	return x.v, x.added, ok
}

// expire removes every entry added at or before deadline and calls fn with it.
func (e *expiring[V]) expire(deadline int64, fn func(id uint64, v V)) {
	for e.head < len(e.queue) {
		k := e.queue[e.head]
		if k.added > deadline {
			break
		}
		e.head++
		if x, ok := e.m[k.id]; ok && x.seq == k.seq {
			delete(e.m, k.id)
			fn(k.id, x.v)
		}
	}
	e.maybeCompact()
}

// maybeCompact drops the consumed head and the stale entries of the FIFO once
// they outnumber the live ones, so its size stays proportional to the map's
// and the work is amortised O(1) per put.
func (e *expiring[V]) maybeCompact() {
	if e.head >= 1024 && e.head >= len(e.queue)/2 {
		// Reclaim the consumed front, or a sliding window of puts and
		// expiries would keep every key it ever saw.
		n := copy(e.queue, e.queue[e.head:])
		clear(e.queue[n:])
		e.queue, e.head = e.queue[:n], 0
	}
	live := len(e.queue) - e.head
	if live < 1024 || live < 2*len(e.m)+1024 {
		if e.head > 0 && e.head == len(e.queue) {
			e.queue, e.head = e.queue[:0], 0
		}
		return
	}
	kept := e.queue[:0]
	for _, k := range e.queue[e.head:] {
		if x, ok := e.m[k.id]; ok && x.seq == k.seq {
			kept = append(kept, k)
		}
	}
	clear(e.queue[len(kept):])
	e.queue, e.head = kept, 0
}
