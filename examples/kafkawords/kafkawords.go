// Package kafkawords holds the Kafka word counts that cmd/node registers:
//
//	node run kafka-wordcount --set kafka.brokers=HOST:PORT --set kafka.input=TOPIC --set kafka.output=TOPIC
//	node run kafka-words     --set kafka.brokers=HOST:PORT --set kafka.input=TOPIC --set kafka.output=TOPIC
//
// kafka-wordcount reads lines from the input topic, splits them into words
// (wordcount.Words: maximal runs of Unicode letters or digits, lowercased),
// counts them with a fields grouping on the word and writes every update to
// the output topic as key = word, value = the decimal running count. A
// word's final count is its largest value in the output topic. Processing is
// at-least-once: a line replayed after a failure is counted again, so a
// count can exceed the true one, never fall short of it.
//
// kafka-words is the stateless variant for auditing an at-least-once run
// record by record: for every word it writes key = word, value =
// "<input partition>:<input offset>:<position of the word in the line>".
//
// Without kafka.brokers both start an embedded in-memory broker (package
// kafka/embedded), seed the input with generated text and print the top
// words when stopped: for trying them out only.
package kafkawords

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/examples/wordcount/wordcount"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/topology"
)

// Registered names.
const (
	WordCountName = "kafka-wordcount"
	WordsName     = "kafka-words"
)

// Configuration keys besides the kafka.* keys of package kafka.
const (
	KeySeedLines = "kafka.seed.lines"        // lines written to the input of an embedded broker (default 10000)
	KeySpouts    = "kafka.spout.parallelism" // spout tasks (default 2)
	KeyBolts     = "kafka.bolt.parallelism"  // split/count/words and Kafka bolt tasks (default 2)
)

// Default topics when kafka.input or kafka.output is not set.
const (
	DefaultInput          = "lines"
	DefaultWordCountTopic = "word-counts"
	DefaultWordsTopic     = "words"
)

// Job is a built Kafka topology and what it runs against.
type Job struct {
	Topology *topology.Topology
	Brokers  []string
	Input    string
	Output   string
	Spout    *kafka.SpoutMetrics
	Bolt     *kafka.BoltMetrics
	// Embedded is the in-memory broker started because kafka.brokers was
	// empty; nil otherwise. Close stops it.
	Embedded *embedded.Broker
	kind     string
}

// Close stops the embedded broker, if one was started. Call it after the
// topology stopped.
func (j *Job) Close() {
	if j.Embedded != nil {
		j.Embedded.Close()
	}
}

// WordCount builds kafka-wordcount from conf. log receives a note when an
// embedded broker is started.
func WordCount(conf topology.Config, log io.Writer) (*Job, error) {
	return build(WordCountName, DefaultWordCountTopic, conf, log)
}

// Words builds kafka-words from conf.
func Words(conf topology.Config, log io.Writer) (*Job, error) {
	return build(WordsName, DefaultWordsTopic, conf, log)
}

func build(name, defaultOutput string, conf topology.Config, log io.Writer) (*Job, error) {
	conf = conf.Merge(nil)
	if conf.String(kafka.KeyInput, "") == "" {
		conf[kafka.KeyInput] = DefaultInput
	}
	if conf.String(kafka.KeyOutput, "") == "" {
		conf[kafka.KeyOutput] = defaultOutput
	}
	spouts, err := conf.Int(KeySpouts, 2)
	if err != nil {
		return nil, err
	}
	bolts, err := conf.Int(KeyBolts, 2)
	if err != nil {
		return nil, err
	}
	seed, err := conf.Int(KeySeedLines, 10000)
	if err != nil {
		return nil, err
	}
	job := &Job{kind: name, Spout: new(kafka.SpoutMetrics), Bolt: new(kafka.BoltMetrics)}
	sc, err := kafka.SpoutConfigFrom(conf)
	if err != nil {
		return nil, err
	}
	bc := kafka.BoltConfigFrom(conf)
	if len(sc.Topics) != 1 {
		return nil, fmt.Errorf("config %s: name one input topic, not %v", kafka.KeyInput, sc.Topics)
	}
	job.Input, job.Output = sc.Topics[0], bc.Topic
	if len(sc.Brokers) == 0 {
		b, err := StartEmbedded(log, job.Input, job.Output)
		if err != nil {
			return nil, err
		}
		job.Embedded = b
		sc.Brokers, bc.Brokers = b.Brokers(), b.Brokers()
		if seed > 0 {
			lines := wordcount.GenerateLines(seed, 42)
			recs := make([]kafka.Record, len(lines))
			for i, l := range lines {
				recs[i] = kafka.Record{Topic: job.Input, Value: []byte(l)}
			}
			if err := Produce(context.Background(), b.Brokers(), recs); err != nil {
				b.Close()
				return nil, err
			}
			fmt.Fprintf(log, "%s: wrote %d generated lines to %q\n", name, seed, job.Input)
		}
	}
	job.Brokers = sc.Brokers
	sc.Metrics, bc.Metrics = job.Spout, job.Bolt
	job.Topology, err = topologyOf(name, conf, sc, bc, spouts, bolts)
	if err != nil {
		job.Close()
		return nil, err
	}
	return job, nil
}

// StartEmbedded starts an in-memory broker with topics (4 partitions each)
// and says so on log.
func StartEmbedded(log io.Writer, topics ...string) (*embedded.Broker, error) {
	b, err := embedded.Start(embedded.Topics(4, topics...))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "kafka.brokers is empty: started an embedded in-memory Kafka broker at %s "+
		"(for trying things out only: its data is lost when the node stops)\n", b.Addr())
	return b, nil
}

func topologyOf(name string, conf topology.Config, sc kafka.SpoutConfig, bc kafka.BoltConfig, spouts, bolts int) (*topology.Topology, error) {
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		return nil, fmt.Errorf("%s: kafka spout: %w", name, err)
	}
	bolt, err := kafka.NewBolt(bc)
	if err != nil {
		return nil, fmt.Errorf("%s: kafka bolt: %w", name, err)
	}
	b := topology.NewBuilder(name)
	b.SetSpout("lines", spout, spouts)
	if name == WordCountName {
		b.SetBasicBolt("split", func() topology.BasicBolt { return topology.BoltFunc(split) }, bolts).
			ShuffleGrouping("lines").Output("word")
		b.SetBolt("count", func() topology.Bolt { return &CountBolt{Field: "word"} }, bolts).
			FieldsGrouping("split", "word").Output("key", "message")
		// Grouped by word, so one word's updates reach the topic in order.
		b.SetBolt("out", bolt, bolts).FieldsGrouping("count", "key")
	} else {
		b.SetBasicBolt("words", func() topology.BasicBolt { return topology.BoltFunc(words) }, bolts).
			ShuffleGrouping("lines").Output("key", "message")
		b.SetBolt("out", bolt, bolts).ShuffleGrouping("words")
	}
	return b.Build(conf)
}

// split emits every word of a line.
func split(t topology.Tuple, c topology.BasicCollector) error {
	v, _ := topology.Bytes(t, "value")
	for _, w := range wordcount.Words(string(v)) {
		c.Emit(topology.Values{w})
	}
	return nil
}

// words emits (word, "partition:offset:position") for every word of a line.
func words(t topology.Tuple, c topology.BasicCollector) error {
	v, _ := topology.Bytes(t, "value")
	p, _ := topology.Int64(t, "partition")
	off, _ := topology.Int64(t, "offset")
	prefix := strconv.FormatInt(p, 10) + ":" + strconv.FormatInt(off, 10) + ":"
	for i, w := range wordcount.Words(string(v)) {
		c.Emit(topology.Values{w, prefix + strconv.Itoa(i)})
	}
	return nil
}

// CountBolt keeps a running count per value of Field and emits
// (Prefix+value, decimal count) on every update, anchored to the input.
type CountBolt struct {
	Field, Prefix string
	out           topology.OutputCollector
	counts        map[string]int64
}

// Prepare implements topology.Bolt.
func (b *CountBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out, b.counts = c, map[string]int64{}
	return nil
}

// Execute implements topology.Bolt.
func (b *CountBolt) Execute(t topology.Tuple) {
	k := topology.String(t, b.Field)
	b.counts[k]++
	b.out.Emit(topology.Values{b.Prefix + k, strconv.FormatInt(b.counts[k], 10)}, t)
	b.out.Ack(t)
}

// Cleanup implements topology.Bolt.
func (b *CountBolt) Cleanup() error { return nil }

// Summary writes the spout's and bolt's counters and, with an embedded
// broker, the top words of the output topic.
func (j *Job) Summary(ctx context.Context, w io.Writer, elapsed time.Duration) error {
	s, b := j.Spout.Snapshot(), j.Bolt.Snapshot()
	fmt.Fprintf(w, "%s: %d records read, %d acked, %d retried, %d dead-lettered, %d commits; %d records written in %.1fs\n",
		j.kind, s.Emitted, s.Acked, s.Retried, s.DeadLettered, s.Commits, b.Written, elapsed.Seconds())
	if j.Embedded == nil {
		return nil
	}
	recs, err := ReadTopic(ctx, j.Brokers, j.Output)
	if err != nil {
		return err
	}
	counts := map[string]int64{}
	for _, r := range recs {
		if j.kind == WordCountName {
			n, _ := strconv.ParseInt(string(r.Value), 10, 64)
			counts[string(r.Key)] = max(counts[string(r.Key)], n)
		} else {
			counts[string(r.Key)]++
		}
	}
	fmt.Fprintf(w, "top words in %q:\n", j.Output)
	for _, kv := range Top(counts, 10) {
		fmt.Fprintf(w, "  %-12s %d\n", kv.Key, kv.N)
	}
	return nil
}

// KeyCount is one entry of Top.
type KeyCount struct {
	Key string
	N   int64
}

// Top returns the n largest counts, largest first, ties by key.
func Top(counts map[string]int64, n int) []KeyCount {
	out := make([]KeyCount, 0, len(counts))
	for k, v := range counts {
		out = append(out, KeyCount{k, v})
	}
	slices.SortFunc(out, func(a, b KeyCount) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key)) })
	return out[:min(n, len(out))]
}

func clientConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = kafka.DefaultVersion
	c.ClientID = "squall-example"
	c.Metadata.Full = false
	return c
}

// Producer writes records with an idempotent producer that waits for every
// in-sync replica.
type Producer struct {
	client sarama.Client
	p      sarama.SyncProducer
}

// NewProducer connects a producer to brokers.
func NewProducer(brokers []string) (*Producer, error) {
	c := clientConfig()
	c.Producer.Idempotent = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Net.MaxOpenRequests = 1
	c.Producer.Retry.Max = 10
	c.Producer.Return.Successes = true
	client, err := sarama.NewClient(brokers, c)
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	// From a client we close on failure: sarama's NewSyncProducer leaks it.
	p, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("producer: %w", err)
	}
	return &Producer{client: client, p: p}, nil
}

// Send writes records (Topic, Key, Value) in batches and returns once the
// broker confirmed all of them, or ctx is done between batches.
func (p *Producer) Send(ctx context.Context, recs []kafka.Record) error {
	for chunk := range slices.Chunk(recs, 1000) {
		if err := ctx.Err(); err != nil {
			return err
		}
		msgs := make([]*sarama.ProducerMessage, len(chunk))
		for i, r := range chunk {
			m := &sarama.ProducerMessage{Topic: r.Topic}
			if r.Key != nil {
				m.Key = sarama.ByteEncoder(r.Key)
			}
			if r.Value != nil {
				m.Value = sarama.ByteEncoder(r.Value)
			}
			msgs[i] = m
		}
		if err := p.p.SendMessages(msgs); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	return nil
}

// Close closes the producer.
func (p *Producer) Close() error { return cmp.Or(p.p.Close(), p.client.Close()) }

// Produce writes records with a producer of its own; see Producer.Send.
func Produce(ctx context.Context, brokers []string, recs []kafka.Record) error {
	p, err := NewProducer(brokers)
	if err != nil {
		return err
	}
	return cmp.Or(p.Send(ctx, recs), p.Close())
}

// ReadTopic reads every record of topic up to its end when called.
func ReadTopic(ctx context.Context, brokers []string, topic string) ([]kafka.Record, error) {
	cfg := clientConfig()
	cfg.Consumer.Return.Errors = true // a read that cannot succeed says why
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, err
	}
	var out []kafka.Record
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
			return nil, err
		}
		var lastErr error // sarama reports errors it retries itself too
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				out = append(out, kafka.Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Timestamp})
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
