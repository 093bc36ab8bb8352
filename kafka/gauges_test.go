package kafka_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/topology"
)

// holdBolt keeps every tuple until release acks them all, on its task.
type holdBolt struct {
	mu   sync.Mutex
	tc   *topology.Context
	out  topology.OutputCollector
	held []topology.Tuple
}

func (b *holdBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tc, b.out = tc, c
	return nil
}

func (b *holdBolt) Execute(t topology.Tuple) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held = append(b.held, t)
}

func (b *holdBolt) Cleanup() error { return nil }

func (b *holdBolt) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.held)
}

func (b *holdBolt) release() {
	b.mu.Lock()
	tc := b.tc
	b.mu.Unlock()
	tc.Submit(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, t := range b.held {
			b.out.Ack(t)
		}
		b.held = nil
	})
}

// testLagGauges: a spout task whose records are held reports the whole
// partition as lag; once they are acked and committed, lag 0 and the
// committed offset at the log end.
func testLagGauges(t *testing.T, brokers []string, topic string) {
	const n = 300
	kafkatest.Produce(t, brokers, topic, n, func(i int) ([]byte, []byte) { return []byte(idOf(i)), []byte(idOf(i)) })
	end := kafkatest.EndOffsets(t, brokers, topic)
	sc := spoutConfig(brokers, topic)
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	hold := &holdBolt{}
	name := "lag-" + topic
	b := topology.NewBuilder(name)
	b.SetSpout("kafka", spout, 1)
	b.SetBolt("hold", func() topology.Bolt { return hold }, 1).ShuffleGrouping("kafka")
	topo, err := b.Build(topology.Config{topology.MessageTimeoutSecs: 120})
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, topo)
	stats := c.Topology().Env().Stats(topo.Component("kafka").Tasks[0])
	gauges := func() map[string]float64 { // name/partition -> value
		out := map[string]float64{}
		for _, g := range stats.Gauges() {
			if g.Labels["topic"] != topic {
				t.Errorf("gauge %s: topic %q, want %q", g.Name, g.Labels["topic"], topic)
			}
			out[g.Name+"/"+g.Labels["partition"]] = g.Value
		}
		return out
	}
	want := func(end map[int32]int64, committed func(p int32) int64) func() bool {
		return func() bool {
			got := gauges()
			for p, e := range end {
				part := strconv.Itoa(int(p))
				if got[kafka.GaugeLogEndOffset+"/"+part] != float64(e) ||
					got[kafka.GaugeCommittedOffset+"/"+part] != float64(committed(p)) ||
					got[kafka.GaugeLag+"/"+part] != float64(e-committed(p)) {
					return false
				}
			}
			return len(got) == 3*len(end)
		}
	}
	eventually(t, 60*time.Second, 10*time.Millisecond, "every record held", func() bool { return hold.count() == n })
	eventually(t, 30*time.Second, 10*time.Millisecond, fmt.Sprintf("lag = log end %v, nothing committed", end),
		want(end, func(int32) int64 { return 0 }))
	hold.release()
	eventually(t, 30*time.Second, 10*time.Millisecond, fmt.Sprintf("lag 0, committed = log end %v", end),
		want(end, func(p int32) int64 { return end[p] }))
	t.Logf("gauges %v", gauges())

	// New records, held: the log end the spout polls moves, the commit not.
	kafkatest.Produce(t, brokers, topic, 90, func(i int) ([]byte, []byte) { return []byte(idOf(n + i)), []byte(idOf(n + i)) })
	end2 := kafkatest.EndOffsets(t, brokers, topic)
	eventually(t, 30*time.Second, 10*time.Millisecond, fmt.Sprintf("log end %v, committed %v", end2, end),
		want(end2, func(p int32) int64 { return end[p] }))
	t.Logf("gauges %v", gauges())
	eventually(t, 60*time.Second, 10*time.Millisecond, "the new records held", func() bool { return hold.count() == 90 })
	hold.release()
	stop(t, c)
	if g := stats.Gauges(); len(g) != 0 {
		t.Errorf("gauges after stop: %v, want none", g)
	}
}

func TestSpoutReportsLagAndCommittedOffset(t *testing.T) {
	brokers := kafkatest.Embedded(t, embedded.Topics(3, "in"))
	testLagGauges(t, brokers, "in")
}

// TestKafkaSpoutReportsLagAndCommittedOffset is the same on a real broker.
func TestKafkaSpoutReportsLagAndCommittedOffset(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	testLagGauges(t, brokers, kafkatest.NewTopic(t, brokers, 3))
}
