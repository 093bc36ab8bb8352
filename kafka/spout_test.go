package kafka_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/topology"
)

// These tests run against the embedded (kfake) broker: fast, no
// KAFKA_BROKERS needed. The TestKafka* tests repeat the important ones
// against a real broker.

func spoutConfig(brokers []string, topics ...string) kafka.SpoutConfig {
	c := kafka.DefaultSpoutConfig()
	c.Brokers = brokers
	c.Topics = topics
	c.CommitPeriod = 100 * time.Millisecond
	return c
}

func boltConfig(brokers []string, topic string) kafka.BoltConfig {
	c := kafka.DefaultBoltConfig()
	c.Brokers = brokers
	c.Topic = topic
	return c
}

func TestSpoutAndBoltCarryEveryRecord(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(4, "in", "out"))
	const n = 3000
	kafkatest.Produce(t, brokers, "in", n, func(i int) ([]byte, []byte) { return []byte(idOf(i)), []byte(idOf(i)) })
	sm, bm := new(kafka.SpoutMetrics), new(kafka.BoltMetrics)
	sc := spoutConfig(brokers, "in")
	sc.Metrics = sm
	bc := boltConfig(brokers, "out")
	bc.Metrics = bm
	c := start(t, pipeline(t, "carry", sc, bc, 2))
	waitCommitted(t, brokers, groupOf("carry", "kafka"), "in", 60*time.Second)
	stop(t, c)
	values := outputValues(t, brokers, "out")
	dups := checkIDs(t, values, n, nil)
	s := sm.Snapshot()
	t.Logf("spout %+v, bolt %+v, duplicates %d", s, bm.Snapshot(), dups)
	if s.Assignments < 1 {
		t.Errorf("Assignments = %d: want at least one", s.Assignments)
	}
	if s.DeadLetters != 0 || s.Failed != 0 {
		t.Errorf("dead letters %d, failed %d: want none", s.DeadLetters, s.Failed)
	}
}

// offsetOf reads the offset field of a default-stream spout tuple.
func offsetOf(t topology.Tuple) int64 {
	v, _ := topology.Int64(t, "offset")
	return v
}

func TestSpoutRetriesThenDeadLettersOnStream(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(2, "in"))
	const n = 400
	kafkatest.Produce(t, brokers, "in", n, func(i int) ([]byte, []byte) { return nil, []byte(strconv.Itoa(i)) })
	sm := new(kafka.SpoutMetrics)
	sc := spoutConfig(brokers, "in")
	sc.Metrics = sm
	sc.Offsets.Retry.MaxRetries = 2
	sc.Offsets.Retry.DelayPeriod = time.Millisecond
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	poison := func(v []byte) bool { i, _ := strconv.Atoi(string(v)); return i%25 == 0 }
	var mu sync.Mutex
	dead := map[string]int{}
	var causes []string
	b := topology.NewBuilder("retries")
	b.SetSpout("kafka", spout, 1)
	b.SetBasicBolt("work", func() topology.BasicBolt {
		return topology.BoltFunc(func(tu topology.Tuple, _ topology.BasicCollector) error {
			if v, _ := topology.Bytes(tu, "value"); poison(v) {
				return errors.New("cannot process")
			}
			return nil
		})
	}, 2).ShuffleGrouping("kafka")
	b.SetBasicBolt("dlq", func() topology.BasicBolt {
		return topology.BoltFunc(func(tu topology.Tuple, _ topology.BasicCollector) error {
			v, _ := topology.Bytes(tu, "value")
			mu.Lock()
			defer mu.Unlock()
			dead[string(v)]++
			causes = append(causes, topology.String(tu, "error"))
			return nil
		})
	}, 1).Input("kafka", kafka.DeadLetterStream, topology.ShuffleGrouping())
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	waitCommitted(t, brokers, groupOf("retries", "kafka"), "in", 60*time.Second)
	stop(t, c)
	mu.Lock()
	defer mu.Unlock()
	if len(dead) != n/25 {
		t.Fatalf("%d records dead-lettered, want %d: %v", len(dead), n/25, dead)
	}
	for v, k := range dead {
		if !poison([]byte(v)) || k != 1 {
			t.Fatalf("dead letter %q seen %d times", v, k)
		}
	}
	for _, c := range causes {
		if !strings.Contains(c, kafka.ErrRetriesExhausted.Error()) {
			t.Errorf("cause %q: want %q", c, kafka.ErrRetriesExhausted)
		}
	}
	s := sm.Snapshot()
	if s.Retried != 2*n/25 || s.DeadLettered != n/25 || s.Failed != 3*n/25 {
		t.Errorf("metrics %+v: want %d retried, %d failed, %d dead-lettered", s, 2*n/25, 3*n/25, n/25)
	}
}

func TestSpoutDeadLettersWhatTheTranslatorRejects(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(1, "in"))
	values := []string{"1", "bad", "2", "panic", "skip", "3", "wrong-arity", "4"}
	kafkatest.Produce(t, brokers, "in", len(values), func(i int) ([]byte, []byte) { return nil, []byte(values[i]) })
	sm := new(kafka.SpoutMetrics)
	sc := spoutConfig(brokers, "in")
	sc.Metrics = sm
	sc.Streams = map[topology.StreamID][]string{"numbers": {"n"}}
	sc.Translator = func(r kafka.Record) (topology.StreamID, topology.Values, error) {
		switch string(r.Value) {
		case "panic":
			panic("boom")
		case "skip":
			return "", nil, nil
		case "wrong-arity":
			return "numbers", topology.Values{1, 2}, nil
		}
		n, err := strconv.Atoi(string(r.Value))
		if err != nil {
			return "", nil, fmt.Errorf("not a number: %w", err)
		}
		return "numbers", topology.Values{n}, nil
	}
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []int
	dead := map[string]string{}
	b := topology.NewBuilder("translate")
	b.SetSpout("kafka", spout, 1)
	b.SetBasicBolt("sum", func() topology.BasicBolt {
		return topology.BoltFunc(func(tu topology.Tuple, _ topology.BasicCollector) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, tu.Values()[0].(int))
			return nil
		})
	}, 1).Input("kafka", "numbers", topology.ShuffleGrouping())
	b.SetBasicBolt("dlq", func() topology.BasicBolt {
		return topology.BoltFunc(func(tu topology.Tuple, _ topology.BasicCollector) error {
			v, _ := topology.Bytes(tu, "value")
			mu.Lock()
			defer mu.Unlock()
			dead[string(v)] = topology.String(tu, "error")
			return nil
		})
	}, 1).Input("kafka", kafka.DeadLetterStream, topology.ShuffleGrouping())
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	waitCommitted(t, brokers, groupOf("translate", "kafka"), "in", 30*time.Second)
	stop(t, c)
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(got)
	if !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("numbers %v, want [1 2 3 4]", got)
	}
	if len(dead) != 3 {
		t.Fatalf("dead letters %v: want bad, panic, wrong-arity", dead)
	}
	for v, want := range map[string]string{"bad": "not a number", "panic": "panicked: boom", "wrong-arity": "gave 2 values"} {
		if !bytes.Contains([]byte(dead[v]), []byte(want)) {
			t.Errorf("dead letter %q: cause %q, want it to mention %q", v, dead[v], want)
		}
	}
	if s := sm.Snapshot(); s.Skipped != 1 || s.DeadLettered != 3 {
		t.Errorf("metrics %+v: want 1 skipped, 3 dead-lettered", s)
	}
}

func TestSpoutFirstPollStrategies(t *testing.T) {
	ours := `{"topologyId":"me","taskId":1,"threadName":"x"}`
	foreign := `{"topologyId":"someone-else","taskId":1,"threadName":"x"}`
	tests := []struct {
		strategy  kafka.FirstPollStrategy
		metadata  string // "" no commit; else commit offset 5 with it
		wantFirst int64
	}{
		{kafka.UncommittedEarliest, "", 0},
		{kafka.UncommittedEarliest, foreign, 5},
		{kafka.Earliest, "", 0},
		{kafka.Earliest, foreign, 0},
		{kafka.Earliest, ours, 5},
		{kafka.Latest, "", 10},
		{kafka.Latest, foreign, 10},
		{kafka.Latest, ours, 5},
		{kafka.UncommittedLatest, "", 10},
		{kafka.UncommittedLatest, foreign, 5},
		{kafka.UncommittedLatest, "not json", 5},
	}
	brokers := kafkatest.Embedded(t)
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%v/%q", tt.strategy, tt.metadata), func(t *testing.T) {
			topic := fmt.Sprintf("first-poll-%d", i)
			name := topic
			kafkatest.CreateTopic(t, brokers, topic, 1, nil)
			kafkatest.Produce(t, brokers, topic, 10, func(i int) ([]byte, []byte) { return nil, []byte{byte(i)} })
			if tt.metadata != "" {
				kafkatest.CommitOffsets(t, brokers, groupOf(name, "kafka"), topic, map[int32]int64{0: 5}, tt.metadata)
			}
			sm := new(kafka.SpoutMetrics)
			sc := spoutConfig(brokers, topic)
			sc.FirstPoll, sc.TopologyID, sc.Metrics = tt.strategy, "me", sm
			spout, err := kafka.NewSpout(sc)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var offsets []int64
			b := topology.NewBuilder(name)
			b.SetSpout("kafka", spout, 1)
			b.SetBasicBolt("collect", func() topology.BasicBolt {
				return topology.BoltFunc(func(tu topology.Tuple, _ topology.BasicCollector) error {
					mu.Lock()
					defer mu.Unlock()
					offsets = append(offsets, offsetOf(tu))
					return nil
				})
			}, 1).ShuffleGrouping("kafka")
			topo, err := b.Build(nil)
			if err != nil {
				t.Fatal(err)
			}
			c := start(t, topo)
			eventually(t, 30*time.Second, time.Millisecond, "an assignment", func() bool { return sm.Assignments.Load() > 0 })
			kafkatest.Produce(t, brokers, topic, 10, func(i int) ([]byte, []byte) { return nil, []byte{byte(10 + i)} })
			waitCommitted(t, brokers, groupOf(name, "kafka"), topic, 30*time.Second)
			stop(t, c)
			mu.Lock()
			defer mu.Unlock()
			slices.Sort(offsets)
			want := make([]int64, 0, 20)
			for o := tt.wantFirst; o < 20; o++ {
				want = append(want, o)
			}
			if !slices.Equal(offsets, want) {
				t.Fatalf("offsets read %v, want %d..19", offsets, tt.wantFirst)
			}
		})
	}
}

func TestSpoutPausesAtTheCapAndRetriesStillFlow(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(1, "in"))
	const n = 300
	kafkatest.Produce(t, brokers, "in", n, func(i int) ([]byte, []byte) { return nil, []byte(strconv.Itoa(i)) })
	sm := new(kafka.SpoutMetrics)
	sc := spoutConfig(brokers, "in")
	sc.Metrics = sm
	sc.CommitPeriod = time.Hour // only the cap and Close commit
	sc.Offsets.MaxUncommitted = 10
	sc.Offsets.Retry.DelayPeriod = 5 * time.Millisecond
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	// Offset 0 fails five times: the partition reaches the cap behind it,
	// and only its retries can unblock it (STORM-2343).
	var fails0 atomic.Int64
	var seen atomic.Int64
	b := topology.NewBuilder("cap")
	b.SetSpout("kafka", spout, 1)
	b.SetBasicBolt("work", func() topology.BasicBolt {
		return topology.BoltFunc(func(tu topology.Tuple, _ topology.BasicCollector) error {
			if offsetOf(tu) == 0 && fails0.Add(1) <= 5 {
				return errors.New("not yet")
			}
			seen.Add(1)
			return nil
		})
	}, 1).ShuffleGrouping("kafka")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	eventually(t, 30*time.Second, time.Millisecond, "every record processed", func() bool { return seen.Load() >= n })
	stop(t, c)
	if got := kafkatest.Committed(t, brokers, groupOf("cap", "kafka"), "in"); got[0] != n {
		t.Errorf("committed %v, want %d", got, n)
	}
	s := sm.Snapshot()
	if s.Pauses == 0 || s.Retried != 5 || s.Commits < n/10 {
		t.Errorf("metrics %+v: want pauses, 5 retries, a commit per cap", s)
	}
}

func TestBoltFailsTuplesItCannotMap(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(1, "out"))
	bm := new(kafka.BoltMetrics)
	bc := boltConfig(brokers, "out")
	bc.Metrics = bm
	bolt, err := kafka.NewBolt(bc)
	if err != nil {
		t.Fatal(err)
	}
	rec := new(outcomes)
	b := topology.NewBuilder("map")
	b.SetSpout("src", func() topology.Spout {
		return &recordingSpout{n: 30, fields: []string{"key", "message"}, rec: rec, gen: func(i int) topology.Values {
			switch i % 3 {
			case 0:
				return topology.Values{"k", struct{}{}} // not writable
			case 1:
				return topology.Values{nil, int64(i)} // nil key, numeric value
			}
			return topology.Values{[]byte("k"), "v"}
		}}
	}, 1)
	b.SetBolt("out", bolt, 1).ShuffleGrouping("src")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	eventually(t, 30*time.Second, time.Millisecond, "30 outcomes", func() bool { return rec.acked.Load()+rec.failed.Load() == 30 })
	stop(t, c)
	if rec.acked.Load() != 20 || rec.failed.Load() != 10 {
		t.Fatalf("acked %d, failed %d: want 20, 10", rec.acked.Load(), rec.failed.Load())
	}
	for id := range rec.failedIDs {
		if id%3 != 0 {
			t.Errorf("tuple %d failed", id)
		}
	}
	out := kafkatest.ReadAll(t, brokers, "out")
	if len(out) != 20 {
		t.Fatalf("%d records written, want 20", len(out))
	}
	if got := bm.Snapshot(); got != (kafka.BoltCounts{Written: 20, Failed: 10}) {
		t.Errorf("metrics %+v", got)
	}
}

// gateBolt holds every tuple until open is set, then acks what it holds on
// the next tick; it records every id it saw.
type gateBolt struct {
	open *atomic.Bool
	seen *sync.Map
	out  topology.OutputCollector
	held []topology.Tuple
}

func (b *gateBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *gateBolt) Execute(t topology.Tuple) {
	if !topology.IsTick(t) {
		v, _ := topology.Bytes(t, "value")
		b.seen.Store(string(v), true)
		b.held = append(b.held, t)
	}
	if b.open.Load() {
		for _, h := range b.held {
			b.out.Ack(h)
		}
		b.held = b.held[:0]
	}
	if topology.IsTick(t) {
		b.out.Ack(t)
	}
}

func (b *gateBolt) Cleanup() error { return nil }

// TestSpoutDropsAcksOfRevokedPartitions: a second member joins while the
// first holds tuples in flight and commits at once on revocation
// (RevokeDrainTimeout 0). The acks that arrive later are dropped, not
// committed, and the records are read again: nothing is lost.
func TestSpoutDropsAcksOfRevokedPartitions(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(4, "in"))
	const n = 400
	kafkatest.Produce(t, brokers, "in", n, func(i int) ([]byte, []byte) { return nil, []byte(idOf(i)) })
	var seen sync.Map
	member := func(open *atomic.Bool, sm *kafka.SpoutMetrics) *topology.Topology {
		sc := spoutConfig(brokers, "in")
		sc.RevokeDrainTimeout = 0
		sc.Metrics = sm
		spout, err := kafka.NewSpout(sc)
		if err != nil {
			t.Fatal(err)
		}
		b := topology.NewBuilder("revoked") // both members: one group
		b.SetSpout("kafka", spout, 1)
		b.SetBolt("gate", func() topology.Bolt { return &gateBolt{open: open, seen: &seen} }, 1).ShuffleGrouping("kafka")
		topo, err := b.Build(topology.Config{topology.TickTupleFreqSecs: 0.02})
		if err != nil {
			t.Fatal(err)
		}
		return topo
	}
	var openA, openB atomic.Bool
	openB.Store(true)
	smA, smB := new(kafka.SpoutMetrics), new(kafka.SpoutMetrics)
	a := start(t, member(&openA, smA))
	eventually(t, 30*time.Second, time.Millisecond, "member A holding records", func() bool { return smA.Emitted.Load() >= 100 })
	b := start(t, member(&openB, smB))
	eventually(t, 30*time.Second, time.Millisecond, "a rebalance", func() bool {
		return smA.Assignments.Load() >= 2 && smB.Assignments.Load() >= 1
	})
	openA.Store(true)
	waitCommitted(t, brokers, groupOf("revoked", "kafka"), "in", 60*time.Second)
	stop(t, a)
	stop(t, b)
	for i := range n {
		if _, ok := seen.Load(idOf(i)); !ok {
			t.Fatalf("%s never processed", idOf(i))
		}
	}
	sa, sb := smA.Snapshot(), smB.Snapshot()
	t.Logf("member A %+v\nmember B %+v", sa, sb)
	if sa.Dropped == 0 {
		t.Errorf("member A dropped no acks: its held tuples were acked after the revocation")
	}
	if sa.Acked+sb.Acked < n {
		t.Errorf("acked %d + %d, want at least %d", sa.Acked, sb.Acked, n)
	}
}

func TestSpoutWithMoreTasksThanPartitions(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(1, "in", "out"))
	const n = 300
	kafkatest.Produce(t, brokers, "in", n, func(i int) ([]byte, []byte) { return []byte(idOf(i)), []byte(idOf(i)) })
	sc := spoutConfig(brokers, "in")
	sc.Metrics = new(kafka.SpoutMetrics)
	c := start(t, pipeline(t, "idle-tasks", sc, boltConfig(brokers, "out"), 3))
	waitCommitted(t, brokers, groupOf("idle-tasks", "kafka"), "in", 60*time.Second)
	stop(t, c)
	var values [][]byte
	for _, r := range kafkatest.ReadAll(t, brokers, "out") {
		values = append(values, r.Value)
	}
	dups := checkIDs(t, values, n, nil)
	t.Logf("spout %+v, %d duplicates", sc.Metrics.Snapshot(), dups)
}

// TestBoltFailsTuplesWhileItCannotConnect: with no broker to talk to, the
// bolt fails its tuples (they replay later) instead of queueing them.
func TestBoltFailsTuplesWhileItCannotConnect(t *testing.T) {
	bc := kafka.DefaultBoltConfig()
	bc.Brokers, bc.Topic = []string{"127.0.0.1:1"}, "out" // nothing listens on port 1
	bc.Metrics = new(kafka.BoltMetrics)
	bolt, err := kafka.NewBolt(bc)
	if err != nil {
		t.Fatal(err)
	}
	rec := new(outcomes)
	b := topology.NewBuilder("unreachable")
	b.SetSpout("src", func() topology.Spout {
		return &recordingSpout{n: 20, fields: []string{"key", "message"}, rec: rec,
			gen: func(i int) topology.Values { return topology.Values{nil, strconv.Itoa(i)} }}
	}, 1)
	b.SetBolt("out", bolt, 1).ShuffleGrouping("src")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	eventually(t, 30*time.Second, time.Millisecond, "20 tuples failed", func() bool { return rec.failed.Load() == 20 })
	stop(t, c)
	if rec.acked.Load() != 0 || bc.Metrics.Failed.Load() != 20 {
		t.Errorf("acked %d, bolt %+v", rec.acked.Load(), bc.Metrics.Snapshot())
	}
}

// TestSpoutReportsAnUnreachableBrokerAndStopsCleanly: Open does no I/O; the
// connection errors are reported as the task's errors, retried, and Close
// stops everything (goleak checks it in TestMain).
func TestSpoutReportsAnUnreachableBrokerAndStopsCleanly(t *testing.T) {
	sc := spoutConfig([]string{"127.0.0.1:1"}, "in") // nothing listens on port 1
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	b := topology.NewBuilder("unreachable-spout")
	b.SetSpout("kafka", spout, 1)
	b.SetBasicBolt("sink", func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
	}, 1).ShuffleGrouping("kafka")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	task := topo.Component("kafka").Tasks[0]
	eventually(t, 30*time.Second, time.Millisecond, "a reported error", func() bool {
		return c.Topology().Env().Stats(task).Errors.Load() > 0
	})
	if e := c.Topology().Env().Stats(task).LastError(); e == nil || !strings.Contains(fmt.Sprint(e), "127.0.0.1:1") {
		t.Errorf("last error %v: want the broker named", e)
	}
	stop(t, c)
}

// TestSpoutAtMostOnceCommitsWhatItEmits: under squall.guarantee=at-most-once
// no tree is tracked and no Ack comes, so the spout commits a record's
// offset once it emitted it: the group's committed offsets reach the end
// of the topic, and every record is read once.
func TestSpoutAtMostOnceCommitsWhatItEmits(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(2, "amo"))
	const n = 500
	kafkatest.Produce(t, brokers, "amo", n, func(i int) ([]byte, []byte) { return []byte(idOf(i)), []byte(idOf(i)) })
	sm := new(kafka.SpoutMetrics)
	sc := spoutConfig(brokers, "amo")
	sc.Metrics = sm
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	b := topology.NewBuilder("amo")
	b.SetSpout("kafka", spout, 1)
	b.SetBasicBolt("collect", func() topology.BasicBolt {
		return topology.BoltFunc(func(tu topology.Tuple, _ topology.BasicCollector) error {
			p, _ := topology.Int64(tu, "partition")
			mu.Lock()
			defer mu.Unlock()
			seen[p<<32|offsetOf(tu)]++
			return nil
		})
	}, 1).ShuffleGrouping("kafka")
	topo, err := b.Build(topology.Config{topology.GuaranteeKey: "at-most-once"})
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	waitCommitted(t, brokers, groupOf("amo", "kafka"), "amo", 60*time.Second)
	stop(t, c)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Errorf("%d distinct records read, want %d", len(seen), n)
	}
	if s := sm.Snapshot(); s.Failed != 0 || s.Retried != 0 {
		t.Errorf("failed %d, retried %d: at-most-once replays nothing", s.Failed, s.Retried)
	}
}
