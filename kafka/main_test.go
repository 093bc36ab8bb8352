package kafka_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/kafka/kafkatest"
)

// TestMain checks that no test leaves a goroutine behind, except the ones
// sarama never stops (see kafkatest.LeakOptions).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, kafkatest.LeakOptions()...)
}
