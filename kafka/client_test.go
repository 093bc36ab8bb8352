package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/kafka/kafkatest"
)

// Produce writes records with their keys and headers; ReadTopic reads them
// back in offset order per partition, and stops at the end it saw when called.
func TestProduceAndReadTopicOnTheEmbeddedBroker(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(1, "t"))
	ctx := context.Background()
	var recs []kafka.Record
	for i := range 2500 { // more than one of Send's batches
		recs = append(recs, kafka.Record{Topic: "t", Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("v%d", i)),
			Headers: []kafka.Header{{Key: "n", Value: []byte(fmt.Sprint(i))}}})
	}
	if err := kafka.Produce(ctx, brokers, recs); err != nil {
		t.Fatal(err)
	}
	got, err := kafka.ReadTopic(ctx, brokers, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("read %d records, want %d", len(got), len(recs))
	}
	for i, r := range got {
		if r.Offset != int64(i) || string(r.Key) != fmt.Sprint(i) || string(r.Value) != fmt.Sprintf("v%d", i) ||
			len(r.Headers) != 1 || r.Headers[0].Key != "n" || string(r.Headers[0].Value) != fmt.Sprint(i) {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
}

func TestReadTopicStopsWithItsContext(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(1, "t"))
	if err := kafka.Produce(context.Background(), brokers, []kafka.Record{{Topic: "t", Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := kafka.ReadTopic(ctx, brokers, "t"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadTopic with a done context: %v, want context.DeadlineExceeded", err)
	}
}

func TestSendStopsBetweenBatchesWhenCancelled(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(1, "t"))
	p, err := kafka.NewProducer(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Send(ctx, []kafka.Record{{Topic: "t", Value: []byte("x")}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a cancelled context: %v", err)
	}
	if got, err := kafka.ReadTopic(context.Background(), brokers, "t"); err != nil || len(got) != 0 {
		t.Fatalf("after a cancelled Send the topic holds %d records (%v), want none", len(got), err)
	}
}
