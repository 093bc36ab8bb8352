package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

// A spout task's view: records with a gap (offsets 2-5 were compacted away),
// one failure that is retried, a rebalance that makes an old ack stale.
func ExampleOffsets() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	offsets, err := kafka.NewOffsets(kafka.DefaultConfig())
	if err != nil {
		panic(err)
	}
	tp := kafka.TopicPartition{Topic: "words", Partition: 0}
	if err := offsets.Assign(1, map[kafka.TopicPartition]int64{tp: 0}); err != nil {
		panic(err)
	}

	var ids []kafka.MessageID
	for _, off := range []int64{0, 1, 6, 7} {
		if id, ok := offsets.Emit(tp, off, now); ok {
			ids = append(ids, id)
		}
	}
	offsets.Ack(ids[0])
	offsets.Ack(ids[2])
	offsets.Ack(ids[3])
	fmt.Println("fail 1:", offsets.Fail(ids[1], now))

	commit, _ := offsets.NextCommit()
	fmt.Println("commit:", commit.Positions[tp])

	// The spout keeps the failed record and emits it again at its retry
	// time (Storm's backoff: the first retry at once).
	at, _ := offsets.RetryAt(ids[1])
	fmt.Println("retry after:", at.Sub(now))
	retry, _ := offsets.Emit(tp, ids[1].Offset, at)
	offsets.Ack(retry)

	commit, _ = offsets.NextCommit()
	fmt.Println("commit:", commit.Positions[tp])
	offsets.Committed(commit) // after Kafka accepted it

	// A rebalance: acks emitted under generation 1 no longer count.
	late, _ := offsets.Emit(tp, 8, now)
	if err := offsets.Assign(2, map[kafka.TopicPartition]int64{tp: 8}); err != nil {
		panic(err)
	}
	fmt.Println("late ack applied:", offsets.Ack(late))
	fmt.Printf("%+v\n", offsets.Stats())
	// Output:
	// fail 1: retry
	// commit: 1
	// retry after: 0s
	// commit: 8
	// late ack applied: false
	// {Acked:4 Retries:1 DeadLetters:0 DeadLettered:0 Ignored:0 Dropped:1}
}

// A topology from one Kafka topic to another: the spout reads "lines", a
// bolt upper-cases every value, the Kafka bolt writes (key, message) tuples
// to "shouts". It runs on the embedded in-memory broker.
func Example() {
	broker, err := embedded.Start(embedded.Topics(1, "lines", "shouts"))
	if err != nil {
		panic(err)
	}
	defer broker.Close()
	ctx := context.Background()
	lines := []kafka.Record{{Topic: "lines", Value: []byte("at least")}, {Topic: "lines", Value: []byte("once")}}
	if err := kafka.Produce(ctx, broker.Brokers(), lines); err != nil {
		panic(err)
	}

	sc := kafka.DefaultSpoutConfig()
	sc.Brokers, sc.Topics = broker.Brokers(), []string{"lines"}
	sc.Metrics = new(kafka.SpoutMetrics)
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		panic(err)
	}
	bc := kafka.DefaultBoltConfig() // writes fields "key" and "message"
	bc.Brokers, bc.Topic = broker.Brokers(), "shouts"
	bolt, err := kafka.NewBolt(bc)
	if err != nil {
		panic(err)
	}
	b := topology.NewBuilder("shout")
	b.SetSpout("lines", spout, 1)
	b.SetBasicBolt("upper", func() topology.BasicBolt {
		return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
			v, _ := topology.Bytes(t, "value")
			c.Emit(topology.Values{nil, strings.ToUpper(string(v))})
			return nil
		})
	}, 1).ShuffleGrouping("lines").Output("key", "message")
	b.SetBolt("out", bolt, 1).ShuffleGrouping("upper")
	topo, err := b.Build(nil)
	if err != nil {
		panic(err)
	}
	c, err := local.Start(ctx, topo)
	if err != nil {
		panic(err)
	}
	poll.Wait(30*time.Second, func() bool { return sc.Metrics.Acked.Load() >= 2 })
	if err := c.Stop(ctx); err != nil { // drains, commits, leaves the group
		panic(err)
	}
	out, err := kafka.ReadTopic(ctx, broker.Brokers(), "shouts")
	if err != nil {
		panic(err)
	}
	for _, r := range out {
		fmt.Println(string(r.Value))
	}
	// Output:
	// AT LEAST
	// ONCE
}
