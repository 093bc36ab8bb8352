package kafka

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/topology"
)

func validSpoutConfig() SpoutConfig {
	c := DefaultSpoutConfig()
	c.Brokers = []string{"127.0.0.1:9092"}
	c.Topics = []string{"in"}
	return c
}

func TestSpoutConfigValidate(t *testing.T) {
	tr := func(Record) (topology.StreamID, topology.Values, error) { return "", nil, nil }
	tests := []struct {
		name    string
		edit    func(c *SpoutConfig)
		wantErr string // "" valid
	}{
		{"defaults with brokers and topics", func(*SpoutConfig) {}, ""},
		{"no brokers", func(c *SpoutConfig) { c.Brokers = nil }, "no brokers"},
		{"broker without port", func(c *SpoutConfig) { c.Brokers = []string{"localhost"} }, "want host:port"},
		{"broker with bad port", func(c *SpoutConfig) { c.Brokers = []string{"localhost:0"} }, "port must be"},
		{"no topics", func(c *SpoutConfig) { c.Topics = nil }, "no topics"},
		{"bad topic", func(c *SpoutConfig) { c.Topics = []string{"a b"} }, "is not allowed"},
		{"dead-letter topic is an input", func(c *SpoutConfig) { c.DeadLetterTopic = "in" }, "also an input topic"},
		{"bad first poll", func(c *SpoutConfig) { c.FirstPoll = 9 }, "FirstPoll"},
		{"zero commit period", func(c *SpoutConfig) { c.CommitPeriod = 0 }, "CommitPeriod"},
		{"heartbeat too slow", func(c *SpoutConfig) { c.HeartbeatInterval = 5 * time.Second }, "a third of SessionTimeout"},
		{"zero buffer", func(c *SpoutConfig) { c.BufferSize = 0 }, "BufferSize"},
		{"zero cap", func(c *SpoutConfig) { c.Offsets.MaxUncommitted = 0 }, "MaxUncommitted"},
		{"negative retry delay", func(c *SpoutConfig) { c.Offsets.Retry.MaxDelay = -1 }, "MaxDelay"},
		{"old version", func(c *SpoutConfig) { c.Version = sarama.V0_11_0_0 }, "too old"},
		{"translator without streams", func(c *SpoutConfig) { c.Translator = tr }, "needs Streams"},
		{"translator on the dlq stream", func(c *SpoutConfig) {
			c.Translator = tr
			c.Streams = map[topology.StreamID][]string{DeadLetterStream: {"x"}}
		}, "dead-letter stream"},
		{"stream without fields", func(c *SpoutConfig) {
			c.Translator = tr
			c.Streams = map[topology.StreamID][]string{"s": nil}
		}, "declares no fields"},
		{"translator with streams", func(c *SpoutConfig) {
			c.Translator = tr
			c.Streams = map[topology.StreamID][]string{"s": {"x"}}
		}, ""},
		{"zero config", func(c *SpoutConfig) { *c = SpoutConfig{} }, "CommitPeriod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validSpoutConfig()
			tt.edit(&c)
			checkValidate(t, c.Validate(), tt.wantErr)
			if _, nerr := NewSpout(c); (nerr != nil) != (tt.wantErr != "") {
				t.Fatalf("NewSpout() = %v, want an error: %v", nerr, tt.wantErr != "")
			}
		})
	}
}

func TestBoltConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(c *BoltConfig)
		wantErr string
	}{
		{"topic", func(*BoltConfig) {}, ""},
		{"topic field only", func(c *BoltConfig) { c.Topic, c.TopicField = "", "t" }, ""},
		{"mapper only", func(c *BoltConfig) {
			c.Topic, c.ValueField = "", ""
			c.Mapper = func(topology.Tuple) (Record, error) { return Record{}, nil }
		}, ""},
		{"no destination", func(c *BoltConfig) { c.Topic = "" }, "no destination"},
		{"no value field", func(c *BoltConfig) { c.ValueField = "" }, "ValueField"},
		{"bad topic", func(c *BoltConfig) { c.Topic = "x/y" }, "is not allowed"},
		{"no brokers", func(c *BoltConfig) { c.Brokers = nil }, "no brokers"},
		{"old version", func(c *BoltConfig) { c.Version = sarama.V0_10_2_0 }, "too old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultBoltConfig()
			c.Brokers, c.Topic = []string{"127.0.0.1:9092"}, "out"
			tt.edit(&c)
			checkValidate(t, c.Validate(), tt.wantErr)
		})
	}
}

// checkValidate fails t unless err, from Validate, is nil when wantErr is
// empty, and otherwise ErrInvalidConfig mentioning wantErr.
func checkValidate(t *testing.T, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("Validate() = %v", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("Validate() = %v, want ErrInvalidConfig mentioning %q", err, wantErr)
	}
}

func TestConfigFromTopologyConfig(t *testing.T) {
	conf := topology.Config{}
	for _, kv := range []string{
		"kafka.brokers=127.0.0.1:1, 127.0.0.1:2",
		"kafka.input=a,b",
		"kafka.output=out",
		"kafka.group=g",
		"kafka.topology.id=tid",
		"kafka.first.poll.strategy=latest",
		"kafka.commit.period=250ms",
		"kafka.max.uncommitted.offsets=77",
		"kafka.retry.max=3",
		"kafka.retry.initial.delay=0.5",
		"kafka.retry.delay.period=10ms",
		"kafka.retry.max.delay=2",
		"kafka.dlq.topic=dead",
		"kafka.bolt.key.field=word",
		"kafka.bolt.value.field=count",
		"kafka.bolt.topic.field=dest",
	} {
		if err := conf.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := SpoutConfigFrom(conf)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSpoutConfig()
	want.Brokers = []string{"127.0.0.1:1", "127.0.0.1:2"}
	want.Topics = []string{"a", "b"}
	want.GroupID, want.TopologyID, want.DeadLetterTopic = "g", "tid", "dead"
	want.FirstPoll = Latest
	want.CommitPeriod = 250 * time.Millisecond
	want.Offsets.MaxUncommitted = 77
	want.Offsets.Retry = RetryConfig{InitialDelay: 500 * time.Millisecond, DelayPeriod: 10 * time.Millisecond, MaxDelay: 2 * time.Second, MaxRetries: 3}
	if got := sc; got.GroupID != want.GroupID || got.TopologyID != want.TopologyID || got.DeadLetterTopic != want.DeadLetterTopic ||
		got.FirstPoll != want.FirstPoll || got.CommitPeriod != want.CommitPeriod || got.Offsets != want.Offsets ||
		strings.Join(got.Brokers, ",") != strings.Join(want.Brokers, ",") || strings.Join(got.Topics, ",") != "a,b" {
		t.Fatalf("SpoutConfigFrom() = %+v\nwant %+v", got, want)
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	bc := BoltConfigFrom(conf)
	if bc.Topic != "out" || bc.KeyField != "word" || bc.ValueField != "count" || bc.TopicField != "dest" || len(bc.Brokers) != 2 {
		t.Fatalf("BoltConfigFrom() = %+v", bc)
	}

	for key, bad := range map[string]string{
		KeyFirstPoll:      "sometimes",
		KeyCommitPeriod:   "soon",
		KeyMaxUncommitted: "many",
		KeyMaxRetries:     "1.5",
	} {
		_, err := SpoutConfigFrom(topology.Config{key: bad})
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: err %v, want one naming the key", key, bad, err)
		}
	}
}

func TestParseFirstPollStrategy(t *testing.T) {
	for in, want := range map[string]FirstPollStrategy{
		"EARLIEST": Earliest, "latest": Latest, "uncommitted-earliest": UncommittedEarliest,
		" UNCOMMITTED_LATEST ": UncommittedLatest,
	} {
		got, err := ParseFirstPollStrategy(in)
		if err != nil || got != want {
			t.Errorf("ParseFirstPollStrategy(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := ParseFirstPollStrategy(got.String()); back != got {
			t.Errorf("%v does not round-trip", got)
		}
	}
	if _, err := ParseFirstPollStrategy("TIMESTAMP"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("TIMESTAMP: %v", err)
	}
	if s := FirstPollStrategy(7).String(); s != "FirstPollStrategy(7)" {
		t.Errorf("String() = %q", s)
	}
}

func TestDurationConf(t *testing.T) {
	tests := []struct {
		v    any
		want time.Duration
		ok   bool
	}{
		{nil, time.Minute, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"300ms", 300 * time.Millisecond, true},
		{2, 2 * time.Second, true},
		{0.25, 250 * time.Millisecond, true},
		{3 * time.Second, 3 * time.Second, true},
		{"later", 0, false},
		{true, 0, false},
	}
	for _, tt := range tests {
		got, err := durationConf(topology.Config{"k": tt.v}, "k", time.Minute)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("durationConf(%v) = %v, %v; want %v, ok %v", tt.v, got, err, tt.want, tt.ok)
		}
	}
}
