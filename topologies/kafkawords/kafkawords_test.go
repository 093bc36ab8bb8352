package kafkawords_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topologies/kafkawords"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, kafkatest.LeakOptions()...)
}

const seed = 500

// run builds a job on an embedded broker seeded with `seed` lines, runs it
// until every line is acked and every output written, and stops it.
func run(t *testing.T, build func(topology.Config, io.Writer) (*kafkawords.Job, error), wantOut int) *kafkawords.Job {
	t.Helper()
	var log bytes.Buffer
	job, err := build(topology.Config{kafkawords.KeySeedLines: strconv.Itoa(seed)}, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(job.Close)
	if job.Embedded == nil || !strings.Contains(log.String(), "embedded in-memory Kafka broker at 127.0.0.1:") {
		t.Fatalf("no embedded broker announced: %q", log.String())
	}
	c, err := local.Start(context.Background(), job.Topology)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	poll.Until(t, 60*time.Second, "every line acked and every record written", func() bool {
		return job.Spout.Acked.Load() >= seed && job.Bolt.Written.Load() >= int64(wantOut)
	})
	t.Logf("processed in %v: spout %+v", time.Since(began), job.Spout.Snapshot())
	began = time.Now()
	defer func() { t.Logf("stopped in %v", time.Since(began)) }()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	var summary bytes.Buffer
	if err := job.Summary(context.Background(), &summary, time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary.String(), "top words in") {
		t.Errorf("summary %q", summary.String())
	}
	return job
}

func trueCounts() (map[string]int64, int) {
	counts := map[string]int64{}
	total := 0
	for _, l := range wordcount.GenerateLines(seed, 42) {
		for _, w := range wordcount.Words(l) {
			counts[w]++
			total++
		}
	}
	return counts, total
}

func TestWordCountWritesRunningCounts(t *testing.T) {
	want, total := trueCounts()
	job := run(t, kafkawords.WordCount, total)
	recs, err := kafka.ReadTopic(context.Background(), job.Brokers, job.Output)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != total {
		t.Errorf("%d updates written, want one per word (%d)", len(recs), total)
	}
	got := map[string]int64{}
	for _, r := range recs {
		n, err := strconv.ParseInt(string(r.Value), 10, 64)
		if err != nil {
			t.Fatalf("value %q is not a decimal count", r.Value)
		}
		if n <= got[string(r.Key)] {
			t.Fatalf("counts of %q out of order in %s/%d: %d after %d", r.Key, r.Topic, r.Partition, n, got[string(r.Key)])
		}
		got[string(r.Key)] = n
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("final counts differ:\n got %v\nwant %v", got, want)
	}
}

func TestWordsAuditsEveryWord(t *testing.T) {
	_, total := trueCounts()
	job := run(t, kafkawords.Words, total)
	ctx := context.Background()
	in, err := kafka.ReadTopic(ctx, job.Brokers, job.Input)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, r := range in {
		lines[fmt.Sprintf("%d:%d", r.Partition, r.Offset)] = string(r.Value)
	}
	out, err := kafka.ReadTopic(ctx, job.Brokers, job.Output)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range out {
		v := string(r.Value)
		i := strings.LastIndexByte(v, ':')
		pos, err := strconv.Atoi(v[i+1:])
		if err != nil {
			t.Fatalf("value %q", v)
		}
		words := wordcount.Words(lines[v[:i]])
		if pos >= len(words) || words[pos] != string(r.Key) {
			t.Fatalf("record %q=%q: line %q", r.Key, v, lines[v[:i]])
		}
		seen[v] = true
	}
	if len(seen) != total {
		t.Fatalf("%d distinct words audited, want %d", len(seen), total)
	}
}

func TestBuildReportsBadConfig(t *testing.T) {
	for _, kv := range [][2]string{
		{kafka.KeyInput, "a,b"},
		{kafkawords.KeySpouts, "many"},
		{kafka.KeyFirstPoll, "whenever"},
		{kafka.KeyCommitPeriod, "0"},
		{kafka.KeyOutput, "bad topic"},
	} {
		conf := topology.Config{kafka.KeyBrokers: "127.0.0.1:9", kv[0]: kv[1]}
		if _, err := kafkawords.WordCount(conf, io.Discard); err == nil {
			t.Errorf("%s=%s: no error", kv[0], kv[1])
		}
	}
}

func TestTop(t *testing.T) {
	got := kafkawords.Top(map[string]int64{"a": 1, "b": 3, "c": 3, "d": 2}, 3)
	if fmt.Sprint(got) != "[{b 3} {c 3} {d 2}]" {
		t.Fatalf("Top() = %v", got)
	}
}
