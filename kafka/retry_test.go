package kafka

import (
	"errors"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestDefaultRetryConfigIsStorms(t *testing.T) {
	want := RetryConfig{InitialDelay: 0, DelayPeriod: 2 * time.Millisecond, MaxDelay: 10 * time.Second, MaxRetries: UnlimitedRetries}
	if got := DefaultRetryConfig(); got != want {
		t.Fatalf("DefaultRetryConfig() = %+v, want %+v", got, want)
	}
	if err := DefaultRetryConfig().Validate(); err != nil {
		t.Fatalf("DefaultRetryConfig().Validate() = %v", err)
	}
}

func TestNextRetry(t *testing.T) {
	def := DefaultRetryConfig()
	withRetries := func(n int) RetryConfig { c := def; c.MaxRetries = n; return c }
	tests := []struct {
		name   string
		cfg    RetryConfig
		fails  int
		wantIn time.Duration // wait after now
		wantOK bool
	}{
		{"first fail waits InitialDelay 0", def, 1, 0, true},
		{"second fail 2ms*2^1", def, 2, 4 * time.Millisecond, true},
		{"third fail 2ms*2^2", def, 3, 8 * time.Millisecond, true},
		{"tenth fail 2ms*2^9", def, 10, 1024 * time.Millisecond, true},
		{"13th fail 2ms*2^12 under cap", def, 13, 8192 * time.Millisecond, true},
		{"14th fail capped at MaxDelay", def, 14, 10 * time.Second, true},
		{"shift 62 capped", def, 63, 10 * time.Second, true},
		{"shift 63 would overflow", def, 64, 10 * time.Second, true},
		{"shift 64 would wrap to zero", def, 65, 10 * time.Second, true},
		{"huge fail count", def, math.MaxInt, 10 * time.Second, true},
		{"zero fails treated as first", def, 0, 0, true},
		{
			"InitialDelay is used for the first fail",
			RetryConfig{InitialDelay: time.Second, DelayPeriod: time.Millisecond, MaxDelay: time.Minute, MaxRetries: -1},
			1, time.Second, true,
		},
		{
			"InitialDelay is capped too",
			RetryConfig{InitialDelay: time.Second, DelayPeriod: time.Millisecond, MaxDelay: 500 * time.Millisecond, MaxRetries: -1},
			1, 500 * time.Millisecond, true,
		},
		{
			"zero DelayPeriod retries at once",
			RetryConfig{DelayPeriod: 0, MaxDelay: time.Second, MaxRetries: -1},
			40, 0, true,
		},
		{
			"overflowing product with an unbounded MaxDelay saturates",
			RetryConfig{DelayPeriod: time.Hour, MaxDelay: math.MaxInt64, MaxRetries: -1},
			50, math.MaxInt64, true,
		},
		{
			"product just below overflow is kept",
			RetryConfig{DelayPeriod: 1, MaxDelay: math.MaxInt64, MaxRetries: -1},
			63, 1 << 62, true,
		},
		{"MaxRetries 3 allows the third retry", withRetries(3), 3, 8 * time.Millisecond, true},
		{"MaxRetries 3 refuses the fourth", withRetries(3), 4, 0, false},
		{"MaxRetries 0 refuses the first", withRetries(0), 1, 0, false},
		{"unlimited never refuses", withRetries(UnlimitedRetries), math.MaxInt, 10 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, ok := tt.cfg.NextRetry(tt.fails, t0)
			if ok != tt.wantOK {
				t.Fatalf("NextRetry(%d) ok = %v, want %v", tt.fails, ok, tt.wantOK)
			}
			if !ok {
				if !at.IsZero() {
					t.Fatalf("NextRetry(%d) = %v with ok false, want the zero time", tt.fails, at)
				}
				return
			}
			if want := t0.Add(tt.wantIn); !at.Equal(want) {
				t.Fatalf("NextRetry(%d) = now+%v, want now+%v", tt.fails, at.Sub(t0), tt.wantIn)
			}
			if at.Before(t0) {
				t.Fatalf("NextRetry(%d) = %v is before now", tt.fails, at)
			}
		})
	}
}

func TestRetryDelaysNeverShrink(t *testing.T) {
	for _, cfg := range []RetryConfig{
		DefaultRetryConfig(),
		{DelayPeriod: 3, MaxDelay: math.MaxInt64, MaxRetries: -1},
		{DelayPeriod: time.Duration(math.MaxInt64 / 3), MaxDelay: math.MaxInt64, MaxRetries: -1},
	} {
		prev := time.Duration(-1)
		for fails := 1; fails <= 200; fails++ {
			d := cfg.delay(fails)
			if d < prev || d < 0 || d > cfg.MaxDelay {
				t.Fatalf("%+v: delay(%d) = %v after %v", cfg, fails, d, prev)
			}
			prev = d
		}
	}
}

func TestRetryConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*RetryConfig)
		wantErr bool
	}{
		{"defaults", func(*RetryConfig) {}, false},
		{"all zero", func(c *RetryConfig) { *c = RetryConfig{} }, false},
		{"negative InitialDelay", func(c *RetryConfig) { c.InitialDelay = -1 }, true},
		{"negative DelayPeriod", func(c *RetryConfig) { c.DelayPeriod = -time.Millisecond }, true},
		{"negative MaxDelay", func(c *RetryConfig) { c.MaxDelay = -time.Second }, true},
		{"any negative MaxRetries is unlimited", func(c *RetryConfig) { c.MaxRetries = -7 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultRetryConfig()
			tt.mutate(&c)
			err := c.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want it to wrap ErrInvalidConfig", err)
			}
		})
	}
}
