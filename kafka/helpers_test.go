package kafka_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

// eventually polls cond every interval until it holds, failing t after timeout.
func eventually(t testing.TB, timeout, every time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// start runs topo locally; the cluster stops (draining) when the test ends
// unless the test stopped it.
func start(t testing.TB, topo *topology.Topology) *local.Cluster {
	t.Helper()
	c, err := local.Start(context.Background(), topo, local.WithDrainTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

// stop drains and stops c, failing t on error.
func stop(t testing.TB, c *local.Cluster) {
	t.Helper()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// waitCommitted waits until group committed the end of every partition of topic.
func waitCommitted(t testing.TB, brokers []string, group, topic string, timeout time.Duration) {
	t.Helper()
	end := kafkatest.EndOffsets(t, brokers, topic)
	eventually(t, timeout, 50*time.Millisecond, fmt.Sprintf("group %q to commit %v of %q", group, end, topic), func() bool {
		got, err := kafkatest.CommittedOffsets(brokers, group, topic)
		if err != nil {
			return false
		}
		for p, e := range end {
			if got[p] != e {
				return false
			}
		}
		return true
	})
}

// groupOf is the default group id of a spout component.
func groupOf(topologyName, component string) string {
	return fmt.Sprintf("squall.%s.%s", topologyName, component)
}

// passBolt turns the spout's (…, key, value) into the Kafka bolt's (key, message).
func passBolt() topology.BasicBolt {
	return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
		k, _ := topology.Bytes(t, "key")
		v, _ := topology.Bytes(t, "value")
		c.Emit(topology.Values{k, v})
		return nil
	})
}

// pipeline is Kafka spout -> pass -> Kafka bolt.
func pipeline(t testing.TB, name string, sc kafka.SpoutConfig, bc kafka.BoltConfig, spouts int) *topology.Topology {
	t.Helper()
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	bolt, err := kafka.NewBolt(bc)
	if err != nil {
		t.Fatal(err)
	}
	b := topology.NewBuilder(name)
	b.SetSpout("kafka", spout, spouts)
	b.SetBasicBolt("pass", passBolt, 2).ShuffleGrouping("kafka").Output("key", "message")
	b.SetBolt("out", bolt, 2).ShuffleGrouping("pass")
	topo, err := b.Build(topology.Config{topology.MessageTimeoutSecs: 30})
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// idOf formats record i's id.
func idOf(i int) string { return fmt.Sprintf("id-%06d", i) }

// checkIDs fails t unless every id in [0, n) except skip(i) appears in
// values; it returns the number of duplicates.
func checkIDs(t testing.TB, values [][]byte, n int, skip func(int) bool) (dups int) {
	t.Helper()
	seen := make(map[string]int, n)
	for _, v := range values {
		seen[string(v)]++
	}
	missing := 0
	var first []string
	for i := range n {
		if skip != nil && skip(i) {
			continue
		}
		c := seen[idOf(i)]
		if c == 0 {
			missing++
			if len(first) < 5 {
				first = append(first, idOf(i))
			}
		}
		if c > 1 {
			dups += c - 1
		}
	}
	if missing > 0 {
		t.Fatalf("%d ids missing from the output (first %v); %d records read", missing, first, len(values))
	}
	return dups
}

// recordingSpout emits tuples made by gen with their index as message id,
// once each, and records acks and fails (no replay).
type recordingSpout struct {
	topology.BaseSpout
	n      int
	fields []string
	gen    func(i int) topology.Values
	next   int
	out    topology.SpoutCollector
	rec    *outcomes
}

type outcomes struct {
	acked, failed atomic.Int64
	mu            sync.Mutex
	failedIDs     map[int]bool
}

func (s *recordingSpout) DeclareOutputFields(d topology.OutputFieldsDeclarer) { d.Declare(s.fields...) }

func (s *recordingSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *recordingSpout) NextTuple() {
	if s.next < s.n {
		s.out.Emit(s.gen(s.next), s.next)
		s.next++
	}
}

func (s *recordingSpout) Ack(any) { s.rec.acked.Add(1) }

func (s *recordingSpout) Fail(id any) {
	s.rec.failed.Add(1)
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	if s.rec.failedIDs == nil {
		s.rec.failedIDs = map[int]bool{}
	}
	s.rec.failedIDs[id.(int)] = true
}
