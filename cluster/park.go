package cluster

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/internal/wire"
)

// Nodes learn of a topology, or of a new placement, tens of milliseconds
// apart: the first batches a node sends to a task on a node that has not
// started it yet would find no actor there. Dropped, every tree they
// belong to waits for its message timeout (30 s by default) before it
// replays — at a topology's start that stalled its spouts for the whole
// timeout. A node therefore parks batches for a task of its own boot, of a
// topology not killed, that it does not run (yet) for up to parkFor
// (checked at every reconcile, so up to a second more), and delivers them
// in arrival order once the task starts; what is still parked after that,
// or does not fit, is dropped (and replays). While a task has batches parked, later ones for it are
// parked behind them, so a sender's batches reach it in the order sent.
// A parked batch's bytes come from the budget of the node that sent it
// (transport.Source: the same budget its frames were read with), so one
// peer cannot fill the parking for all.
const (
	parkFor      = 5 * time.Second
	parkMax      = 4096     // batches
	parkMaxBytes = 64 << 20 // their encoded size
)

type parking struct {
	mu      sync.Mutex
	targets map[wire.TaskAddr][]parkedBatch
	count   int
	bytes   int
	// parked mirrors count for the delivery path, which takes the lock
	// only when something is parked.
	parked atomic.Int64
	// Dropped counts batches dropped because their task did not start
	// within parkFor or the parking was full.
	Dropped atomic.Int64
}

type parkedBatch struct {
	at      time.Time
	size    int
	payload any
	from    budget // whose budget size was reserved from
}

// budget is where a parked batch's bytes are reserved: the
// transport.Source it came from (nil: none).
type budget interface {
	Reserve(n int) bool
	Release(n int)
}

// sendIfClear sends payload to target when nothing is parked for it and
// send succeeds (the task runs).
func (p *parking) sendIfClear(target wire.TaskAddr, payload any, send func(wire.TaskAddr, any) bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.targets[target]) == 0 && send(target, payload)
}

// hold sends payload to target when the task runs and has nothing parked
// (it may have started since the caller tried), and parks it otherwise,
// its size reserved from from (nil: no budget). It reports false when the
// parking is full or from's budget spent: the batch is dropped. Callers
// try send first themselves while Len is 0, without the lock.
func (p *parking) hold(target wire.TaskAddr, payload any, size int, now time.Time, from budget, send func(wire.TaskAddr, any) bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.targets[target]) == 0 && send(target, payload) {
		return true
	}
	if p.count >= parkMax || p.bytes+size > parkMaxBytes {
		p.Dropped.Add(1)
		return false
	}
	if from != nil && !from.Reserve(size) {
		p.Dropped.Add(1)
		return false
	}
	if p.targets == nil {
		p.targets = map[wire.TaskAddr][]parkedBatch{}
	}
	p.targets[target] = append(p.targets[target], parkedBatch{at: now, size: size, payload: payload, from: from})
	p.count++
	p.bytes += size
	p.parked.Store(int64(p.count))
	return true
}

// release delivers the batches of every target send now accepts, in
// arrival order, and drops those parked longer than parkFor. Nodes call it
// after they start tasks, and every reconcile tick.
func (p *parking) release(now time.Time, send func(wire.TaskAddr, any) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for target, batches := range p.targets {
		if send(target, batches[0].payload) {
			for _, b := range batches[1:] {
				if !send(target, b.payload) { // stopped meanwhile
					p.Dropped.Add(1)
				}
			}
			p.remove(target, len(batches))
			continue
		}
		expired := 0
		for expired < len(batches) && now.Sub(batches[expired].at) > parkFor {
			expired++
		}
		p.Dropped.Add(int64(expired))
		p.remove(target, expired)
	}
}

// remove forgets the first k batches of target, and returns their bytes
// to their senders' budgets.
func (p *parking) remove(target wire.TaskAddr, k int) {
	batches := p.targets[target]
	for _, b := range batches[:k] {
		p.count--
		p.bytes -= b.size
		if b.from != nil {
			b.from.Release(b.size)
		}
	}
	if k == len(batches) {
		delete(p.targets, target)
	} else {
		clear(batches[:k]) // let the payloads go
		p.targets[target] = batches[k:]
	}
	p.parked.Store(int64(p.count))
}

// Len is the number of parked batches (no lock: read on every delivery).
func (p *parking) Len() int { return int(p.parked.Load()) }
