package kafka

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/topology"
)

// DefaultTransactionTimeout is the transactional bolt's Kafka transaction
// timeout: sarama's default, not Flink's 1 h (above the broker's default
// transaction.max.timeout.ms of 15 min, so InitProducerId fails out of the
// box) nor Kafka Streams' 10 s (too short for squall's failure detection
// plus a restore). A transaction must outlive its checkpoint, the
// tolerated failed checkpoints before it and a restore: the broker aborts
// one that is older than this, and if its checkpoint completed, its
// records are lost (ErrTransactionLost).
const DefaultTransactionTimeout = 60 * time.Second

// MaxTolerableFailures bounds TxBoltConfig.TolerableFailures: every
// tolerated failure is one more transactional producer per task.
const MaxTolerableFailures = 64

// KeyTransactionTimeout is the topology configuration key of
// TxBoltConfig.TransactionTimeout (a duration like 60s, or seconds).
const KeyTransactionTimeout = "kafka.transaction.timeout"

// TxBoltConfig configures a transactional Kafka bolt (NewTransactionalBolt).
// Start from DefaultTxBoltConfig: zero durations are rejected by Validate,
// not replaced by defaults. The record mapping (Topic, TopicField,
// KeyField, ValueField, Mapper) is the Kafka bolt's (BoltConfig).
type TxBoltConfig struct {
	// Brokers are the bootstrap addresses (host:port). Required.
	Brokers []string
	// Topic is where records go when TopicField does not name one. A tuple
	// with no topic at all is skipped.
	Topic string
	// TopicField, if set, is a tuple field holding the topic.
	TopicField string
	// KeyField and ValueField are the tuple fields of the record's key and
	// value. Defaults Storm's "key" and "message".
	KeyField   string
	ValueField string
	// Mapper, if set, maps a tuple to a record instead of the fields above.
	Mapper TupleMapper
	// TransactionalIDPrefix replaces "squall.<topology>.<component>" in the
	// transactional ids <prefix>.<task index>.<slot>. It must be unique per
	// topology on the Kafka cluster: two topologies sharing ids fence each
	// other (Flink's FLINK-11654). Empty: the default, which the topology
	// name makes unique.
	TransactionalIDPrefix string
	// TolerableFailures is the checkpoint configuration's tolerable failed
	// checkpoints in a row (checkpoint.tolerable.failures). Each task keeps
	// a ring of TolerableFailures + 2 transactional ids: one open, one per
	// aborted checkpoint still pending, one for the checkpoint in flight.
	// Default 0.
	TolerableFailures int
	// TransactionTimeout is the Kafka transaction timeout
	// (transaction.timeout.ms, kafka.transaction.timeout). At least 1 s,
	// above FlushTimeout, and at most the broker's
	// transaction.max.timeout.ms (15 min unless the broker says otherwise;
	// Recover reports the broker's value when it refuses). Default
	// DefaultTransactionTimeout.
	TransactionTimeout time.Duration
	// FlushTimeout bounds PreCommit's wait for the broker to acknowledge
	// every record of the open transaction; past it the checkpoint is
	// declined. Default 30 s (the checkpoint timeout).
	FlushTimeout time.Duration
	// CommitTimeout bounds the raw commit of one transaction (Recover's
	// recommit, and Commit's after an indefinite error): EndTxn is retried
	// while the answer is retriable, until it is definite or this passes.
	// Default 30 s.
	CommitTimeout time.Duration
	// Version is the Kafka protocol version: 3.0 or newer
	// (DescribeTransactions). Default DefaultVersion.
	Version sarama.KafkaVersion
	// ClientID names the producers to the broker. Empty: "squall".
	ClientID string
	// Tune, if set, adjusts the sarama configuration of every client of the
	// bolt (the producers and the one Recover makes for raw requests) after
	// squall filled it in; the transactional settings (id, timeout,
	// idempotence, acks=all, one open request) are applied again afterwards.
	Tune func(*sarama.Config)
	// Metrics, if set, receives the counters of every task of the bolt.
	Metrics *TxBoltMetrics
}

// DefaultTxBoltConfig returns the defaults; set Brokers and Topic (or
// TopicField).
func DefaultTxBoltConfig() TxBoltConfig {
	return TxBoltConfig{
		KeyField:           "key",
		ValueField:         "message",
		TransactionTimeout: DefaultTransactionTimeout,
		FlushTimeout:       30 * time.Second,
		CommitTimeout:      30 * time.Second,
		Version:            DefaultVersion,
	}
}

// TxBoltConfigFrom returns DefaultTxBoltConfig with the kafka.* keys of
// conf applied (those of BoltConfigFrom, and kafka.transaction.timeout).
// It does not validate.
func TxBoltConfigFrom(conf topology.Config) (TxBoltConfig, error) {
	bc := BoltConfigFrom(conf)
	c := DefaultTxBoltConfig()
	c.Brokers, c.Topic, c.TopicField = bc.Brokers, bc.Topic, bc.TopicField
	c.KeyField, c.ValueField = bc.KeyField, bc.ValueField
	var err error
	c.TransactionTimeout, err = durationConf(conf, KeyTransactionTimeout, c.TransactionTimeout)
	return c, err
}

// boltConfig is the part of c the Kafka bolt shares.
func (c TxBoltConfig) boltConfig() BoltConfig {
	return BoltConfig{
		Brokers: c.Brokers, Topic: c.Topic, TopicField: c.TopicField,
		KeyField: c.KeyField, ValueField: c.ValueField, Mapper: c.Mapper,
		Version: c.Version, ClientID: c.ClientID, Tune: c.Tune,
	}
}

// Validate reports every setting out of range, each wrapping
// ErrInvalidConfig and naming the field.
func (c TxBoltConfig) Validate() error {
	errs := []error{c.boltConfig().Validate()}
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Version.IsAtLeast(sarama.V2_1_0_0) && !c.Version.IsAtLeast(sarama.V3_0_0_0) {
		bad("Version %v is too old for the transactional bolt; use 3.0.0 or newer (it reads producer ids with DescribeTransactions; default %v)", c.Version, DefaultVersion)
	}
	switch t := c.TransactionTimeout; {
	case t < time.Second:
		bad("TransactionTimeout is %v; use 1s or more (default %v): the broker aborts a transaction older than this", t, DefaultTransactionTimeout)
	case t.Milliseconds() > math.MaxInt32:
		bad("TransactionTimeout is %v; Kafka takes at most %v (and its brokers 15m unless transaction.max.timeout.ms says more)", t, time.Duration(math.MaxInt32)*time.Millisecond)
	case c.FlushTimeout > 0 && t <= c.FlushTimeout:
		bad("TransactionTimeout %v must be above FlushTimeout %v: a transaction must outlive its pre-commit", t, c.FlushTimeout)
	}
	if c.FlushTimeout <= 0 {
		bad("FlushTimeout is %v; use a positive duration (start from DefaultTxBoltConfig)", c.FlushTimeout)
	}
	if c.CommitTimeout <= 0 {
		bad("CommitTimeout is %v; use a positive duration (start from DefaultTxBoltConfig)", c.CommitTimeout)
	}
	if c.TolerableFailures < 0 || c.TolerableFailures > MaxTolerableFailures {
		bad("TolerableFailures is %d; use 0 to %d (each is one more transactional producer per task)", c.TolerableFailures, MaxTolerableFailures)
	}
	if p := c.TransactionalIDPrefix; p != "" {
		if strings.TrimSpace(p) != p || len(p) > 200 || strings.ContainsFunc(p, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
			bad("TransactionalIDPrefix %q: use up to 200 printable characters without spaces", p)
		}
	}
	return errors.Join(errs...)
}

// transactionalIDs are the ids of a task's ring: <prefix>.<task>.<slot>.
func transactionalIDs(prefix string, task, slots int) []string {
	ids := make([]string, slots)
	for s := range ids {
		ids[s] = fmt.Sprintf("%s.%d.%d", prefix, task, s)
	}
	return ids
}

// txProducerConfig is producerConfig with a transactional id: sarama's
// transactional producer needs idempotence, acks=all, one open request and
// retries, all of which producerConfig applies after Tune.
func txProducerConfig(c TxBoltConfig, id string) *sarama.Config {
	sc := producerConfig(c.Version, clientID(c.ClientID), c.Tune)
	sc.Producer.Transaction.ID = id
	sc.Producer.Transaction.Timeout = c.TransactionTimeout
	return sc
}

// adminClientConfig is the configuration of the bolt's plain client: the
// raw EndTxn and DescribeTransactions requests, DescribeConfigs. Tune
// adjusts it too.
func adminClientConfig(c TxBoltConfig) *sarama.Config {
	sc := sarama.NewConfig()
	sc.ClientID = clientID(c.ClientID)
	sc.Version = c.Version
	sc.Metadata.Full = false
	sc.Net.DialTimeout = 10 * time.Second
	if c.Tune != nil {
		c.Tune(sc) // TLS, SASL and timeouts apply to this client too
	}
	sc.Metadata.Full = false
	return sc
}

func clientID(id string) string {
	if id == "" {
		return "squall"
	}
	return id
}
