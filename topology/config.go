package topology

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is a topology's configuration, keyed by Storm's names. Values set
// from the command line arrive as strings and are converted when read.
type Config map[string]any

// Storm's configuration keys that squall honours, with Storm's defaults
// unless noted.
const (
	// MessageTimeoutSecs: a tree not completed within this many seconds fails
	// (default 30). squall fails it after between T and T plus one timeout tick
	// (T/16, from 5 ms to 100 ms), tighter than Storm's T..2T.
	MessageTimeoutSecs = "topology.message.timeout.secs"
	// MaxSpoutPending caps the trees pending per spout task. Storm's default is
	// unlimited; squall's is 1000, because the credits are its flow control.
	// 0 means unlimited.
	MaxSpoutPending = "topology.max.spout.pending"
	// AckerExecutors is the number of tracker tasks; 0 acks every spout tuple
	// on emit (no guarantee, though the spout's Ack is still called: see
	// AtLeastOnce and AtMostOnce). Default 1 (Storm: one per worker);
	// squall.guarantee=at-most-once makes it 0.
	AckerExecutors = "topology.acker.executors"
	// TickTupleFreqSecs sends every bolt task a tick tuple this often (unset: none).
	TickTupleFreqSecs = "topology.tick.tuple.freq.secs"
	// EnableMessageTimeouts turns tree timeouts off when false (tests only).
	EnableMessageTimeouts = "topology.enable.message.timeouts"
	// ReceiveBufferSize bounds the tuples emitted outside any tree (no
	// message id, or no trackers) that are queued in the topology and not yet
	// executed: spouts pause above it. Default 32768 like Storm's.
	ReceiveBufferSize = "topology.executor.receive.buffer.size"
	// Debug logs more about the topology's lifecycle (never per tuple).
	Debug = "topology.debug"
	// MaxTaskFailures is squall's: a task whose user code panics this many
	// times within a minute is restarted. Default 10.
	MaxTaskFailures = "squall.task.max.failures"
	// MetricsLatency is squall's: when true (the default) bolt tasks measure
	// process latency (Storm's: from the start of Execute of a tuple to its
	// Ack) for every tuple. For a bolt that acks inside Execute that costs
	// no clock read per tuple; a bolt that holds tuples past Execute pays
	// one per tuple and one per later Ack (~90 ns each on a VM). Off, process
	// latency reads 0; execute latency and capacity (one clock read per
	// batch) remain. Storm samples 5 % of tuples for these
	// (topology.stats.sample.rate); squall counts every one.
	MetricsLatency = "squall.metrics.latency"
)

// DefaultConfig returns the defaults of every key above.
func DefaultConfig() Config {
	return Config{
		MessageTimeoutSecs:    30,
		MaxSpoutPending:       1000,
		AckerExecutors:        1,
		EnableMessageTimeouts: true,
		ReceiveBufferSize:     32768,
		Debug:                 false,
		MaxTaskFailures:       10,
		MetricsLatency:        true,
		GuaranteeKey:          string(AtLeastOnce),
	}
}

// Merge returns a new Config with c's entries overridden by o's.
func (c Config) Merge(o Config) Config {
	out := make(Config, len(c)+len(o))
	for k, v := range c {
		out[k] = v
	}
	for k, v := range o {
		out[k] = v
	}
	return out
}

// Set parses "key=value" (the form of --set) into c.
func (c Config) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("config %q: want key=value", kv)
	}
	c[k] = strings.TrimSpace(v)
	return nil
}

// Int returns key as an int, or def when it is unset.
func (c Config) Int(key string, def int) (int, error) {
	v, ok := c[key]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case int32:
		return int(x), nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("config %s: %v (%T) is not an integer", key, v, v)
}

// Bool returns key as a bool, or def when it is unset.
func (c Config) Bool(key string, def bool) (bool, error) {
	v, ok := c[key]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("config %s: %v (%T) is not a boolean", key, v, v)
}

// String returns key as a string, or def when it is unset.
func (c Config) String(key, def string) string {
	v, ok := c[key]
	if !ok || v == nil {
		return def
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Seconds returns key, a number of seconds, as a Duration; def when unset.
func (c Config) Seconds(key string, def time.Duration) (time.Duration, error) {
	v, ok := c[key]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case int:
		return time.Duration(x) * time.Second, nil
	case int64:
		return time.Duration(x) * time.Second, nil
	case int32:
		return time.Duration(x) * time.Second, nil
	case float64:
		return time.Duration(x * float64(time.Second)), nil
	case time.Duration:
		return x, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return time.Duration(f * float64(time.Second)), nil
		}
	}
	return 0, fmt.Errorf("config %s: %v (%T) is not a number of seconds", key, v, v)
}

// Runtime is the part of a Config the runtime acts on, read and checked once.
type Runtime struct {
	MessageTimeout    time.Duration // 0: no timeouts
	MaxSpoutPending   int           // 0: unlimited
	Trackers          int
	TickFreq          time.Duration // 0: no tick tuples
	ReceiveBufferSize int
	MaxTaskFailures   int
	Debug             bool
	// MetricsLatency: time every tuple at bolts (process latency).
	MetricsLatency bool
	// Guarantee is squall.guarantee. AtMostOnce and ExactlyOnce run no
	// tracker (Trackers is 0); at-most-once ignores message ids.
	Guarantee Guarantee
	// Checkpoints are the checkpoint settings of ExactlyOnce.
	Checkpoints Checkpoints
}

// Runtime reads and validates the runtime settings; errors name the key.
func (c Config) Runtime() (Runtime, error) {
	var r Runtime
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	r.MessageTimeout, err = c.Seconds(MessageTimeoutSecs, 30*time.Second)
	add(err)
	if r.MessageTimeout <= 0 && err == nil {
		add(fmt.Errorf("config %s: must be > 0, got %v", MessageTimeoutSecs, c[MessageTimeoutSecs]))
	}
	timeouts, err := c.Bool(EnableMessageTimeouts, true)
	add(err)
	if !timeouts {
		r.MessageTimeout = 0
	}
	r.MaxSpoutPending, err = c.Int(MaxSpoutPending, 1000)
	add(err)
	if r.MaxSpoutPending < 0 {
		add(fmt.Errorf("config %s: must be >= 0 (0 = unlimited), got %d", MaxSpoutPending, r.MaxSpoutPending))
	}
	r.Trackers, err = c.Int(AckerExecutors, 1)
	add(err)
	if r.Trackers < 0 {
		add(fmt.Errorf("config %s: must be >= 0, got %d", AckerExecutors, r.Trackers))
	}
	r.TickFreq, err = c.Seconds(TickTupleFreqSecs, 0)
	add(err)
	if r.TickFreq < 0 {
		add(fmt.Errorf("config %s: must be >= 0, got %v", TickTupleFreqSecs, c[TickTupleFreqSecs]))
	}
	r.ReceiveBufferSize, err = c.Int(ReceiveBufferSize, 32768)
	add(err)
	if r.ReceiveBufferSize < 1 {
		add(fmt.Errorf("config %s: must be >= 1, got %d", ReceiveBufferSize, r.ReceiveBufferSize))
	}
	r.MaxTaskFailures, err = c.Int(MaxTaskFailures, 10)
	add(err)
	if r.MaxTaskFailures < 1 {
		add(fmt.Errorf("config %s: must be >= 1, got %d", MaxTaskFailures, r.MaxTaskFailures))
	}
	r.Debug, err = c.Bool(Debug, false)
	add(err)
	r.MetricsLatency, err = c.Bool(MetricsLatency, true)
	add(err)
	r.Guarantee, err = c.Guarantee()
	add(err)
	if r.Guarantee == AtMostOnce || r.Guarantee == ExactlyOnce {
		r.Trackers = 0
	}
	r.Checkpoints, err = c.checkpoints()
	add(err)
	return r, joinErrors(errs)
}
