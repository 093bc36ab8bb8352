package multilang

import "time"

// restartBackoff is the delay before each restart of a crashed subprocess:
// initial, doubled for every further crash up to max; a crash more than
// reset after the last start begins a new count (the subprocess ran for a
// while: this is a new run of bad luck). Pure: the caller passes the
// clock's readings. Only the task's goroutine uses it.
type restartBackoff struct {
	initial, max, reset time.Duration

	crashes   int
	lastStart time.Time
}

// started notes that a subprocess was started, or failed to start, at now.
func (b *restartBackoff) started(now time.Time) { b.lastStart = now }

// next counts a crash at now and returns the delay before the restart.
func (b *restartBackoff) next(now time.Time) time.Duration {
	if !b.lastStart.IsZero() && now.Sub(b.lastStart) > b.reset {
		b.crashes = 0
	}
	b.crashes++
	d := b.initial
	for i := 1; i < b.crashes && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}
