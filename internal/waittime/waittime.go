package waittime

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Max is the longest wait a kill or rebalance may ask for: the most whole
// seconds a time.Duration holds (9223372036 s, about 292 years). Waits
// were never bounded below that (`kill --wait 24h` means "until the trees
// are done"); one over it overflowed into an instant "success". Anything
// longer is refused, never rounded, wrapped or clamped.
const Max = time.Duration(math.MaxInt64/int64(time.Second)) * time.Second

// Default is the wait when none is given (Storm's).
const Default = 30 * time.Second

// ErrWait is wrapped by every error of Parse and Check.
var ErrWait = errors.New("wait")

// maxDigits bounds the text Parse looks at: Max in seconds has 10.
const maxDigits = 10

// Parse reads a wait in whole seconds, "0" to Max ("9223372036"): ASCII digits
// only, no sign, no unit, no space. Everything else, and everything over
// Max however many digits it has, is an ErrWait that names the limit.
func Parse(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty: want whole seconds, 0 to %d", ErrWait, int64(Max/time.Second))
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w %q: want whole seconds, 0 to %d", ErrWait, s, int64(Max/time.Second))
		}
	}
	if len(s) > maxDigits {
		return 0, fmt.Errorf("%w %q: over the limit of %d seconds", ErrWait, truncate(s), int64(Max/time.Second))
	}
	secs, err := strconv.ParseInt(s, 10, 64) // at most 10 digits: no int64 overflow
	if err != nil {
		return 0, fmt.Errorf("%w %q: %v", ErrWait, s, err)
	}
	if secs > int64(Max/time.Second) {
		return 0, fmt.Errorf("%w %q: over the limit of %d seconds", ErrWait, s, int64(Max/time.Second))
	}
	return time.Duration(secs) * time.Second, nil
}

// Check refuses a --wait below zero or over Max, before it is sent.
func Check(d time.Duration) error {
	switch {
	case d < 0:
		return fmt.Errorf("%w %v: want 0 or more", ErrWait, d)
	case d > Max:
		return fmt.Errorf("%w %v: over the limit of %v", ErrWait, d, Max)
	}
	return nil
}

// Seconds is d in whole seconds rounded up, as the {wait} of a route
// carries it ("1.2s" waits 2 s, never less than asked); d must have
// passed Check. It does not overflow for any d.
func Seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

func truncate(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
