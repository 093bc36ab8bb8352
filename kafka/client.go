package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/IBM/sarama"
)

// Producer writes records outside a topology — to seed an input topic, in
// a demo or a test — with the Kafka bolt's producer settings (idempotent,
// every in-sync replica acknowledges). Send waits for the broker's
// confirmation; for writes from a topology use the Kafka bolt. A Producer
// is not safe for concurrent Sends.
type Producer struct {
	client sarama.Client
	p      sarama.SyncProducer
}

// NewProducer connects a producer to brokers.
func NewProducer(brokers []string) (*Producer, error) {
	conf := producerConfig(DefaultVersion, "squall-client", func(c *sarama.Config) {
		c.Producer.Flush.Messages = 1000 // Send hands over batches of up to 1000
		c.Producer.Flush.Frequency = 5 * time.Millisecond
	})
	client, err := sarama.NewClient(brokers, conf)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: connect to %v: %w", brokers, err)
	}
	// From a client we close on failure: sarama's NewSyncProducer leaks
	// the client it makes when the producer cannot be made (as in the
	// writer's connect).
	p, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return &Producer{client: client, p: p}, nil
}

// Send writes records (their Topic, Key, Value and Headers) in batches and
// returns once the broker confirmed all of them, or ctx is done between
// batches.
func (p *Producer) Send(ctx context.Context, recs []Record) error {
	for chunk := range slices.Chunk(recs, 1000) {
		if err := ctx.Err(); err != nil {
			return err
		}
		msgs := make([]*sarama.ProducerMessage, len(chunk))
		for i, r := range chunk {
			msgs[i] = producerMessage(r)
		}
		if err := p.p.SendMessages(msgs); err != nil {
			return fmt.Errorf("kafka producer: %w", err)
		}
	}
	return nil
}

func producerMessage(r Record) *sarama.ProducerMessage {
	m := &sarama.ProducerMessage{Topic: r.Topic}
	if r.Key != nil {
		m.Key = sarama.ByteEncoder(r.Key)
	}
	if r.Value != nil {
		m.Value = sarama.ByteEncoder(r.Value)
	}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
	}
	return m
}

// Close closes the producer and its connections.
func (p *Producer) Close() error { return cmp.Or(p.p.Close(), p.client.Close()) }

// Produce writes records with a producer of its own; see Producer.Send.
func Produce(ctx context.Context, brokers []string, recs []Record) error {
	p, err := NewProducer(brokers)
	if err != nil {
		return err
	}
	return cmp.Or(p.Send(ctx, recs), p.Close())
}

// ReadTopic reads every record of topic, each partition from its log start
// to its end when called (records written meanwhile are not read), in
// partition then offset order. It returns ctx's error, with the last fetch
// error when there was one, if ctx is done first.
func ReadTopic(ctx context.Context, brokers []string, topic string) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conf := sarama.NewConfig()
	conf.Version = DefaultVersion
	conf.ClientID = "squall-client"
	conf.Metadata.Full = false
	conf.Consumer.Return.Errors = true // a read that cannot succeed says why
	client, err := sarama.NewClient(brokers, conf)
	if err != nil {
		return nil, fmt.Errorf("read %s: connect to %v: %w", topic, brokers, err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", topic, err)
	}
	var out []Record
	for _, p := range parts {
		start, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, err
		}
		end, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, err
		}
		if start >= end {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, start)
		if err != nil {
			return nil, fmt.Errorf("read %s partition %d: %w", topic, p, err)
		}
		var lastErr error // sarama reports errors it retries itself too
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				r := Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Timestamp}
				for _, h := range m.Headers {
					r.Headers = append(r.Headers, Header{Key: string(h.Key), Value: h.Value})
				}
				out = append(out, r)
				done = m.Offset >= end-1
			case err := <-pc.Errors():
				if errors.Is(err, sarama.ErrOffsetOutOfRange) { // the partition consumer gives up
					_ = pc.Close()
					return nil, fmt.Errorf("read %s partition %d: %w", topic, p, err)
				}
				lastErr = err
			case <-ctx.Done():
				_ = pc.Close()
				if lastErr != nil {
					return nil, fmt.Errorf("read %s partition %d: %w (last fetch error: %v)", topic, p, ctx.Err(), lastErr)
				}
				return nil, ctx.Err()
			}
		}
		// Every record up to end is read: an error from a fetch beyond it
		// does not matter. Close drains Messages and Errors.
		_ = pc.Close()
	}
	return out, nil
}
