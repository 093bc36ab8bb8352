package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/topologies/wordcount"
)

// spoutAcked sums the acked trees of a topology's spouts over the cluster.
func spoutAcked(addr, name string) int64 {
	var ts []cluster.TopologyInfo
	if getJSON(addr, "/api/v1/topologies", &ts) != nil {
		return -1
	}
	var n int64
	for _, t := range ts {
		if t.Name == name {
			for _, s := range t.Spouts {
				n += s.Acked
			}
		}
	}
	return n
}

// TestMultiProcessKafkaWordsSurvivesSIGKILL runs kafka-words on three node
// processes against the real broker, SIGKILLs one mid-stream, and checks
// that the output topic holds every word of every input record
// (<partition>:<offset>:<position>) at least once and nothing else.
func TestMultiProcessKafkaWordsSurvivesSIGKILL(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	in, out := kafkatest.NewTopic(t, brokers, 4), kafkatest.NewTopic(t, brokers, 4)
	lines := wordcount.GenerateLines(8000, 21)
	kafkatest.Produce(t, brokers, in, len(lines), func(i int) ([]byte, []byte) { return nil, []byte(lines[i]) })
	want := map[string]string{} // value -> word
	for _, r := range kafkatest.ReadAll(t, brokers, in) {
		for i, w := range wordcount.Words(string(r.Value)) {
			want[fmt.Sprintf("%d:%d:%d", r.Partition, r.Offset, i)] = w
		}
	}

	c := newProcCluster(t, "k1", "k2", "k3")
	c.startAll()
	procs := c.procs
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"submit", "kafka-words", "--addr", procs[0].api, "--name", "kw",
		"--set", "kafka.brokers=" + strings.Join(brokers, ","), "--set", "kafka.input=" + in, "--set", "kafka.output=" + out,
		"--set", "topology.message.timeout.secs=5", "--set", "topology.max.spout.pending=50"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("submit: exit %d: %s", code, stderr.String())
	}
	poll.Until(t, 90*time.Second, "a fifth of the lines acked", func() bool {
		return spoutAcked(procs[0].api, "kw") > int64(len(lines)/5)
	})
	procs[2].kill()
	killed := time.Now()
	var got map[string]int
	poll.Until(t, 180*time.Second, "every word of every record in the output", func() bool {
		got = map[string]int{}
		for _, r := range kafkatest.ReadAll(t, brokers, out) {
			got[string(r.Value)]++
		}
		for v := range want {
			if got[v] == 0 {
				return false
			}
		}
		return true
	})
	dups := 0
	for v, n := range got {
		if _, ok := want[v]; !ok {
			t.Errorf("output value %q is not a word position of the input", v)
			continue
		}
		dups += n - 1
	}
	t.Logf("SIGKILL of k3: every one of %d words in the output %v after the kill; %d duplicates",
		len(want), time.Since(killed).Round(time.Millisecond), dups)
}
