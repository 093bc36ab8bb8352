package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/examples/wordcount/wordcount"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka/kafkatest"
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

	bin := buildNode(t)
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(cluster.Keygen())
	procs := []*proc{{name: "k1"}, {name: "k2"}, {name: "k3"}}
	for _, p := range procs {
		p.gossip, p.api = clustertest.FreeAddr(t), clustertest.FreeAddr(t)
	}
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			for _, p := range procs {
				p.kill()
			}
		})
		if t.Failed() {
			for _, p := range procs {
				b, _ := os.ReadFile(filepath.Join(dir, p.name+".log"))
				t.Logf("--- %s log (tail):\n%s", p.name, tail(string(b), 3000))
			}
		}
	})
	procs[0].start(t, bin, key, "", dir)
	poll.Until(t, 30*time.Second, "k1 serving", func() bool { return members(procs[0].api) != nil })
	procs[1].start(t, bin, key, procs[0].gossip, dir)
	procs[2].start(t, bin, key, procs[0].gossip, dir)
	poll.Until(t, 30*time.Second, "3 alive members", func() bool {
		ms := members(procs[0].api)
		return len(ms) == 3 && ms["k1"].Status == "alive" && ms["k2"].Status == "alive" && ms["k3"].Status == "alive"
	})
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
