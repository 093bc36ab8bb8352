package kafka

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/kafka/internal/txnpb"
)

// ErrInvalidCommittable is wrapped by the error Recover returns for bytes
// that are not a committable PreCommit made (a corrupted or foreign
// checkpoint): nothing is committed or fenced then.
var ErrInvalidCommittable = errors.New("kafka transactional bolt: invalid committable")

// PendingTransaction is one pre-committed Kafka transaction a committable
// names: enough to finish its commit from another process with a raw
// EndTxn, without the producer that wrote it.
type PendingTransaction struct {
	// TransactionalID is <prefix>.<task index>.<slot>.
	TransactionalID string
	// ProducerID and Epoch are what the transaction coordinator reported
	// for the open transaction at pre-commit.
	ProducerID int64
	Epoch      int16
	// Checkpoint is the checkpoint whose barrier pre-committed it.
	Checkpoint uint64
	// Slot is its slot in the task's ring.
	Slot int
}

func (p PendingTransaction) String() string {
	return fmt.Sprintf("transaction %q (producer id %d, epoch %d, checkpoint %d)", p.TransactionalID, p.ProducerID, p.Epoch, p.Checkpoint)
}

// encodeCommittable is the committable of txs (txnpb.Committable), oldest
// checkpoint first. No transactions encode to no bytes.
func encodeCommittable(txs []PendingTransaction) ([]byte, error) {
	m := &txnpb.Committable{}
	for _, t := range txs {
		m.Transactions = append(m.Transactions, &txnpb.Transaction{
			TransactionalId: t.TransactionalID,
			ProducerId:      t.ProducerID,
			ProducerEpoch:   int32(t.Epoch),
			Checkpoint:      t.Checkpoint,
			Slot:            uint32(t.Slot),
		})
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("kafka transactional bolt: encode committable: %w", err)
	}
	return b, nil
}

// DecodeCommittable reads what a transactional bolt's PreCommit returned
// (for tools and tests: which transactions a checkpoint names). Errors wrap
// ErrInvalidCommittable and say what is wrong; nil and empty bytes are no
// transactions.
func DecodeCommittable(b []byte) ([]PendingTransaction, error) {
	var m txnpb.Committable
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %d bytes are not a squall.kafka.txn.v1.Committable: %w", ErrInvalidCommittable, len(b), err)
	}
	out := make([]PendingTransaction, 0, len(m.Transactions))
	for i, t := range m.Transactions {
		switch {
		case t.TransactionalId == "":
			return nil, fmt.Errorf("%w: transaction %d has no transactional id", ErrInvalidCommittable, i)
		case t.ProducerId < 0:
			return nil, fmt.Errorf("%w: transaction %q: producer id %d", ErrInvalidCommittable, t.TransactionalId, t.ProducerId)
		case t.ProducerEpoch < 0 || t.ProducerEpoch > math.MaxInt16:
			return nil, fmt.Errorf("%w: transaction %q: producer epoch %d is not a Kafka epoch (0-%d)", ErrInvalidCommittable, t.TransactionalId, t.ProducerEpoch, math.MaxInt16)
		case t.Checkpoint == 0:
			return nil, fmt.Errorf("%w: transaction %q names no checkpoint", ErrInvalidCommittable, t.TransactionalId)
		case t.Slot > MaxTolerableFailures+1:
			return nil, fmt.Errorf("%w: transaction %q: slot %d is beyond any ring (at most %d slots)", ErrInvalidCommittable, t.TransactionalId, t.Slot, MaxTolerableFailures+2)
		}
		out = append(out, PendingTransaction{
			TransactionalID: t.TransactionalId,
			ProducerID:      t.ProducerId,
			Epoch:           int16(t.ProducerEpoch),
			Checkpoint:      t.Checkpoint,
			Slot:            int(t.Slot),
		})
	}
	for i := 1; i < len(out); i++ {
		if out[i].Checkpoint < out[i-1].Checkpoint {
			return nil, fmt.Errorf("%w: transactions out of checkpoint order (%d after %d): they commit oldest first", ErrInvalidCommittable, out[i].Checkpoint, out[i-1].Checkpoint)
		}
	}
	ids := make([]string, len(out))
	for i, t := range out {
		ids[i] = t.TransactionalID
	}
	slices.Sort(ids)
	if i := firstDup(ids); i >= 0 {
		return nil, fmt.Errorf("%w: transactional id %q named twice: one id has one transaction at a time", ErrInvalidCommittable, ids[i])
	}
	return out, nil
}

// firstDup is the index of the first of two equal neighbours in sorted s, or -1.
func firstDup(s []string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return i
		}
	}
	return -1
}
