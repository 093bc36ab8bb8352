package actors

import (
	"testing"
	"time"
)

// TestFailing: a task is failing once its component reported two restarts
// within FailingWindow, and no longer when the older one is past it.
func TestFailing(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name     string
		restarts []time.Duration // after t0
		now      time.Duration
		want     bool
	}{
		{"never restarted", nil, 0, false},
		{"one restart", []time.Duration{0}, time.Second, false},
		{"two close together", []time.Duration{0, 10 * time.Second}, 11 * time.Second, true},
		{"two, the older past the window", []time.Duration{0, FailingWindow}, FailingWindow + time.Second, false},
		{"two far apart, then a third", []time.Duration{0, time.Hour, time.Hour + time.Minute}, time.Hour + 2*time.Minute, true},
		{"two long ago", []time.Duration{0, time.Second}, FailingWindow + 2*time.Second, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s TaskStats
			for _, d := range tc.restarts {
				s.recordRestart(t0.Add(d))
			}
			if got := s.Failing(t0.Add(tc.now)); got != tc.want {
				t.Errorf("Failing = %v, want %v", got, tc.want)
			}
			if n := s.Restarts.Load(); n != int64(len(tc.restarts)) {
				t.Errorf("Restarts = %d, want %d", n, len(tc.restarts))
			}
			if len(tc.restarts) > 0 && !s.LastRestart().Equal(t0.Add(tc.restarts[len(tc.restarts)-1])) {
				t.Errorf("LastRestart = %v", s.LastRestart())
			}
		})
	}
}
