package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// gaugeBolt is the sink of the ids topology that also reports gauges, like
// a Kafka spout does: two of one name with the same labels, and one name
// used with different label sets by different tasks.
type gaugeBolt struct{ sinkBolt }

func (b *gaugeBolt) Prepare(ctx context.Context, tc *topology.Context, c topology.OutputCollector) error {
	g := tc.Gauges()
	g.Set("kafka_lag", 42, "topic", "words", "partition", "0")
	g.Set("kafka_lag", 7, "topic", "words", "partition", "1")
	g.Set("transport_peers", 9) // named like a squall metric
	if tc.TaskIndex == 0 {
		g.Set("queue.depth", 3, "kind", "a")
	} else {
		g.Set("queue.depth", 4, "task", "clashes", "extra", "x")
	}
	return b.sinkBolt.Prepare(ctx, tc, c)
}

func TestMetricsExposition(t *testing.T) {
	const n = 1000
	src := newSource(n)
	c := clustertest.New(t, 1, map[string]cluster.Factory{"ids": cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		return idsTopology(src, 2, 2, func() topology.Bolt { return &gaugeBolt{sinkBolt{src: src}} },
			topology.Config{topology.MessageTimeoutSecs: 10}.Merge(conf))
	})})
	if err := c.Node(0).Submit("ids", "ids", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "every id acked", func() bool { return src.Acked() == n })
	var body string
	poll.Until(t, 10*time.Second, "every tuple executed", func() bool {
		body = scrape(t, c.Node(0).HTTPAddr())
		return metricValue(body, `squall_task_execute_latency_seconds_count{component="sink"`) >= n
	})
	for _, m := range []struct {
		prefix string
		min    float64
	}{
		{`squall_task_execute_latency_seconds_sum{component="sink"`, 1e-9},
		{`squall_task_process_latency_seconds_count{component="sink"`, n},
		{`squall_task_process_latency_seconds_sum{component="relay"`, 1e-9},
		{`squall_task_complete_latency_seconds_count{component="ids"`, n},
		{`squall_task_complete_latency_seconds_sum{component="ids"`, 1e-9},
		{`squall_task_edge_transferred_total{component="ids",consumer="relay",stream="default"`, n},
		{`squall_task_edge_transferred_total{component="relay",consumer="sink",stream="default"`, n},
		{`squall_task_capacity{component="relay",task="2",topology="ids",window="10m"}`, 1e-12},
		{`squall_task_capacity{component="relay",task="2",topology="ids",window="all"}`, 1e-12},
		{`squall_task_start_time_seconds{component="sink"`, float64(time.Now().Add(-time.Hour).Unix())},
		{`squall_kafka_lag{component="sink",partition="0",task="4",topic="words",topology="ids"} 42`, 42},
		{`squall_kafka_lag{component="sink",partition="1",task="5",topic="words",topology="ids"} 7`, 7},
		// One family, the union of the label names; a label named like
		// one of squall's gets a prefix.
		{`squall_queue_depth{component="sink",extra="",kind="a",label_task="",task="4",topology="ids"} 3`, 3},
		{`squall_queue_depth{component="sink",extra="x",kind="",label_task="clashes",task="5",topology="ids"} 4`, 4},
		{`squall_gauge_transport_peers{component="sink",task="4",topology="ids"} 9`, 9},
		{`go_goroutines`, 1},
	} {
		if got := metricValue(body, m.prefix); got < m.min {
			t.Errorf("%s: %v, want >= %v", m.prefix, got, m.min)
		}
	}
	if t.Failed() {
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "squall_") {
				t.Log(line)
			}
		}
	}
}
