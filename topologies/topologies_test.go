package topologies_test

import (
	"bytes"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/nodecmd"
	"github.com/squall-streams/squall/topologies"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, kafkatest.LeakOptions()...) }

var kafkaTopologies = []string{"kafka-wordcount", "kafka-words", "wikiedits"}

func TestRegistryNamesTheBinarysTopologies(t *testing.T) {
	reg := topologies.Registry()
	if got := slices.Sorted(maps.Keys(reg)); !slices.Equal(got, []string{"kafka-wordcount", "kafka-words", "wikiedits", "wordcount"}) {
		t.Fatalf("registered %v", got)
	}
	for name, top := range reg {
		if top.Description == "" || top.Build == nil {
			t.Errorf("%s: description %q, build set %v", name, top.Description, top.Build != nil)
		}
	}
}

// A cluster build of a Kafka topology without kafka.brokers is refused, and
// starts nothing: no embedded broker that every node (and Submit's
// validation) would start for itself and never close.
func TestClusterBuildWithoutBrokersIsRefusedAndStartsNothing(t *testing.T) {
	factories := topologies.Registry().Factories(io.Discard)
	for _, name := range kafkaTopologies {
		top, release, err := factories[name](topology.Config{})
		if err == nil || !strings.Contains(err.Error(), kafka.KeyBrokers) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v, want one naming %s and %s", name, err, name, kafka.KeyBrokers)
		}
		if top != nil || release != nil {
			t.Errorf("%s: a refused build returned a topology or a release", name)
		}
	}
	goleak.VerifyNone(t, kafkatest.LeakOptions()...)

	c := clustertest.New(t, 1, factories)
	err := c.Node(0).Submit("kw", "kafka-words", nil)
	if err == nil || !strings.Contains(err.Error(), kafka.KeyBrokers) {
		t.Fatalf("Submit kafka-words without brokers: %v, want an error naming %s", err, kafka.KeyBrokers)
	}
	if n := len(c.Node(0).LocalTopologies()); n != 0 {
		t.Errorf("%d topologies running after a refused submit", n)
	}
}

// With brokers a cluster build starts nothing either: the spouts and bolts
// connect when their tasks open.
func TestClusterBuildWithBrokersStartsNothing(t *testing.T) {
	factories := topologies.Registry().Factories(io.Discard)
	for _, name := range kafkaTopologies {
		top, release, err := factories[name](topology.Config{kafka.KeyBrokers: "127.0.0.1:9"})
		if err != nil || top == nil {
			t.Fatalf("%s: %v", name, err)
		}
		if release != nil {
			release()
		}
	}
	goleak.VerifyNone(t, kafkatest.LeakOptions()...)
}

// node run's build brings an embedded broker (and for wikiedits a
// producer) along when kafka.brokers is empty; Close stops all of it.
func TestLocalBuildOwnsItsEmbeddedBroker(t *testing.T) {
	for _, name := range kafkaTopologies {
		var log bytes.Buffer
		job, err := topologies.Registry()[name].Build(topology.Config{"kafka.seed.lines": "10"}, nodecmd.Env{Local: true, Log: &log})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(log.String(), "embedded in-memory Kafka broker at 127.0.0.1:") || job.Close == nil {
			t.Fatalf("%s: no embedded broker announced (%q) or no Close", name, log.String())
		}
		job.Close()
		goleak.VerifyNone(t, kafkatest.LeakOptions()...)
	}
}
