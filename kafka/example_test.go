package kafka_test

import (
	"fmt"
	"time"

	"github.com/squall-streams/squall/kafka"
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

	// The spout seeks back to the first due retry and polls it again.
	due := offsets.Partition(tp).Due(now)
	fmt.Println("due:", due)
	retry, _ := offsets.Emit(tp, due[0], now)
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
	// due: [1]
	// commit: 8
	// late ack applied: false
	// {Acked:4 Retries:1 DeadLetters:0 DeadLettered:0 Ignored:0 Dropped:1}
}
