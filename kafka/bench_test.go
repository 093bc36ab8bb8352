package kafka_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// Benchmarks against the real broker, in one run so the ceilings and the
// topologies see the same broker and machine:
//
//	scripts/kafka.sh up
//	KAFKA_BROKERS=$(scripts/kafka.sh addr) go test -run '^$' -bench Kafka ./kafka/
//
// BenchmarkKafkaCeiling* measure what a plain sarama loop gets from the
// broker; the topology benchmarks report their rate and, when the ceilings
// ran first in the same run, the ratio to them (x_consume, x_produce).
// Each iteration is one pass over a topic filled before the timer starts.
// Rates are steady-state: counted from the moment a tenth of the records
// went through to the end, so that connecting and the consumer group's first
// rebalance (about a second) do not count. cpu-ns/record is the process's
// CPU time (every goroutine: sarama, the topology) over the same window per
// record: unlike the rate it hardly moves when other processes load the
// machine, so ceiling cpu-ns/record ÷ topology cpu-ns/record is the ratio
// the two would have with the cores to themselves.

const (
	benchRecords = 500_000 // records for the consume and spout benchmarks
	benchLines   = 100_000 // lines for the word count (about 9.5 words each)
	benchParts   = 4
)

// steadyRate polls count until it reaches total and returns the rate from
// the moment it passed total/10 to the end, and the process's CPU time per
// count over that window (0 when unknown).
func steadyRate(b *testing.B, total int64, count func() int64) (rate float64, cpuPer time.Duration) {
	b.Helper()
	var t1 time.Time
	var c1 int64
	var cpu1 time.Duration
	deadline := time.Now().Add(5 * time.Minute)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		c := count()
		now := time.Now()
		if t1.IsZero() && c >= total/10 {
			t1, c1 = now, c
			cpu1, _ = processCPU()
		}
		if c >= total {
			if cpu2, ok := processCPU(); ok && c > c1 {
				cpuPer = (cpu2 - cpu1) / time.Duration(c-c1)
			}
			return float64(c-c1) / now.Sub(t1).Seconds(), cpuPer
		}
		if now.After(deadline) {
			b.Fatalf("timed out at %d of %d", c, total)
		}
		<-tick.C
	}
}

// Ceilings measured earlier in this run, records/s.
var ceilingConsume, ceilingProduce atomic.Uint64

func setCeiling(v *atomic.Uint64, rate float64) { v.Store(uint64(rate)) }

func ratio(b *testing.B, rate float64, ceiling *atomic.Uint64, unit string) {
	if c := ceiling.Load(); c > 0 {
		b.ReportMetric(rate/float64(c), unit)
	}
}

// reportCPU reports the CPU time per record of the last iteration.
func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds()), "cpu-ns/record")
	}
}

var (
	benchTopicsOnce sync.Once
	benchIn         string // benchRecords records of 16 bytes
	benchLinesTopic string // benchLines generated lines
	benchWords      int    // words in benchLinesTopic
)

func benchTopics(b *testing.B, brokers []string) {
	benchTopicsOnce.Do(func() {
		benchIn = kafkatest.TopicName(b)
		kafkatest.CreateTopic(b, brokers, benchIn, benchParts, nil)
		kafkatest.Produce(b, brokers, benchIn, benchRecords, func(i int) ([]byte, []byte) {
			return nil, []byte(fmt.Sprintf("record-%09d", i))
		})
		benchLinesTopic = kafkatest.TopicName(b) + "-lines"
		kafkatest.CreateTopic(b, brokers, benchLinesTopic, benchParts, nil)
		lines := wordcount.GenerateLines(benchLines, 42)
		for _, l := range lines {
			benchWords += len(wordcount.Words(l))
		}
		kafkatest.Produce(b, brokers, benchLinesTopic, benchLines, func(i int) ([]byte, []byte) { return nil, []byte(lines[i]) })
	})
	// The topics are not deleted per benchmark: they serve the whole run.
}

// BenchmarkKafkaCeilingConsume: a plain sarama consumer reads every
// partition from the start to the end.
func BenchmarkKafkaCeilingConsume(b *testing.B) {
	brokers := kafkatest.Brokers(b)
	benchTopics(b, brokers)
	var rate float64
	var cpu time.Duration
	for b.Loop() {
		conf := kafkatest.Config()
		conf.Consumer.MaxWaitTime = 250 * time.Millisecond
		conf.Consumer.IsolationLevel = sarama.ReadCommitted
		client, err := sarama.NewClient(brokers, conf)
		if err != nil {
			b.Fatal(err)
		}
		consumer, err := sarama.NewConsumerFromClient(client)
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		var n atomic.Int64
		for p := range int32(benchParts) {
			end, err := client.GetOffset(benchIn, p, sarama.OffsetNewest)
			if err != nil {
				b.Fatal(err)
			}
			pc, err := consumer.ConsumePartition(benchIn, p, sarama.OffsetOldest)
			if err != nil {
				b.Fatal(err)
			}
			wg.Go(func() {
				for m := range pc.Messages() {
					n.Add(1)
					if m.Offset >= end-1 {
						break
					}
				}
				pc.AsyncClose()
				for range pc.Messages() {
				}
			})
		}
		rate, cpu = steadyRate(b, benchRecords, n.Load)
		wg.Wait()
		consumer.Close()
		client.Close()
	}
	b.ReportMetric(rate, "records/s")
	reportCPU(b, cpu)
	setCeiling(&ceilingConsume, rate)
}

// BenchmarkKafkaCeilingProduce: a plain sarama AsyncProducer with the Kafka
// bolt's settings (idempotent, acks=all, one open request) writes short
// records, as the word count's output.
func BenchmarkKafkaCeilingProduce(b *testing.B) {
	brokers := kafkatest.Brokers(b)
	topic := kafkatest.NewTopic(b, brokers, benchParts)
	var rate float64
	var cpu time.Duration
	for b.Loop() {
		conf := kafkatest.Config()
		conf.Producer.Idempotent = true
		conf.Producer.RequiredAcks = sarama.WaitForAll
		conf.Net.MaxOpenRequests = 1
		conf.Producer.Retry.Max = 10
		conf.Producer.Return.Successes = true
		p, err := sarama.NewAsyncProducer(brokers, conf)
		if err != nil {
			b.Fatal(err)
		}
		var ok atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() {
			for range benchRecords {
				select {
				case <-p.Successes():
					ok.Add(1)
				case e := <-p.Errors():
					b.Error(e.Err)
					ok.Add(1)
				}
			}
		})
		wg.Go(func() {
			for i := range benchRecords {
				k := strconv.Itoa(i % 1000)
				p.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(k), Value: sarama.StringEncoder(strconv.Itoa(i))}
			}
		})
		rate, cpu = steadyRate(b, benchRecords, ok.Load)
		wg.Wait()
		p.Close()
	}
	b.ReportMetric(rate, "records/s")
	reportCPU(b, cpu)
	setCeiling(&ceilingProduce, rate)
}

// nullBolt acks and drops every tuple.
type nullBolt struct{ out topology.OutputCollector }

func (b *nullBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}
func (b *nullBolt) Execute(t topology.Tuple) { b.out.Ack(t) }
func (b *nullBolt) Cleanup() error           { return nil }

// BenchmarkKafkaSpoutNullBolt: Kafka spout (2 tasks, acking) -> null bolt
// over the whole topic, until every record is acked.
func BenchmarkKafkaSpoutNullBolt(b *testing.B) {
	brokers := kafkatest.Brokers(b)
	benchTopics(b, brokers)
	var rate float64
	var cpu time.Duration
	for b.Loop() {
		sc := spoutConfig(brokers, benchIn)
		sc.CommitPeriod = kafka.DefaultCommitPeriod
		sc.Metrics = new(kafka.SpoutMetrics)
		spout, err := kafka.NewSpout(sc)
		if err != nil {
			b.Fatal(err)
		}
		tb := topology.NewBuilder(kafkatest.TopicName(b))
		tb.SetSpout("kafka", spout, 2)
		tb.SetBolt("null", func() topology.Bolt { return &nullBolt{} }, 2).ShuffleGrouping("kafka")
		topo, err := tb.Build(nil)
		if err != nil {
			b.Fatal(err)
		}
		c := start(b, topo)
		rate, cpu = steadyRate(b, benchRecords, sc.Metrics.Acked.Load)
		stop(b, c)
	}
	b.ReportMetric(rate, "records/s")
	reportCPU(b, cpu)
	ratio(b, rate, &ceilingConsume, "x_consume")
}

// BenchmarkKafkaWordCount: Kafka -> split -> count -> Kafka (the
// kafka-wordcount topology's shape) over generated lines, until every word's
// update is written and confirmed. records/s counts the output records.
func BenchmarkKafkaWordCount(b *testing.B) {
	brokers := kafkatest.Brokers(b)
	benchTopics(b, brokers)
	out := kafkatest.NewTopic(b, brokers, benchParts)
	var lineRate, wordRate float64
	var cpu time.Duration
	for b.Loop() {
		sc := spoutConfig(brokers, benchLinesTopic)
		sc.CommitPeriod = kafka.DefaultCommitPeriod
		sc.Metrics = new(kafka.SpoutMetrics)
		bc := boltConfig(brokers, out)
		bc.Metrics = new(kafka.BoltMetrics)
		spout, err := kafka.NewSpout(sc)
		if err != nil {
			b.Fatal(err)
		}
		bolt, err := kafka.NewBolt(bc)
		if err != nil {
			b.Fatal(err)
		}
		tb := topology.NewBuilder(kafkatest.TopicName(b))
		tb.SetSpout("lines", spout, 2)
		tb.SetBasicBolt("split", func() topology.BasicBolt {
			return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
				v, _ := topology.Bytes(t, "value")
				for _, w := range wordcount.Words(string(v)) {
					c.Emit(topology.Values{w})
				}
				return nil
			})
		}, 2).ShuffleGrouping("lines").Output("word")
		tb.SetBolt("count", func() topology.Bolt { return &wordcount.CountBolt{Emit: true} }, 2).FieldsGrouping("split", "word").Output("key", "message")
		tb.SetBolt("out", bolt, 2).FieldsGrouping("count", "key")
		topo, err := tb.Build(nil)
		if err != nil {
			b.Fatal(err)
		}
		c := start(b, topo)
		// Every written record acks a word; a line is acked with its last word.
		wordRate, cpu = steadyRate(b, int64(benchWords), bc.Metrics.Written.Load)
		lineRate = wordRate * benchLines / float64(benchWords)
		eventually(b, time.Minute, time.Millisecond, "every line acked", func() bool { return sc.Metrics.Acked.Load() >= benchLines })
		stop(b, c)
	}
	b.ReportMetric(lineRate, "lines/s")
	b.ReportMetric(wordRate, "records/s")
	reportCPU(b, cpu)
	ratio(b, wordRate, &ceilingProduce, "x_produce")
}
