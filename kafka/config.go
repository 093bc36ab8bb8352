package kafka

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/topology"
)

// FirstPollStrategy says where a spout starts reading a partition, with
// storm-kafka-client's meaning. A commit "of this topology" is one whose
// metadata carries this spout's topology id (SpoutConfig.TopologyID).
type FirstPollStrategy int

const (
	// UncommittedEarliest resumes from the group's commit, whoever wrote it;
	// without one it starts at the earliest offset. The default.
	UncommittedEarliest FirstPollStrategy = iota
	// Earliest resumes from a commit of this topology; otherwise (no commit,
	// or one written by another deployment) it starts at the earliest offset.
	Earliest
	// Latest resumes from a commit of this topology; otherwise it starts at
	// the end of the partition, skipping what is there.
	Latest
	// UncommittedLatest resumes from the group's commit, whoever wrote it;
	// without one it starts at the end of the partition.
	UncommittedLatest
)

var firstPollNames = [...]string{
	UncommittedEarliest: "UNCOMMITTED_EARLIEST",
	Earliest:            "EARLIEST",
	Latest:              "LATEST",
	UncommittedLatest:   "UNCOMMITTED_LATEST",
}

func (s FirstPollStrategy) String() string {
	if s >= 0 && int(s) < len(firstPollNames) {
		return firstPollNames[s]
	}
	return fmt.Sprintf("FirstPollStrategy(%d)", int(s))
}

// ParseFirstPollStrategy parses Storm's names (EARLIEST, LATEST,
// UNCOMMITTED_EARLIEST, UNCOMMITTED_LATEST), in any case, with - or _.
func ParseFirstPollStrategy(s string) (FirstPollStrategy, error) {
	norm := strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "_")
	for i, name := range firstPollNames {
		if name == norm {
			return FirstPollStrategy(i), nil
		}
	}
	return 0, fmt.Errorf("%w: first-poll strategy %q; use one of %s", ErrInvalidConfig, s, strings.Join(firstPollNames[:], ", "))
}

// DefaultCommitPeriod is how often a spout commits the acked prefix of its
// partitions. Storm commits every 30 s; squall every 5 s, like franz-go based
// consumers (Redpanda Connect's kafka_franz): after a crash everything acked
// since the last commit is read again, so a shorter period means fewer
// duplicates, the uncommitted-offset cap is reached less often, and the
// per-offset bookkeeping stays small. One OffsetCommit request per task every
// 5 s costs the broker nothing.
const DefaultCommitPeriod = 5 * time.Second

// DefaultMaxUncommitted is the spout's per-partition cap of uncommitted
// offsets. Storm's is 10,000,000; squall's is lower because the spout keeps
// every uncommitted offset in memory (and the record itself while it is in
// flight or waiting for a retry, instead of seeking back and re-reading):
// about 50 bytes per offset, so 5 MB per partition at the cap. A partition at
// the cap also triggers a commit at once, so the cap rarely stalls a healthy
// topology.
const DefaultMaxUncommitted = 100_000

// DefaultVersion is the Kafka protocol version the clients speak: 4.0, the
// first KRaft-only release. Brokers negotiate down per request.
var DefaultVersion = sarama.V4_0_0_0

// SpoutConfig configures a Kafka spout. Start from DefaultSpoutConfig: zero
// durations and sizes are rejected by Validate, not replaced by defaults.
type SpoutConfig struct {
	// Brokers are the bootstrap addresses (host:port). Required.
	Brokers []string
	// Topics are the topics to read. Required.
	Topics []string
	// GroupID is the consumer group. Empty: "squall.<topology>.<component>",
	// so every task of the spout is one member of the same group and the
	// group protocol spreads the partitions over them.
	GroupID string
	// TopologyID is written into every commit's metadata and decides, for
	// the Earliest and Latest strategies, whether a commit is "ours".
	// Empty: "<topology>@<deployment>", where the deployment token is made
	// by NewSpout — like Storm's topology id, it is new for every
	// deployment and shared by the tasks (and restarts) of one.
	TopologyID string
	// FirstPoll is where to start reading a partition. Default UncommittedEarliest.
	FirstPoll FirstPollStrategy
	// CommitPeriod is how often the acked prefix is committed. Commits also
	// happen on Deactivate, on revocation, on Close, and as soon as a
	// partition reaches Offsets.MaxUncommitted. Default DefaultCommitPeriod.
	CommitPeriod time.Duration
	// Offsets bounds uncommitted offsets per partition and sets the retry
	// backoff (Storm's defaults: 0, then 2 ms × 2^(n−1) capped at 10 s,
	// unlimited retries). Default MaxUncommitted: DefaultMaxUncommitted.
	Offsets Config
	// DeadLetterTopic receives records whose retries ran out or that the
	// translator could not decode, with headers saying where they came from
	// and why. Empty: they are emitted on DeadLetterStream instead (fields
	// DeadLetterFields); subscribe a bolt to it. Either way a dead-lettered
	// record is committed only once its dead letter was written (the topic
	// write confirmed, or the dead-letter tuple's tree acked), and counted.
	DeadLetterTopic string
	// Translator maps a record to a stream and values. Nil: DefaultTranslator.
	Translator RecordTranslator
	// Streams declares the fields of every stream Translator emits on.
	// Default: DefaultFields on the default stream.
	Streams map[topology.StreamID][]string
	// BufferSize is how many records wait between the consumer goroutines
	// and the task. Default 1024.
	BufferSize int
	// SessionTimeout, HeartbeatInterval and RebalanceTimeout are the
	// consumer group timeouts. Defaults 10 s, 1 s and 30 s: a member that
	// vanishes is replaced after 10 s, a rebalance is noticed within 1 s.
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	// RevokeDrainTimeout is how long a task whose partitions are revoked
	// (a rebalance) waits for the tuples it has in flight before it commits
	// and lets the partitions go; what is still in flight then is read again
	// by the next owner. It must stay well below RebalanceTimeout. 0 commits
	// at once, like Storm. Default 5 s.
	RevokeDrainTimeout time.Duration
	// MaxWait is the longest a fetch waits for data. Default 250 ms.
	MaxWait time.Duration
	// Version is the Kafka protocol version. Default DefaultVersion.
	Version sarama.KafkaVersion
	// ClientID names the clients to the broker. Empty: "squall".
	ClientID string
	// Tune, if set, adjusts the sarama configuration after squall filled it
	// in. The settings at-least-once depends on (manual commits, no
	// auto-commit, a safe producer for dead letters) are applied again
	// afterwards.
	Tune func(*sarama.Config)
	// Metrics, if set, receives the counters of every task of the spout.
	Metrics *SpoutMetrics
}

// DefaultSpoutConfig returns the defaults; set Brokers and Topics.
func DefaultSpoutConfig() SpoutConfig {
	off := DefaultConfig()
	off.MaxUncommitted = DefaultMaxUncommitted
	return SpoutConfig{
		FirstPoll:          UncommittedEarliest,
		CommitPeriod:       DefaultCommitPeriod,
		Offsets:            off,
		BufferSize:         1024,
		SessionTimeout:     10 * time.Second,
		HeartbeatInterval:  time.Second,
		RebalanceTimeout:   30 * time.Second,
		RevokeDrainTimeout: 5 * time.Second,
		MaxWait:            250 * time.Millisecond,
		Version:            DefaultVersion,
	}
}

// Validate reports every setting out of range, each wrapping ErrInvalidConfig.
func (c SpoutConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	errs = append(errs, validateBrokers(c.Brokers))
	if len(c.Topics) == 0 {
		bad("no topics to read; set Topics (or %s)", KeyInput)
	}
	for _, t := range c.Topics {
		if err := validateTopic(t); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DeadLetterTopic != "" {
		if err := validateTopic(c.DeadLetterTopic); err != nil {
			errs = append(errs, err)
		}
		if slices.Contains(c.Topics, c.DeadLetterTopic) {
			bad("dead-letter topic %q is also an input topic: dead letters would be read again", c.DeadLetterTopic)
		}
	}
	if c.FirstPoll < UncommittedEarliest || c.FirstPoll > UncommittedLatest {
		bad("FirstPoll is %v; use one of %s", c.FirstPoll, strings.Join(firstPollNames[:], ", "))
	}
	if err := c.Offsets.Validate(); err != nil {
		errs = append(errs, err)
	}
	positive := []struct {
		name string
		v    time.Duration
	}{
		{"CommitPeriod", c.CommitPeriod},
		{"SessionTimeout", c.SessionTimeout},
		{"HeartbeatInterval", c.HeartbeatInterval},
		{"RebalanceTimeout", c.RebalanceTimeout},
		{"MaxWait", c.MaxWait},
	}
	for _, d := range positive {
		if d.v <= 0 {
			bad("%s is %v; use a positive duration (start from DefaultSpoutConfig)", d.name, d.v)
		}
	}
	if c.HeartbeatInterval > 0 && c.SessionTimeout > 0 && c.HeartbeatInterval*3 > c.SessionTimeout {
		bad("HeartbeatInterval %v is above a third of SessionTimeout %v", c.HeartbeatInterval, c.SessionTimeout)
	}
	if c.RevokeDrainTimeout < 0 || c.RebalanceTimeout > 0 && c.RevokeDrainTimeout*2 > c.RebalanceTimeout {
		bad("RevokeDrainTimeout %v must be 0 or more and at most half of RebalanceTimeout %v", c.RevokeDrainTimeout, c.RebalanceTimeout)
	}
	if c.BufferSize < 1 {
		bad("BufferSize is %d; use 1 or more", c.BufferSize)
	}
	if !c.Version.IsAtLeast(sarama.V2_1_0_0) {
		bad("Version %v is too old; use 2.1.0 or newer (default %v)", c.Version, DefaultVersion)
	}
	if c.Translator != nil && len(c.Streams) == 0 {
		bad("a Translator needs Streams: the fields of every stream it emits on")
	}
	for s, fields := range c.Streams {
		switch {
		case s == "" || strings.HasPrefix(string(s), "__"):
			bad("stream %q is empty or reserved", s)
		case s == DeadLetterStream:
			bad("stream %q is the dead-letter stream; the spout declares it itself", s)
		case len(fields) == 0:
			bad("stream %q declares no fields", s)
		}
	}
	return errors.Join(errs...)
}

// BoltConfig configures a Kafka bolt. Start from DefaultBoltConfig.
type BoltConfig struct {
	// Brokers are the bootstrap addresses (host:port). Required.
	Brokers []string
	// Topic is where records go when TopicField does not name one. A tuple
	// with no topic at all is acked and skipped, like Storm's KafkaBolt.
	Topic string
	// TopicField, if set, is a tuple field holding the topic.
	TopicField string
	// KeyField and ValueField are the tuple fields of the record's key and
	// value. Defaults Storm's "key" and "message". A missing key field means
	// a nil key; strings, []byte and numbers (as decimal text) are accepted.
	KeyField   string
	ValueField string
	// Mapper, if set, maps a tuple to a record instead of the fields above.
	// An error fails the tuple (and is reported).
	Mapper TupleMapper
	// Version is the Kafka protocol version. Default DefaultVersion.
	Version sarama.KafkaVersion
	// ClientID names the producer to the broker. Empty: "squall".
	ClientID string
	// Tune, if set, adjusts the sarama configuration after squall filled it
	// in; idempotence, acks=all and one open request are applied again.
	Tune func(*sarama.Config)
	// Metrics, if set, receives the counters of every task of the bolt.
	Metrics *BoltMetrics
}

// DefaultBoltConfig returns the defaults; set Brokers and Topic (or TopicField).
func DefaultBoltConfig() BoltConfig {
	return BoltConfig{KeyField: "key", ValueField: "message", Version: DefaultVersion}
}

// Validate reports every setting out of range, each wrapping ErrInvalidConfig.
func (c BoltConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	errs = append(errs, validateBrokers(c.Brokers))
	if c.Topic != "" {
		if err := validateTopic(c.Topic); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Mapper == nil {
		if c.Topic == "" && c.TopicField == "" {
			bad("no destination: set Topic (or %s) or TopicField", KeyOutput)
		}
		if c.ValueField == "" {
			bad("ValueField is empty (Storm's default is %q)", "message")
		}
	}
	if !c.Version.IsAtLeast(sarama.V2_1_0_0) {
		bad("Version %v is too old; use 2.1.0 or newer (default %v)", c.Version, DefaultVersion)
	}
	return errors.Join(errs...)
}

func validateBrokers(brokers []string) error {
	if len(brokers) == 0 {
		return fmt.Errorf("%w: no brokers; set Brokers (or %s) to host:port addresses", ErrInvalidConfig, KeyBrokers)
	}
	for _, b := range brokers {
		host, port, err := net.SplitHostPort(b)
		if err != nil || host == "" {
			return fmt.Errorf("%w: broker %q: want host:port", ErrInvalidConfig, b)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: broker %q: port must be 1-65535", ErrInvalidConfig, b)
		}
	}
	return nil
}

// validateTopic applies Kafka's topic name rules: 1-249 characters of
// [a-zA-Z0-9._-], not "." or "..".
func validateTopic(t string) error {
	if t == "" || t == "." || t == ".." || len(t) > 249 {
		return fmt.Errorf("%w: topic %q: want 1-249 characters, not . or ..", ErrInvalidConfig, t)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%w: topic %q: %q is not allowed (use a-z, A-Z, 0-9, '.', '_', '-')", ErrInvalidConfig, t, r)
		}
	}
	return nil
}

// Topology configuration keys (set with `node run --set key=value`). Lists
// are comma-separated; durations are Go durations ("5s") or seconds ("5").
const (
	KeyBrokers          = "kafka.brokers"                 // bootstrap host:port list
	KeyInput            = "kafka.input"                   // topics the spout reads
	KeyOutput           = "kafka.output"                  // topic the bolt writes
	KeyGroup            = "kafka.group"                   // consumer group id
	KeyTopologyID       = "kafka.topology.id"             // commit metadata id
	KeyFirstPoll        = "kafka.first.poll.strategy"     // EARLIEST, LATEST, UNCOMMITTED_EARLIEST, UNCOMMITTED_LATEST
	KeyCommitPeriod     = "kafka.commit.period"           // duration
	KeyMaxUncommitted   = "kafka.max.uncommitted.offsets" // per partition
	KeyMaxRetries       = "kafka.retry.max"               // -1: unlimited
	KeyRetryInitial     = "kafka.retry.initial.delay"     // duration
	KeyRetryPeriod      = "kafka.retry.delay.period"      // duration
	KeyRetryMaxDelay    = "kafka.retry.max.delay"         // duration
	KeyDeadLetterTopic  = "kafka.dlq.topic"               // empty: the dlq stream
	KeyBoltKeyField     = "kafka.bolt.key.field"          // default key
	KeyBoltValueField   = "kafka.bolt.value.field"        // default message
	KeyBoltTopicField   = "kafka.bolt.topic.field"        // default none
	keyDurationExamples = "a duration like 5s or a number of seconds"
)

// SpoutConfigFrom returns DefaultSpoutConfig with the kafka.* keys of conf
// applied; the caller may adjust it further. It does not validate.
func SpoutConfigFrom(conf topology.Config) (SpoutConfig, error) {
	c := DefaultSpoutConfig()
	var errs []error
	c.Brokers = listConf(conf, KeyBrokers)
	c.Topics = listConf(conf, KeyInput)
	c.GroupID = conf.String(KeyGroup, "")
	c.TopologyID = conf.String(KeyTopologyID, "")
	c.DeadLetterTopic = conf.String(KeyDeadLetterTopic, "")
	if s := conf.String(KeyFirstPoll, ""); s != "" {
		fp, err := ParseFirstPollStrategy(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("config %s: %w", KeyFirstPoll, err))
		}
		c.FirstPoll = fp
	}
	durs := []struct {
		key string
		dst *time.Duration
	}{
		{KeyCommitPeriod, &c.CommitPeriod},
		{KeyRetryInitial, &c.Offsets.Retry.InitialDelay},
		{KeyRetryPeriod, &c.Offsets.Retry.DelayPeriod},
		{KeyRetryMaxDelay, &c.Offsets.Retry.MaxDelay},
	}
	for _, d := range durs {
		v, err := durationConf(conf, d.key, *d.dst)
		errs = append(errs, err)
		*d.dst = v
	}
	var err error
	c.Offsets.MaxUncommitted, err = conf.Int(KeyMaxUncommitted, c.Offsets.MaxUncommitted)
	errs = append(errs, err)
	c.Offsets.Retry.MaxRetries, err = conf.Int(KeyMaxRetries, c.Offsets.Retry.MaxRetries)
	errs = append(errs, err)
	return c, errors.Join(errs...)
}

// BoltConfigFrom returns DefaultBoltConfig with the kafka.* keys of conf
// applied. It does not validate.
func BoltConfigFrom(conf topology.Config) BoltConfig {
	c := DefaultBoltConfig()
	c.Brokers = listConf(conf, KeyBrokers)
	c.Topic = conf.String(KeyOutput, "")
	c.KeyField = conf.String(KeyBoltKeyField, c.KeyField)
	c.ValueField = conf.String(KeyBoltValueField, c.ValueField)
	c.TopicField = conf.String(KeyBoltTopicField, "")
	return c
}

func listConf(conf topology.Config, key string) []string {
	var out []string
	switch v := conf[key].(type) {
	case nil:
	case []string:
		out = slices.Clone(v)
	default:
		for _, s := range strings.Split(conf.String(key, ""), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// durationConf reads key of conf as a duration: a time.Duration, a Go
// duration string ("250ms"), or a number of seconds; def when it is unset.
func durationConf(conf topology.Config, key string, def time.Duration) (time.Duration, error) {
	v, ok := conf[key]
	if !ok || v == nil {
		return def, nil
	}
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if d, err := time.ParseDuration(s); err == nil {
			return d, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return time.Duration(f * float64(time.Second)), nil
		}
		return 0, fmt.Errorf("config %s: %q is not %s", key, s, keyDurationExamples)
	}
	d, err := conf.Seconds(key, def)
	if err != nil {
		return 0, fmt.Errorf("config %s: %v is not %s", key, v, keyDurationExamples)
	}
	return d, nil
}
