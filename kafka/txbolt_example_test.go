package kafka_test

import (
	"fmt"
	"time"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/topology"
)

// The transactional bolt is the sink of an exactly-once topology: what it
// writes becomes visible to read_committed readers when a checkpoint
// completes, exactly once. Each task uses the transactional ids
// squall.<topology>.<component>.<task index>.<slot>.
func ExampleNewTransactionalBolt() {
	cfg := kafka.DefaultTxBoltConfig()
	cfg.Brokers = []string{"127.0.0.1:9092"}
	cfg.Topic = "counts"
	// At least checkpoint interval × (tolerable failures + 1) + checkpoint
	// timeout + the time a restore takes, and at most the brokers'
	// transaction.max.timeout.ms.
	cfg.TransactionTimeout = 2 * time.Minute
	sink, err := kafka.NewTransactionalBolt(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	b := topology.NewBuilder("wordcount")
	b.SetBolt("out", sink, 2).FieldsGrouping("count", "word")
	_, isSink := sink().(topology.TwoPhaseSink)
	fmt.Println("two-phase sink:", isSink)
	// Output: two-phase sink: true
}
