package kafka_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/kafka/kafkatest"
)

// txBroker is where a scenario runs: kfake (quick) or the real broker.
type txBroker func(t *testing.T) (brokers []string, topic string)

func onKfake(t *testing.T) ([]string, string) {
	return kafkatest.Embedded(t, embedded.Topics(3, "out")), "out"
}

func onKafka(t *testing.T) ([]string, string) {
	brokers := kafkatest.Brokers(t)
	return brokers, kafkatest.NewTopic(t, brokers, 3)
}

// testTxCommitsAtCheckpoints: the records of a committed checkpoint are
// visible under read_committed; those after the last PreCommit are not,
// neither while their transactions are open nor after a restore to the
// committed checkpoint aborted them.
func testTxCommitsAtCheckpoints(t *testing.T, on txBroker) {
	brokers, topic := on(t)
	cfg := txConfig(brokers, topic)
	r := newCommittedReader(t, brokers, topic)
	a := newTxTask(t, cfg, 0)
	a.recover(0, nil)
	first := a.write("c1", 30)
	c1 := a.preCommit(1)
	a.commit(1)
	poll.Until(t, 60*time.Second, "checkpoint 1's 30 records under read_committed", func() bool { return len(r.read()) == len(first) })
	if got := r.read(); !slices.Equal(got, sortedCopy(first)) {
		t.Fatalf("read_committed after Commit(1): %v, want %v", got, first)
	}
	// Records after the last PreCommit: pre-committed at 2 (not completed)
	// and open.
	a.write("c2", 20)
	if _, err := a.bolt.PreCommit(2); err != nil {
		t.Fatal(err)
	}
	a.write("open", 10)
	a.waitWritten(60)
	if got := r.read(); len(got) != len(first) {
		t.Fatalf("read_committed with checkpoint 2 pending: %d records, want %d", len(got), len(first))
	}
	// A restore to checkpoint 1 (a new instance of the task) fences both.
	b := newTxTask(t, cfg, 0)
	b.recover(1, c1)
	if got := r.settled(); !slices.Equal(got, sortedCopy(first)) {
		t.Fatalf("read_committed after the restore to 1: %d records %v, want checkpoint 1's %d", len(got), got, len(first))
	}
	for _, id := range b.bolt.TransactionalIDs() { // Kafka's verifyAllTransactionFinished
		if st := describeTxn(t, brokers, id); st.TransactionState == "Ongoing" {
			t.Errorf("after the restore %q is still Ongoing", id)
		}
	}
	if m := cfg.Metrics.Snapshot(); m.Committed != 1 || m.PreCommitted != 2 || m.Lost != 0 {
		t.Errorf("metrics %+v, want 1 committed, 2 pre-committed, 0 lost", m)
	}
}

func TestTxBoltCommitsAtCheckpoints(t *testing.T) { testTxCommitsAtCheckpoints(t, onKfake) }

func TestKafkaTxBoltCommitsAtCheckpoints(t *testing.T) { testTxCommitsAtCheckpoints(t, onKafka) }

// testTxRecoverRecommits: a crash between a checkpoint's completion and
// the task's Commit. A new instance of the task recovers from the
// committable and the records become visible exactly once; a second
// restore to the same checkpoint (the topology failing again before the
// next checkpoint) neither duplicates nor reports them lost.
func testTxRecoverRecommits(t *testing.T, on txBroker) {
	brokers, topic := on(t)
	cfg := txConfig(brokers, topic)
	r := newCommittedReader(t, brokers, topic)
	crashed := newTxTask(t, cfg, 2)
	crashed.recover(0, nil)
	first := crashed.write("c1", 25)
	c1 := crashed.preCommit(1)
	if txs, err := kafka.DecodeCommittable(c1); err != nil || len(txs) != 1 || txs[0].Checkpoint != 1 || txs[0].TransactionalID != cfg.TransactionalIDPrefix+".2.0" {
		t.Fatalf("committable of checkpoint 1: %+v, %v; want one transaction of checkpoint 1 on %s.2.0", txs, err, cfg.TransactionalIDPrefix)
	}
	// The crashed instance is abandoned as it is (its producers stay open
	// until the test ends): it never commits.
	b := newTxTask(t, cfg, 2)
	b.recover(1, c1)
	if got := r.settled(); !slices.Equal(got, sortedCopy(first)) {
		t.Fatalf("read_committed after Recover(1): %d records, want checkpoint 1's %d exactly once: %v", len(got), len(first), got)
	}
	if m := cfg.Metrics.Snapshot(); m.Recommitted != 1 {
		t.Errorf("recommitted %d, want 1", m.Recommitted)
	}
	if v, ok := b.tc.Gauges().Get(kafka.GaugeRecommit); !ok || v != 1 {
		t.Errorf("gauge %s = %v (%v), want 1", kafka.GaugeRecommit, v, ok)
	}
	// The recovered instance goes on: checkpoint 2, committed.
	second := b.write("c2", 15)
	b.preCommit(2)
	b.commit(2)
	// Then a failure before checkpoint 3: restore to 2 again, twice.
	c2again := b.preCommit(3) // nothing written since: nothing pending
	if txs, err := kafka.DecodeCommittable(c2again); err != nil || len(txs) != 0 {
		t.Fatalf("committable with nothing written: %+v, %v; want none", txs, err)
	}
	c := newTxTask(t, cfg, 2)
	c.recover(1, c1) // as if 2's completion were lost: 1's transaction again
	d := newTxTask(t, cfg, 2)
	d.recover(1, c1)
	if got := r.settled(); !slices.Equal(got, sortedCopy(first, second)) {
		t.Fatalf("read_committed after two more restores: %d records, want %d exactly once", len(got), len(first)+len(second))
	}
	if m := cfg.Metrics.Snapshot(); m.Lost != 0 {
		t.Errorf("lost %d, want 0: a transaction committed before is not lost", m.Lost)
	}
}

func TestTxBoltRecoverRecommits(t *testing.T) { testTxRecoverRecommits(t, onKfake) }

func TestKafkaTxBoltRecoverRecommits(t *testing.T) { testTxRecoverRecommits(t, onKafka) }

// testTxFencesZombie: an old instance that keeps going after a new
// instance of its task recovered is fenced: nothing it writes afterwards
// becomes visible; its PreCommit fails with ErrFenced; its late Commit of a
// checkpoint the new instance recommitted fails with ErrFenced, not
// ErrTransactionLost (nothing was lost).
func testTxFencesZombie(t *testing.T, on txBroker) {
	brokers, topic := on(t)
	cfg := txConfig(brokers, topic)
	cfg.TolerableFailures = 1
	r := newCommittedReader(t, brokers, topic)
	zombie := newTxTask(t, cfg, 1)
	zombie.recover(0, nil)
	first := zombie.write("c1", 20)
	zombie.preCommit(1)
	zombie.commit(1)
	second := zombie.write("c2", 10)
	c2 := zombie.preCommit(2) // checkpoint 2 completes; the zombie never hears of it in time
	zombie.write("before-fence", 10)
	zombie.waitWritten(40)
	heir := newTxTask(t, cfg, 1)
	heir.recover(2, c2)
	if _, err := zombie.bolt.PreCommit(3); !errors.Is(err, kafka.ErrFenced) {
		t.Fatalf("the zombie's PreCommit(3) after the fence: %v, want ErrFenced", err)
	}
	// One record (see waitWritten): after its failure the producer refuses
	// records locally, without a request.
	zombie.write("after-fence", 1)
	if _, err := zombie.bolt.PreCommit(4); err == nil {
		t.Fatal("the zombie's PreCommit(4) after writing while fenced succeeded")
	} else {
		t.Logf("zombie PreCommit(4): %v", err)
	}
	if err := zombie.bolt.Commit(2); !errors.Is(err, kafka.ErrFenced) || errors.Is(err, kafka.ErrTransactionLost) {
		t.Fatalf("the zombie's late Commit(2): %v, want ErrFenced (the heir committed it)", err)
	}
	heirs := heir.write("heir", 12)
	heir.preCommit(3)
	heir.commit(3)
	if got := r.settled(); !slices.Equal(got, sortedCopy(first, second, heirs)) {
		t.Fatalf("read_committed: %d records %v; want checkpoints 1 and 2 (%d) and the heir's %d, nothing of the zombie after the fence",
			len(got), got, len(first)+len(second), len(heirs))
	}
	if m := cfg.Metrics.Snapshot(); m.Lost != 0 || m.Fenced != 1 || m.Recommitted != 1 {
		t.Errorf("metrics %+v, want 0 lost, 1 fenced, 1 recommitted", m)
	}
}

func TestTxBoltFencesZombie(t *testing.T) { testTxFencesZombie(t, onKfake) }

func TestKafkaTxBoltFencesZombie(t *testing.T) { testTxFencesZombie(t, onKafka) }

// testTxAbortedCheckpoint: PreCommit(n) then no Commit(n) (checkpoint n
// aborted), PreCommit(n+1), Commit(n+1) commits both, oldest first; the
// committable of n+1 names both.
func testTxAbortedCheckpoint(t *testing.T, on txBroker) {
	brokers, topic := on(t)
	cfg := txConfig(brokers, topic)
	cfg.TolerableFailures = 1 // a ring of 3
	r := newCommittedReader(t, brokers, topic)
	a := newTxTask(t, cfg, 0)
	a.recover(0, nil)
	first := a.write("c1", 10)
	a.preCommit(1) // checkpoint 1 aborts: no Commit(1)
	if _, err := a.bolt.PreCommit(1); err == nil {
		t.Fatal("PreCommit(1) twice succeeded: checkpoint ids only grow")
	}
	second := a.write("c2", 10)
	c2 := a.preCommit(2)
	txs, err := kafka.DecodeCommittable(c2)
	if err != nil || len(txs) != 2 || txs[0].Checkpoint != 1 || txs[1].Checkpoint != 2 || txs[0].Slot != 0 || txs[1].Slot != 1 {
		t.Fatalf("committable of checkpoint 2: %+v, %v; want checkpoint 1 on slot 0, then 2 on slot 1", txs, err)
	}
	a.commit(2)
	a.commit(2) // idempotent
	if got := r.settled(); !slices.Equal(got, sortedCopy(first, second)) {
		t.Fatalf("read_committed: %d records, want both checkpoints' %d", len(got), len(first)+len(second))
	}
	if m := cfg.Metrics.Snapshot(); m.Committed != 2 {
		t.Errorf("committed %d transactions, want 2", m.Committed)
	}
}

func TestTxBoltAbortedCheckpoint(t *testing.T) { testTxAbortedCheckpoint(t, onKfake) }

func TestKafkaTxBoltAbortedCheckpoint(t *testing.T) { testTxAbortedCheckpoint(t, onKafka) }

// TestTxBoltDeclinesWithoutFreeSlot: with no failure tolerated (a ring of
// 2), a second pre-commit while the first is pending has no slot: it
// declines, keeps writing into the open transaction, and the next
// completed checkpoint commits everything.
func TestTxBoltDeclinesWithoutFreeSlot(t *testing.T) {
	brokers, topic := onKfake(t)
	cfg := txConfig(brokers, topic)
	r := newCommittedReader(t, brokers, topic)
	a := newTxTask(t, cfg, 0)
	a.recover(0, nil)
	first := a.write("c1", 5)
	a.preCommit(1)
	second := a.write("c2", 5)
	if _, err := a.bolt.PreCommit(2); !errors.Is(err, checkpoint.ErrNoFreeSlot) {
		t.Fatalf("PreCommit(2) with slot 0 pending: %v, want ErrNoFreeSlot", err)
	}
	if errs := a.out.errors(); len(errs) != 1 || !errors.Is(errs[0], checkpoint.ErrNoFreeSlot) {
		t.Errorf("reported errors %v, want the decline", errs)
	}
	third := a.write("c3", 5)
	a.commit(1)
	a.preCommit(3)
	a.commit(3)
	if got := r.settled(); !slices.Equal(got, sortedCopy(first, second, third)) {
		t.Fatalf("read_committed: %d records, want %d", len(got), len(first)+len(second)+len(third))
	}
}

// TestKafkaTxBoltTransactionTimeoutTrap: the broker aborts a pre-committed
// transaction that outlived the transaction timeout before its checkpoint
// committed. Commit reports ErrTransactionLost (naming the id, the
// checkpoint and the timeout) and counts it; so does the Recover of a new
// instance from the same committable, every time. Real broker only: kfake
// reports an aborted transaction as Empty, like a committed one, so there
// the loss shows as ErrFenced (see TestTxBoltTimeoutOnKfakeIsNotSilent).
func TestKafkaTxBoltTransactionTimeoutTrap(t *testing.T) {
	brokers, topic := onKafka(t)
	cfg := txConfig(brokers, topic)
	cfg.TransactionTimeout, cfg.FlushTimeout = 2*time.Second, time.Second
	a := newTxTask(t, cfg, 0)
	a.recover(0, nil)
	a.write("c1", 7)
	c1 := a.preCommit(1)
	id := a.bolt.TransactionalIDs()[0]
	// The commit is delayed past the timeout: wait until the broker aborted.
	poll.Until(t, 60*time.Second, "the broker to abort the timed-out transaction", func() bool {
		return describeTxn(t, brokers, id).TransactionState != "Ongoing"
	})
	err := a.bolt.Commit(1)
	if !errors.Is(err, kafka.ErrTransactionLost) {
		t.Fatalf("Commit(1) after the timeout: %v, want ErrTransactionLost", err)
	}
	for _, want := range []string{id, "checkpoint 1", "2s", kafka.KeyTransactionTimeout} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if v, _ := a.tc.Gauges().Get(kafka.GaugeCommitLost); v != 1 {
		t.Errorf("gauge %s = %v, want 1", kafka.GaugeCommitLost, v)
	}
	if errs := a.out.errors(); len(errs) == 0 || !errors.Is(errs[len(errs)-1], kafka.ErrTransactionLost) {
		t.Errorf("reported errors %v, want ErrTransactionLost", errs)
	}
	if err := a.bolt.Commit(1); err == nil {
		t.Error("a second Commit(1) after the loss succeeded: the task must be restored")
	}
	for i := range 2 { // every restore from that checkpoint reports it again
		b := newTxTask(t, cfg, 0)
		err := b.bolt.Recover(1, c1)
		if !errors.Is(err, kafka.ErrTransactionLost) {
			t.Fatalf("Recover(1) #%d of a lost checkpoint: %v, want ErrTransactionLost", i+1, err)
		}
		if v, _ := b.tc.Gauges().Get(kafka.GaugeCommitLost); v != 1 {
			t.Errorf("Recover #%d: gauge %s = %v, want 1", i+1, kafka.GaugeCommitLost, v)
		}
		if _, err := b.bolt.PreCommit(2); err == nil {
			t.Errorf("PreCommit after a failed Recover succeeded")
		}
	}
	if m := cfg.Metrics.Snapshot(); m.Lost != 3 {
		t.Errorf("lost %d, want 3 (Commit and two Recovers)", m.Lost)
	}
	t.Logf("Commit's error: %v", err)
}

// TestTxBoltTimeoutOnKfakeIsNotSilent: on kfake a timed-out transaction's
// commit fails too (as fenced: kfake cannot tell it apart).
func TestTxBoltTimeoutOnKfakeIsNotSilent(t *testing.T) {
	brokers, topic := onKfake(t)
	cfg := txConfig(brokers, topic)
	cfg.TransactionTimeout, cfg.FlushTimeout = 1*time.Second+500*time.Millisecond, time.Second
	a := newTxTask(t, cfg, 0)
	a.recover(0, nil)
	a.write("c1", 3)
	a.preCommit(1)
	id := a.bolt.TransactionalIDs()[0]
	poll.Until(t, 30*time.Second, "kfake to abort the timed-out transaction", func() bool {
		return describeTxn(t, brokers, id).TransactionState != "Ongoing"
	})
	if err := a.bolt.Commit(1); err == nil {
		t.Fatal("Commit(1) of a transaction kfake aborted succeeded")
	} else {
		t.Logf("Commit(1): %v", err)
	}
}

// TestKafkaTxBoltTimeoutAboveBrokerMaximum: a transaction timeout above the
// broker's transaction.max.timeout.ms is refused by InitProducerId; the
// error names the broker setting and its value.
func TestKafkaTxBoltTimeoutAboveBrokerMaximum(t *testing.T) {
	brokers, topic := onKafka(t)
	cfg := txConfig(brokers, topic)
	cfg.TransactionTimeout = 20 * time.Minute // the broker's default maximum is 15 min
	k := newTxTask(t, cfg, 0)
	err := k.bolt.Recover(0, nil)
	if !errors.Is(err, kafka.ErrTransactionsUnavailable) {
		t.Fatalf("Recover with a 20m timeout: %v, want ErrTransactionsUnavailable", err)
	}
	for _, want := range []string{"transaction.max.timeout.ms (set to 900000)", "TransactionTimeout 20m0s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
