package kafka_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/topology"
)

// The TestKafka* tests run against a real Kafka broker, whose address they
// read from KAFKA_BROKERS; without it they fail (CI always sets it):
//
//	scripts/kafka.sh up
//	KAFKA_BROKERS=$(scripts/kafka.sh addr) go test -race ./kafka/...

// realConfigs returns a spout and bolt configuration for a real broker,
// with a short commit period so tests see commits quickly.
func realConfigs(brokers []string, in, out string) (kafka.SpoutConfig, kafka.BoltConfig) {
	sc := spoutConfig(brokers, in)
	sc.CommitPeriod = 500 * time.Millisecond
	sc.Metrics = new(kafka.SpoutMetrics)
	bc := boltConfig(brokers, out)
	bc.Metrics = new(kafka.BoltMetrics)
	return sc, bc
}

func produceIDs(t *testing.T, brokers []string, topic string, n int) {
	t.Helper()
	start := time.Now()
	kafkatest.Produce(t, brokers, topic, n, func(i int) ([]byte, []byte) { return []byte(idOf(i)), []byte(idOf(i)) })
	t.Logf("produced %d records to %s in %v", n, topic, time.Since(start).Round(time.Millisecond))
}

func outputValues(t *testing.T, brokers []string, topic string) [][]byte {
	t.Helper()
	var values [][]byte
	for _, r := range kafkatest.ReadAll(t, brokers, topic) {
		if !bytes.Equal(r.Key, r.Value) {
			t.Fatalf("output %s/%d@%d: key %q, value %q", r.Topic, r.Partition, r.Offset, r.Key, r.Value)
		}
		values = append(values, r.Value)
	}
	return values
}

// TestKafkaEndToEnd: 100,000 records with unique ids through Kafka spout ->
// bolt -> Kafka bolt; every id reaches the output topic and the group's
// commits reach the end of every input partition.
func TestKafkaEndToEnd(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	in, out := kafkatest.NewTopic(t, brokers, 4), kafkatest.NewTopic(t, brokers, 4)
	const n = 100_000
	produceIDs(t, brokers, in, n)
	sc, bc := realConfigs(brokers, in, out)
	name := "e2e-" + in
	begin := time.Now()
	c := start(t, pipeline(t, name, sc, bc, 2))
	waitCommitted(t, brokers, groupOf(name, "kafka"), in, 150*time.Second)
	elapsed := time.Since(begin)
	stop(t, c)
	values := outputValues(t, brokers, out)
	dups := checkIDs(t, values, n, nil)
	t.Logf("%d records through the topology in %v (%.0f/s); output %d records, %d duplicates",
		n, elapsed.Round(time.Millisecond), n/elapsed.Seconds(), len(values), dups)
	t.Logf("spout %+v", sc.Metrics.Snapshot())
	t.Logf("bolt %+v", bc.Metrics.Snapshot())
	if s := sc.Metrics.Snapshot(); s.DeadLetters != 0 || s.CommitErrors != 0 {
		t.Errorf("dead letters %d, commit errors %d: want none", s.DeadLetters, s.CommitErrors)
	}
}

// TestKafkaStopAndRestartLosesNothing stops the topology mid-stream twice —
// once draining (local Stop), once without draining (the tasks are stopped
// with trees in flight) — and starts it again each time; no id is missing
// from the output.
func TestKafkaStopAndRestartLosesNothing(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	in, out := kafkatest.NewTopic(t, brokers, 4), kafkatest.NewTopic(t, brokers, 4)
	const n = 60_000
	produceIDs(t, brokers, in, n)
	name := "restart-" + in
	group := groupOf(name, "kafka")

	// Run 1: stop gracefully once a quarter went through.
	sc, bc := realConfigs(brokers, in, out)
	c := start(t, pipeline(t, name, sc, bc, 2))
	eventually(t, 60*time.Second, time.Millisecond, "a quarter written", func() bool { return bc.Metrics.Written.Load() >= n/4 })
	stop(t, c)
	t.Logf("run 1 (drained): spout %+v", sc.Metrics.Snapshot())
	t.Logf("run 1: committed %v", kafkatest.Committed(t, brokers, group, in))

	// Run 2: a hard stop, without draining, once another quarter went through.
	sc, bc = realConfigs(brokers, in, out)
	c = start(t, pipeline(t, name, sc, bc, 2))
	eventually(t, 60*time.Second, time.Millisecond, "another quarter written", func() bool { return bc.Metrics.Written.Load() >= n/4 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Topology().Stop(ctx); err != nil {
		t.Fatalf("hard stop: %v", err)
	}
	stop(t, c)
	t.Logf("run 2 (hard stop): spout %+v", sc.Metrics.Snapshot())
	t.Logf("run 2: committed %v", kafkatest.Committed(t, brokers, group, in))

	// Run 3: to the end.
	sc, bc = realConfigs(brokers, in, out)
	c = start(t, pipeline(t, name, sc, bc, 2))
	waitCommitted(t, brokers, group, in, 120*time.Second)
	stop(t, c)
	t.Logf("run 3: spout %+v", sc.Metrics.Snapshot())
	values := outputValues(t, brokers, out)
	dups := checkIDs(t, values, n, nil)
	t.Logf("output %d records for %d ids: %d duplicates", len(values), n, dups)
}

// TestKafkaPoisonRecordsGoToDeadLetterTopic: 1% of the records cannot be
// decoded; exactly those land in the dead-letter topic, with headers saying
// where they came from and why, and every good record is processed.
func TestKafkaPoisonRecordsGoToDeadLetterTopic(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	in, out, dlq := kafkatest.NewTopic(t, brokers, 4), kafkatest.NewTopic(t, brokers, 4), kafkatest.NewTopic(t, brokers, 1)
	const n = 20_000
	poison := func(i int) bool { return i%100 == 37 }
	kafkatest.Produce(t, brokers, in, n, func(i int) ([]byte, []byte) {
		if poison(i) {
			return []byte(idOf(i)), append([]byte{0xff, 0xfe}, idOf(i)...)
		}
		return []byte(idOf(i)), []byte(idOf(i))
	})
	sc, bc := realConfigs(brokers, in, out)
	sc.DeadLetterTopic = dlq
	sc.Streams = map[topology.StreamID][]string{topology.DefaultStream: {"key", "message"}}
	sc.Translator = func(r kafka.Record) (topology.StreamID, topology.Values, error) {
		v := string(r.Value)
		num, ok := strings.CutPrefix(v, "id-")
		if !ok {
			return "", nil, fmt.Errorf("value %q is not id-NNNNNN", v)
		}
		if _, err := strconv.Atoi(num); err != nil {
			return "", nil, err
		}
		return "", topology.Values{r.Key, v}, nil
	}
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	bolt, err := kafka.NewBolt(bc)
	if err != nil {
		t.Fatal(err)
	}
	name := "poison-" + in
	b := topology.NewBuilder(name)
	b.SetSpout("kafka", spout, 2)
	b.SetBolt("out", bolt, 2).ShuffleGrouping("kafka")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	waitCommitted(t, brokers, groupOf(name, "kafka"), in, 120*time.Second)
	stop(t, c)

	wantPoison := 0
	for i := range n {
		if poison(i) {
			wantPoison++
		}
	}
	dead := kafkatest.ReadAll(t, brokers, dlq)
	if len(dead) != wantPoison {
		t.Fatalf("%d records in the dead-letter topic, want exactly %d", len(dead), wantPoison)
	}
	seen := map[string]bool{}
	for _, r := range dead {
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		id := string(r.Key)
		i, _ := strconv.Atoi(strings.TrimPrefix(id, "id-"))
		if !poison(i) || seen[id] || h[kafka.HeaderSourceTopic] != in || h[kafka.HeaderSourceOffset] == "" ||
			!strings.Contains(h[kafka.HeaderError], "is not id-NNNNNN") || !bytes.HasPrefix(r.Value, []byte{0xff, 0xfe}) {
			t.Fatalf("dead letter %q: headers %v, value %q", id, h, r.Value)
		}
		seen[id] = true
	}
	dups := checkIDs(t, outputValues(t, brokers, out), n, poison)
	s := sc.Metrics.Snapshot()
	t.Logf("spout %+v; %d good records, %d duplicates", s, n-wantPoison, dups)
	if s.DeadLettered != int64(wantPoison) {
		t.Errorf("DeadLettered = %d, want %d", s.DeadLettered, wantPoison)
	}
}

// TestKafkaBoltFailsTuplesTheBrokerRejects: records the broker refuses (too
// large for the topic, or for a topic that cannot exist) fail their tuples;
// the rest are acked after the broker confirmed them.
func TestKafkaBoltFailsTuplesTheBrokerRejects(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	// A batch the broker refuses fails every record in it, so the records
	// too large for their topic go to one of their own.
	small := kafkatest.TopicName(t)
	maxBytes := "2000"
	kafkatest.CreateTopic(t, brokers, small, 1, map[string]*string{"max.message.bytes": &maxBytes})
	t.Cleanup(func() { kafkatest.DeleteTopic(t, brokers, small) })
	fine := kafkatest.NewTopic(t, brokers, 1)
	bc := kafka.DefaultBoltConfig()
	bc.Brokers = brokers
	bc.TopicField = "topic"
	bc.Metrics = new(kafka.BoltMetrics)
	bc.Tune = func(c *sarama.Config) { c.Producer.Retry.Max = 2 }
	bolt, err := kafka.NewBolt(bc)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	big := strings.Repeat("x", 8000)
	rec := new(outcomes)
	b := topology.NewBuilder("reject-" + small)
	b.SetSpout("src", func() topology.Spout {
		return &recordingSpout{n: n, fields: []string{"topic", "key", "message"}, rec: rec, gen: func(i int) topology.Values {
			switch i % 3 {
			case 0:
				return topology.Values{"not a valid topic!", "k", "v"}
			case 1:
				return topology.Values{small, "k", big}
			}
			return topology.Values{fine, "k", "fits"}
		}}
	}, 1)
	b.SetBolt("out", bolt, 1).ShuffleGrouping("src")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	eventually(t, 60*time.Second, 10*time.Millisecond, "every tuple acked or failed", func() bool {
		return rec.acked.Load()+rec.failed.Load() == n
	})
	stop(t, c)
	if rec.acked.Load() != n/3 || rec.failed.Load() != 2*n/3 {
		t.Fatalf("acked %d, failed %d: want %d, %d", rec.acked.Load(), rec.failed.Load(), n/3, 2*n/3)
	}
	for id := range rec.failedIDs {
		if id%3 == 2 {
			t.Errorf("tuple %d (a record that fits) failed", id)
		}
	}
	if got := len(kafkatest.ReadAll(t, brokers, fine)); got != n/3 {
		t.Errorf("%d records in %s, want %d", got, fine, n/3)
	}
	if got := len(kafkatest.ReadAll(t, brokers, small)); got != 0 {
		t.Errorf("%d records in %s, want none", got, small)
	}
	t.Logf("bolt %+v", bc.Metrics.Snapshot())
}
