package multilang

import (
	"slices"
	"testing"
	"time"
)

func TestRestartBackoff(t *testing.T) {
	const ms = time.Millisecond
	// An event is a start (or a failed start) or a crash, at a time; a crash
	// yields the delay before the next start.
	type event struct {
		at    time.Duration
		crash bool
	}
	start := func(at time.Duration) event { return event{at: at} }
	crash := func(at time.Duration) event { return event{at: at, crash: true} }
	tests := []struct {
		name   string
		events []event
		want   []time.Duration
	}{
		{"doubles to the cap",
			[]event{start(0), crash(0), start(100 * ms), crash(100 * ms), start(300 * ms), crash(300 * ms),
				start(700 * ms), crash(700 * ms), start(1500 * ms), crash(1500 * ms)},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second}},
		{"starts that keep failing also double",
			[]event{crash(0), crash(0), crash(0)},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms}},
		{"a run longer than reset starts again from initial",
			[]event{start(0), crash(0), start(100 * ms), crash(100 * ms), start(300 * ms), crash(300*ms + time.Minute + ms),
				start(400*ms + time.Minute), crash(400*ms + time.Minute)},
			[]time.Duration{100 * ms, 200 * ms, 100 * ms, 200 * ms}},
		{"a run of exactly reset does not",
			[]event{start(0), crash(0), start(100 * ms), crash(100*ms + time.Minute)},
			[]time.Duration{100 * ms, 200 * ms}},
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := restartBackoff{initial: 100 * ms, max: time.Second, reset: time.Minute}
			var got []time.Duration
			for _, e := range tt.events {
				if e.crash {
					got = append(got, b.next(t0.Add(e.at)))
				} else {
					b.started(t0.Add(e.at))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("delays %v, want %v", got, tt.want)
			}
		})
	}
}
