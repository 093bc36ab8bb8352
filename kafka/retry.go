package kafka

import (
	"errors"
	"fmt"
	"math"
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
