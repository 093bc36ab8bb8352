package kafka_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// keyedWordCount keeps a keyed count of the words in field (bytes or a
// string) and emits (word, "word:n"); at its atN-th tuple it runs at once,
// from inside Execute (a panic, a kill).
type keyedWordCount struct {
	field string
	seen  *atomic.Int64
	atN   int64
	at    func()
	once  *sync.Once

	out   topology.OutputCollector
	count *state.Value[int64]
}

func (b *keyedWordCount) DeclareState() topology.State {
	return topology.State{Keyed: []string{"count"}}
}

func (b *keyedWordCount) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	st, err := state.Of(tc)
	if err != nil {
		return err
	}
	b.out = c
	b.count, err = state.NewValue(st, "count", state.Int64)
	return err
}

func (b *keyedWordCount) Execute(t topology.Tuple) {
	if b.seen.Add(1) == b.atN {
		b.once.Do(b.at)
	}
	word := topology.String(t, b.field)
	if v, ok := topology.Bytes(t, b.field); ok {
		word = string(v)
	}
	n, _, err := b.count.Get()
	if err == nil {
		err = b.count.Set(n + 1)
	}
	if err != nil {
		b.out.Fail(t)
		return
	}
	b.out.Emit(topology.Values{word, word + ":" + strconv.FormatInt(n+1, 10)}, t)
	b.out.Ack(t)
}

func (b *keyedWordCount) Cleanup() error { return nil }

// checkRunningCounts: the committed "word:n" values are n records holding
// every word's running counts 1..want[word], each exactly once.
func checkRunningCounts(t *testing.T, got []string, want map[string]int, n int) {
	t.Helper()
	counts := map[string]map[int]int{}
	for _, v := range got {
		w, k, _ := strings.Cut(v, ":")
		c, _ := strconv.Atoi(k)
		if counts[w] == nil {
			counts[w] = map[int]int{}
		}
		counts[w][c]++
	}
	if len(got) != n {
		t.Errorf("%d records committed, want %d", len(got), n)
	}
	for w, total := range want {
		for c := 1; c <= total; c++ {
			if counts[w][c] != 1 {
				t.Errorf("word %q: count %d committed %d times, want once", w, c, counts[w][c])
			}
		}
	}
}

// TestKafkaExactlyOnceCountsThroughAFailure, on the real broker: a
// checkpointed Kafka spout (2 tasks over 3 partitions) -> a keyed count ->
// the transactional bolt, with a failure thrown once between 40 % and 70 %
// of the input. Read with read_committed, the output topic holds every
// word's running counts 1..n exactly once.
func TestKafkaExactlyOnceCountsThroughAFailure(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	in, out := kafkatest.NewTopic(t, brokers, 3), kafkatest.NewTopic(t, brokers, 3)
	const n, words = 6000, 40
	recs := make([]kafka.Record, n)
	want := map[string]int{}
	for i := range recs {
		w := fmt.Sprintf("w%02d", rand.IntN(words))
		want[w]++
		recs[i] = kafka.Record{Topic: in, Key: []byte(w), Value: []byte(w)}
	}
	if err := kafka.Produce(context.Background(), brokers, recs); err != nil {
		t.Fatal(err)
	}
	sc := kafka.DefaultSpoutConfig()
	sc.Brokers, sc.Topics = brokers, []string{in}
	spout, err := kafka.NewCheckpointedSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	bc := txConfig(brokers, out)
	sink, err := kafka.NewTransactionalBolt(bc)
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	var crashed atomic.Bool
	fail := int64(n*40/100 + rand.IntN(n*30/100))
	b := topology.NewBuilder("kafka-eos")
	b.SetSpout("records", spout, 2)
	once := &sync.Once{} // shared by the count's tasks and instances: thrown once
	count := func() topology.Bolt {
		return &keyedWordCount{field: "value", seen: &seen, atN: fail, once: once, at: func() {
			crashed.Store(true)
			panic("thrown once, mid-stream")
		}}
	}
	b.SetBolt("count", count, 2).
		FieldsGrouping("records", "value").Output("key", "message")
	b.SetBolt("out", sink, 2).FieldsGrouping("count", "key")
	topo, err := b.Build(topology.Config{topology.GuaranteeKey: topology.ExactlyOnce, topology.CheckpointIntervalMs: 200})
	if err != nil {
		t.Fatal(err)
	}
	r := newCommittedReader(t, brokers, out)
	cl, err := local.Start(context.Background(), topo)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Stop(context.Background())
	poll.Until(t, 120*time.Second, "every record's count committed", func() bool { return len(r.read()) >= n })
	if !crashed.Load() {
		t.Fatalf("the failure was never thrown (%d seen, threshold %d)", seen.Load(), fail)
	}
	checkRunningCounts(t, r.settled(), want, n)
	st, _ := cl.Topology().Env().Checkpoints()
	if st.Restores < 1 {
		t.Errorf("checkpoints %+v: want a restore", st)
	}
	t.Logf("%d records through a failure after %d: checkpoints %+v", n, fail, st)
}
