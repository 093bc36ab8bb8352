package topologies_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"regexp"
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

// TestEveryTopologyDeclaresItsKeys: each registered topology declares the
// keys it reads, and every key its description names is one of them, so
// `--set` of a described key is never refused.
func TestEveryTopologyDeclaresItsKeys(t *testing.T) {
	keyRE := regexp.MustCompile(`\b(?:wordcount|kafka|wikiedits)\.[a-z.-]*[a-z]`)
	for name, top := range topologies.Registry() {
		if len(top.Keys) == 0 {
			t.Errorf("%s declares no keys", name)
		}
		for _, k := range keyRE.FindAllString(top.Description, -1) {
			if !slices.Contains(top.Keys, k) {
				t.Errorf("%s: its description names %s, not among its keys %v", name, k, top.Keys)
			}
		}
	}
}

// TestSubmitOfAnUnknownKeyIsRefusedAtTheNode: a node refuses a submit of a
// registered topology with a key it does not read — whoever the client —
// naming the key, the one meant and the keys it reads; Storm's topology.*
// and squall's squall.* keys pass.
func TestSubmitOfAnUnknownKeyIsRefusedAtTheNode(t *testing.T) {
	c := clustertest.New(t, 1, topologies.Registry().Factories(io.Discard))
	err := c.Node(0).Submit("wc", "wordcount", map[string]string{"wordcount.inptu": "/tmp/x", "wordcount.lines": "10"})
	if !errors.Is(err, nodecmd.ErrUnknownKey) {
		t.Fatalf("submit with wordcount.inptu: %v, want ErrUnknownKey", err)
	}
	for _, want := range []string{`"wordcount.inptu" (did you mean wordcount.input?)`, "wordcount.count.parallelism", "wordcount.lines", "topology.*"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if ts := c.Node(0).Topologies(context.Background()); len(ts) != 0 {
		t.Errorf("a refused submit was published: %v", ts)
	}
	if err := c.Node(0).Submit("wc", "wordcount", map[string]string{"wordcount.lines": "10", "topology.max.spout.pending": "10", "topology.workers": "3", "squall.task.max.failures": "5"}); err != nil {
		t.Errorf("submit with Storm's and squall's keys: %v", err)
	}
}
