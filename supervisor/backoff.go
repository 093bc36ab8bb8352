package supervisor

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Backoff is a supervisor strategy that restarts a crashed child after
// Initial, doubling the delay for each further crash up to Max; a child that
// ran for Reset without crashing starts again from Initial. Close cancels
// the restarts that are still waiting. Safe for concurrent use.
type Backoff struct {
	Initial, Max, Reset time.Duration

	mu     sync.Mutex
	timers map[*time.Timer]struct{}
	closed bool
}

var _ actor.SupervisorStrategy = (*Backoff)(nil)

// DefaultBackoff is 100 ms doubling to 10 s, reset after a quiet minute.
func DefaultBackoff() *Backoff {
	return &Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Reset: time.Minute}
}

// Delay returns the delay before the restart that follows the n-th
// consecutive crash (n >= 1).
func (b *Backoff) Delay(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// HandleFailure implements actor.SupervisorStrategy.
func (b *Backoff) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, _, _ any) {
	if rs.NumberOfFailures(b.Reset) == 0 {
		rs.Reset()
	}
	rs.Fail()
	delay := b.Delay(rs.FailureCount())
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if b.timers == nil {
		b.timers = map[*time.Timer]struct{}{}
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		b.mu.Lock()
		_, live := b.timers[t]
		delete(b.timers, t)
		b.mu.Unlock()
		if live {
			sup.RestartChildren(child)
		}
	})
	b.timers[t] = struct{}{}
}

// Close cancels every pending restart; later failures are not restarted.
func (b *Backoff) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for t := range b.timers {
		t.Stop()
	}
	b.timers = nil
}
