package embedded_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/IBM/sarama"
	"go.uber.org/goleak"

	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/kafka/kafkatest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, kafkatest.LeakOptions()...)
}

func TestBrokerListensOnLoopbackAndServesTopics(t *testing.T) {
	b, err := embedded.Start(embedded.Topics(3, "a"), embedded.DefaultPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	host, _, err := net.SplitHostPort(b.Addr())
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("Addr() = %q: want 127.0.0.1:PORT", b.Addr())
	}
	conf := sarama.NewConfig()
	conf.Version = sarama.V4_0_0_0
	client, err := sarama.NewClient(b.Brokers(), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	parts, err := client.Partitions("a")
	if err != nil || len(parts) != 3 {
		t.Fatalf("Partitions(a) = %v, %v; want 3", parts, err)
	}
	if err := b.CreateTopic("b", 5); err != nil {
		t.Fatal(err)
	}
	if err := client.RefreshMetadata("b"); err != nil {
		t.Fatal(err)
	}
	if parts, err := client.Partitions("b"); err != nil || len(parts) != 5 {
		t.Fatalf("Partitions(b) = %v, %v; want 5", parts, err)
	}
	b.Close()
	b.Close() // safe twice
}

func TestStartRejectsBadOptions(t *testing.T) {
	for _, opts := range [][]embedded.Option{
		{embedded.DefaultPartitions(0)},
		{embedded.Port(-1)},
		{embedded.Topics(0, "x")},
		{embedded.Topics(1, "")},
	} {
		if b, err := embedded.Start(opts...); !errors.Is(err, embedded.ErrInvalid) || !strings.Contains(err.Error(), "embedded") {
			if b != nil {
				b.Close()
			}
			t.Errorf("Start() = %v, want ErrInvalid", err)
		}
	}
}
