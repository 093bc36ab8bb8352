// Package kafkatest helps tests of Kafka topologies: the real broker's
// address from KAFKA_BROKERS, an embedded broker, fresh topics, producing
// and reading records, and the offsets a consumer group committed. Every
// helper fails the test on error.
//
// Tests that need a real broker take its address from Brokers, which fails
// (never skips) when KAFKA_BROKERS is unset: start one with
//
//	scripts/kafka.sh up
//	KAFKA_BROKERS=$(scripts/kafka.sh addr) go test ./...
package kafkatest
