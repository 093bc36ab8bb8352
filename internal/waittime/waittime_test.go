package waittime

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"30", 30 * time.Second, true},
		{"007", 7 * time.Second, true},
		{"3600", time.Hour, true},
		{"86400", 24 * time.Hour, true},   // waits were never bounded below Max
		{"9223372036", Max, true},         // the most whole seconds a Duration holds
		{"9223372037", 0, false},          // 10 digits, fits int64, overflows Duration in ns
		{"9999999999", 0, false},          // the largest 10 digits
		{"9223372036854775807", 0, false}, // the overflow into "success"
		{"9223372036854775808", 0, false}, // beyond int64
		{"18446744073709551615", 0, false},
		{strings.Repeat("9", 1000), 0, false},
		{"00000000000000000001", 0, false}, // long, even if small: refused without parsing
		{"-1", 0, false},
		{"+1", 0, false},
		{"1s", 0, false},
		{"1.5", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"", 0, false},
		{"0x10", 0, false},
		{"١", 0, false}, // a non-ASCII digit
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.ok {
				if err != nil || got != tc.want {
					t.Fatalf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrWait) {
				t.Fatalf("Parse(%q) = %v, %v; want ErrWait", tc.in, got, err)
			}
			if got != 0 {
				t.Errorf("a refused wait came back as %v", got)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error message of %d bytes echoes the input", len(err.Error()))
			}
		})
	}
}

func TestCheckAndSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		ok   bool
		secs int64
	}{
		{0, true, 0},
		{time.Nanosecond, true, 1},
		{1200 * time.Millisecond, true, 2},
		{30 * time.Second, true, 30},
		{time.Hour + time.Second, true, 3601},
		{Max, true, 9223372036},
		{Max + time.Nanosecond, false, 9223372037},
		{-time.Second, false, 0},
		{math.MaxInt64, false, math.MaxInt64/int64(time.Second) + 1},
		{math.MinInt64, false, 0},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			if err := Check(tc.d); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrWait)) {
				t.Errorf("Check(%v) = %v, want ok %v", tc.d, err, tc.ok)
			}
			if got := Seconds(tc.d); got != tc.secs {
				t.Errorf("Seconds(%v) = %d, want %d", tc.d, got, tc.secs)
			}
			if tc.ok {
				// What the client sends, the node parses back to at least d.
				back, err := Parse(strconv.FormatInt(Seconds(tc.d), 10))
				if err != nil || back < tc.d {
					t.Errorf("round trip of %v: %v, %v", tc.d, back, err)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "30", "3600", "9223372036", "9223372037", "9223372036854775807", "-1", "1s", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("Parse(%q) = %v with error %v", s, d, err)
			}
			return
		}
		if d < 0 || d > Max || d%time.Second != 0 {
			t.Fatalf("Parse(%q) = %v: out of [0, Max] or not whole seconds", s, d)
		}
	})
}
