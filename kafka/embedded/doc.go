// Package embedded runs an in-memory Kafka-protocol broker inside the
// process, on 127.0.0.1: franz-go's kfake. It is for trying squall's Kafka
// topologies out (`node run kafka-wordcount` without kafka.brokers) and for
// fast unit tests — never for data you want to keep:
//
//   - everything lives in memory and is lost when the broker stops;
//   - it is one broker, with no replication and no durability;
//   - it rebalances consumer groups faster than real Kafka, and its minimum
//     session timeout is 6 s.
//
// Integration tests run against a real Kafka broker (scripts/kafka.sh up).
//
//	b, err := embedded.Start(embedded.Topics(4, "lines", "counts"))
//	defer b.Close()
//	conf[kafka.KeyBrokers] = b.Addr()
package embedded
