package topology_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/topology"
)

func TestConfigInt(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		unset   bool
		want    int
		wantErr bool
	}{
		{name: "unset", unset: true, want: 7},
		{name: "nil", v: nil, want: 7},
		{name: "int", v: 42, want: 42},
		{name: "negative int", v: -3, want: -3},
		{name: "int64", v: int64(42), want: 42},
		{name: "int32", v: int32(42), want: 42},
		{name: "whole float", v: 42.0, want: 42},
		{name: "string", v: "42", want: 42},
		{name: "padded string", v: " 42 ", want: 42},
		{name: "negative string", v: "-1", want: -1},
		{name: "fractional float", v: 42.5, wantErr: true},
		{name: "fractional string", v: "1.5", wantErr: true},
		{name: "word", v: "abc", wantErr: true},
		{name: "empty string", v: "", wantErr: true},
		{name: "bool", v: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := topology.Config{}
			if !tt.unset {
				c["k.n"] = tt.v
			}
			got, err := c.Int("k.n", 7)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "k.n") {
					t.Fatalf("Int(%#v) = %d, %v; want an error naming the key", tt.v, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Int(%#v) = %d, %v; want %d", tt.v, got, err, tt.want)
			}
		})
	}
}

func TestConfigBool(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		unset   bool
		want    bool
		wantErr bool
	}{
		{name: "unset", unset: true, want: true},
		{name: "nil", v: nil, want: true},
		{name: "false", v: false, want: false},
		{name: "true", v: true, want: true},
		{name: "string false", v: "false", want: false},
		{name: "string TRUE", v: " TRUE ", want: true},
		{name: "string 0", v: "0", want: false},
		{name: "string 1", v: "1", want: true},
		{name: "yes", v: "yes", wantErr: true},
		{name: "int", v: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := topology.Config{}
			if !tt.unset {
				c["k.b"] = tt.v
			}
			got, err := c.Bool("k.b", true)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "k.b") {
					t.Fatalf("Bool(%#v) = %v, %v; want an error naming the key", tt.v, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Bool(%#v) = %v, %v; want %v", tt.v, got, err, tt.want)
			}
		})
	}
}

func TestConfigSeconds(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		unset   bool
		want    time.Duration
		wantErr bool
	}{
		{name: "unset", unset: true, want: 9 * time.Second},
		{name: "nil", v: nil, want: 9 * time.Second},
		{name: "int", v: 30, want: 30 * time.Second},
		{name: "int64", v: int64(2), want: 2 * time.Second},
		{name: "float", v: 1.5, want: 1500 * time.Millisecond},
		{name: "Duration", v: 250 * time.Millisecond, want: 250 * time.Millisecond},
		{name: "string", v: "30", want: 30 * time.Second},
		{name: "fractional string", v: " 0.25 ", want: 250 * time.Millisecond},
		{name: "negative string", v: "-1", want: -time.Second},
		{name: "word", v: "abc", wantErr: true},
		{name: "unit suffix", v: "30s", wantErr: true},
		{name: "bool", v: false, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := topology.Config{}
			if !tt.unset {
				c["k.s"] = tt.v
			}
			got, err := c.Seconds("k.s", 9*time.Second)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "k.s") {
					t.Fatalf("Seconds(%#v) = %v, %v; want an error naming the key", tt.v, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Seconds(%#v) = %v, %v; want %v", tt.v, got, err, tt.want)
			}
		})
	}
}

func TestConfigString(t *testing.T) {
	c := topology.Config{"s": "x", "i": 5, "f": 1.5, "b": true, "nil": nil}
	tests := []struct{ key, want string }{
		{"s", "x"},
		{"i", "5"},
		{"f", "1.5"},
		{"b", "true"},
		{"nil", "def"},
		{"unset", "def"},
	}
	for _, tt := range tests {
		if got := c.String(tt.key, "def"); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestConfigSet(t *testing.T) {
	tests := []struct {
		in      string
		key     string
		want    string
		wantErr bool
	}{
		{in: "a=b", key: "a", want: "b"},
		{in: " topology.debug = true ", key: "topology.debug", want: "true"},
		{in: "a=", key: "a", want: ""},
		{in: "a=b=c", key: "a", want: "b=c"},
		{in: "noequals", wantErr: true},
		{in: "", wantErr: true},
		{in: "=v", wantErr: true},
		// Regression: a key of only spaces is rejected, not stored as "".
		{in: "  =v", wantErr: true},
	}
	for _, tt := range tests {
		c := topology.Config{}
		err := c.Set(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Set(%q) succeeded (config %v), want an error", tt.in, c)
			} else if !strings.Contains(err.Error(), tt.in) {
				t.Errorf("Set(%q) error %q does not quote the input", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Set(%q): %v", tt.in, err)
			continue
		}
		if len(c) != 1 || c[tt.key] != tt.want {
			t.Errorf("Set(%q) gave %v, want %s=%q", tt.in, c, tt.key, tt.want)
		}
	}
}

func TestConfigSetThenRead(t *testing.T) {
	c := topology.Config{}
	for _, kv := range []string{"topology.message.timeout.secs=5", "topology.max.spout.pending=10", "topology.debug=true"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	rt, err := c.Runtime()
	if err != nil {
		t.Fatal(err)
	}
	if rt.MessageTimeout != 5*time.Second || rt.MaxSpoutPending != 10 || !rt.Debug {
		t.Errorf("Runtime() = %+v", rt)
	}
}

func TestConfigMerge(t *testing.T) {
	a := topology.Config{"x": 1, "y": 2}
	b := topology.Config{"y": 3, "z": 4}
	got := a.Merge(b)
	want := topology.Config{"x": 1, "y": 3, "z": 4}
	if !maps.Equal(got, want) {
		t.Errorf("Merge = %v, want %v", got, want)
	}
	if !maps.Equal(a, topology.Config{"x": 1, "y": 2}) || !maps.Equal(b, topology.Config{"y": 3, "z": 4}) {
		t.Errorf("Merge modified its inputs: %v %v", a, b)
	}
	if got := topology.Config(nil).Merge(nil); got == nil || len(got) != 0 {
		t.Errorf("nil.Merge(nil) = %#v, want an empty non-nil config", got)
	}
}

func TestRuntimeDefaults(t *testing.T) {
	want := topology.Runtime{
		MessageTimeout:    30 * time.Second,
		MaxSpoutPending:   1000,
		Trackers:          1,
		ReceiveBufferSize: 32768,
		MaxTaskFailures:   10,
		MetricsLatency:    true,
		Guarantee:         topology.AtLeastOnce,
		Checkpoints: topology.Checkpoints{
			Interval: time.Second, Timeout: 30 * time.Second, AlignmentMaxBytes: 64 << 20,
		},
	}
	for name, c := range map[string]topology.Config{"empty": {}, "nil": nil, "DefaultConfig": topology.DefaultConfig()} {
		got, err := c.Runtime()
		if err != nil || got != want {
			t.Errorf("%s: Runtime() = %+v, %v; want %+v", name, got, err, want)
		}
	}
}

func TestRuntime(t *testing.T) {
	tests := []struct {
		name string
		conf topology.Config
		// check inspects a successful Runtime; wantErr are substrings of the error.
		check   func(topology.Runtime) bool
		wantErr []string
	}{
		{
			name:  "timeouts disabled",
			conf:  topology.Config{topology.EnableMessageTimeouts: false},
			check: func(r topology.Runtime) bool { return r.MessageTimeout == 0 },
		},
		{
			name:  "timeouts disabled by string",
			conf:  topology.Config{topology.EnableMessageTimeouts: "false", topology.MessageTimeoutSecs: "5"},
			check: func(r topology.Runtime) bool { return r.MessageTimeout == 0 },
		},
		{
			name:  "fractional timeout",
			conf:  topology.Config{topology.MessageTimeoutSecs: "0.5"},
			check: func(r topology.Runtime) bool { return r.MessageTimeout == 500*time.Millisecond },
		},
		{
			name:  "unlimited pending and no trackers",
			conf:  topology.Config{topology.MaxSpoutPending: 0, topology.AckerExecutors: 0},
			check: func(r topology.Runtime) bool { return r.MaxSpoutPending == 0 && r.Trackers == 0 },
		},
		{
			name:  "tick tuples",
			conf:  topology.Config{topology.TickTupleFreqSecs: "2"},
			check: func(r topology.Runtime) bool { return r.TickFreq == 2*time.Second },
		},
		{
			name:    "timeout not a number",
			conf:    topology.Config{topology.MessageTimeoutSecs: "abc"},
			wantErr: []string{topology.MessageTimeoutSecs, "abc"},
		},
		{
			name:    "zero timeout",
			conf:    topology.Config{topology.MessageTimeoutSecs: 0},
			wantErr: []string{topology.MessageTimeoutSecs, "must be > 0"},
		},
		{
			name:    "negative max pending",
			conf:    topology.Config{topology.MaxSpoutPending: -1},
			wantErr: []string{topology.MaxSpoutPending, "-1"},
		},
		{
			name:    "negative trackers",
			conf:    topology.Config{topology.AckerExecutors: "-2"},
			wantErr: []string{topology.AckerExecutors, "-2"},
		},
		{
			name:    "negative tick",
			conf:    topology.Config{topology.TickTupleFreqSecs: -1},
			wantErr: []string{topology.TickTupleFreqSecs},
		},
		{
			name:    "zero receive buffer",
			conf:    topology.Config{topology.ReceiveBufferSize: 0},
			wantErr: []string{topology.ReceiveBufferSize},
		},
		{
			name:    "zero max failures",
			conf:    topology.Config{topology.MaxTaskFailures: 0},
			wantErr: []string{topology.MaxTaskFailures},
		},
		{
			name:    "bad debug",
			conf:    topology.Config{topology.Debug: "maybe"},
			wantErr: []string{topology.Debug, "maybe"},
		},
		{
			name:    "bad metrics latency",
			conf:    topology.Config{topology.MetricsLatency: "often"},
			wantErr: []string{topology.MetricsLatency, "often"},
		},
		{
			name:  "metrics latency off",
			conf:  topology.Config{topology.MetricsLatency: "false"},
			check: func(r topology.Runtime) bool { return !r.MetricsLatency },
		},
		{
			name:    "bad enable timeouts",
			conf:    topology.Config{topology.EnableMessageTimeouts: "sometimes"},
			wantErr: []string{topology.EnableMessageTimeouts},
		},
		{
			name: "every error reported",
			conf: topology.Config{
				topology.MessageTimeoutSecs: "abc",
				topology.MaxSpoutPending:    -5,
				topology.ReceiveBufferSize:  "big",
			},
			wantErr: []string{topology.MessageTimeoutSecs, topology.MaxSpoutPending, topology.ReceiveBufferSize},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.conf.Runtime()
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Runtime() = %+v, want an error", r)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(r) {
				t.Errorf("Runtime() = %+v", r)
			}
		})
	}
}
