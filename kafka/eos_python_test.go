package kafka_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

// splitSubprocesses are the pids of this process's children running
// multilang's SplitBolt.
func splitSubprocesses(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmd), "SplitBolt") {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[0] != "Z" && fields[1] == strconv.Itoa(os.Getpid()) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestKafkaPythonExactlyOnce: the Kafka -> Python split -> Go count
// -> Kafka topology under exactly-once, on the real broker, with an
// unchanged pystorm SplitBolt and one of its processes SIGKILLed between
// 40 % and 70 % of the words: read with read_committed, every word's
// running counts are written exactly once.
func TestKafkaPythonExactlyOnce(t *testing.T) {
	python := os.Getenv("SQUALL_PYTHON")
	if python == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)`")
	}
	brokers := kafkatest.Brokers(t)
	in, out := kafkatest.NewTopic(t, brokers, 3), kafkatest.NewTopic(t, brokers, 3)
	vocab := []string{"storm", "kafka", "python", "squall", "barrier", "spout", "bolt", "tuple"}
	const lines = 3000
	want := map[string]int{}
	total := 0
	recs := make([]kafka.Record, lines)
	for i := range recs {
		ws := make([]string, 1+rand.IntN(6))
		for j := range ws {
			ws[j] = vocab[rand.IntN(len(vocab))]
			want[ws[j]]++
			total++
		}
		recs[i] = kafka.Record{Topic: in, Value: []byte(strings.Join(ws, " "))}
	}
	if err := kafka.Produce(context.Background(), brokers, recs); err != nil {
		t.Fatal(err)
	}
	sc := kafka.DefaultSpoutConfig()
	sc.Brokers, sc.Topics = brokers, []string{in}
	sc.Streams = map[topology.StreamID][]string{topology.DefaultStream: {"line"}}
	sc.Translator = func(r kafka.Record) (topology.StreamID, topology.Values, error) {
		return topology.DefaultStream, topology.Values{string(r.Value)}, nil
	}
	spout, err := kafka.NewCheckpointedSpout(sc)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := kafka.NewTransactionalBolt(txConfig(brokers, out))
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	var killed atomic.Int64
	atN, once := int64(total*40/100+rand.IntN(total*30/100)), &sync.Once{} // one kill, whatever restores follow
	count := func() topology.Bolt {
		return &keyedWordCount{field: "word", seen: &seen, atN: atN, once: once, at: func() {
			if pids := splitSubprocesses(t); len(pids) > 0 {
				pid := pids[rand.IntN(len(pids))]
				if syscall.Kill(pid, syscall.SIGKILL) == nil {
					killed.Store(int64(pid))
				}
			}
		}}
	}
	// One count task, so the kill happens once.
	b := topology.NewBuilder("kafka-python-eos")
	b.SetSpout("lines", spout, 2)
	b.SetBolt("split", multilang.BoltFactory([]string{python, "wordcount.py", "SplitBolt"},
		multilang.WithDir("../multilang/testdata/resources"), multilang.Output("word")), 2).ShuffleGrouping("lines")
	b.SetBolt("count", count, 1).FieldsGrouping("split", "word").Output("key", "message")
	b.SetBolt("out", sink, 1).FieldsGrouping("count", "key")
	topo, err := b.Build(topology.Config{topology.GuaranteeKey: topology.ExactlyOnce, topology.CheckpointIntervalMs: 100})
	if err != nil {
		t.Fatal(err)
	}
	r := newCommittedReader(t, brokers, out)
	cl, err := local.Start(context.Background(), topo)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Stop(context.Background())
	poll.Until(t, 120*time.Second, "every word's count committed", func() bool { return len(r.read()) >= total })
	if killed.Load() == 0 {
		t.Fatalf("no SplitBolt subprocess was killed (%d words seen)", seen.Load())
	}
	checkRunningCounts(t, r.settled(), want, total)
	st, _ := cl.Topology().Env().Checkpoints()
	t.Logf("%d words; SplitBolt pid %d killed; checkpoints %s", total, killed.Load(), fmt.Sprintf("%+v", st))
}
