package kafka

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ErrStaleGeneration is returned by Offsets.Assign when the generation is not
// newer than the current one.
var ErrStaleGeneration = errors.New("kafka: stale assignment generation")

// NoPosition as a committed position means the group has no commit for the
// partition: the position becomes the first offset emitted.
const NoPosition int64 = -1

// TopicPartition names one partition of one topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s/%d", tp.Topic, tp.Partition) }

// MessageID is the spout's message id for one emitted record: where it came
// from and the assignment generation it was emitted under.
type MessageID struct {
	Topic      string
	Partition  int32
	Offset     int64
	Generation int32
}

// TopicPartition returns the partition the record came from.
func (id MessageID) TopicPartition() TopicPartition {
	return TopicPartition{Topic: id.Topic, Partition: id.Partition}
}

func (id MessageID) String() string {
	return fmt.Sprintf("%s/%d@%d (generation %d)", id.Topic, id.Partition, id.Offset, id.Generation)
}

// Config configures offset tracking. Start from DefaultConfig.
type Config struct {
	// MaxUncommitted is the soft cap of emitted but uncommitted offsets per
	// partition (Storm's maxUncommittedOffsets). Default 10,000,000.
	MaxUncommitted int
	// Retry is the backoff for failed offsets.
	Retry RetryConfig
}

// DefaultConfig returns Storm's storm-kafka-client defaults.
func DefaultConfig() Config {
	return Config{MaxUncommitted: 10_000_000, Retry: DefaultRetryConfig()}
}

// Validate reports a field out of range, wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	if c.MaxUncommitted < 1 {
		return fmt.Errorf("%w: MaxUncommitted is %d; use 1 or more (Storm's default is 10000000)", ErrInvalidConfig, c.MaxUncommitted)
	}
	return c.Retry.Validate()
}

// FailOutcome says what the caller must do with a failed record.
type FailOutcome int

const (
	// FailIgnored: the offset was not in flight (a duplicate or late fail); do nothing.
	FailIgnored FailOutcome = iota
	// FailRetry: a retry is scheduled; Emit takes the record again from
	// RetryAt on.
	FailRetry
	// FailDeadLetter: retries are used up. Write the record to the
	// dead-letter destination, then call DeadLettered. The offset holds back
	// commits until then.
	FailDeadLetter
	// FailDropped: the message id carries a stale generation or a partition
	// not owned; do nothing (Offsets only).
	FailDropped
)

func (o FailOutcome) String() string {
	switch o {
	case FailIgnored:
		return "ignored"
	case FailRetry:
		return "retry"
	case FailDeadLetter:
		return "dead-letter"
	case FailDropped:
		return "dropped"
	}
	return fmt.Sprintf("FailOutcome(%d)", int(o))
}

// Stats counts what happened to acks, fails and dead letters.
type Stats struct {
	Acked        uint64 // in-flight offsets acked
	Retries      uint64 // fails that scheduled a retry
	DeadLetters  uint64 // fails past MaxRetries and DeadLetter calls: the caller was told to dead-letter
	DeadLettered uint64 // dead letters confirmed written; they count as done for commits
	Ignored      uint64 // acks, fails and confirmations for offsets not in the expected state
	// Dropped counts acks, fails and confirmations that carried an older
	// generation or named a partition not owned. Offsets only.
	Dropped uint64
}

func (s *Stats) add(o Stats) {
	s.Acked += o.Acked
	s.Retries += o.Retries
	s.DeadLetters += o.DeadLetters
	s.DeadLettered += o.DeadLettered
	s.Ignored += o.Ignored
	s.Dropped += o.Dropped
}

type offsetState uint8

const (
	inFlight           offsetState = iota + 1
	acked                          // done
	awaitingRetry                  // failed, in the retry queue
	awaitingDeadLetter             // failed past MaxRetries, not yet written
	deadLettered                   // done
)

func (s offsetState) done() bool { return s == acked || s == deadLettered }

// slot is one emitted offset and what became of it. retryAt lives apart
// (PartitionOffsets.retryAt): few offsets ever fail, and a slot stays 24
// bytes.
type slot struct {
	off   int64
	fails int
	state offsetState
}

// PartitionOffsets tracks the offsets of one topic-partition for one
// assignment generation. Not safe for concurrent use: it is owned by one spout
// task actor.
//
// The emitted offsets are kept as a slice in ascending order, not a map:
// records arrive in offset order, so Emit appends, a lookup is one index
// (offset − first offset) when the offsets have no gap and a binary search
// when they do, and Committed cuts a prefix. A spout emits, acks and
// commits hundreds of thousands of offsets a second; with a map each of
// them was a hash probe in a table that grew to MaxUncommitted entries and
// a delete at commit.
type PartitionOffsets struct {
	cfg       Config
	committed int64 // next offset to read; NoPosition until known
	// slots holds every emitted offset at or above committed, ascending.
	slots []slot
	// retryAt holds when each awaitingRetry offset may be emitted again.
	retryAt map[int64]time.Time
	// done is how many leading slots are known to be done.
	done  int
	stats Stats
}

// NewPartitionOffsets tracks a partition whose committed position (the next
// offset to read) is committed, or NoPosition when the group has none.
func NewPartitionOffsets(committed int64, cfg Config) (*PartitionOffsets, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if committed < NoPosition {
		return nil, fmt.Errorf("%w: committed position %d; use an offset of 0 or more, or NoPosition", ErrInvalidConfig, committed)
	}
	return &PartitionOffsets{cfg: cfg, committed: committed}, nil
}

// Position returns the committed position: the next offset to read, or
// NoPosition.
func (p *PartitionOffsets) Position() int64 { return p.committed }

// findSlot returns the index of offset in slots, ascending and without
// duplicates, or where it would be inserted and false. Offsets are distinct
// integers, so slots[i].off >= slots[0].off + i: offset − slots[0].off is
// the index when no gap lies before it and an upper bound when one does.
func findSlot(slots []slot, offset int64) (int, bool) {
	n := len(slots)
	if n == 0 || offset < slots[0].off {
		return 0, false
	}
	if offset > slots[n-1].off {
		return n, false
	}
	d := offset - slots[0].off
	if d < int64(n) && slots[d].off == offset {
		return int(d), true
	}
	hi := n
	if d < int64(n) {
		hi = int(d) + 1
	}
	i, found := slices.BinarySearchFunc(slots[:hi], offset, func(s slot, off int64) int { return cmp.Compare(s.off, off) })
	return i, found
}

// slot returns the slot of offset, or nil when it was not emitted (or is
// committed).
func (p *PartitionOffsets) slot(offset int64) *slot {
	if i, ok := findSlot(p.slots, offset); ok {
		return &p.slots[i]
	}
	return nil
}

// Emit records that the spout is about to emit the record at offset and
// reports whether it should. It answers false, and records nothing, for an
// offset already committed, in flight, done or waiting for its dead letter,
// and for a failed offset before its RetryAt.
// A due retry is emitted again even at the cap.
func (p *PartitionOffsets) Emit(offset int64, now time.Time) bool {
	if !p.emitNew(offset) {
		return p.emitSeen(offset, now)
	}
	return true
}

// emitNew is Emit for an offset above every offset emitted so far: the
// common case of a record read in order, decided without the clock. It
// reports false, and records nothing, for any other offset: call Emit then.
func (p *PartitionOffsets) emitNew(offset int64) bool {
	if offset < 0 {
		return false
	}
	if p.committed == NoPosition {
		p.committed = offset
	}
	if offset < p.committed {
		return false
	}
	if n := len(p.slots); n > 0 && p.slots[n-1].off >= offset {
		return false
	}
	p.slots = append(p.slots, slot{off: offset, state: inFlight})
	return true
}

// emitSeen is Emit for an offset at or below the highest emitted one.
func (p *PartitionOffsets) emitSeen(offset int64, now time.Time) bool {
	if offset < 0 || offset < p.committed {
		return false
	}
	i, ok := findSlot(p.slots, offset)
	if ok {
		s := &p.slots[i]
		if s.state != awaitingRetry || p.retryAt[offset].After(now) {
			return false
		}
		s.state = inFlight
		delete(p.retryAt, offset)
		return true
	}
	// Below the highest emitted offset: a record first seen after a seek back.
	p.slots = slices.Insert(p.slots, i, slot{off: offset, state: inFlight})
	p.done = min(p.done, i)
	return true
}

// in returns the slot of offset when the offset is in state want; any
// other offset counts as ignored (a stale or repeated ack, fail or
// dead-letter confirmation).
func (p *PartitionOffsets) in(want offsetState, offset int64) *slot {
	s := p.slot(offset)
	if s == nil || s.state != want {
		p.stats.Ignored++
		return nil
	}
	return s
}

// Ack marks an in-flight offset acked and reports whether it was in flight.
func (p *PartitionOffsets) Ack(offset int64) bool {
	s := p.in(inFlight, offset)
	if s == nil {
		return false
	}
	s.state = acked
	p.stats.Acked++
	return true
}

// Fail records a failure of an in-flight offset and schedules its retry, or
// asks for a dead letter when its retries are used up.
func (p *PartitionOffsets) Fail(offset int64, now time.Time) FailOutcome {
	s := p.in(inFlight, offset)
	if s == nil {
		return FailIgnored
	}
	s.fails++
	at, retry := p.cfg.Retry.NextRetry(s.fails, now)
	if !retry {
		s.state = awaitingDeadLetter
		p.stats.DeadLetters++
		return FailDeadLetter
	}
	s.state = awaitingRetry
	if p.retryAt == nil {
		p.retryAt = make(map[int64]time.Time)
	}
	p.retryAt[offset] = at
	p.stats.Retries++
	return FailRetry
}

// DeadLetter sends an in-flight offset straight to the dead-letter
// destination, skipping its retries: the record can never succeed (its value
// cannot be decoded). Like a Fail answered with FailDeadLetter, the caller
// must write the record and then call DeadLettered; until then the offset
// holds back the commit position. It reports whether the offset was in flight.
func (p *PartitionOffsets) DeadLetter(offset int64) bool {
	s := p.in(inFlight, offset)
	if s == nil {
		return false
	}
	s.state = awaitingDeadLetter
	p.stats.DeadLetters++
	return true
}

// RetryAt returns when the failed offset is due for its retry; ok is false
// when the offset is not waiting for a retry.
func (p *PartitionOffsets) RetryAt(offset int64) (at time.Time, ok bool) {
	if s := p.slot(offset); s == nil || s.state != awaitingRetry {
		return time.Time{}, false
	}
	return p.retryAt[offset], true
}

// DeadLettered confirms that the record at offset, which Fail answered with
// FailDeadLetter (or DeadLetter accepted), is written to the dead-letter destination. The offset then
// counts as done for commits. It reports whether a dead letter was awaited.
func (p *PartitionOffsets) DeadLettered(offset int64) bool {
	s := p.in(awaitingDeadLetter, offset)
	if s == nil {
		return false
	}
	s.state = deadLettered
	p.stats.DeadLettered++
	return true
}

// NextCommit returns the position to commit: one past the highest offset such
// that every emitted offset from the committed position up to it is done.
// ok is false when the position would not advance.
func (p *PartitionOffsets) NextCommit() (pos int64, ok bool) {
	for p.done < len(p.slots) && p.slots[p.done].state.done() {
		p.done++
	}
	if p.done == 0 {
		return p.committed, false
	}
	pos = p.slots[p.done-1].off + 1
	return pos, pos > p.committed
}

// Committed records that pos is committed to Kafka and forgets every offset
// below it. A position at or below the current one is ignored.
func (p *PartitionOffsets) Committed(pos int64) {
	if pos <= p.committed {
		return
	}
	p.committed = pos
	n, _ := findSlot(p.slots, pos)
	if len(p.retryAt) > 0 {
		for _, s := range p.slots[:n] {
			if s.state == awaitingRetry {
				delete(p.retryAt, s.off)
			}
		}
	}
	// What stays is what was not done yet: usually little, so the copy is
	// short and the slice keeps its capacity for the next offsets.
	p.slots = slices.Delete(p.slots, 0, n)
	p.done = max(p.done-n, 0)
}

// Uncommitted returns how many emitted offsets are not yet committed,
// whatever their state.
func (p *PartitionOffsets) Uncommitted() int { return len(p.slots) }

// AtCap reports whether Uncommitted has reached Config.MaxUncommitted.
func (p *PartitionOffsets) AtCap() bool { return len(p.slots) >= p.cfg.MaxUncommitted }

// Stats returns the partition's counters.
func (p *PartitionOffsets) Stats() Stats { return p.stats }

// Commit is a set of commit positions computed under one generation.
type Commit struct {
	Generation int32
	Positions  map[TopicPartition]int64
}

// Offsets tracks every partition a spout task owns in the current assignment
// generation. Not safe for concurrent use: it is owned by one spout task
// actor.
type Offsets struct {
	cfg      Config
	gen      int32
	assigned bool
	parts    map[TopicPartition]*PartitionOffsets
	// owned lists parts, for lookups without hashing the topic: a task owns
	// a few partitions, and a scan comparing the partition number first
	// beats the map for up to ownedScan of them.
	owned []ownedPartition
	// stats holds the counters of partitions no longer owned, and Dropped.
	stats Stats
}

type ownedPartition struct {
	tp TopicPartition
	p  *PartitionOffsets
}

// ownedScan is how many owned partitions lookup scans before it uses the map.
const ownedScan = 8

// lookup returns the tracker of tp, or nil when tp is not owned.
func (o *Offsets) lookup(tp TopicPartition) *PartitionOffsets {
	if len(o.owned) > ownedScan {
		return o.parts[tp]
	}
	for i := range o.owned {
		if op := &o.owned[i]; op.tp.Partition == tp.Partition && op.tp.Topic == tp.Topic {
			return op.p
		}
	}
	return nil
}

// NewOffsets returns a tracker with no assignment.
func NewOffsets(cfg Config) (*Offsets, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Offsets{cfg: cfg, parts: make(map[TopicPartition]*PartitionOffsets)}, nil
}

// Generation returns the current assignment generation; ok is false before
// the first Assign.
func (o *Offsets) Generation() (gen int32, ok bool) { return o.gen, o.assigned }

// Assign replaces the assignment: it revokes every partition and tracks those
// in committed, mapped to their committed positions (or NoPosition), under
// generation gen, which must be newer than the current one. State of a
// partition owned before is not carried over: in-flight acks from the older
// generation are dropped.
func (o *Offsets) Assign(gen int32, committed map[TopicPartition]int64) error {
	if gen < 0 {
		return fmt.Errorf("%w: generation %d is negative", ErrInvalidConfig, gen)
	}
	if o.assigned && gen <= o.gen {
		return fmt.Errorf("%w: generation %d is not newer than %d", ErrStaleGeneration, gen, o.gen)
	}
	parts := make(map[TopicPartition]*PartitionOffsets, len(committed))
	for tp, pos := range committed {
		p, err := NewPartitionOffsets(pos, o.cfg)
		if err != nil {
			return fmt.Errorf("partition %v: %w", tp, err)
		}
		parts[tp] = p
	}
	o.Revoke(slices.Collect(maps.Keys(o.parts))...)
	o.gen, o.assigned, o.parts = gen, true, parts
	o.listOwned()
	return nil
}

// Revoke stops tracking the partitions. Commit what NextCommit offers first:
// acks for them that arrive later are dropped.
func (o *Offsets) Revoke(tps ...TopicPartition) {
	for _, tp := range tps {
		if p, ok := o.parts[tp]; ok {
			o.stats.add(p.stats)
			delete(o.parts, tp)
		}
	}
	o.listOwned()
}

func (o *Offsets) listOwned() {
	o.owned = o.owned[:0]
	for tp, p := range o.parts {
		o.owned = append(o.owned, ownedPartition{tp, p})
	}
}

// Partitions returns the owned partitions, sorted.
func (o *Offsets) Partitions() []TopicPartition {
	return slices.SortedFunc(maps.Keys(o.parts), func(a, b TopicPartition) int {
		return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}

// Partition returns the tracker of an owned partition, or nil.
func (o *Offsets) Partition(tp TopicPartition) *PartitionOffsets { return o.lookup(tp) }

// Emit records that the spout is about to emit the record at tp and offset,
// and returns its message id. ok is false when the record must be skipped: the
// partition is not owned (sarama may still deliver buffered records of a
// revoked partition) or PartitionOffsets.Emit refused it.
func (o *Offsets) Emit(tp TopicPartition, offset int64, now time.Time) (id MessageID, ok bool) {
	p := o.lookup(tp)
	if p == nil || !p.Emit(offset, now) {
		return MessageID{}, false
	}
	return MessageID{Topic: tp.Topic, Partition: tp.Partition, Offset: offset, Generation: o.gen}, true
}

// owner returns the partition tracker an id may be applied to, or nil after
// counting it as dropped.
func (o *Offsets) owner(id MessageID) *PartitionOffsets {
	p := o.lookup(id.TopicPartition())
	if !o.assigned || id.Generation != o.gen || p == nil {
		o.stats.Dropped++
		return nil
	}
	return p
}

// Ack applies an ack and reports whether it marked an offset acked. Acks of
// another generation or of a partition not owned are dropped and counted.
func (o *Offsets) Ack(id MessageID) bool {
	p := o.owner(id)
	return p != nil && p.Ack(id.Offset)
}

// Fail applies a fail; see PartitionOffsets.Fail. Fails of another generation
// or of a partition not owned answer FailDropped.
func (o *Offsets) Fail(id MessageID, now time.Time) FailOutcome {
	p := o.owner(id)
	if p == nil {
		return FailDropped
	}
	return p.Fail(id.Offset, now)
}

// DeadLetter sends an in-flight record straight to the dead-letter
// destination; see PartitionOffsets.DeadLetter. Ids of another generation or
// of a partition not owned are dropped and counted.
func (o *Offsets) DeadLetter(id MessageID) bool {
	p := o.owner(id)
	return p != nil && p.DeadLetter(id.Offset)
}

// RetryAt returns when the failed record id is due for its retry; ok is false
// when it is not waiting for one (or the id is stale, which is not counted).
func (o *Offsets) RetryAt(id MessageID) (at time.Time, ok bool) {
	p := o.lookup(id.TopicPartition())
	if !o.assigned || id.Generation != o.gen || p == nil {
		return time.Time{}, false
	}
	return p.RetryAt(id.Offset)
}

// DeadLettered confirms a dead letter; see PartitionOffsets.DeadLettered.
// A confirmation for another generation or a partition not owned is dropped:
// the record was written, but the offset is replayed by its current owner.
func (o *Offsets) DeadLettered(id MessageID) bool {
	p := o.owner(id)
	return p != nil && p.DeadLettered(id.Offset)
}

// NextCommit returns the positions that advance, under the current
// generation; ok is false when none does.
func (o *Offsets) NextCommit() (c Commit, ok bool) {
	for tp, p := range o.parts {
		if pos, adv := p.NextCommit(); adv {
			if c.Positions == nil {
				c.Positions = make(map[TopicPartition]int64)
			}
			c.Positions[tp] = pos
		}
	}
	c.Generation = o.gen
	return c, len(c.Positions) > 0
}

// Committed records a commit that Kafka accepted. A commit computed under
// another generation is ignored, and so are partitions no longer owned; it
// reports whether the commit was applied.
func (o *Offsets) Committed(c Commit) bool {
	if !o.assigned || c.Generation != o.gen {
		return false
	}
	for tp, pos := range c.Positions {
		if p := o.lookup(tp); p != nil {
			p.Committed(pos)
		}
	}
	return true
}

// Stats returns the counters summed over every partition tracked so far,
// including revoked ones.
func (o *Offsets) Stats() Stats {
	s := o.stats
	for _, p := range o.parts {
		s.add(p.stats)
	}
	return s
}
