package kafka

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrInvalidConfig is wrapped by every configuration validation error.
var ErrInvalidConfig = errors.New("kafka: invalid config")

// UnlimitedRetries as RetryConfig.MaxRetries retries a failed offset forever.
const UnlimitedRetries = -1

// RetryConfig is Storm's KafkaSpoutRetryExponentialBackoff: the first failure
// of an offset is retried after InitialDelay, the n-th after
// DelayPeriod×2^(n−1), and no retry waits longer than MaxDelay.
type RetryConfig struct {
	// InitialDelay is the wait after the first failure. Default 0.
	InitialDelay time.Duration
	// DelayPeriod is the base of the exponential wait after later failures.
	// Default 2 ms.
	DelayPeriod time.Duration
	// MaxDelay caps every wait. Default 10 s.
	MaxDelay time.Duration
	// MaxRetries is how many times one offset is retried; the failure after
	// the last retry asks the caller to dead-letter the record. 0 sends a
	// record to the dead-letter destination on its first failure. Negative
	// (UnlimitedRetries, the default) retries forever.
	MaxRetries int
}

// DefaultRetryConfig returns Storm's defaults: no initial delay, 2 ms period,
// 10 s cap, unlimited retries.
func DefaultRetryConfig() RetryConfig {
	return RetryConfig{
		InitialDelay: 0,
		DelayPeriod:  2 * time.Millisecond,
		MaxDelay:     10 * time.Second,
		MaxRetries:   UnlimitedRetries,
	}
}

// Validate reports a negative delay, wrapping ErrInvalidConfig.
func (c RetryConfig) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"InitialDelay", c.InitialDelay},
		{"DelayPeriod", c.DelayPeriod},
		{"MaxDelay", c.MaxDelay},
	} {
		if d.v < 0 {
			return fmt.Errorf("%w: retry %s is %v; use a duration of 0 or more", ErrInvalidConfig, d.name, d.v)
		}
	}
	return nil
}

// NextRetry returns when an offset that has now failed fails times (counting
// this failure, from 1) should be retried. ok is false when its retries are
// used up: the caller must dead-letter the record.
func (c RetryConfig) NextRetry(fails int, now time.Time) (at time.Time, ok bool) {
	if c.MaxRetries >= 0 && fails > c.MaxRetries {
		return time.Time{}, false
	}
	return now.Add(c.delay(fails)), true
}

// delay is the wait before the retry that follows the fails-th failure.
func (c RetryConfig) delay(fails int) time.Duration {
	d := c.InitialDelay
	if fails > 1 {
		shift := fails - 1
		switch {
		case c.DelayPeriod == 0:
			d = 0
		case shift >= 63 || c.DelayPeriod > time.Duration(math.MaxInt64>>shift):
			// DelayPeriod×2^shift overflows int64: it is above any MaxDelay.
			d = c.MaxDelay
		default:
			d = c.DelayPeriod << shift
		}
	}
	return min(d, c.MaxDelay)
}

// retryQueue holds the offsets of one partition that failed and wait for
// their retry time. Not safe for concurrent use.
type retryQueue struct {
	at map[int64]time.Time
}

func newRetryQueue() retryQueue {
	return retryQueue{at: make(map[int64]time.Time)}
}

func (q *retryQueue) schedule(offset int64, at time.Time) { q.at[offset] = at }

func (q *retryQueue) remove(offset int64) { delete(q.at, offset) }

// ready reports whether offset is scheduled and due at now.
func (q *retryQueue) ready(offset int64, now time.Time) bool {
	at, ok := q.at[offset]
	return ok && !at.After(now)
}

// due returns the offsets whose retry time is at or before now, in offset order.
func (q *retryQueue) due(now time.Time) []int64 {
	var out []int64
	for off, at := range q.at {
		if !at.After(now) {
			out = append(out, off)
		}
	}
	slices.Sort(out)
	return out
}

// earliestDue returns the lowest offset due at now.
func (q *retryQueue) earliestDue(now time.Time) (int64, bool) {
	best, found := int64(0), false
	for off, at := range q.at {
		if !at.After(now) && (!found || off < best) {
			best, found = off, true
		}
	}
	return best, found
}
