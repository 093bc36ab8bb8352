// Package poll waits for conditions in tests without sleeping blindly: it
// checks a condition every millisecond until it holds or a deadline passes
// (nats-server's checkFor, testify's Eventually).
package poll

import (
	"testing"
	"time"
)

// Until fails t unless cond becomes true within d. what describes the
// condition for the failure message.
func Until(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Wait(d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// Wait reports whether cond became true within d, for callers without a
// testing.TB (Examples).
func Wait(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}
