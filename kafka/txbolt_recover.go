package kafka

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"
)

// outcome is what became of a pre-committed transaction that a raw EndTxn
// tried to commit.
type outcome int

const (
	// indefinite: no definite answer (network errors, a coordinator
	// moving, retriable errors until CommitTimeout).
	indefinite outcome = iota
	// committed: the coordinator confirmed the commit (now, or before at
	// the same epoch).
	committed
	// ended: the transaction ended before, and the id was re-created since
	// (its epoch moved on without an abort): under the ring's rules a
	// completed checkpoint's transaction is only re-created after its
	// commit, so it was committed — by this instance, or by the instance
	// that fenced it.
	ended
	// lostTx: the broker aborted it (ErrTransactionLost).
	lostTx
)

// abortStates are the coordinator's states of a transaction being, or
// having been, aborted. Real Kafka keeps CompleteAbort, at the bumped
// epoch, after it aborts a transaction that timed out, until the next
// InitProducerId (kfake reports Empty instead: see the package tests).
var abortStates = map[string]bool{"PrepareAbort": true, "CompleteAbort": true, "PrepareEpochFence": true}

// recommit commits tx with a raw EndTxn(commit) under its recorded producer
// id and epoch, retrying retriable answers until CommitTimeout. Kafka's
// coordinator answers NONE to a commit of a transaction it committed
// already (CompleteCommit, same epoch), so this is idempotent. The fencing
// answers (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE,
// INVALID_PRODUCER_ID_MAPPING) are told apart with DescribeTransactions:
// ended, or lost.
func (b *TxBolt) recommit(tx PendingTransaction) (outcome, error) {
	id := tx.TransactionalID
	if st, err := describeTransaction(b.admin, id); err == nil && st.TransactionState == "CompleteCommit" &&
		st.ProducerID == tx.ProducerID && st.ProducerEpoch == tx.Epoch {
		return committed, nil // committed before, and nothing happened to the id since
	}
	deadline := time.Now().Add(b.cfg.CommitTimeout)
	backoff := 20 * time.Millisecond
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if time.Now().Add(backoff).After(deadline) {
				break
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
		}
		coord, err := b.admin.TransactionCoordinator(id)
		if err != nil {
			last = err
			_ = b.admin.RefreshTransactionCoordinator(id)
			continue
		}
		resp, err := coord.EndTxn(&sarama.EndTxnRequest{
			Version:           endTxnVersion(b.cfg.Version),
			TransactionalID:   id,
			ProducerID:        tx.ProducerID,
			ProducerEpoch:     tx.Epoch,
			TransactionResult: true,
		})
		if err != nil {
			last = err
			_ = coord.Close()
			_ = b.admin.RefreshTransactionCoordinator(id)
			continue
		}
		switch resp.Err {
		case sarama.ErrNoError:
			b.countRecommit()
			return committed, nil
		case sarama.ErrNotCoordinatorForConsumer, sarama.ErrConsumerCoordinatorNotAvailable:
			_ = b.admin.RefreshTransactionCoordinator(id)
			last = kerrError(resp.Err)
		case sarama.ErrOffsetsLoadInProgress, sarama.ErrConcurrentTransactions, sarama.ErrRequestTimedOut:
			// CONCURRENT_TRANSACTIONS: the coordinator is still writing the
			// markers of this commit (PrepareCommit), or of a fence.
			last = kerrError(resp.Err)
		case sarama.ErrProducerFenced, sarama.ErrInvalidProducerEpoch, sarama.ErrInvalidTxnState, sarama.ErrInvalidProducerIDMapping:
			return b.classify(tx, resp.Err)
		default:
			return indefinite, fmt.Errorf("commit %s: the coordinator answered %w", tx, kerrError(resp.Err))
		}
	}
	return indefinite, fmt.Errorf("commit %s: no definite answer within CommitTimeout %v: %w", tx, b.cfg.CommitTimeout, last)
}

// classify tells a transaction that ended before and whose id was
// re-created since (ended) from one the broker aborted (lost), after its
// commit was refused with kerr.
func (b *TxBolt) classify(tx PendingTransaction, kerr sarama.KError) (outcome, error) {
	st, err := describeTransaction(b.admin, tx.TransactionalID)
	if err == nil && st.ProducerID == tx.ProducerID && st.ProducerEpoch > tx.Epoch && !abortStates[st.TransactionState] {
		return ended, nil
	}
	coordinator := fmt.Sprintf("the coordinator now says %s at producer id %d, epoch %d", st.TransactionState, st.ProducerID, st.ProducerEpoch)
	if err != nil {
		coordinator = fmt.Sprintf("the coordinator cannot describe it: %v", err)
	}
	b.countLost()
	return lostTx, fmt.Errorf("%w: %s: EndTxn(commit) was answered %v and %s: the broker aborted it, most likely because it was older than the transaction timeout (TransactionTimeout %v, %s) when its checkpoint completed. "+
		"The timeout must exceed checkpoint interval × (tolerable failures + 1) + checkpoint timeout + the time a restore takes",
		ErrTransactionLost, tx, kerrError(kerr), coordinator, b.cfg.TransactionTimeout, KeyTransactionTimeout)
}

// endTxnVersion is the EndTxn version sarama's own producer sends.
func endTxnVersion(v sarama.KafkaVersion) int16 {
	switch {
	case v.IsAtLeast(sarama.V2_8_0_0):
		return 3
	case v.IsAtLeast(sarama.V2_7_0_0):
		return 2
	case v.IsAtLeast(sarama.V2_0_0_0):
		return 1
	}
	return 0
}

// kerrNames are Kafka's names of the codes sarama prints badly (90:
// "Unknown error, how did this happen?").
var kerrNames = map[sarama.KError]string{
	sarama.ErrProducerFenced:                     "PRODUCER_FENCED",
	sarama.ErrInvalidProducerEpoch:               "INVALID_PRODUCER_EPOCH",
	sarama.ErrInvalidTxnState:                    "INVALID_TXN_STATE",
	sarama.ErrInvalidProducerIDMapping:           "INVALID_PRODUCER_ID_MAPPING",
	sarama.ErrInvalidTransactionTimeout:          "INVALID_TRANSACTION_TIMEOUT",
	sarama.ErrConcurrentTransactions:             "CONCURRENT_TRANSACTIONS",
	sarama.ErrTransactionalIDAuthorizationFailed: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
	sarama.ErrConsumerCoordinatorNotAvailable:    "COORDINATOR_NOT_AVAILABLE",
	sarama.ErrNotCoordinatorForConsumer:          "NOT_COORDINATOR",
	sarama.ErrOffsetsLoadInProgress:              "COORDINATOR_LOAD_IN_PROGRESS",
}

// namedKError is a KError whose text has Kafka's name and code; errors.Is
// still matches the KError.
type namedKError struct{ k sarama.KError }

func (e namedKError) Error() string {
	if n, ok := kerrNames[e.k]; ok {
		return fmt.Sprintf("%s (error code %d)", n, int16(e.k))
	}
	return fmt.Sprintf("%v (error code %d)", e.k, int16(e.k))
}

func (e namedKError) Unwrap() error { return e.k }

func kerrError(k sarama.KError) error { return namedKError{k} }

// diagnose turns the error of making slot id's producer into one that says
// which broker setting refuses it.
func (b *TxBolt) diagnose(id string, err error) error {
	var k sarama.KError
	if !errors.As(err, &k) {
		return fmt.Errorf("start the transactional producer of %q: %w", id, err)
	}
	switch k {
	case sarama.ErrConsumerCoordinatorNotAvailable, sarama.ErrNotCoordinatorForConsumer, sarama.ErrOffsetsLoadInProgress:
		return fmt.Errorf("%w: no transaction coordinator for %q (%v): the brokers cannot create or load their transaction log (__transaction_state). "+
			"Check the broker setting transaction.state.log.replication.factor (%s) against the number of live brokers (%s), and transaction.state.log.min.isr (%s); a single development broker needs both at 1",
			ErrTransactionsUnavailable, id, kerrError(k), b.brokerSetting("transaction.state.log.replication.factor"), b.brokerCount(),
			b.brokerSetting("transaction.state.log.min.isr"))
	case sarama.ErrInvalidTransactionTimeout:
		return fmt.Errorf("%w: %q: TransactionTimeout %v (%s) is above the broker setting transaction.max.timeout.ms (%s): lower the timeout or raise the brokers' maximum (%v)",
			ErrTransactionsUnavailable, id, b.cfg.TransactionTimeout, KeyTransactionTimeout, b.brokerSetting("transaction.max.timeout.ms"), kerrError(k))
	case sarama.ErrTransactionalIDAuthorizationFailed:
		return fmt.Errorf("%w: not authorized to use transactional id %q (%v): grant WRITE and DESCRIBE on TransactionalId %q, or on its prefix",
			ErrTransactionsUnavailable, id, kerrError(k), id)
	}
	return fmt.Errorf("start the transactional producer of %q: %w", id, kerrError(k))
}

// brokerSetting reads a broker configuration value for an error message
// (DescribeConfigs), or says why it cannot.
func (b *TxBolt) brokerSetting(name string) string {
	br, id, _, err := b.someBroker()
	if err != nil {
		return "unknown: " + err.Error()
	}
	resp, err := br.DescribeConfigs(&sarama.DescribeConfigsRequest{
		Version:   1,
		Resources: []*sarama.ConfigResource{{Type: sarama.BrokerResource, Name: strconv.Itoa(int(id)), ConfigNames: []string{name}}},
	})
	if err != nil {
		return "unknown: " + err.Error()
	}
	for _, r := range resp.Resources {
		if r.ErrorCode != 0 {
			return fmt.Sprintf("unknown: %s", kerrError(sarama.KError(r.ErrorCode)))
		}
		for _, c := range r.Configs {
			if c.Name == name {
				return "set to " + c.Value
			}
		}
	}
	return "unknown: the broker did not say"
}

// brokerCount is the number of brokers in the cluster's metadata.
func (b *TxBolt) brokerCount() string {
	_, _, n, err := b.someBroker()
	if err != nil {
		return "unknown: " + err.Error()
	}
	return strconv.Itoa(n)
}

// someBroker is a connected broker, its id (a bootstrap broker's own
// Broker.ID is -1 until metadata names it), and how many brokers the
// cluster's metadata lists.
func (b *TxBolt) someBroker() (br *sarama.Broker, id int32, brokers int, err error) {
	if b.admin == nil {
		return nil, 0, 0, errors.New("not connected")
	}
	if br = b.admin.LeastLoadedBroker(); br == nil {
		return nil, 0, 0, errors.New("no broker")
	}
	_ = br.Open(b.admin.Config()) // ErrAlreadyConnected when it is
	// Brokers only: an empty topic list asks for no topics.
	resp, err := br.GetMetadata(sarama.NewMetadataRequest(b.cfg.Version, []string{}))
	if err != nil {
		return nil, 0, 0, err
	}
	id = br.ID()
	for _, m := range resp.Brokers {
		if m.Addr() == br.Addr() {
			id = m.ID()
		}
	}
	if id < 0 && len(resp.Brokers) > 0 {
		id = resp.Brokers[0].ID()
	}
	return br, id, len(resp.Brokers), nil
}
