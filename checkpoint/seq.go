package checkpoint

import (
	"errors"
	"fmt"

	"github.com/squall-streams/squall/topology"
)

// Errors a Receiver reports. Each one means the channel is no longer the
// FIFO, reliable channel barrier snapshots assume: the checkpoint in flight
// cannot complete and the topology must restore. Match with errors.Is.
var (
	// ErrChannelLoss: elements were lost (a sequence gap, or the peer died
	// with elements in flight).
	ErrChannelLoss = errors.New("checkpoint: channel lost elements")
	// ErrChannelDuplicate: an element arrived twice or out of order.
	ErrChannelDuplicate = errors.New("checkpoint: channel delivered an element twice")
	// ErrFutureEpoch: an element of a restore epoch this receiver has not
	// been reset to yet.
	ErrFutureEpoch = errors.New("checkpoint: element of a future restore epoch")
)

// Seq is the position of an element (tuple, barrier or watermark) on one
// channel within one restore epoch. The first element of an epoch is 1.
type Seq uint64

// Sender numbers the elements one task sends on one output channel.
// Its zero value is not usable: make it with NewSender.
type Sender struct {
	epoch Epoch
	last  Seq
}

// NewSender starts numbering at the beginning of epoch.
func NewSender(epoch Epoch) *Sender { return &Sender{epoch: epoch} }

// Next returns the epoch and sequence number of the next element.
func (s *Sender) Next() (Epoch, Seq) {
	s.last++
	return s.epoch, s.last
}

// Reset starts epoch: the next element is 1 again.
func (s *Sender) Reset(epoch Epoch) { s.epoch, s.last = epoch, 0 }

// ChannelError says which input channel broke and how. It wraps
// ErrChannelLoss, ErrChannelDuplicate or ErrFutureEpoch.
type ChannelError struct {
	From  topology.TaskID // the upstream task
	Epoch Epoch
	Want  Seq // the sequence number expected next
	Got   Seq // what arrived (0 when the peer died or the epoch is ahead)
	// GotEpoch is the epoch of the element that arrived, for ErrFutureEpoch.
	GotEpoch Epoch
	Err      error
}

func (e *ChannelError) Error() string {
	switch {
	case errors.Is(e.Err, ErrFutureEpoch):
		return fmt.Sprintf("input channel from task %d: element of restore epoch %d, this task is still in epoch %d: it must be reset by the restore first", e.From, e.GotEpoch, e.Epoch)
	case e.Got == 0:
		return fmt.Sprintf("input channel from task %d, epoch %d: peer terminated, elements from %d on may be lost: %v", e.From, e.Epoch, e.Want, e.Err)
	case errors.Is(e.Err, ErrChannelLoss):
		return fmt.Sprintf("input channel from task %d, epoch %d: sequence gap, want %d, got %d (%d elements lost): %v", e.From, e.Epoch, e.Want, e.Got, e.Got-e.Want, e.Err)
	default:
		return fmt.Sprintf("input channel from task %d, epoch %d: want %d, got %d again: %v", e.From, e.Epoch, e.Want, e.Got, e.Err)
	}
}

func (e *ChannelError) Unwrap() error { return e.Err }

// Receiver checks the numbering of one input channel. Its zero value is not
// usable: make it with NewReceiver.
type Receiver struct {
	from   topology.TaskID
	epoch  Epoch
	expect Seq
	broken error
}

// NewReceiver expects element 1 of epoch from task from.
func NewReceiver(from topology.TaskID, epoch Epoch) *Receiver {
	return &Receiver{from: from, epoch: epoch, expect: 1}
}

// Accept checks one arriving element. It returns (true, nil) when the
// element is next in order and must be processed, (false, nil) when it
// belongs to an older epoch and must be dropped without a word (a zombie's
// or a pre-restore straggler), and (false, *ChannelError) when the channel
// broke. Once broken, a receiver keeps returning the same error until Reset:
// nothing after a hole is processed.
func (r *Receiver) Accept(epoch Epoch, seq Seq) (bool, error) {
	if r.broken != nil {
		return false, r.broken
	}
	switch {
	case epoch < r.epoch:
		return false, nil
	case epoch > r.epoch:
		return false, &ChannelError{From: r.from, Epoch: r.epoch, Want: r.expect, GotEpoch: epoch, Err: ErrFutureEpoch}
	case seq == r.expect:
		r.expect++
		return true, nil
	case seq > r.expect:
		r.broken = &ChannelError{From: r.from, Epoch: r.epoch, Want: r.expect, Got: seq, Err: ErrChannelLoss}
	default:
		r.broken = &ChannelError{From: r.from, Epoch: r.epoch, Want: r.expect, Got: seq, Err: ErrChannelDuplicate}
	}
	return false, r.broken
}

// Terminated records that the upstream peer died or its connection broke:
// whatever it had in flight may be lost, so the channel is broken.
func (r *Receiver) Terminated(cause error) error {
	if r.broken == nil {
		r.broken = &ChannelError{From: r.from, Epoch: r.epoch, Want: r.expect, Err: fmt.Errorf("%w: %w", ErrChannelLoss, cause)}
	}
	return r.broken
}

// Reset starts epoch after a restore: element 1 is expected again and the
// channel is whole.
func (r *Receiver) Reset(epoch Epoch) { r.epoch, r.expect, r.broken = epoch, 1, nil }
