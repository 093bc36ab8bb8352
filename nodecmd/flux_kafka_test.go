package nodecmd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka/kafkatest"
)

// TestRunYAMLWithKafkaComponents runs a Flux file whose spout and bolt are
// the built-in Kafka components, referenced by storm-kafka-client's class
// names, on the in-memory broker: every record of the input topic is copied
// to the output topic.
func TestRunYAMLWithKafkaComponents(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	in, out := kafkatest.NewTopic(t, brokers, 2), kafkatest.NewTopic(t, brokers, 2)
	const n = 200
	kafkatest.Produce(t, brokers, in, n, func(i int) ([]byte, []byte) { return []byte(fmt.Sprint(i)), []byte(fmt.Sprintf("v%d", i)) })
	yaml := `
name: copy
config:
  kafka.brokers: "` + strings.Join(brokers, ",") + `"
spouts:
  - id: in
    className: org.apache.storm.kafka.spout.KafkaSpout
    config:
      kafka.input: ` + in + `
bolts:
  - id: out
    className: kafka-bolt
    config:
      kafka.output: ` + out + `
      kafka.bolt.value.field: value
streams:
  - {from: in, to: out, grouping: {type: SHUFFLE}}
`
	path := filepath.Join(t.TempDir(), "copy.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", path}, &stdout, &stderr) }()
	poll.Until(t, 60*time.Second, "every record copied", func() bool {
		seen := map[string]bool{}
		for _, r := range kafkatest.ReadAll(t, brokers, out) {
			seen[string(r.Value)] = true
		}
		return len(seen) == n
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
