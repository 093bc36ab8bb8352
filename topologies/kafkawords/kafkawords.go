// Package kafkawords holds the Kafka word counts the node binary registers
// (package topologies):
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
// kafka/embedded), owned by the Job (Close stops it), seed the input with
// generated text and print the top words when stopped: for trying them out
// under node run only (a cluster build without brokers is refused, see
// package topologies).
package kafkawords

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topologies/wordcount"
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

// KafkaKeys are the kafka.* keys of package kafka that its spout and bolt
// read (kafka.SpoutConfigFrom, kafka.BoltConfigFrom).
var KafkaKeys = []string{
	kafka.KeyTransactionTimeout, kafka.KeyBrokers, kafka.KeyInput, kafka.KeyOutput, kafka.KeyGroup, kafka.KeyTopologyID, kafka.KeyFirstPoll,
	kafka.KeyCommitPeriod, kafka.KeyMaxUncommitted, kafka.KeyMaxRetries, kafka.KeyRetryInitial, kafka.KeyRetryPeriod,
	kafka.KeyRetryMaxDelay, kafka.KeyDeadLetterTopic, kafka.KeyBoltKeyField, kafka.KeyBoltValueField, kafka.KeyBoltTopicField,
}

// Keys are the configuration keys kafka-wordcount and kafka-words read
// (besides topology.* and squall.*): a registered topology's
// nodecmd.Topology.Keys.
var Keys = append([]string{KeySeedLines, KeySpouts, KeyBolts}, KafkaKeys...)

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
	// TxBolt counts the transactional bolt's work, under
	// squall.guarantee=exactly-once (Bolt stays zero then).
	TxBolt *kafka.TxBoltMetrics
	// ExactlyOnce: the checkpointed spout, keyed counts and the
	// transactional bolt.
	ExactlyOnce bool
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
	job := &Job{kind: name, Spout: new(kafka.SpoutMetrics), Bolt: new(kafka.BoltMetrics), TxBolt: new(kafka.TxBoltMetrics)}
	if g, err := conf.Guarantee(); err == nil && g == topology.ExactlyOnce {
		job.ExactlyOnce = true
	}
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
			if err := kafka.Produce(context.Background(), b.Brokers(), recs); err != nil {
				b.Close()
				return nil, err
			}
			fmt.Fprintf(log, "%s: wrote %d generated lines to %q\n", name, seed, job.Input)
		}
	}
	job.Brokers = sc.Brokers
	sc.Metrics, bc.Metrics = job.Spout, job.Bolt
	job.Topology, err = topologyOf(name, conf, sc, bc, spouts, bolts, job)
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

func topologyOf(name string, conf topology.Config, sc kafka.SpoutConfig, bc kafka.BoltConfig, spouts, bolts int, job *Job) (*topology.Topology, error) {
	spout, bolt, err := connectors(conf, sc, bc, job)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	b := topology.NewBuilder(name)
	b.SetSpout("lines", spout, spouts)
	if name == WordCountName {
		b.SetBasicBolt("split", func() topology.BasicBolt { return topology.BoltFunc(split) }, bolts).
			ShuffleGrouping("lines").Output("word")
		count := func() topology.Bolt { return &wordcount.CountBolt{Emit: true} }
		if job.ExactlyOnce {
			count = func() topology.Bolt { return &keyedCount{} }
		}
		b.SetBolt("count", count, bolts).FieldsGrouping("split", "word").Output("key", "message")
		// Grouped by word, so one word's updates reach the topic in order.
		b.SetBolt("out", bolt, bolts).FieldsGrouping("count", "key")
	} else {
		b.SetBasicBolt("words", func() topology.BasicBolt { return topology.BoltFunc(words) }, bolts).
			ShuffleGrouping("lines").Output("key", "message")
		b.SetBolt("out", bolt, bolts).ShuffleGrouping("words")
	}
	return b.Build(conf)
}

// connectors are the Kafka spout and bolt of the topology's guarantee:
// under exactly-once the checkpointed spout and the transactional bolt
// (read its output with isolation.level=read_committed).
func connectors(conf topology.Config, sc kafka.SpoutConfig, bc kafka.BoltConfig, job *Job) (spout func() topology.Spout, bolt func() topology.Bolt, err error) {
	if !job.ExactlyOnce {
		if spout, err = kafka.NewSpout(sc); err != nil {
			return nil, nil, fmt.Errorf("kafka spout: %w", err)
		}
		if bolt, err = kafka.NewBolt(bc); err != nil {
			return nil, nil, fmt.Errorf("kafka bolt: %w", err)
		}
		return spout, bolt, nil
	}
	if spout, err = kafka.NewCheckpointedSpout(sc); err != nil {
		return nil, nil, fmt.Errorf("kafka checkpointed spout: %w", err)
	}
	tc, err := kafka.TxBoltConfigFrom(conf)
	if err != nil {
		return nil, nil, err
	}
	tc.Brokers, tc.Topic, tc.Metrics = bc.Brokers, bc.Topic, job.TxBolt
	if bolt, err = kafka.NewTransactionalBolt(tc); err != nil {
		return nil, nil, fmt.Errorf("kafka transactional bolt: %w", err)
	}
	return spout, bolt, nil
}

// keyedCount is kafka-wordcount's count under exactly-once: each word's
// count is keyed state, checkpointed and restored with the topology, and
// every update is emitted as (word, count).
type keyedCount struct {
	out   topology.OutputCollector
	count *state.Value[int64]
}

func (b *keyedCount) DeclareState() topology.State { return topology.State{Keyed: []string{"count"}} }

func (b *keyedCount) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	st, err := state.Of(tc)
	if err != nil {
		return err
	}
	b.out = c
	b.count, err = state.NewValue(st, "count", state.Int64)
	return err
}

func (b *keyedCount) Execute(t topology.Tuple) {
	n, _, err := b.count.Get()
	if err == nil {
		err = b.count.Set(n + 1)
	}
	if err != nil {
		b.out.ReportError(err)
		b.out.Fail(t) // exactly-once: every task rolls back; nothing is lost
		return
	}
	b.out.Emit(topology.Values{topology.String(t, "word"), strconv.FormatInt(n+1, 10)}, t)
	b.out.Ack(t)
}

func (b *keyedCount) Cleanup() error { return nil }

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

// Summary writes the spout's and bolt's counters and, with an embedded
// broker, the top words of the output topic.
func (j *Job) Summary(ctx context.Context, w io.Writer, elapsed time.Duration) error {
	s, b := j.Spout.Snapshot(), j.Bolt.Snapshot()
	if j.ExactlyOnce {
		tx := j.TxBolt.Snapshot()
		fmt.Fprintf(w, "%s: exactly-once: %d records read; %d records written in %d committed transactions (%d recommitted, %d lost) in %.1fs\n",
			j.kind, s.Emitted, tx.Written, tx.Committed, tx.Recommitted, tx.Lost, elapsed.Seconds())
	} else {
		fmt.Fprintf(w, "%s: %d records read, %d acked, %d retried, %d dead-lettered, %d commits; %d records written in %.1fs\n",
			j.kind, s.Emitted, s.Acked, s.Retried, s.DeadLettered, s.Commits, b.Written, elapsed.Seconds())
	}
	if j.Embedded == nil {
		return nil
	}
	if j.ExactlyOnce {
		// ReadTopic reads up to the high watermark, which transaction
		// markers keep beyond the last record.
		fmt.Fprintf(w, "read %q with isolation.level=read_committed to see what was committed\n", j.Output)
		return nil
	}
	recs, err := kafka.ReadTopic(ctx, j.Brokers, j.Output)
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
