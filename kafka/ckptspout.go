package kafka

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/IBM/sarama"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/kafka/internal/txnpb"
	"github.com/squall-streams/squall/topology"
)

// CheckpointedSpout is the Kafka spout of squall.guarantee=exactly-once (a
// topology.CheckpointedSpout): its position — the next offset of every
// partition it reads — is part of each checkpoint, and a restore rewinds
// every partition to it. Positions belong to the checkpoint, not to a
// consumer group, so partitions are assigned without one: the topics'
// partitions, sorted, go round robin over the spout's tasks (task index i
// reads partitions i, i+n, …), like storm-kafka-client's manual
// partitioner. It reads under read_committed, so a topology reading what
// another exactly-once topology wrote sees committed records only.
// Offsets have gaps there (transaction markers, aborted records): the
// position is the last emitted offset plus one.
//
// It emits with no message id (exactly-once acks nothing), the records a
// consumer goroutine per partition buffered, in order per partition. A
// partition that cannot be read (an offset retention deleted, a topic that
// went away) crashes the task, so the topology restores rather than skip
// records.
type CheckpointedSpout struct {
	topology.BaseSpout
	cfg SpoutConfig
	tc  *topology.Context
	out topology.SpoutCollector

	parts []TopicPartition // this task's, sorted
	next  map[TopicPartition]int64
	// run is the consumers of the current position; a restore replaces it.
	run *ckptRun
}

// ckptRun is one generation of partition consumers, feeding records.
type ckptRun struct {
	client   sarama.Client
	consumer sarama.Consumer
	records  chan *sarama.ConsumerMessage
	errs     chan error
	stop     chan struct{}
	wg       sync.WaitGroup
}

// NewCheckpointedSpout validates cfg and returns the factory of its tasks.
// The fields of cfg that are a consumer group's (GroupID, CommitPeriod,
// Offsets, DeadLetterTopic, the group timeouts) do not apply. FirstPoll
// decides where a partition starts when no checkpoint holds it: Earliest
// and UncommittedEarliest read from the oldest offset, Latest and
// UncommittedLatest from the newest.
func NewCheckpointedSpout(cfg SpoutConfig) (func() topology.Spout, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Brokers = slices.Clone(cfg.Brokers)
	cfg.Topics = slices.Clone(cfg.Topics)
	if cfg.Translator == nil {
		cfg.Streams = map[topology.StreamID][]string{topology.DefaultStream: DefaultFields}
	} else {
		cfg.Streams = maps.Clone(cfg.Streams)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = new(SpoutMetrics)
	}
	return func() topology.Spout { return &CheckpointedSpout{cfg: cfg} }, nil
}

var _ topology.CheckpointedSpout = (*CheckpointedSpout)(nil)

// DeclareOutputFields declares the translator's streams.
func (s *CheckpointedSpout) DeclareOutputFields(d topology.OutputFieldsDeclarer) {
	for _, id := range slices.Sorted(maps.Keys(s.cfg.Streams)) {
		d.DeclareStream(id, false, s.cfg.Streams[id]...)
	}
}

// Open finds this task's partitions. Reading starts at RestorePosition.
func (s *CheckpointedSpout) Open(_ context.Context, tc *topology.Context, out topology.SpoutCollector) error {
	s.tc, s.out = tc, out
	client, err := sarama.NewClient(s.cfg.Brokers, s.saramaConfig())
	if err != nil {
		return fmt.Errorf("kafka checkpointed spout: %w", err)
	}
	defer client.Close()
	var all []TopicPartition
	for _, topic := range s.cfg.Topics {
		ps, err := client.Partitions(topic)
		if err != nil {
			return fmt.Errorf("kafka checkpointed spout: partitions of %q: %w", topic, err)
		}
		for _, p := range ps {
			all = append(all, TopicPartition{Topic: topic, Partition: p})
		}
	}
	slices.SortFunc(all, func(a, b TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	n := max(len(tc.ComponentTasks(tc.Component)), 1)
	s.parts = nil
	for i, tp := range all {
		if i%n == tc.TaskIndex {
			s.parts = append(s.parts, tp)
		}
	}
	return nil
}

func (s *CheckpointedSpout) saramaConfig() *sarama.Config {
	sc := consumerConfig(s.cfg, cmp.Or(s.cfg.ClientID, "squall"))
	sc.Consumer.IsolationLevel = sarama.ReadCommitted
	return sc
}

// NextTuple emits what the consumers buffered, up to a batch.
func (s *CheckpointedSpout) NextTuple() {
	r := s.run
	if r == nil {
		return
	}
	for range 256 {
		select {
		case err := <-r.errs:
			panic(fmt.Errorf("kafka checkpointed spout: %w", err)) // the task crashes; everything restores
		case m := <-r.records:
			s.emit(m)
		default:
			return
		}
	}
}

func (s *CheckpointedSpout) emit(m *sarama.ConsumerMessage) {
	tp := TopicPartition{Topic: m.Topic, Partition: m.Partition}
	s.next[tp] = m.Offset + 1
	rec := recordOf(m)
	stream, values, err := DefaultTranslator(rec)
	if s.cfg.Translator != nil {
		stream, values, err = translateRecord(s.cfg, rec)
	}
	if err != nil {
		// Nothing can replay one record in exactly-once, and a dead letter
		// would be a side effect outside the checkpoint: stop here.
		panic(fmt.Errorf("kafka checkpointed spout: %s/%d offset %d: translator: %w", m.Topic, m.Partition, m.Offset, err))
	}
	if values == nil {
		s.cfg.Metrics.Skipped.Add(1) // mapped to nothing
		return
	}
	s.cfg.Metrics.Emitted.Add(1)
	s.out.EmitStream(stream, values, nil)
}

// SnapshotPosition is every partition's next offset.
func (s *CheckpointedSpout) SnapshotPosition(uint64) ([]byte, error) {
	pos := &txnpb.SpoutPosition{}
	for _, tp := range s.parts {
		if next, ok := s.next[tp]; ok {
			pos.Partitions = append(pos.Partitions, &txnpb.PartitionOffset{Topic: tp.Topic, Partition: tp.Partition, Next: next})
		}
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(pos)
}

// RestorePosition starts the partition consumers at position (nil: where
// FirstPoll says).
func (s *CheckpointedSpout) RestorePosition(position []byte) error {
	var pos txnpb.SpoutPosition
	if err := proto.Unmarshal(position, &pos); err != nil {
		return fmt.Errorf("kafka checkpointed spout: position: %w", err)
	}
	s.next = map[TopicPartition]int64{}
	for _, p := range pos.GetPartitions() {
		tp := TopicPartition{Topic: p.GetTopic(), Partition: p.GetPartition()}
		if !slices.Contains(s.parts, tp) {
			return fmt.Errorf("kafka checkpointed spout: the checkpoint has partition %s/%d, which task index %d does not read: did the topic's partitions or the spout's parallelism change?",
				tp.Topic, tp.Partition, s.tc.TaskIndex)
		}
		if p.GetNext() < 0 {
			return fmt.Errorf("kafka checkpointed spout: partition %s/%d: next offset %d", tp.Topic, tp.Partition, p.GetNext())
		}
		s.next[tp] = p.GetNext()
	}
	s.stopRun()
	r, err := s.startRun()
	if err != nil {
		return err
	}
	s.run = r
	return nil
}

func (s *CheckpointedSpout) startRun() (*ckptRun, error) {
	client, err := sarama.NewClient(s.cfg.Brokers, s.saramaConfig())
	if err != nil {
		return nil, fmt.Errorf("kafka checkpointed spout: %w", err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("kafka checkpointed spout: %w", err)
	}
	r := &ckptRun{client: client, consumer: consumer, records: make(chan *sarama.ConsumerMessage, max(s.cfg.BufferSize, 1)),
		errs: make(chan error, len(s.parts)+1), stop: make(chan struct{})}
	initial := sarama.OffsetOldest
	if s.cfg.FirstPoll == Latest || s.cfg.FirstPoll == UncommittedLatest {
		initial = sarama.OffsetNewest
	}
	for _, tp := range s.parts {
		off, ok := s.next[tp]
		if !ok {
			off = initial
		}
		pc, err := consumer.ConsumePartition(tp.Topic, tp.Partition, off)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("kafka checkpointed spout: partition %s/%d at offset %d: %w", tp.Topic, tp.Partition, off, err)
		}
		r.wg.Add(1)
		go r.feed(pc, tp)
	}
	return r, nil
}

// feed moves one partition's records to the task, until stopped.
func (r *ckptRun) feed(pc sarama.PartitionConsumer, tp TopicPartition) {
	defer r.wg.Done()
	defer pc.AsyncClose()
	for {
		select {
		case <-r.stop:
			return
		case m, ok := <-pc.Messages():
			if !ok {
				return
			}
			select {
			case r.records <- m:
			case <-r.stop:
				return
			}
		case err, ok := <-pc.Errors():
			if !ok {
				return
			}
			select {
			case r.errs <- fmt.Errorf("partition %s/%d: %w", tp.Topic, tp.Partition, err):
			default:
			}
		}
	}
}

func (r *ckptRun) close() {
	close(r.stop)
	r.wg.Wait()
	r.consumer.Close()
	r.client.Close()
}

func (s *CheckpointedSpout) stopRun() {
	if s.run != nil {
		s.run.close()
		s.run = nil
	}
}

// CheckpointComplete: nothing to do; the position is in the checkpoint.
func (s *CheckpointedSpout) CheckpointComplete(uint64) {}

// Close stops the consumers.
func (s *CheckpointedSpout) Close() error {
	s.stopRun()
	return nil
}
