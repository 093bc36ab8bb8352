package kafka

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/topology"
)

// Bolt writes every tuple it receives to Kafka as one record (Storm's
// KafkaBolt with async=true, fireAndForget=false): through an idempotent
// producer that waits for every in-sync replica (acks=all), and acks the
// tuple only once the broker confirmed the write. A write the producer gives
// up on fails the tuple, so its tree replays from the spout. Build its
// factory with NewBolt.
//
// Execute never blocks: records queue for a feeder goroutine that owns the
// sarama producer, and confirmations come back through Context.Submit.
type Bolt struct {
	cfg     BoltConfig
	metrics *BoltMetrics

	tc   *topology.Context
	out  topology.OutputCollector
	log  *slog.Logger
	w    *writer
	warn throttle
}

var _ topology.Bolt = (*Bolt)(nil)

// NewBolt validates cfg and returns the factory of its tasks, for
// Builder.SetBolt.
func NewBolt(cfg BoltConfig) (func() topology.Bolt, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Brokers = slices.Clone(cfg.Brokers)
	if cfg.Metrics == nil {
		cfg.Metrics = new(BoltMetrics)
	}
	return func() topology.Bolt { return &Bolt{cfg: cfg, metrics: cfg.Metrics} }, nil
}

// Prepare starts the producer's goroutines; the connection is made (and
// retried) there, not here.
func (b *Bolt) Prepare(_ context.Context, tc *topology.Context, out topology.OutputCollector) error {
	b.tc, b.out = tc, out
	b.log = tc.Logger
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	conf := producerConfig(b.cfg.Version, cmp.Or(b.cfg.ClientID, "squall"), b.cfg.Tune)
	b.w = newWriter(b.cfg.Brokers, conf, tc.Submit, func(err error) {
		tc.Submit(func() { b.reportError(err) })
	})
	return nil
}

// Execute maps t to a record and queues it; t is acked or failed when the
// broker answers. Tick tuples are acked and ignored.
func (b *Bolt) Execute(t topology.Tuple) {
	if topology.IsTick(t) {
		b.out.Ack(t)
		return
	}
	rec, err := b.record(t)
	if err != nil {
		b.metrics.Failed.Add(1)
		b.out.Fail(t)
		b.reportError(fmt.Errorf("kafka bolt: tuple from %s: %w", topology.Describe(t), err))
		return
	}
	if rec.Topic == "" {
		b.metrics.Skipped.Add(1)
		b.out.Ack(t)
		return
	}
	m := &sarama.ProducerMessage{Topic: rec.Topic}
	if rec.Key != nil {
		m.Key = sarama.ByteEncoder(rec.Key)
	}
	if rec.Value != nil {
		m.Value = sarama.ByteEncoder(rec.Value)
	}
	for _, h := range rec.Headers {
		m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
	}
	b.w.Write(m, func(err error) {
		if err != nil {
			b.metrics.Failed.Add(1)
			b.out.Fail(t)
			b.reportError(fmt.Errorf("kafka bolt: write to %q: %w", rec.Topic, err))
			return
		}
		b.metrics.Written.Add(1)
		b.out.Ack(t)
	})
}

// record maps a tuple with the Mapper, or with the configured fields.
func (b *Bolt) record(t topology.Tuple) (rec Record, err error) {
	if b.cfg.Mapper != nil {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("mapper panicked: %v", r)
			}
		}()
		rec, err = b.cfg.Mapper(t)
		if rec.Topic == "" {
			rec.Topic = b.cfg.Topic
		}
		return rec, err
	}
	return MapFields(t, b.cfg.Topic, b.cfg.TopicField, b.cfg.KeyField, b.cfg.ValueField)
}

// MapFields is the Kafka bolt's default mapping: the record's key and value
// are the tuple's keyField and valueField, its topic topicField when the
// tuple has a non-empty one, else topic. A missing key field is a nil key;
// a missing value field is an error.
func MapFields(t topology.Tuple, topic, topicField, keyField, valueField string) (Record, error) {
	rec := Record{Topic: topic}
	if topicField != "" {
		if v, ok := topology.Value(t, topicField).(string); ok && v != "" {
			rec.Topic = v
		}
	}
	if t.Fields().Index(valueField) < 0 {
		return Record{}, fmt.Errorf("no field %q (the tuple has %v)", valueField, []string(t.Fields()))
	}
	var err error
	if rec.Value, err = fieldBytes(topology.Value(t, valueField)); err != nil {
		return Record{}, fmt.Errorf("field %q: %w", valueField, err)
	}
	if keyField != "" {
		if rec.Key, err = fieldBytes(topology.Value(t, keyField)); err != nil {
			return Record{}, fmt.Errorf("field %q: %w", keyField, err)
		}
	}
	return rec, nil
}

// Cleanup closes the producer, which flushes the records it holds. Tuples
// whose confirmation arrives after the task stopped are not acked: they
// replay.
func (b *Bolt) Cleanup() error {
	if b.w != nil {
		b.w.Close()
		b.w = nil
	}
	return nil
}

func (b *Bolt) reportError(err error) {
	b.out.ReportError(err)
	if ok, suppressed := b.warn.allow(time.Now()); ok {
		b.log.Warn(err.Error(), "not_logged", suppressed)
	}
}
