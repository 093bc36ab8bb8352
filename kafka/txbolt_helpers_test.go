package kafka_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/topology"
)

// txCollector is the output collector a transactional bolt task gets in
// these tests, where the tests themselves play the exactly-once runtime.
type txCollector struct {
	mu             sync.Mutex
	acked, failed  int
	reportedErrors []error
}

func (c *txCollector) Emit(topology.Values, ...topology.Tuple)                          {}
func (c *txCollector) EmitStream(topology.StreamID, topology.Values, ...topology.Tuple) {}
func (c *txCollector) EmitDirect(topology.TaskID, topology.StreamID, topology.Values, ...topology.Tuple) {
}
func (c *txCollector) ResetTimeout(topology.Tuple) {}

func (c *txCollector) Ack(topology.Tuple) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acked++
}

func (c *txCollector) Fail(topology.Tuple) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed++
}

func (c *txCollector) ReportError(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reportedErrors = append(c.reportedErrors, err)
}

func (c *txCollector) errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reportedErrors)
}

// txTask is one instance of a transactional bolt task, driven the way the
// exactly-once runtime drives it: Prepare, Recover, Execute…, PreCommit,
// Commit…; Cleanup when the test ends (unless the test did it).
type txTask struct {
	t       testing.TB
	bolt    *kafka.TxBolt
	out     *txCollector
	tc      *topology.Context
	metrics *kafka.TxBoltMetrics
	closed  bool
}

// txConfig is the bolt configuration of these tests: topic, and a
// transactional id prefix nobody used (the real broker keeps ids for days).
func txConfig(brokers []string, topic string) kafka.TxBoltConfig {
	c := kafka.DefaultTxBoltConfig()
	c.Brokers, c.Topic = brokers, topic
	c.TransactionalIDPrefix = fmt.Sprintf("squall-test.%s.%08x", topic, rand.Uint32())
	c.FlushTimeout, c.CommitTimeout = 20*time.Second, 20*time.Second
	c.Metrics = new(kafka.TxBoltMetrics)
	return c
}

func newTxTask(t testing.TB, cfg kafka.TxBoltConfig, index int) *txTask {
	t.Helper()
	if cfg.Metrics == nil {
		cfg.Metrics = new(kafka.TxBoltMetrics)
	}
	factory, err := kafka.NewTransactionalBolt(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k := &txTask{t: t, bolt: factory().(*kafka.TxBolt), out: &txCollector{}, metrics: cfg.Metrics}
	k.tc = &topology.Context{Topology: "txtest", Component: "out", TaskIndex: index, Logger: slog.New(slog.DiscardHandler)}
	if err := k.bolt.Prepare(context.Background(), k.tc, k.out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.cleanup)
	return k
}

func (k *txTask) cleanup() {
	if !k.closed {
		k.closed = true
		_ = k.bolt.Cleanup()
	}
}

// recover calls Recover and fails the test on error.
func (k *txTask) recover(id uint64, committable []byte) {
	k.t.Helper()
	if err := k.bolt.Recover(id, committable); err != nil {
		k.t.Fatalf("Recover(%d): %v", id, err)
	}
}

// write executes n tuples whose messages are prefix-0000 … prefix-(n-1).
func (k *txTask) write(prefix string, n int) []string {
	var vals []string
	for i := range n {
		v := fmt.Sprintf("%s-%04d", prefix, i)
		vals = append(vals, v)
		k.bolt.Execute(topology.NewTuple("src", 1, topology.DefaultStream, topology.Fields{"key", "message"},
			topology.Values{fmt.Sprintf("k%d", i), v}))
	}
	return vals
}

// waitWritten waits until the broker acknowledged n records of the bolt
// (all its tasks). Tests fence an instance only once its records are
// acknowledged: sarama v1.61.1 races with itself (an unsynchronized read of
// its transaction manager's lastError, publishTxnPartitions against
// transitionTo) when a fenced produce fails while another batch is being
// sent, and -race reports it as the test's.
func (k *txTask) waitWritten(n int64) {
	k.t.Helper()
	poll.Until(k.t, 30*time.Second, fmt.Sprintf("%d records acknowledged", n), func() bool { return k.metrics.Written.Load() >= n })
}

// preCommit calls PreCommit and fails the test on error.
func (k *txTask) preCommit(id uint64) []byte {
	k.t.Helper()
	c, err := k.bolt.PreCommit(id)
	if err != nil {
		k.t.Fatalf("PreCommit(%d): %v", id, err)
	}
	return c
}

// commit calls Commit and fails the test on error.
func (k *txTask) commit(id uint64) {
	k.t.Helper()
	if err := k.bolt.Commit(id); err != nil {
		k.t.Fatalf("Commit(%d): %v", id, err)
	}
}

// committedReader reads a topic under read_committed, every partition from
// its start, for as long as the test runs.
type committedReader struct {
	t        testing.TB
	brokers  []string
	topic    string
	parts    []int32
	client   sarama.Client
	consumer sarama.Consumer
	pcs      []sarama.PartitionConsumer
	wg       sync.WaitGroup

	mu      sync.Mutex
	values  []string
	markers map[string]map[int32]bool // marker -> partitions seen
}

func newCommittedReader(t testing.TB, brokers []string, topic string) *committedReader {
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
		_ = client.Close()
		t.Fatal(err)
	}
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	r := &committedReader{t: t, brokers: brokers, topic: topic, parts: parts, client: client, consumer: consumer, markers: map[string]map[int32]bool{}}
	t.Cleanup(r.close)
	for _, p := range parts {
		var pc sarama.PartitionConsumer
		var lastErr error
		// A new topic's leaders may not be in the client's metadata yet.
		if !poll.Wait(30*time.Second, func() bool {
			if pc, lastErr = consumer.ConsumePartition(topic, p, sarama.OffsetOldest); lastErr != nil {
				_ = client.RefreshMetadata(topic)
				return false
			}
			return true
		}) {
			t.Fatalf("read %s partition %d: %v", topic, p, lastErr)
		}
		r.pcs = append(r.pcs, pc)
		r.wg.Go(func() {
			for m := range pc.Messages() {
				r.mu.Lock()
				if v := string(m.Value); len(v) > 7 && v[:7] == "marker-" {
					if r.markers[v] == nil {
						r.markers[v] = map[int32]bool{}
					}
					r.markers[v][m.Partition] = true
				} else {
					r.values = append(r.values, v)
				}
				r.mu.Unlock()
			}
		})
		r.wg.Go(func() {
			for range pc.Errors() {
			}
		})
	}
	return r
}

func (r *committedReader) close() {
	for _, pc := range r.pcs {
		pc.AsyncClose()
	}
	r.wg.Wait()
	_ = r.consumer.Close()
	_ = r.client.Close()
}

// read returns the values read so far, sorted.
func (r *committedReader) read() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.values))
}

// settled writes a marker record (not transactional) to every partition
// and waits until the reader saw all of them: under read_committed a
// record becomes visible only once every transaction begun before it on
// its partition is decided, so everything read then is final. It returns
// the values read, sorted.
func (r *committedReader) settled() []string {
	r.t.Helper()
	marker := fmt.Sprintf("marker-%08x", rand.Uint32())
	conf := kafkatest.Config()
	conf.Producer.Return.Successes = true
	conf.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer(r.brokers, conf)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, part := range r.parts {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: r.topic, Partition: part, Value: sarama.StringEncoder(marker)}); err != nil {
			_ = p.Close()
			r.t.Fatal(err)
		}
	}
	_ = p.Close()
	poll.Until(r.t, 60*time.Second, "the markers on every partition under read_committed (a transaction still open holds them back)", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.markers[marker]) == len(r.parts)
	})
	return r.read()
}

// sortedCopy is vals sorted.
func sortedCopy(vals ...[]string) []string {
	return slices.Sorted(slices.Values(slices.Concat(vals...)))
}

// describeTxn asks the coordinator for transactional id's state.
func describeTxn(t testing.TB, brokers []string, id string) sarama.TransactionState {
	t.Helper()
	client, err := sarama.NewClient(brokers, kafkatest.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	b, err := client.TransactionCoordinator(id)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.DescribeTransactions(&sarama.DescribeTransactionsRequest{TransactionalIDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.TransactionStates[0]
}
