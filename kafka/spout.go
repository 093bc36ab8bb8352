package kafka

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/topology"
)

// Spout is an at-least-once Kafka spout (topology.Spout). Every task is one
// member of a consumer group; the group protocol spreads the partitions over
// the tasks (and moves them when a task or node goes away). A record's
// offset is committed only when its tuple tree, and the tree of every record
// before it in the partition, completed. Build its factory with NewSpout.
//
// The runtime calls its methods from the task goroutine; the consumer
// group's goroutines (see groupShell) hand records to it through a buffered
// channel that NextTuple polls, and everything else through Context.Submit.
type Spout struct {
	cfg        SpoutConfig
	deployment string
	metrics    *SpoutMetrics

	// Set by Open; used on the task goroutine only.
	tc *topology.Context
	// atMostOnce (squall.guarantee=at-most-once): no tree is tracked, so
	// Ack never comes; a record counts as done once emitted and its offset
	// is committed then (storm-kafka-client's AT_MOST_ONCE commits on poll).
	atMostOnce bool
	maxPending int  // topology.max.spout.pending (0: unlimited), for wake
	active     bool // between Activate and Deactivate: wake may emit
	out        topology.SpoutCollector
	log        *slog.Logger
	offsets    *Offsets
	asg        *assignment                     // nil between generations
	held       []partHeld                      // per owned partition of the generation
	heldIdx    map[TopicPartition]*heldRecords // held by partition, when more than ownedScan
	due        dueHeap
	parked     map[TopicPartition][]*sarama.ConsumerMessage
	paused     map[TopicPartition]bool
	ready      []*sarama.ConsumerMessage // unparked records, emitted before new ones
	batch      []*sarama.ConsumerMessage // the rest of the last delivery, in order
	batchGen   int32                     // the generation batch was read under
	cur        partCache                 // the partition take saw last
	slab       []any                     // backing of the default translator's values
	pending    int                       // tuples of this generation emitted, not yet acked or failed
	revoking   bool                      // the generation ends: emit nothing, wait for pending
	drained    chan struct{}             // closed when pending reaches 0 while revoking
	inFlight   bool                      // a commit is on its way
	soon       bool                      // a partition is at the cap: commit as soon as it helps
	lastCmt    time.Time
	dlq        *writer
	shell      *groupShell
	warnDLQ    throttle
	warnErr    throttle
	// highWater is each owned partition's log end offset, as last read
	// from the broker (every CommitPeriod), for the lag gauges.
	highWater map[TopicPartition]int64
}

// The gauges a Kafka spout task reports through its Context, per owned
// partition, with labels topic and partition (Prometheus:
// squall_kafka_lag{topology,component,task,topic,partition}). Storm's
// KafkaOffsetMetric reports the same.
const (
	// GaugeLag is the log end offset less the committed offset: records
	// the group has not committed yet, in flight or not read.
	GaugeLag = "kafka_lag"
	// GaugeCommittedOffset is the partition's committed position (the next
	// offset to read), or where the task started reading when the group
	// had none.
	GaugeCommittedOffset = "kafka_committed_offset"
	// GaugeLogEndOffset is the partition's log end offset (high-water mark).
	GaugeLogEndOffset = "kafka_log_end_offset"
)

var (
	_ topology.Spout          = (*Spout)(nil)
	_ topology.OutputDeclarer = (*Spout)(nil)
)

// held is what the spout keeps of a record until its offset is done: the
// record and its translation, to emit it again after a failure or write it
// as a dead letter.
type held struct {
	msg      *sarama.ConsumerMessage
	stream   topology.StreamID
	values   topology.Values
	cause    error // why it is dead-lettered
	attempts int   // dead-letter writes that failed
}

// partHeld is the records held for one owned partition.
type partHeld struct {
	tp TopicPartition
	r  *heldRecords
}

// heldOf returns the records held for tp in the current generation, or nil.
func (s *Spout) heldOf(tp TopicPartition) *heldRecords {
	if s.heldIdx != nil {
		return s.heldIdx[tp]
	}
	for i := range s.held {
		if h := &s.held[i]; h.tp.Partition == tp.Partition && h.tp.Topic == tp.Topic {
			return h.r
		}
	}
	return nil
}

// heldFor returns the records held for id's partition when id is of the
// current generation, or nil: an id of an older generation must not touch
// what a new one holds for the same offset.
func (s *Spout) heldFor(id MessageID) *heldRecords {
	if s.asg == nil || id.Generation != s.asg.gen {
		return nil
	}
	if c := &s.cur; c.held != nil && c.tp.Partition == id.Partition && c.tp.Topic == id.Topic {
		return c.held
	}
	return s.heldOf(id.TopicPartition())
}

// partCache is what take needs of the partition of the record it took
// last: deliveries carry records of one partition, so take looks the
// partition up once per delivery rather than once per record. The topic and
// partition are boxed once for the default translator's values (an any
// holding a value is immutable, so tuples may share it).
type partCache struct {
	tp       TopicPartition
	p        *PartitionOffsets // nil: empty
	held     *heldRecords
	topicVal any
	partVal  any
}

// valuesSlab is how many default translator tuples share one allocation of
// values: a tuple's values are a full slice expression into it, so nothing
// can append into a neighbour's. The slab lives while any of its tuples
// does.
const valuesSlab = 64

// deadLetterID is the message id of a tuple on DeadLetterStream.
type deadLetterID struct{ MessageID }

// capCommitGap spaces the commits a partition at the cap asks for.
const capCommitGap = 20 * time.Millisecond

// closeCommitTimeout bounds the final commit in Close.
const closeCommitTimeout = 10 * time.Second

// NewSpout validates cfg and returns the factory of its tasks, for
// Builder.SetSpout. Every task made by one factory shares the deployment
// token of the default TopologyID.
func NewSpout(cfg SpoutConfig) (func() topology.Spout, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Brokers = slices.Clone(cfg.Brokers)
	cfg.Topics = slices.Clone(cfg.Topics)
	if cfg.Translator == nil {
		// Nil stands for DefaultTranslator, which translate inlines.
		cfg.Streams = map[topology.StreamID][]string{topology.DefaultStream: DefaultFields}
	} else {
		cfg.Streams = maps.Clone(cfg.Streams)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = new(SpoutMetrics)
	}
	deployment := strconv.FormatInt(time.Now().Unix(), 36) + "-" + strconv.FormatUint(rand.Uint64()>>16, 36)
	return func() topology.Spout {
		return &Spout{cfg: cfg, deployment: deployment, metrics: cfg.Metrics}
	}, nil
}

// DeclareOutputFields declares the translator's streams and DeadLetterStream.
func (s *Spout) DeclareOutputFields(d topology.OutputFieldsDeclarer) {
	for _, id := range slices.Sorted(maps.Keys(s.cfg.Streams)) {
		d.DeclareStream(id, false, s.cfg.Streams[id]...)
	}
	d.DeclareStream(DeadLetterStream, false, DeadLetterFields...)
}

// Open starts the task's consumer group member. It does no I/O itself: the
// connection is made, and retried, on the spout's own goroutines.
func (s *Spout) Open(_ context.Context, tc *topology.Context, out topology.SpoutCollector) error {
	s.tc, s.out = tc, out
	if g, err := tc.Config.Guarantee(); err == nil && g == topology.AtMostOnce {
		s.atMostOnce = true
	}
	if t := tc.Compiled(); t != nil {
		s.maxPending = t.Runtime.MaxSpoutPending
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	offsets, err := NewOffsets(s.cfg.Offsets)
	if err != nil {
		return err
	}
	s.offsets = offsets
	if t := tc.Compiled(); s.cfg.DeadLetterTopic == "" && t != nil {
		if c := t.Component(tc.Component); c != nil && len(c.Consumers[DeadLetterStream]) == 0 {
			// Tuples on a stream nobody consumes complete at once: a dead
			// letter would be counted and then gone.
			s.log.Warn("dead letters go to stream "+string(DeadLetterStream)+", which no bolt consumes: subscribe one or set a dead-letter topic",
				"component", tc.Component)
		}
	}
	s.parked = make(map[TopicPartition][]*sarama.ConsumerMessage)
	s.paused = make(map[TopicPartition]bool)
	group := cmp.Or(s.cfg.GroupID, fmt.Sprintf("squall.%s.%s", tc.Topology, tc.Component))
	topologyID := cmp.Or(s.cfg.TopologyID, tc.TopologyID, tc.Topology+"@"+s.deployment)
	clientID := cmp.Or(s.cfg.ClientID, "squall")
	metadata := encodeMetadata(commitMetadata{
		TopologyID: topologyID,
		TaskID:     int32(tc.Task),
		ThreadName: fmt.Sprintf("%s-task-%d", tc.Component, tc.Task),
	})
	if s.cfg.DeadLetterTopic != "" {
		s.dlq = newWriter(s.cfg.Brokers, producerConfig(s.cfg.Version, clientID, s.cfg.Tune), tc.Submit, s.reportAsync)
	}
	s.shell = &groupShell{
		spout: s, submit: tc.Submit,
		brokers: s.cfg.Brokers, topics: s.cfg.Topics, group: group,
		topologyID: topologyID, strategy: s.cfg.FirstPoll, metadata: metadata,
		conf: consumerConfig(s.cfg, clientID), period: s.cfg.CommitPeriod,
		revokeDrain: s.cfg.RevokeDrainTimeout, report: s.reportAsync,
	}
	s.shell.start()
	s.log.Debug("kafka spout opened", "group", group, "topics", s.cfg.Topics, "first_poll", s.cfg.FirstPoll, "topology_id", topologyID)
	return nil
}

// NextTuple emits one record: a retry or dead letter that is due, a record
// unparked when its partition fell below the cap, or a new record. When it
// finds none, the next delivery from the claim goroutines wakes the task
// (wake) instead of the runtime's next 1 ms pulse.
func (s *Spout) NextTuple() {
	if s.revoking {
		return
	}
	if s.asg == nil {
		// Between generations everything buffered or due is stale.
		s.due = s.due[:0]
		s.drainStale()
		return
	}
	// The clock is read only when something waits on it: in the steady
	// state a record is emitted without it (emitNew).
	if s.soon || len(s.due) > 0 {
		now := time.Now()
		if s.soon && now.Sub(s.lastCmt) >= capCommitGap {
			s.commit(now) // a partition waits at the cap
		}
		if s.emitDue(now) {
			return
		}
	}
	for len(s.ready) > 0 {
		m := s.ready[0]
		s.ready[0] = nil
		s.ready = s.ready[1:]
		if s.take(m) {
			return
		}
	}
	// A few records per call at most: parked and skipped ones emit nothing.
	for range 64 {
		m := s.nextDelivered()
		if m == nil {
			return
		}
		if s.asg == nil || s.batchGen != s.asg.gen {
			s.metrics.Dropped.Add(1)
			continue
		}
		if s.take(m) {
			return
		}
	}
}

// nextDelivered returns the next record from the claim goroutines, or nil
// when none is waiting.
func (s *Spout) nextDelivered() *sarama.ConsumerMessage {
	if len(s.batch) == 0 {
		d, ok := s.receive()
		if !ok {
			return nil
		}
		s.batch, s.batchGen = d.msgs, d.gen
	}
	m := s.batch[0]
	s.batch[0] = nil
	s.batch = s.batch[1:]
	return m
}

// receive takes a delivery without waiting. When there is none, the task
// is marked idle first: the runtime lets an idle spout sleep until its
// clock's next pulse (1 ms), and the next delivery wakes it sooner (wake).
func (s *Spout) receive() (delivery, bool) {
	idle := &s.shell.idle
	select {
	case d := <-s.shell.recs:
		if idle.Load() {
			idle.Store(false)
		}
		return d, true
	default:
	}
	idle.Store(true)
	// A delivery sent before the flag was set woke nobody: look again.
	select {
	case d := <-s.shell.recs:
		idle.Store(false)
		return d, true
	default:
		return delivery{}, false
	}
}

// wake runs on the task goroutine when a delivery arrived while NextTuple
// had found none: it takes a record now, and its emit makes the runtime call
// NextTuple again without waiting for the clock. Only a task that found the
// channel empty, so had room for a tuple, gets a wake.
func (s *Spout) wake() {
	if !s.active || s.shell == nil || s.shell.idle.Load() {
		return // deactivated, or NextTuple ran since and took the delivery
	}
	if s.maxPending > 0 && s.pending >= s.maxPending {
		return // at max.spout.pending the runtime calls NextTuple once acks make room
	}
	s.NextTuple()
}

// drainStale drops records of an ended generation while no generation is
// assigned, so that their claim goroutines can return.
func (s *Spout) drainStale() {
	s.metrics.Dropped.Add(int64(len(s.batch)))
	clear(s.batch)
	s.batch = nil
	if s.shell == nil {
		return
	}
	for range 64 {
		select {
		case d := <-s.shell.recs:
			s.metrics.Dropped.Add(int64(len(d.msgs)))
		default:
			return
		}
	}
}

// take emits record m unless its partition is paused (then it is parked) or
// its offset was seen already. It reports whether a tuple was emitted.
func (s *Spout) take(m *sarama.ConsumerMessage) bool {
	c := &s.cur
	if c.p == nil || c.tp.Partition != m.Partition || c.tp.Topic != m.Topic {
		tp := TopicPartition{Topic: m.Topic, Partition: m.Partition}
		p := s.offsets.Partition(tp)
		if p == nil {
			if s.paused[tp] {
				s.parked[tp] = append(s.parked[tp], m)
			} else {
				s.metrics.Dropped.Add(1)
			}
			return false
		}
		*c = partCache{tp: tp, p: p, held: s.heldOf(tp), topicVal: m.Topic, partVal: m.Partition}
	}
	tp, p := c.tp, c.p
	if len(s.paused) > 0 && s.paused[tp] {
		s.parked[tp] = append(s.parked[tp], m)
		return false
	}
	if p.AtCap() {
		// Back-pressure: stop fetching the partition; what sarama buffered
		// already waits here. Retries of its offsets still flow (emitDue).
		s.paused[tp] = true
		s.parked[tp] = append(s.parked[tp], m)
		s.shell.pause(tp)
		s.metrics.Pauses.Add(1)
		s.soon = true
		s.commit(time.Now())
		return false
	}
	if !p.emitNew(m.Offset) && !p.Emit(m.Offset, time.Now()) {
		return false // delivered twice (committed, in flight or done)
	}
	id := MessageID{Topic: tp.Topic, Partition: tp.Partition, Offset: m.Offset, Generation: s.asg.gen}
	stream, values, err := s.translate(m)
	switch {
	case err != nil:
		s.offsets.DeadLetter(id)
		return s.deadLetter(id, held{msg: m}, fmt.Errorf("translate: %w", err))
	case values == nil:
		s.offsets.Ack(id)
		s.metrics.Skipped.Add(1)
		return false
	}
	c.held.put(id.Offset, held{msg: m, stream: stream, values: values})
	s.out.EmitStream(stream, values, id)
	s.pending++
	s.metrics.Emitted.Add(1)
	if s.atMostOnce {
		s.Ack(id) // done once emitted: its offset commits, it never replays
	}
	return true
}

// translate runs the translator, turning a panic into an error.
func (s *Spout) translate(m *sarama.ConsumerMessage) (stream topology.StreamID, values topology.Values, err error) {
	if s.cfg.Translator == nil { // DefaultTranslator, without building a Record
		return topology.DefaultStream, s.defaultValues(m), nil
	}
	return translateRecord(s.cfg, recordOf(m))
}

// translateRecord runs cfg's Translator on r, checking what it chose
// against cfg.Streams; a panic is an error.
func translateRecord(cfg SpoutConfig, r Record) (stream topology.StreamID, values topology.Values, err error) {
	defer func() {
		if p := recover(); p != nil {
			stream, values, err = "", nil, fmt.Errorf("translator panicked: %v", p)
		}
	}()
	stream, values, err = cfg.Translator(r)
	if stream == "" {
		stream = topology.DefaultStream
	}
	if err == nil && values != nil {
		if fields, ok := cfg.Streams[stream]; !ok {
			err = fmt.Errorf("translator chose stream %q, which SpoutConfig.Streams does not declare", stream)
		} else if len(values) != len(fields) {
			err = fmt.Errorf("translator gave %d values for stream %q, which declares %v", len(values), stream, fields)
		}
	}
	return stream, values, err
}

// defaultValues is DefaultTranslator's tuple of m, a record of the cached
// partition (take): (topic, partition, offset, key, value), with the topic
// and partition boxed once per partition and the values cut from a slab.
func (s *Spout) defaultValues(m *sarama.ConsumerMessage) topology.Values {
	const n = 5 // len(DefaultFields)
	if len(s.slab) < n {
		s.slab = make([]any, n*valuesSlab)
	}
	v := s.slab[:n:n]
	s.slab = s.slab[n:]
	v[0], v[1], v[2], v[3], v[4] = s.cur.topicVal, s.cur.partVal, m.Offset, m.Key, m.Value
	return v
}

// emitDue emits the first due retry or dead letter of the current
// generation; entries of older generations are discarded.
func (s *Spout) emitDue(now time.Time) bool {
	for len(s.due) > 0 && !s.due[0].at.After(now) {
		e := heap.Pop(&s.due).(dueEntry)
		if s.asg == nil || e.id.Generation != s.asg.gen {
			continue
		}
		h, ok := s.heldFor(e.id).get(e.id.Offset)
		if !ok {
			continue
		}
		switch e.kind {
		case dueRetry:
			if _, ok := s.offsets.Emit(e.id.TopicPartition(), e.id.Offset, now); !ok {
				continue
			}
			s.out.EmitStream(h.stream, h.values, e.id)
			s.pending++
			s.metrics.Retried.Add(1)
			return true
		case dueDeadLetter:
			if s.sendDeadLetter(e.id, h) {
				return true
			}
		}
	}
	return false
}

// settled counts a tuple of generation gen that was acked or failed.
func (s *Spout) settled(gen int32) {
	if s.asg == nil || gen != s.asg.gen || s.pending == 0 {
		return
	}
	s.pending--
	if s.pending == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// Ack applies the completion of a record's tree, or of a dead letter's.
func (s *Spout) Ack(msgID any) {
	switch id := msgID.(type) {
	case MessageID:
		s.settled(id.Generation)
		s.heldFor(id).remove(id.Offset)
		if s.offsets.Ack(id) {
			s.metrics.Acked.Add(1)
		} else {
			s.metrics.Dropped.Add(1)
		}
		if s.soon {
			if now := time.Now(); now.Sub(s.lastCmt) >= capCommitGap {
				s.commit(now)
			}
		}
	case deadLetterID:
		s.settled(id.Generation)
		s.confirmDeadLetter(id.MessageID)
	}
}

// Fail schedules a retry of a failed record, or dead-letters it when its
// retries are used up. A failed dead-letter tree is emitted again.
func (s *Spout) Fail(msgID any) {
	now := time.Now()
	switch id := msgID.(type) {
	case MessageID:
		s.settled(id.Generation)
		switch s.offsets.Fail(id, now) {
		case FailRetry:
			s.metrics.Failed.Add(1)
			if at, ok := s.offsets.RetryAt(id); ok {
				heap.Push(&s.due, dueEntry{at: at, id: id, kind: dueRetry})
			}
		case FailDeadLetter:
			s.metrics.Failed.Add(1)
			if h, ok := s.heldFor(id).get(id.Offset); ok {
				s.deadLetter(id, h, fmt.Errorf("%w (%d retries)", ErrRetriesExhausted, s.cfg.Offsets.Retry.MaxRetries))
			}
		default:
			s.heldFor(id).remove(id.Offset)
			s.metrics.Dropped.Add(1)
		}
	case deadLetterID:
		s.settled(id.Generation)
		s.retryDeadLetter(id.MessageID, now)
	}
}

// deadLetter records why the record is dead-lettered and sends it; it
// reports whether a tuple was emitted (DeadLetterStream).
func (s *Spout) deadLetter(id MessageID, h held, cause error) bool {
	h.cause = cause
	s.heldFor(id).put(id.Offset, h)
	n := s.metrics.DeadLetters.Add(1)
	if ok, suppressed := s.warnDLQ.allow(time.Now()); ok {
		s.log.Warn("kafka spout: dead-lettering records", "record", id.String(), "cause", cause,
			"dead_letters", n, "not_logged", suppressed, "destination", s.deadLetterDestination())
	}
	return s.sendDeadLetter(id, h)
}

func (s *Spout) deadLetterDestination() string {
	if s.dlq != nil {
		return "topic " + s.cfg.DeadLetterTopic
	}
	return "stream " + string(DeadLetterStream)
}

func (s *Spout) sendDeadLetter(id MessageID, h held) bool {
	if s.dlq != nil {
		s.dlq.Write(deadLetterMessage(s.cfg.DeadLetterTopic, h.msg, h.cause), func(err error) {
			if err != nil {
				s.reportError(fmt.Errorf("kafka spout: write dead letter %v to %q: %w", id, s.cfg.DeadLetterTopic, err))
				s.retryDeadLetter(id, time.Now())
				return
			}
			s.confirmDeadLetter(id)
		})
		return false
	}
	m := h.msg
	s.out.EmitStream(DeadLetterStream, topology.Values{m.Topic, m.Partition, m.Offset, m.Key, m.Value, h.cause.Error()}, deadLetterID{id})
	s.pending++
	return true
}

func (s *Spout) retryDeadLetter(id MessageID, now time.Time) {
	r := s.heldFor(id)
	h, ok := r.get(id.Offset)
	if !ok {
		return // revoked meanwhile
	}
	h.attempts++
	r.put(id.Offset, h)
	wait := min(100*time.Millisecond<<min(h.attempts-1, 10), 10*time.Second)
	heap.Push(&s.due, dueEntry{at: now.Add(wait), id: id, kind: dueDeadLetter})
}

func (s *Spout) confirmDeadLetter(id MessageID) {
	s.heldFor(id).remove(id.Offset)
	if s.offsets.DeadLettered(id) {
		s.metrics.DeadLettered.Add(1)
	} else {
		s.metrics.Dropped.Add(1)
	}
}

// deadLetterMessage is the record written to a dead-letter topic: the
// original key, value and headers, plus where it came from and why.
func deadLetterMessage(topic string, m *sarama.ConsumerMessage, cause error) *sarama.ProducerMessage {
	headers := make([]sarama.RecordHeader, 0, len(m.Headers)+4)
	for _, h := range m.Headers {
		if h != nil {
			headers = append(headers, *h)
		}
	}
	headers = append(headers,
		sarama.RecordHeader{Key: []byte(HeaderSourceTopic), Value: []byte(m.Topic)},
		sarama.RecordHeader{Key: []byte(HeaderSourcePartition), Value: strconv.AppendInt(nil, int64(m.Partition), 10)},
		sarama.RecordHeader{Key: []byte(HeaderSourceOffset), Value: strconv.AppendInt(nil, m.Offset, 10)},
		sarama.RecordHeader{Key: []byte(HeaderError), Value: []byte(cause.Error())},
	)
	pm := &sarama.ProducerMessage{Topic: topic, Headers: headers}
	if m.Key != nil {
		pm.Key = sarama.ByteEncoder(m.Key)
	}
	if m.Value != nil {
		pm.Value = sarama.ByteEncoder(m.Value)
	}
	return pm
}

// Activate lets a delivery wake the task (wake). The group member runs from
// Open to Close, so a deactivated spout keeps its partitions.
func (s *Spout) Activate() { s.active = true }

// Deactivate commits the acked prefix; no delivery wakes the task until
// Activate.
func (s *Spout) Deactivate() {
	s.active = false
	if s.offsets != nil {
		s.commit(time.Now())
	}
}

// Close commits the acked prefix, leaves the group and stops every
// goroutine of the task. Records in flight are not committed: the next
// owner of their partitions reads them again.
func (s *Spout) Close() error {
	if s.shell == nil {
		return nil
	}
	var err error
	if s.asg != nil {
		if c, ok := s.offsets.NextCommit(); ok {
			if err = s.shell.commitSync(commitReq{asg: *s.asg, c: c}, closeCommitTimeout); err == nil {
				s.offsets.Committed(c)
				s.metrics.Commits.Add(1)
			} else {
				s.metrics.CommitErrors.Add(1)
				err = fmt.Errorf("kafka spout: final commit: %w", err)
			}
		}
	}
	s.shell.stop()
	s.shell = nil
	if s.dlq != nil {
		s.dlq.Close()
	}
	s.asg = nil
	return err
}

// periodicCommit runs on the task goroutine every CommitPeriod.
func (s *Spout) periodicCommit() { s.commit(time.Now()) }

// commit sends the acked prefix to the committer, unless a commit is on its
// way or nothing advanced.
func (s *Spout) commit(now time.Time) {
	if s.inFlight || s.asg == nil || s.shell == nil {
		return
	}
	c, ok := s.offsets.NextCommit()
	if !ok {
		return
	}
	s.inFlight, s.lastCmt = true, now
	req := commitReq{asg: *s.asg, c: c, done: func(err error) {
		s.tc.Submit(func() { s.committed(c, err) })
	}}
	if !s.shell.tryCommit(req) {
		s.inFlight = false
	}
}

// committed applies a commit's outcome, on the task goroutine.
func (s *Spout) committed(c Commit, err error) {
	s.inFlight = false
	if err != nil {
		s.metrics.CommitErrors.Add(1)
		s.reportError(fmt.Errorf("kafka spout: commit: %w", err))
		return
	}
	s.metrics.Commits.Add(1)
	s.offsets.Committed(c)
	s.unpause()
	s.reportPartitions()
}

// setHighWater takes the log end offsets the shell read, on the task
// goroutine, and updates the gauges.
func (s *Spout) setHighWater(hw map[TopicPartition]int64) {
	if s.highWater == nil {
		s.highWater = make(map[TopicPartition]int64)
	}
	maps.Copy(s.highWater, hw)
	s.reportPartitions()
}

// reportPartitions sets the gauges of every owned partition.
func (s *Spout) reportPartitions() {
	if s.asg == nil {
		return
	}
	g := s.tc.Gauges()
	for _, tp := range s.offsets.Partitions() {
		pos := s.offsets.Partition(tp).Position()
		if pos < 0 {
			continue
		}
		labels := partitionLabels(tp)
		g.Set(GaugeCommittedOffset, float64(pos), labels...)
		if hw, ok := s.highWater[tp]; ok {
			g.Set(GaugeLogEndOffset, float64(hw), labels...)
			g.Set(GaugeLag, float64(max(hw-pos, 0)), labels...)
		}
	}
}

// forgetPartitions removes the gauges of partitions no longer owned.
func (s *Spout) forgetPartitions(tps []TopicPartition) {
	g := s.tc.Gauges()
	for _, tp := range tps {
		labels := partitionLabels(tp)
		g.Delete(GaugeLag, labels...)
		g.Delete(GaugeCommittedOffset, labels...)
		g.Delete(GaugeLogEndOffset, labels...)
		delete(s.highWater, tp)
	}
}

func partitionLabels(tp TopicPartition) []string {
	return []string{"topic", tp.Topic, "partition", strconv.Itoa(int(tp.Partition))}
}

// unpause resumes paused partitions that fell below the cap; their parked
// records are emitted first.
func (s *Spout) unpause() {
	var resumed []TopicPartition
	for tp := range s.paused {
		if p := s.offsets.Partition(tp); p != nil && p.AtCap() {
			continue
		}
		delete(s.paused, tp)
		s.ready = append(s.ready, s.parked[tp]...)
		delete(s.parked, tp)
		resumed = append(resumed, tp)
	}
	if s.shell != nil {
		s.shell.resume(resumed)
	}
	s.soon = len(s.paused) > 0
}

// assign starts tracking a new generation's partitions, on the task
// goroutine; highWater are their log end offsets.
func (s *Spout) assign(a assignment, positions, highWater map[TopicPartition]int64) error {
	if s.asg != nil {
		s.dropAssignment()
	}
	if err := s.offsets.Assign(a.gen, positions); err != nil {
		return err
	}
	s.asg = &a
	s.cur = partCache{}
	for _, tp := range s.offsets.Partitions() {
		s.held = append(s.held, partHeld{tp: tp, r: new(heldRecords)})
	}
	if len(s.held) > ownedScan {
		s.heldIdx = make(map[TopicPartition]*heldRecords, len(s.held))
		for _, h := range s.held {
			s.heldIdx[h.tp] = h.r
		}
	}
	s.setHighWater(highWater)
	s.pending, s.revoking, s.drained = 0, false, nil
	s.metrics.Assignments.Add(1)
	s.log.Debug("kafka spout: partitions assigned", "generation", a.kafkaGen, "partitions", len(a.partitions))
	return nil
}

// startRevoke stops emitting for generation gen, on the task goroutine, and
// returns a channel closed once its tuples in flight are acked or failed;
// nil when there are none.
func (s *Spout) startRevoke(gen int32) <-chan struct{} {
	if s.asg == nil || s.asg.gen != gen || s.pending == 0 {
		return nil
	}
	s.revoking = true
	s.drained = make(chan struct{})
	return s.drained
}

// revoke ends generation gen, on the task goroutine: its partitions are no
// longer tracked (acks arriving for them are dropped) and the commit of its
// acked prefix is returned, for the caller to send.
func (s *Spout) revoke(gen int32) *commitReq {
	if s.asg == nil || s.asg.gen != gen {
		return nil
	}
	asg := *s.asg
	c, ok := s.offsets.NextCommit()
	s.dropAssignment()
	if !ok {
		return nil
	}
	return &commitReq{asg: asg, c: c}
}

func (s *Spout) revokeCommitted(err error) {
	if err != nil {
		s.metrics.CommitErrors.Add(1)
		s.reportError(fmt.Errorf("kafka spout: commit on revocation: %w", err))
		return
	}
	s.metrics.Commits.Add(1)
}

func (s *Spout) dropAssignment() {
	s.offsets.Revoke(s.asg.partitions...)
	s.forgetPartitions(s.asg.partitions)
	clear(s.held)
	s.held, s.heldIdx = s.held[:0], nil
	clear(s.parked)
	clear(s.ready)
	s.ready = s.ready[:0]
	if s.shell != nil {
		s.shell.resume(slices.Collect(maps.Keys(s.paused)))
	}
	clear(s.paused)
	s.soon = false
	s.pending, s.revoking, s.drained = 0, false, nil
	s.asg = nil
	s.cur = partCache{}
}

// reportError records err as the task's last error and logs it, at most
// once per throttle interval. On the task goroutine.
func (s *Spout) reportError(err error) {
	s.out.ReportError(err)
	if ok, suppressed := s.warnErr.allow(time.Now()); ok {
		s.log.Warn(err.Error(), "not_logged", suppressed)
	}
}

// reportAsync hands err to the task goroutine; safe on any goroutine.
func (s *Spout) reportAsync(err error) {
	s.tc.Submit(func() { s.reportError(err) })
}

// dueKind says what a due entry emits.
type dueKind uint8

const (
	dueRetry      dueKind = iota + 1 // the record again, on its stream
	dueDeadLetter                    // the dead letter again
)

type dueEntry struct {
	at   time.Time
	id   MessageID
	kind dueKind
}

// dueHeap orders due entries by time (container/heap).
type dueHeap []dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueEntry)) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// throttle lets a log line through at most once per interval and counts
// the ones it held back.
type throttle struct {
	next       time.Time
	suppressed int
}

const logInterval = 10 * time.Second

func (t *throttle) allow(now time.Time) (ok bool, suppressed int) {
	if now.Before(t.next) {
		t.suppressed++
		return false, 0
	}
	suppressed, t.suppressed = t.suppressed, 0
	t.next = now.Add(logInterval)
	return true, suppressed
}
