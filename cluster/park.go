package cluster

import (
	"sync"
	"sync/atomic"
	"time"
)

// Nodes learn of a topology, or of a new placement, tens of milliseconds
// apart: the first batches a node sends to a task on a node that has not
// started it yet would find no actor there. Dropped, every tree they
// belong to waits for its message timeout (30 s by default) before it
// replays — at a topology's start that stalled its spouts for the whole
// timeout. A node therefore parks batches for a task it does not run for
// up to parkFor, and delivers them, in arrival order, once the task
// starts; what is still parked after that, or does not fit, is dropped
// (and replays).
const (
	parkFor      = 2 * time.Second
	parkMax      = 4096     // batches
	parkMaxBytes = 64 << 20 // their encoded size
)

type parking struct {
	mu      sync.Mutex
	targets map[string][]parkedBatch
	count   int
	bytes   int
	// Dropped counts batches dropped because their task did not start
	// within parkFor or the parking was full.
	Dropped atomic.Int64
}

type parkedBatch struct {
	at      time.Time
	size    int
	payload any
}

// hold parks payload for target unless send, tried again under the lock,
// delivers it now (the task started meanwhile). It reports false when the
// parking is full: the batch is dropped.
func (p *parking) hold(target string, payload any, size int, now time.Time, send func(string, any) bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if send(target, payload) {
		return true
	}
	if p.count >= parkMax || p.bytes+size > parkMaxBytes {
		p.Dropped.Add(1)
		return false
	}
	if p.targets == nil {
		p.targets = map[string][]parkedBatch{}
	}
	p.targets[target] = append(p.targets[target], parkedBatch{at: now, size: size, payload: payload})
	p.count++
	p.bytes += size
	return true
}

// release delivers the batches of every target send now accepts, in
// arrival order, and drops those parked longer than parkFor. Nodes call it
// after they start tasks, and every reconcile tick.
func (p *parking) release(now time.Time, send func(string, any) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for target, batches := range p.targets {
		if send(target, batches[0].payload) {
			for _, b := range batches[1:] {
				send(target, b.payload)
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

// remove forgets the first k batches of target.
func (p *parking) remove(target string, k int) {
	batches := p.targets[target]
	for _, b := range batches[:k] {
		p.count--
		p.bytes -= b.size
	}
	if k == len(batches) {
		delete(p.targets, target)
	} else {
		clear(batches[:k]) // let the payloads go
		p.targets[target] = batches[k:]
	}
}

// Len is the number of parked batches.
func (p *parking) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}
