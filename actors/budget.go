package actors

import (
	"fmt"
	"time"
)

// panicBudget counts panics caught in a task's user code. Past max panics
// within a minute the task gives up and crashes on purpose, so its
// supervisor restarts it with a fresh component instance after a backoff.
type panicBudget struct {
	max   int
	times []int64
}

const panicWindow = int64(time.Minute)

// errCrash is the panic value of a task that gave up.
type errCrash struct{ reason string }

func (e *errCrash) Error() string { return e.reason }

func (b *panicBudget) record(now int64) {
	keep := b.times[:0]
	for _, t := range b.times {
		if now-t < panicWindow {
			keep = append(keep, t)
		}
	}
	b.times = append(keep, now)
}

// exceeded reports whether the task should crash.
func (b *panicBudget) exceeded() bool { return b.max > 0 && len(b.times) >= b.max }

func (b *panicBudget) crash(who string) {
	panic(&errCrash{reason: fmt.Sprintf("%s: %d panics within %v: restarting", who, len(b.times), time.Duration(panicWindow))})
}
