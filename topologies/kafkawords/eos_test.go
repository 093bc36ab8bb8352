package kafkawords_test

import (
	"context"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topologies/kafkawords"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// readCommitted follows every partition of topic under read_committed.
func readCommitted(t *testing.T, brokers []string, topic string) func() []kafka.Record {
	t.Helper()
	conf := kafkatest.Config()
	conf.Consumer.IsolationLevel = sarama.ReadCommitted
	conf.Consumer.MaxWaitTime = 50 * time.Millisecond
	client, err := sarama.NewClient(brokers, conf)
	if err != nil {
		t.Fatal(err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var recs []kafka.Record
	var pcs []sarama.PartitionConsumer
	for _, p := range parts {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		pcs = append(pcs, pc)
		wg.Go(func() {
			for m := range pc.Messages() {
				mu.Lock()
				recs = append(recs, kafka.Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value})
				mu.Unlock()
			}
		})
	}
	t.Cleanup(func() {
		for _, pc := range pcs {
			pc.AsyncClose()
		}
		wg.Wait()
		consumer.Close()
		client.Close()
	})
	return func() []kafka.Record {
		mu.Lock()
		defer mu.Unlock()
		return append([]kafka.Record(nil), recs...)
	}
}

// TestWordCountExactlyOnceOnKafka: kafka-wordcount with
// squall.guarantee=exactly-once on the real broker writes, under
// read_committed, each word's running counts 1, 2, …, N exactly once.
func TestWordCountExactlyOnceOnKafka(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	in, out := kafkatest.NewTopic(t, brokers, 3), kafkatest.NewTopic(t, brokers, 3)
	lines := wordcount.GenerateLines(seed, 42)
	recs := make([]kafka.Record, len(lines))
	for i, l := range lines {
		recs[i] = kafka.Record{Topic: in, Value: []byte(l)}
	}
	if err := kafka.Produce(context.Background(), brokers, recs); err != nil {
		t.Fatal(err)
	}
	want, total := trueCounts()
	job, err := kafkawords.WordCount(topology.Config{
		kafka.KeyBrokers: brokers[0], kafka.KeyInput: in, kafka.KeyOutput: out,
		topology.GuaranteeKey: "exactly-once", topology.CheckpointIntervalMs: 200,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(job.Close)
	if !job.ExactlyOnce || job.Topology.Runtime.Guarantee != topology.ExactlyOnce {
		t.Fatalf("job %+v: not exactly-once", job)
	}
	read := readCommitted(t, brokers, out)
	c, err := local.Start(context.Background(), job.Topology)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	poll.Until(t, 120*time.Second, "every word's update committed", func() bool { return len(read()) >= total })
	seen := map[string]map[int64]int{}
	for _, r := range read() {
		n, err := strconv.ParseInt(string(r.Value), 10, 64)
		if err != nil {
			t.Fatalf("value %q is not a decimal count", r.Value)
		}
		if seen[string(r.Key)] == nil {
			seen[string(r.Key)] = map[int64]int{}
		}
		seen[string(r.Key)][n]++
	}
	for w, n := range want {
		for k := int64(1); k <= n; k++ {
			if seen[w][k] != 1 {
				t.Errorf("word %q: count %d committed %d times, want once", w, k, seen[w][k])
			}
		}
	}
	if tx := job.TxBolt.Snapshot(); tx.Committed == 0 || tx.Lost != 0 {
		t.Errorf("transactional bolt %+v: want commits and nothing lost", tx)
	}
}
