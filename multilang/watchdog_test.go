package multilang

import (
	"strings"
	"testing"
	"time"
)

// TestWatchdogDecisions drives the watchdog's decision with silences at the
// default timeouts (30 s, and a minute for the start-up) that the
// end-to-end tests, which wait in wall time, can only try at a fraction of
// a second.
func TestWatchdogDecisions(t *testing.T) {
	type flags struct{ bolt, handshook, hbPending bool }
	tests := []struct {
		name          string
		f             flags
		waiting       int32 // spout commands not yet synced
		idle          int64 // messages since the last progress
		silent        time.Duration
		quiet         time.Duration // since any message; 0 is silent
		kill          string        // a substring of the reason; "" is no kill
		wantHeartbeat bool
	}{
		{"starting, within the startup timeout", flags{bolt: true}, 0, 0, 59 * time.Second, 0, "", false},
		{"starting, longer than the heartbeat timeout is fine", flags{bolt: true}, 0, 0, 45 * time.Second, 0, "", false},
		{"starting, past the startup timeout", flags{bolt: true}, 0, 0, 61 * time.Second, 0,
			"no answer to the handshake for 1m1s (startup timeout 1m0s)", false},
		{"starting spout, past the startup timeout", flags{}, 1, 0, 61 * time.Second, 0, "no answer to the handshake", false},
		{"bolt, quiet, heartbeat due", flags{bolt: true, handshook: true}, 0, 0, 10 * time.Second, 0, "", true},
		{"bolt, quiet, heartbeat pending", flags{bolt: true, handshook: true, hbPending: true}, 0, 0, 29 * time.Second, 0, "", false},
		{"bolt at exactly the timeout", flags{bolt: true, handshook: true, hbPending: true}, 0, 0, 30 * time.Second, 0, "", false},
		{"bolt past the timeout", flags{bolt: true, handshook: true, hbPending: true}, 0, 0, 30*time.Second + time.Millisecond, 0,
			"no message for 30.001s (subprocess timeout 30s)", false},
		{"bolt past the timeout, no heartbeat pending", flags{bolt: true, handshook: true}, 0, 0, 31 * time.Second, 0, "no message for 31s", false},
		{"idle spout: nothing owed, silence is fine", flags{handshook: true}, 0, 0, time.Hour, 0, "", false},
		{"spout owed a sync, within the timeout", flags{handshook: true}, 2, 0, 29 * time.Second, 0, "", false},
		{"spout owed a sync, past the timeout", flags{handshook: true}, 1, 0, 31 * time.Second, 0, "no message for 31s (subprocess timeout 30s)", false},
		{"spout logging but not answering, past the timeout", flags{handshook: true}, 1, 5000, 31 * time.Second, time.Second,
			"no progress for 31s: 5000 log, error, metrics or stray sync messages, but no sync or emit (subprocess timeout 30s)", false},
		{"spout logging, nothing owed", flags{handshook: true}, 0, 5000, time.Hour, time.Second, "", false},
		{"bolt logging but not answering, past the timeout", flags{bolt: true, handshook: true, hbPending: true}, 0, 7, 31 * time.Second, time.Second,
			"no progress for 31s: 7 log, error, metrics or stray sync messages, but no emit, ack, fail or answer to a heartbeat", false},
		{"bolt that logged, then hung", flags{bolt: true, handshook: true, hbPending: true}, 0, 1, 45 * time.Second, 31 * time.Second,
			"no message for 31s (subprocess timeout 30s)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &proc{bolt: tt.f.bolt, timeout: DefaultTimeout, startup: DefaultStartup}
			p.handshook.Store(tt.f.handshook)
			p.hbPending.Store(tt.f.hbPending)
			p.waiting.Store(tt.waiting)
			p.idle.Store(tt.idle)
			quiet := tt.quiet
			if quiet == 0 {
				quiet = tt.silent
			}
			kill, heartbeat := p.watch(tt.silent, quiet)
			if (tt.kill == "") != (kill == "") || !strings.Contains(kill, tt.kill) {
				t.Errorf("kill %q, want %q", kill, tt.kill)
			}
			if heartbeat != tt.wantHeartbeat {
				t.Errorf("heartbeat %v, want %v", heartbeat, tt.wantHeartbeat)
			}
		})
	}
}
