package actors

import (
	"sync"
	"time"
)

// Windowed counts (Storm UI's 10 minutes, 3 hours, 1 day) cost nothing per
// tuple: tasks only advance their cumulative counters, and the topology's
// clock copies them into rings of samples, one per step of each window. A
// window's counts are the current counters minus the oldest sample still
// inside it.

// ringSpec is how one window is sampled: every step, for n steps (so n+1
// samples are kept: the window's both ends).
type ringSpec struct {
	step time.Duration
	n    int
}

var ringSpecs = [...]ringSpec{
	{30 * time.Second, 20}, // 10 minutes
	{10 * time.Minute, 18}, // 3 hours
	{time.Hour, 24},        // 1 day
}

// sample is a task's cumulative counters at one time.
type sample struct {
	at     time.Time
	counts Counts
}

type ring struct {
	spec ringSpec
	buf  []sample // circular once full
	head int      // the oldest sample when full
	next time.Time
}

func (r *ring) push(s sample) {
	if len(r.buf) <= r.spec.n {
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.head] = s
	r.head = (r.head + 1) % len(r.buf)
}

// windows are a task's samples. The clock goroutine writes them; readers
// take the lock. Pure: time is passed in.
type windows struct {
	mu      sync.Mutex
	started bool
	origin  time.Time // the task's first start: every counter was 0
	rings   [len(ringSpecs)]ring
}

func (w *windows) start(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return
	}
	w.started, w.origin = true, now
	for i, spec := range ringSpecs {
		w.rings[i] = ring{spec: spec, next: now.Add(spec.step)}
	}
}

// due reports whether a ring wants a sample at now.
func (w *windows) due(now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		return false
	}
	for i := range w.rings {
		if !now.Before(w.rings[i].next) {
			return true
		}
	}
	return false
}

// record gives s to every ring whose step is due at s.at. A late clock
// records once and skips the steps it missed: samples carry their time,
// so spans stay exact.
func (w *windows) record(s sample) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		return
	}
	for i := range w.rings {
		r := &w.rings[i]
		if s.at.Before(r.next) {
			continue
		}
		r.push(s)
		for !s.at.Before(r.next) {
			r.next = r.next.Add(r.spec.step)
		}
	}
}

// base returns the sample a window of length d ending at now starts from:
// the oldest sample no older than d — the zero counts at the origin while
// the task is younger than d. When no sample is that recent (d shorter than
// the finest step, or a stopped clock), the newest sample. d <= 0 is all
// time. ok is false before the task started.
func (w *windows) base(d time.Duration, now time.Time) (base sample, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		return sample{}, false
	}
	origin := sample{at: w.origin}
	if d <= 0 {
		return origin, true
	}
	from := now.Add(-d)
	oldestIn, newestOut := sample{}, origin
	in := !origin.at.Before(from)
	if in {
		oldestIn = origin
	}
	for i := range w.rings {
		for _, s := range w.rings[i].buf {
			switch {
			case s.at.After(now):
			case s.at.Before(from):
				if s.at.After(newestOut.at) {
					newestOut = s
				}
			case !in || s.at.Before(oldestIn.at):
				oldestIn, in = s, true
			}
		}
	}
	if in {
		return oldestIn, true
	}
	return newestOut, true
}

// sampleWindows copies the task's counters into its windows when a step is
// due; the topology's clock calls it at every tick.
func (s *TaskStats) sampleWindows(now time.Time) {
	if !s.win.due(now) {
		return
	}
	s.win.record(sample{at: now, counts: s.cumulative()})
}

// sampleWindows samples every task's windows (Env.RunClock, at each tick).
func (e *Env) sampleWindows(now time.Time) {
	for _, s := range e.stats {
		s.sampleWindows(now)
	}
}
