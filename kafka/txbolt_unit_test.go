package kafka_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/topology"
)

func TestTxBoltConfigValidate(t *testing.T) {
	valid := func() kafka.TxBoltConfig {
		c := kafka.DefaultTxBoltConfig()
		c.Brokers, c.Topic = []string{"127.0.0.1:9092"}, "out"
		return c
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("the defaults with brokers and a topic: %v", err)
	}
	if d := kafka.DefaultTxBoltConfig(); d.TransactionTimeout != 60*time.Second || d.TolerableFailures != 0 {
		t.Errorf("defaults: timeout %v, tolerable %d; want 60s, 0", d.TransactionTimeout, d.TolerableFailures)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*kafka.TxBoltConfig)
		field string // the error names it
	}{
		{"no brokers", func(c *kafka.TxBoltConfig) { c.Brokers = nil }, "Brokers"},
		{"no destination", func(c *kafka.TxBoltConfig) { c.Topic = "" }, "Topic"},
		{"bad topic", func(c *kafka.TxBoltConfig) { c.Topic = "a b" }, `topic "a b"`},
		{"zero timeout", func(c *kafka.TxBoltConfig) { c.TransactionTimeout = 0 }, "TransactionTimeout"},
		{"negative timeout", func(c *kafka.TxBoltConfig) { c.TransactionTimeout = -time.Second }, "TransactionTimeout"},
		{"sub-second timeout", func(c *kafka.TxBoltConfig) { c.TransactionTimeout = 500 * time.Millisecond }, "TransactionTimeout"},
		{"timeout beyond Kafka's int32 ms", func(c *kafka.TxBoltConfig) { c.TransactionTimeout = 30 * 24 * time.Hour }, "TransactionTimeout"},
		{"timeout not above the flush", func(c *kafka.TxBoltConfig) { c.TransactionTimeout = c.FlushTimeout }, "FlushTimeout"},
		{"zero flush timeout", func(c *kafka.TxBoltConfig) { c.FlushTimeout = 0 }, "FlushTimeout"},
		{"zero commit timeout", func(c *kafka.TxBoltConfig) { c.CommitTimeout = 0 }, "CommitTimeout"},
		{"negative tolerable", func(c *kafka.TxBoltConfig) { c.TolerableFailures = -1 }, "TolerableFailures"},
		{"huge tolerable", func(c *kafka.TxBoltConfig) { c.TolerableFailures = kafka.MaxTolerableFailures + 1 }, "TolerableFailures"},
		{"prefix with a space", func(c *kafka.TxBoltConfig) { c.TransactionalIDPrefix = "my app" }, "TransactionalIDPrefix"},
		{"prefix with a newline", func(c *kafka.TxBoltConfig) { c.TransactionalIDPrefix = "app\n" }, "TransactionalIDPrefix"},
		{"old protocol", func(c *kafka.TxBoltConfig) { c.Version = sarama.V2_8_0_0 }, "Version"},
		{"no value field", func(c *kafka.TxBoltConfig) { c.ValueField = "" }, "ValueField"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			err := c.Validate()
			if !errors.Is(err, kafka.ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
			if _, err := kafka.NewTransactionalBolt(c); !errors.Is(err, kafka.ErrInvalidConfig) {
				t.Errorf("NewTransactionalBolt: %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestTxBoltConfigFrom(t *testing.T) {
	c, err := kafka.TxBoltConfigFrom(topology.Config{
		kafka.KeyBrokers: "127.0.0.1:1,127.0.0.1:2", kafka.KeyOutput: "out", kafka.KeyTransactionTimeout: "90s",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Brokers, []string{"127.0.0.1:1", "127.0.0.1:2"}) || c.Topic != "out" || c.TransactionTimeout != 90*time.Second || c.ValueField != "message" {
		t.Errorf("config %+v", c)
	}
	if _, err := kafka.TxBoltConfigFrom(topology.Config{kafka.KeyTransactionTimeout: "soon"}); err == nil || !strings.Contains(err.Error(), kafka.KeyTransactionTimeout) {
		t.Errorf("a bad %s: %v", kafka.KeyTransactionTimeout, err)
	}
}

// TestTxBoltTransactionalIDs: squall.<topology>.<component>.<task>.<slot>,
// tolerable failures + 2 slots.
func TestTxBoltTransactionalIDs(t *testing.T) {
	c := kafka.DefaultTxBoltConfig()
	c.Brokers, c.Topic, c.TolerableFailures = []string{"127.0.0.1:9092"}, "out", 1
	factory, err := kafka.NewTransactionalBolt(c)
	if err != nil {
		t.Fatal(err)
	}
	b := factory().(*kafka.TxBolt)
	tc := &topology.Context{Topology: "wc", Component: "sink", TaskIndex: 3, Logger: slog.New(slog.DiscardHandler)}
	if err := b.Prepare(context.Background(), tc, &txCollector{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"squall.wc.sink.3.0", "squall.wc.sink.3.1", "squall.wc.sink.3.2"}
	if got := b.TransactionalIDs(); !slices.Equal(got, want) {
		t.Errorf("ids %v, want %v", got, want)
	}
	if v, ok := tc.Gauges().Get(kafka.GaugeCommitLost); !ok || v != 0 {
		t.Errorf("gauge %s after Prepare: %v, %v; want 0, present", kafka.GaugeCommitLost, v, ok)
	}
	// Before Recover (a runtime that never calls it) nothing is written
	// silently: the tuple fails and the error is reported.
	out := &txCollector{}
	_ = b.Prepare(context.Background(), tc, out)
	b.Execute(topology.NewTuple("src", 1, topology.DefaultStream, topology.Fields{"key", "message"}, topology.Values{"k", "v"}))
	if out.failed != 1 || len(out.errors()) != 1 {
		t.Errorf("Execute before Recover: %d failed, errors %v; want 1 failed, 1 reported", out.failed, out.errors())
	}
	if _, err := b.PreCommit(1); err == nil {
		t.Error("PreCommit before Recover succeeded")
	}
	_ = b.Cleanup()
}

// TestTxBoltRefusesAtLeastOnce: in a topology that does not run
// exactly-once nothing would ever commit, so Prepare refuses.
func TestTxBoltRefusesAtLeastOnce(t *testing.T) {
	c := kafka.DefaultTxBoltConfig()
	c.Brokers, c.Topic = []string{"127.0.0.1:9092"}, "out"
	factory, err := kafka.NewTransactionalBolt(c)
	if err != nil {
		t.Fatal(err)
	}
	b := topology.NewBuilder("tx")
	b.SetSpout("src", func() topology.Spout { return &recordingSpout{fields: []string{"key", "message"}} }, 1)
	b.SetBolt("sink", factory, 1).ShuffleGrouping("src")
	topo, err := b.Build(topology.Config{})
	if err != nil {
		t.Fatal(err)
	}
	task := topo.Component("sink").Tasks[0]
	tc := topoaccess.NewContext(topo, task, slog.New(slog.DiscardHandler))
	err = factory().Prepare(context.Background(), tc, &txCollector{})
	if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), "exactly-once") {
		t.Fatalf("Prepare in an at-least-once topology: %v, want ErrInvalid naming exactly-once", err)
	}
}

// TestTxBoltBrokerRefusesTransactions: a broker without a transaction
// coordinator (its transaction log cannot be created: the replication
// factor is above the brokers there are) gives an error naming the broker
// setting and its value.
func TestTxBoltBrokerRefusesTransactions(t *testing.T) {
	mb := sarama.NewMockBroker(t, 1)
	defer mb.Close()
	cfg := kafka.DefaultTxBoltConfig()
	cfg.Brokers, cfg.Topic, cfg.TransactionalIDPrefix = []string{mb.Addr()}, "out", "squall.refused.out"
	cfg.Tune = func(c *sarama.Config) {
		c.ApiVersionsRequest = false // the mock broker does not answer it
		// sarama waits 2 s per attempt to find a coordinator: one attempt.
		c.Metadata.Retry.Max, c.Producer.Transaction.Retry.Max = 0, 0
	}
	fc := sarama.NewMockFindCoordinatorResponse(t)
	for s := range 2 {
		fc.SetError(sarama.CoordinatorTransaction, "squall.refused.out.0."+string(rune('0'+s)), sarama.ErrConsumerCoordinatorNotAvailable)
	}
	mb.SetHandlerByMap(map[string]sarama.MockResponse{
		"MetadataRequest":        sarama.NewMockMetadataResponse(t).SetBroker(mb.Addr(), mb.BrokerID()).SetController(mb.BrokerID()),
		"FindCoordinatorRequest": fc,
		"DescribeConfigsRequest": sarama.NewMockWrapper(&sarama.DescribeConfigsResponse{Version: 1, Resources: []*sarama.ResourceResponse{{
			Type: sarama.BrokerResource, Name: "1", Configs: []*sarama.ConfigEntry{
				{Name: "transaction.state.log.replication.factor", Value: "3"},
				{Name: "transaction.state.log.min.isr", Value: "2"},
			},
		}}}),
	})
	k := newTxTask(t, cfg, 0)
	err := k.bolt.Recover(0, nil)
	if !errors.Is(err, kafka.ErrTransactionsUnavailable) {
		t.Fatalf("Recover against a broker without a transaction coordinator: %v, want ErrTransactionsUnavailable", err)
	}
	for _, want := range []string{"transaction.state.log.replication.factor (set to 3)", "live brokers (1)", "transaction.state.log.min.isr (set to 2)", "squall.refused.out.0.0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if errs := k.out.errors(); len(errs) != 1 {
		t.Errorf("reported %v, want the error", errs)
	}
	t.Logf("Recover: %v", err)
}

func TestTxCommittableRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		txs  []kafka.PendingTransaction
	}{
		{"none", nil},
		{"one", []kafka.PendingTransaction{{TransactionalID: "squall.t.c.0.0", ProducerID: 7, Epoch: 3, Checkpoint: 12, Slot: 0}}},
		{"aborted then completed", []kafka.PendingTransaction{
			{TransactionalID: "squall.t.c.4.1", ProducerID: 1 << 40, Epoch: 0, Checkpoint: 5, Slot: 1},
			{TransactionalID: "squall.t.c.4.2", ProducerID: 9, Epoch: 32767, Checkpoint: 6, Slot: 2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := kafka.ExportEncodeCommittable(t, tc.txs)
			got, err := kafka.DecodeCommittable(k)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.txs) && !(len(got) == 0 && len(tc.txs) == 0) {
				t.Errorf("decoded %+v, want %+v", got, tc.txs)
			}
		})
	}
	if got, err := kafka.DecodeCommittable(nil); err != nil || len(got) != 0 {
		t.Errorf("nil: %v, %v; want no transactions", got, err)
	}
}

func TestTxCommittableRejects(t *testing.T) {
	tx := func(id string, pid int64, epoch int64, ckpt uint64, slot uint64) []byte {
		var b []byte
		if id != "" {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendString(b, id)
		}
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(pid))
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(epoch))
		b = protowire.AppendTag(b, 4, protowire.VarintType)
		b = protowire.AppendVarint(b, ckpt)
		b = protowire.AppendTag(b, 5, protowire.VarintType)
		b = protowire.AppendVarint(b, slot)
		return b
	}
	committable := func(txs ...[]byte) []byte {
		var b []byte
		for _, t := range txs {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendBytes(b, t)
		}
		return b
	}
	for _, tc := range []struct {
		name, says string
		b          []byte
	}{
		{"garbage", "not a squall.kafka.txn.v1.Committable", []byte{0xff, 0xff, 0xff}},
		{"truncated", "not a squall.kafka.txn.v1.Committable", committable(tx("a", 1, 0, 1, 0))[:5]},
		{"no id", "no transactional id", committable(tx("", 1, 0, 1, 0))},
		{"negative producer id", "producer id -1", committable(tx("a", -1, 0, 1, 0))},
		{"epoch beyond int16", "not a Kafka epoch", committable(tx("a", 1, 40000, 1, 0))},
		{"negative epoch", "not a Kafka epoch", committable(tx("a", 1, -2, 1, 0))},
		{"no checkpoint", "names no checkpoint", committable(tx("a", 1, 0, 0, 0))},
		{"slot beyond any ring", "beyond any ring", committable(tx("a", 1, 0, 1, 1000))},
		{"newest first", "out of checkpoint order", committable(tx("a", 1, 0, 5, 0), tx("b", 1, 0, 4, 1))},
		{"one id twice", "named twice", committable(tx("a", 1, 0, 4, 0), tx("a", 1, 0, 5, 0))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kafka.DecodeCommittable(tc.b)
			if !errors.Is(err, kafka.ErrInvalidCommittable) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("DecodeCommittable = %v, want ErrInvalidCommittable saying %q", err, tc.says)
			}
		})
	}
}

// FuzzTxCommittable: a committable comes back from a checkpoint store
// (outside bytes); decoding must never panic, and what decodes must encode
// back to a committable that decodes the same.
func FuzzTxCommittable(f *testing.F) {
	f.Add([]byte(nil))
	f.Add(kafka.ExportEncodeCommittable(f, []kafka.PendingTransaction{{TransactionalID: "squall.t.c.0.0", ProducerID: 7, Epoch: 3, Checkpoint: 12}}))
	f.Add(kafka.ExportEncodeCommittable(f, []kafka.PendingTransaction{
		{TransactionalID: "squall.t.c.0.1", ProducerID: 1, Checkpoint: 1, Slot: 1},
		{TransactionalID: "squall.t.c.0.0", ProducerID: 1, Checkpoint: 2},
	}))
	f.Add([]byte{0x0a, 0x05, 0x0a, 0x01, 'a', 0x20, 0x01})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		txs, err := kafka.DecodeCommittable(b)
		if err != nil {
			if !errors.Is(err, kafka.ErrInvalidCommittable) {
				t.Fatalf("error %v does not wrap ErrInvalidCommittable", err)
			}
			return
		}
		again, err := kafka.DecodeCommittable(kafka.ExportEncodeCommittable(t, txs))
		if err != nil || !slices.Equal(again, txs) && len(txs) > 0 {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", txs, again, err)
		}
	})
}
