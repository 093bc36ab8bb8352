package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/topology"
)

// TxBolt is the transactional Kafka bolt: the exactly-once sink of issue
// 12, Flink's two-phase-commit KafkaSink done in sarama. It writes every
// tuple as a record into an open Kafka transaction; the transaction is
// pre-committed at a checkpoint's barrier (PreCommit) and committed when
// the checkpoint completes (Commit), so read_committed readers see a
// checkpoint's records exactly once, all at once. Build its factory with
// NewTransactionalBolt; it needs squall.guarantee=exactly-once, whose
// runtime calls the topology.TwoPhaseSink methods.
//
// Each task owns a ring of TolerableFailures + 2 transactional ids,
// <prefix>.<task index>.<slot> (prefix squall.<topology>.<component>), one
// sarama transactional producer each: the open slot takes the writes, the
// others hold pre-committed transactions of checkpoints not yet completed
// (checkpoint.Ring keeps the books). The ids are the same after every
// restore, so a new instance of the task fences every slot without
// guessing: Recover finishes the commit of the last completed checkpoint
// with a raw EndTxn (the recorded producer id and epoch), then re-creates
// every producer (InitProducerId), which aborts what was left open and
// fences zombies.
//
// Execute never blocks: records queue for a feeder goroutine per slot; the
// tuple is acked at once (in exactly-once its fate is the checkpoint's). A
// record the broker refuses poisons the open transaction: the next
// PreCommit declines, and the restore that follows aborts it.
//
// The timeout trap: the broker aborts a transaction older than
// TransactionTimeout. If its checkpoint had completed, its records are
// lost; Commit and Recover report it with ErrTransactionLost, count it
// (squall_eos_commit_lost_total) and ReportError it. It is never silent.
type TxBolt struct {
	cfg     TxBoltConfig
	metrics *TxBoltMetrics

	tc    *topology.Context
	out   topology.OutputCollector
	log   *slog.Logger
	ids   []string
	slots []*txSlot
	ring  *checkpoint.Ring
	// admin is the plain client for raw requests (EndTxn,
	// DescribeTransactions, DescribeConfigs), made by Recover.
	admin sarama.Client
	// failed is set when a Commit could not finish: the ring freed slots
	// whose transactions may still be pending, so nothing but a Recover
	// may follow.
	failed error
	// poisoned is set when the open transaction missed a write (its
	// producer could not be made ready): every PreCommit declines until
	// Recover.
	poisoned error
	warn     throttle
	// lost and recommitted are this task's counts, for its gauges.
	lost, recommitted int64
}

var (
	_ topology.Bolt         = (*TxBolt)(nil)
	_ topology.TwoPhaseSink = (*TxBolt)(nil)
)

// The errors of the transactional bolt callers branch on.
var (
	// ErrTransactionLost: a transaction of a completed checkpoint was
	// aborted by the broker before it could be committed — most often
	// because the commit came later than the transaction timeout allows
	// (Flink's timeout trap). Its records are gone. The error names the
	// transactional id, the checkpoint and the timeout.
	ErrTransactionLost = errors.New("kafka transactional bolt: a completed checkpoint's transaction was aborted by the broker: its records are lost")
	// ErrFenced: another instance of the task took over its transactional
	// ids (a restore re-created them): this instance is a zombie, and
	// nothing it writes becomes visible.
	ErrFenced = errors.New("kafka transactional bolt: fenced: another instance of the task owns its transactional ids")
	// ErrTransactionsUnavailable: the brokers cannot run transactions (no
	// transaction coordinator, a transaction timeout above their maximum,
	// no authorization); the error names the broker setting.
	ErrTransactionsUnavailable = errors.New("kafka transactional bolt: the brokers refuse transactions")
)

// The gauges a transactional bolt task reports through its Context
// (Prometheus: squall_<name>{topology,component,task}).
const (
	// GaugeCommitLost counts transactions of completed checkpoints the
	// broker aborted (ErrTransactionLost): records lost. Alert on > 0.
	GaugeCommitLost = "eos_commit_lost_total"
	// GaugeRecommit counts transactions whose commit Recover (or Commit,
	// after an indefinite error) finished with a raw EndTxn.
	GaugeRecommit = "eos_recommit_total"
)

// TxBoltMetrics counts what the tasks of one transactional bolt did; safe
// for concurrent use.
type TxBoltMetrics struct {
	// Written counts records the broker acknowledged into a transaction;
	// they become visible when it commits.
	Written atomic.Int64
	// Failed counts tuples the mapping failed; Skipped tuples without a topic.
	Failed, Skipped atomic.Int64
	// PreCommitted, Committed count transactions; Recommitted those whose
	// commit a raw EndTxn finished; Declined pre-commits that failed.
	PreCommitted, Committed, Recommitted, Declined atomic.Int64
	// Lost counts transactions of completed checkpoints the broker
	// aborted (ErrTransactionLost).
	Lost atomic.Int64
	// Fenced counts commits refused because another instance fenced this one.
	Fenced atomic.Int64
}

// TxBoltCounts is a snapshot of TxBoltMetrics.
type TxBoltCounts struct {
	Written, Failed, Skipped                       int64
	PreCommitted, Committed, Recommitted, Declined int64
	Lost, Fenced                                   int64
}

// Snapshot reads every counter.
func (m *TxBoltMetrics) Snapshot() TxBoltCounts {
	return TxBoltCounts{
		Written: m.Written.Load(), Failed: m.Failed.Load(), Skipped: m.Skipped.Load(),
		PreCommitted: m.PreCommitted.Load(), Committed: m.Committed.Load(),
		Recommitted: m.Recommitted.Load(), Declined: m.Declined.Load(),
		Lost: m.Lost.Load(), Fenced: m.Fenced.Load(),
	}
}

// NewTransactionalBolt validates cfg and returns the factory of its tasks,
// for Builder.SetBolt.
func NewTransactionalBolt(cfg TxBoltConfig) (func() topology.Bolt, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Brokers = slices.Clone(cfg.Brokers)
	if cfg.Metrics == nil {
		cfg.Metrics = new(TxBoltMetrics)
	}
	return func() topology.Bolt { return &TxBolt{cfg: cfg, metrics: cfg.Metrics} }, nil
}

// Prepare names the task's transactional ids; the producers are made by
// Recover, which the exactly-once runtime calls next.
func (b *TxBolt) Prepare(_ context.Context, tc *topology.Context, out topology.OutputCollector) error {
	if t := tc.Compiled(); t != nil && t.Runtime.Guarantee != topology.ExactlyOnce {
		return fmt.Errorf("%w: the transactional Kafka bolt %q commits only at checkpoints, which need %s=%s (this topology is %s): use kafka.NewBolt for %s",
			topology.ErrInvalid, tc.Component, topology.GuaranteeKey, topology.ExactlyOnce, t.Runtime.Guarantee, t.Runtime.Guarantee)
	}
	b.tc, b.out = tc, out
	b.log = cmp.Or(tc.Logger, slog.New(slog.DiscardHandler))
	prefix := cmp.Or(b.cfg.TransactionalIDPrefix, fmt.Sprintf("squall.%s.%s", tc.Topology, tc.Component))
	b.ids = transactionalIDs(prefix, tc.TaskIndex, checkpoint.RingSize(b.cfg.TolerableFailures))
	g := tc.Gauges() // present from the start, so an alert on > 0 has a series
	g.Set(GaugeCommitLost, 0)
	g.Set(GaugeRecommit, 0)
	return nil
}

// TransactionalIDs are the task's transactional ids, by slot (after Prepare).
func (b *TxBolt) TransactionalIDs() []string { return slices.Clone(b.ids) }

// Execute maps t to a record and queues it into the open transaction. t is
// acked at once; a mapping error fails it. Tick tuples are acked and ignored.
func (b *TxBolt) Execute(t topology.Tuple) {
	if topology.IsTick(t) {
		b.out.Ack(t)
		return
	}
	rec, err := mapRecord(t, b.cfg.Mapper, b.cfg.Topic, b.cfg.TopicField, b.cfg.KeyField, b.cfg.ValueField)
	if err != nil {
		b.metrics.Failed.Add(1)
		b.out.Fail(t)
		b.reportError(fmt.Errorf("kafka transactional bolt: tuple from %s: %w", topology.Describe(t), err))
		return
	}
	if rec.Topic == "" {
		b.metrics.Skipped.Add(1)
		b.out.Ack(t)
		return
	}
	s, err := b.openSlot()
	if err != nil {
		// The open transaction cannot take it: PreCommit declines until a
		// Recover, so no checkpoint commits without this tuple.
		if b.poisoned == nil && b.failed == nil && b.ring != nil {
			b.poisoned = err
		}
		b.metrics.Failed.Add(1)
		b.out.Fail(t)
		b.reportError(fmt.Errorf("kafka transactional bolt: tuple from %s: %w", topology.Describe(t), err))
		return
	}
	s.write(producerMessage(rec))
	b.ring.Wrote()
	b.out.Ack(t)
}

// openSlot is the slot taking writes. It never blocks: the producer and
// its transaction are made ready by readyOpen (Recover, PreCommit).
func (b *TxBolt) openSlot() (*txSlot, error) {
	if b.ring == nil {
		return nil, errNotStarted
	}
	if b.failed != nil {
		return nil, b.failed
	}
	if b.poisoned != nil {
		return nil, b.poisoned
	}
	return b.slots[b.ring.Open()], nil
}

// readyOpen makes the open slot ready for writes: a new producer if it is
// stale (an epoch bump: see txSlot.stale), and a transaction begun. If it
// cannot, the open transaction is poisoned: tuples fail and every
// PreCommit declines until a Recover, so no checkpoint commits without
// them.
func (b *TxBolt) readyOpen() {
	s := b.slots[b.ring.Open()]
	if s.begun {
		return
	}
	if s.stale || !s.running() {
		if err := b.restart(s); err != nil {
			b.poisoned = err
			return
		}
	}
	if err := s.begin(); err != nil {
		b.poisoned = err
	}
}

// restart re-creates slot s's producer: InitProducerId, a new epoch.
func (b *TxBolt) restart(s *txSlot) error {
	s.close()
	if err := s.start(b.cfg.Brokers, txProducerConfig(b.cfg, s.id), b.admin); err != nil {
		s.stale = true
		return b.diagnose(s.id, err)
	}
	return nil
}

// PreCommit flushes the open transaction, checks with the coordinator that
// it is still open under this producer, and moves the writes to the next
// free slot. The committable names every pending transaction, oldest
// first (those of aborted checkpoints too: id's completion commits them).
// An error declines checkpoint id: a record the broker refused, a flush
// past FlushTimeout, a transaction fenced or aborted meanwhile, or no free
// slot (checkpoint.ErrNoFreeSlot: more checkpoints failed in a row than
// TolerableFailures).
func (b *TxBolt) PreCommit(id uint64) ([]byte, error) {
	c, err := b.preCommit(id)
	if err != nil {
		b.metrics.Declined.Add(1)
		err = fmt.Errorf("kafka transactional bolt %s: checkpoint %d declined: %w", b.task(), id, err)
		b.reportError(err)
		return nil, err
	}
	return c, nil
}

func (b *TxBolt) preCommit(id uint64) ([]byte, error) {
	if b.ring == nil {
		return nil, errNotStarted
	}
	if b.failed != nil {
		return nil, b.failed
	}
	if b.poisoned != nil {
		return nil, b.poisoned
	}
	if id == 0 {
		return nil, errors.New("checkpoint id 0 is not a checkpoint")
	}
	for _, p := range b.ring.Pending() {
		if uint64(p.ID) >= id {
			return nil, fmt.Errorf("checkpoint %d is not after checkpoint %d, still pending: checkpoint ids only grow", id, p.ID)
		}
	}
	s := b.slots[b.ring.Open()]
	if s.wrote {
		if err := s.flush(b.cfg.FlushTimeout); err != nil {
			return nil, err
		}
		st, err := describeTransaction(b.admin, s.id)
		if err != nil {
			return nil, err
		}
		if st.TransactionState != "Ongoing" || st.ProducerID != s.pid || st.ProducerEpoch != s.epoch {
			return nil, fmt.Errorf("the transaction on %q is no longer open under this producer (coordinator: %s, producer id %d, epoch %d; ours %d, %d): fenced by another instance (%w), or aborted by the broker after TransactionTimeout %v",
				s.id, st.TransactionState, st.ProducerID, st.ProducerEpoch, s.pid, s.epoch, ErrFenced, b.cfg.TransactionTimeout)
		}
	}
	p, ok, err := b.ring.PreCommit(checkpoint.ID(id))
	if err != nil {
		return nil, err
	}
	if ok {
		s.begun, s.checkpoint = false, uint64(p.ID)
		b.metrics.PreCommitted.Add(1)
		b.readyOpen() // a failure declines the next checkpoint, not this one
	}
	return encodeCommittable(b.pending())
}

// pending are the pending transactions, oldest first.
func (b *TxBolt) pending() []PendingTransaction {
	ps := b.ring.Pending()
	slices.SortFunc(ps, func(x, y checkpoint.Prepared) int { return cmp.Compare(x.ID, y.ID) })
	out := make([]PendingTransaction, len(ps))
	for i, p := range ps {
		s := b.slots[p.Slot]
		out[i] = PendingTransaction{TransactionalID: s.id, ProducerID: s.pid, Epoch: s.epoch, Checkpoint: uint64(p.ID), Slot: p.Slot}
	}
	return out
}

// Commit commits every pending transaction pre-committed at id or before,
// oldest first. Committing nothing (again) is no error. After an error
// (lost, fenced, or no definite answer within CommitTimeout) the task
// needs a restore: PreCommit and Commit refuse until Recover.
func (b *TxBolt) Commit(id uint64) error {
	if b.ring == nil {
		return errNotStarted
	}
	if b.failed != nil {
		return b.failed
	}
	for _, p := range b.ring.Complete(checkpoint.ID(id)) {
		s := b.slots[p.Slot]
		tx := PendingTransaction{TransactionalID: s.id, ProducerID: s.pid, Epoch: s.epoch, Checkpoint: uint64(p.ID), Slot: p.Slot}
		if err := b.commitSlot(s, tx); err != nil {
			b.failed = fmt.Errorf("kafka transactional bolt %s: commit of checkpoint %d failed, the task needs a restore: %w", b.task(), id, err)
			b.reportError(b.failed)
			return b.failed
		}
	}
	return nil
}

// commitSlot commits the slot's pending transaction with its producer;
// after an error it finds out with a raw EndTxn what became of it.
func (b *TxBolt) commitSlot(s *txSlot, tx PendingTransaction) error {
	err := s.p.CommitTxn()
	if err == nil {
		s.checkpoint = 0
		b.metrics.Committed.Add(1)
		// A new epoch now, off the barrier's path (see txSlot.stale); if
		// that fails, readyOpen tries again before the slot is reused.
		if err := b.restart(s); err != nil {
			b.log.Warn("kafka transactional bolt: re-create a producer after its commit", "error", err.Error())
		}
		return nil
	}
	// The producer is in an error state now: re-created before reuse.
	s.stale = true
	out, rerr := b.recommit(tx)
	switch out {
	case committed:
		s.checkpoint = 0
		b.metrics.Committed.Add(1)
		b.log.Warn("kafka transactional bolt: commit failed, finished with a raw EndTxn", "transaction", tx.String(), "error", err.Error())
		return nil
	case ended:
		// The epoch moved on without an abort: a restore re-created the id
		// (and committed this transaction first). This instance is a zombie.
		b.metrics.Fenced.Add(1)
		return fmt.Errorf("%w: %s: %v", ErrFenced, tx, err)
	default:
		return rerr
	}
}

// Recover finishes the commits committable names (what PreCommit returned
// for id, the last completed checkpoint; nil for none), then fences every
// slot of the task: a new producer per slot (InitProducerId) aborts what
// was left open — the transactions of later, uncompleted checkpoints — and
// fences any older instance. A transaction of the committable the broker
// aborted is ErrTransactionLost (counted, reported); its slot is not
// re-created, so the coordinator keeps saying so to every later Recover.
// Writes then start on slot 0.
func (b *TxBolt) Recover(id uint64, committable []byte) error {
	err := b.recover(id, committable)
	if err != nil {
		if b.ring != nil && b.failed == nil {
			b.failed = err // nothing is written until a Recover succeeds
		}
		err = fmt.Errorf("kafka transactional bolt %s: recover checkpoint %d: %w", b.task(), id, err)
		b.reportError(err)
	}
	return err
}

func (b *TxBolt) recover(id uint64, committable []byte) error {
	if b.ids == nil {
		return errors.New("Recover before Prepare")
	}
	txs, err := DecodeCommittable(committable)
	if err != nil {
		return err
	}
	for _, tx := range txs {
		if id == 0 || tx.Checkpoint > id {
			return fmt.Errorf("%w: %s is not covered by checkpoint %d", ErrInvalidCommittable, tx, id)
		}
	}
	b.closeAll()
	ring, err := checkpoint.NewRing(len(b.ids))
	if err != nil {
		return err
	}
	b.ring, b.failed, b.poisoned = ring, nil, nil
	admin, err := sarama.NewClient(b.cfg.Brokers, adminClientConfig(b.cfg))
	if err != nil {
		return fmt.Errorf("connect to %v: %w", b.cfg.Brokers, err)
	}
	b.admin = admin
	var lost []error
	lostIDs := map[string]bool{}
	for _, tx := range txs { // oldest first
		out, err := b.recommit(tx)
		switch out {
		case committed:
			b.log.Info("kafka transactional bolt: committed a completed checkpoint's transaction (or found it committed)", "transaction", tx.String())
		case ended:
			b.log.Info("kafka transactional bolt: a completed checkpoint's transaction was committed before", "transaction", tx.String())
		case lostTx:
			lost = append(lost, err)
			lostIDs[tx.TransactionalID] = true
		default:
			// No definite answer: fencing now could abort a transaction of
			// a completed checkpoint. Retry the whole Recover.
			return err
		}
	}
	if b.slots == nil {
		b.slots = make([]*txSlot, len(b.ids))
		for s, tid := range b.ids {
			b.slots[s] = newTxSlot(s, tid, &b.metrics.Written)
		}
	}
	for _, s := range b.slots {
		if lostIDs[s.id] {
			continue // the broker bumped its epoch when it aborted: fenced already
		}
		if err := s.start(b.cfg.Brokers, txProducerConfig(b.cfg, s.id), b.admin); err != nil {
			return b.diagnose(s.id, err)
		}
	}
	if len(lost) > 0 {
		b.failed = errors.Join(lost...)
		return b.failed
	}
	b.readyOpen()
	return b.poisoned
}

// Cleanup closes every producer, leaving every transaction as it is: a
// pre-committed one is decided by a commit or a restore, and the open one
// is aborted by the next instance's Recover, which fences every slot of
// the task. (It does not call AbortTxn itself: sarama v1.61.1 writes the
// producer's transaction state there without the lock its dispatcher
// reads it under, a data race the exactly-once runtime hit on every
// restore.)
func (b *TxBolt) Cleanup() error {
	b.closeAll()
	return nil
}

// closeAll closes every producer without ending its transaction, and the
// admin client.
func (b *TxBolt) closeAll() {
	for _, s := range b.slots {
		s.close()
	}
	if b.admin != nil {
		_ = b.admin.Close()
		b.admin = nil
	}
}

func (b *TxBolt) task() string {
	if b.tc == nil {
		return "(not prepared)"
	}
	return fmt.Sprintf("%q task %d", b.tc.Component, b.tc.TaskIndex)
}

func (b *TxBolt) reportError(err error) {
	if b.out != nil {
		b.out.ReportError(err)
	}
	if b.log != nil {
		if ok, suppressed := b.warn.allow(time.Now()); ok {
			b.log.Warn(err.Error(), "not_logged", suppressed)
		}
	}
}

// countLost and countRecommit update the counters and the task's gauges.
func (b *TxBolt) countLost() {
	b.metrics.Lost.Add(1)
	b.lost++
	if b.tc != nil {
		b.tc.Gauges().Set(GaugeCommitLost, float64(b.lost))
	}
}

func (b *TxBolt) countRecommit() {
	b.metrics.Recommitted.Add(1)
	b.recommitted++
	if b.tc != nil {
		b.tc.Gauges().Set(GaugeRecommit, float64(b.recommitted))
	}
}

// mapRecord maps a tuple with mapper, or with the configured fields (the
// Kafka bolt's mapping).
func mapRecord(t topology.Tuple, mapper TupleMapper, topic, topicField, keyField, valueField string) (rec Record, err error) {
	if mapper != nil {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("mapper panicked: %v", r)
			}
		}()
		rec, err = mapper(t)
		if rec.Topic == "" {
			rec.Topic = topic
		}
		return rec, err
	}
	return MapFields(t, topic, topicField, keyField, valueField)
}
