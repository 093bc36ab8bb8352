package kafkatest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/goleak"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
)

// EnvBrokers is the environment variable holding the real broker's
// bootstrap addresses (comma-separated).
const EnvBrokers = "KAFKA_BROKERS"

// ignoreFunctions name the goroutines sarama leaves behind after every
// client is closed, for goleak.IgnoreAnyFunction: go-metrics' meter ticker
// lives as long as the process, and a producer that saw errors leaves its
// circuit breaker's timer asleep for up to 10 s.
var ignoreFunctions = []string{
	"github.com/rcrowley/go-metrics.(*meterArbiter).tick",
	"github.com/eapache/go-resiliency/breaker.(*Breaker).timer",
}

// LeakOptions are goleak options ignoring them, for the TestMain of a
// package whose tests use sarama:
//
//	goleak.VerifyTestMain(m, kafkatest.LeakOptions()...)
func LeakOptions() []goleak.Option {
	opts := make([]goleak.Option, 0, len(ignoreFunctions))
	for _, f := range ignoreFunctions {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	return opts
}

// Brokers returns the real broker's addresses from KAFKA_BROKERS, and fails
// the test when it is unset.
func Brokers(t testing.TB) []string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(EnvBrokers))
	if v == "" {
		t.Fatalf("%s is not set: this test needs a real Kafka broker. Start one with `scripts/kafka.sh up`, "+
			"then run the tests with %s=$(scripts/kafka.sh addr)", EnvBrokers, EnvBrokers)
	}
	var out []string
	for _, b := range strings.Split(v, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Embedded starts an in-memory broker for the test and returns its address;
// it stops when the test ends.
func Embedded(t testing.TB, opts ...embedded.Option) []string {
	t.Helper()
	b, err := embedded.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Brokers()
}

// Config returns a sarama configuration for test clients.
func Config() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = kafka.DefaultVersion
	c.ClientID = "squall-test"
	c.Metadata.Full = false
	return c
}

// adminConfig is Config for cluster admins, which need full metadata.
func adminConfig() *sarama.Config {
	c := Config()
	c.Metadata.Full = true
	return c
}

// TopicName returns a topic name nobody used: the test's name and a random suffix.
func TopicName(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, t.Name())
	if len(name) > 80 {
		name = name[:80]
	}
	return fmt.Sprintf("squall-%s-%08x", name, rand.Uint32())
}

// NewTopic creates a fresh topic with partitions partitions and deletes it
// when the test ends.
func NewTopic(t testing.TB, brokers []string, partitions int32) string {
	t.Helper()
	name := TopicName(t)
	CreateTopic(t, brokers, name, partitions, nil)
	t.Cleanup(func() { DeleteTopic(t, brokers, name) })
	return name
}

// CreateTopic creates a topic with the given topic configs (nil for none)
// and waits until every partition has a leader.
func CreateTopic(t testing.TB, brokers []string, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, adminConfig())
	if err != nil {
		t.Fatalf("kafkatest: connect to %v: %v", brokers, err)
	}
	defer admin.Close()
	err = admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1, ConfigEntries: configs}, false)
	if err != nil {
		t.Fatalf("kafkatest: create topic %q: %v", name, err)
	}
	client, err := sarama.NewClient(brokers, Config())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := client.RefreshMetadata(name)
		ok := err == nil
		if ok {
			parts, perr := client.Partitions(name)
			ok = perr == nil && len(parts) == int(partitions)
			for _, p := range parts {
				if _, lerr := client.Leader(name, p); lerr != nil {
					ok = false
				}
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kafkatest: topic %q has no leaders after 30s: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DeleteTopic deletes a topic; an error is logged, not fatal.
func DeleteTopic(t testing.TB, brokers []string, name string) {
	admin, err := sarama.NewClusterAdmin(brokers, adminConfig())
	if err != nil {
		t.Logf("kafkatest: delete topic %q: %v", name, err)
		return
	}
	defer admin.Close()
	if err := admin.DeleteTopic(name); err != nil {
		t.Logf("kafkatest: delete topic %q: %v", name, err)
	}
}

// Produce writes n records to topic, record i being gen(i), and waits until
// the broker confirmed every one (kafka.Produce: an idempotent producer
// waiting for all replicas, like the Kafka bolt).
func Produce(t testing.TB, brokers []string, topic string, n int, gen func(i int) (key, value []byte)) {
	t.Helper()
	recs := make([]kafka.Record, n)
	for i := range recs {
		key, value := gen(i)
		recs[i] = kafka.Record{Topic: topic, Key: key, Value: value}
	}
	if err := kafka.Produce(context.Background(), brokers, recs); err != nil {
		t.Fatalf("kafkatest: produce %d records to %q: %v", n, topic, err)
	}
}

// ReadAll reads every record of topic up to its end when called
// (kafka.ReadTopic), failing the test when that takes over 2 minutes.
func ReadAll(t testing.TB, brokers []string, topic string) []kafka.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := kafka.ReadTopic(ctx, brokers, topic)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return out
}

// EndOffsets returns the end (next offset to be written) of every partition.
func EndOffsets(t testing.TB, brokers []string, topic string) map[int32]int64 {
	t.Helper()
	client, err := sarama.NewClient(brokers, Config())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int32]int64, len(parts))
	for _, p := range parts {
		if out[p], err = client.GetOffset(topic, p, sarama.OffsetNewest); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Committed returns the offsets group committed for every partition of
// topic, -1 for partitions without a commit.
func Committed(t testing.TB, brokers []string, group, topic string) map[int32]int64 {
	t.Helper()
	out, err := CommittedOffsets(brokers, group, topic)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// CommittedOffsets is Committed returning its error, for polling.
func CommittedOffsets(brokers []string, group, topic string) (map[int32]int64, error) {
	client, err := sarama.NewClient(brokers, Config())
	if err != nil {
		return nil, err
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, err
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return nil, err
	}
	resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
	if err != nil {
		return nil, err
	}
	out := make(map[int32]int64, len(parts))
	for _, p := range parts {
		out[p] = -1
		if b := resp.GetBlock(topic, p); b != nil && b.Err == sarama.ErrNoError {
			out[p] = b.Offset
		}
	}
	return out, nil
}

// CommitOffsets commits offsets for group outside any generation, with
// metadata: for tests of first-poll strategies.
func CommitOffsets(t testing.TB, brokers []string, group, topic string, offsets map[int32]int64, metadata string) {
	t.Helper()
	client, err := sarama.NewClient(brokers, Config())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	broker, err := client.Coordinator(group)
	if err != nil {
		t.Fatal(err)
	}
	req := sarama.NewOffsetCommitRequest(client.Config(), group)
	for p, off := range offsets {
		req.AddBlock(topic, p, off, 0, metadata)
	}
	resp, err := broker.CommitOffset(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range resp.Errors {
		for p, kerr := range parts {
			if kerr != sarama.ErrNoError {
				t.Fatalf("kafkatest: commit %s/%d for %q: %v", topic, p, group, kerr)
			}
		}
	}
}
