// Package bubble runs a test on testing/synctest's fake clock, so message
// timeouts, restart backoffs and statistics windows of minutes pass in
// microseconds of wall time, exactly. Everything the test starts — the
// actor system, its tasks, the topology's clock — must start inside the
// function and end before it returns; subprocesses and sockets cannot run
// in a bubble (their goroutines block outside its control), so tests of
// those keep real time.
package bubble

import (
	"testing"
	"testing/synctest"
	"time"
)

// settle is how much fake time Run lets pass after the test's cleanups.
// protoactor's dead-letter throttle starts a goroutine nobody waits for
// that ends one throttle interval (supervisor.NewNode sets 10 ms) after the
// first dead letter, and stopping tasks makes dead letters; a bubble must
// hold no goroutine when it ends.
const settle = time.Second

// Run runs f in a synctest bubble (synctest.Test). Inside it, time.Now,
// timers and tickers read the bubble's clock, which moves only when every
// goroutine in the bubble is blocked: a poll.Until deadline is fake time.
func Run(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		// Registered first, so it runs after every cleanup f registers.
		t.Cleanup(func() { time.Sleep(settle) })
		f(t)
	})
}
