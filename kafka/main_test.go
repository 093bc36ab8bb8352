package kafka_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/kafka/kafkatest"
)

// TestMain checks that no test leaves a goroutine behind, except the ones
// sarama never stops (see kafkatest.IgnoreFunctions).
func TestMain(m *testing.M) {
	var opts []goleak.Option
	for _, f := range kafkatest.IgnoreFunctions {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	goleak.VerifyTestMain(m, opts...)
}
