package wire

import (
	"errors"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/messages"
)

// Split cuts m, whose frame body would exceed maxBody, into messages that
// each fit, by its batch's items in order: tuples of a TupleBatch,
// completions of a CompletionBatch, and the inits, acks, fails and resets
// of a TrackerBatch in that order (the order a tracker applies them), so
// the parts sent one after the other on one connection are the batch.
// Every part keeps the batch's topology, epoch and task. An item that
// alone does not fit is not in fits: it is in tooLarge, one message per
// item, for the caller to drop and report. Split is for the rare message
// that AppendFrame refused with ErrTooLarge: it sizes parts by halving.
func Split(m Message, maxBody int) (fits, tooLarge []Message, err error) {
	if _, err := envelope(m); err != nil {
		return nil, nil, err
	}
	s := splitterOf(m)
	var cut func(lo, hi int)
	cut = func(lo, hi int) {
		part := s.part(lo, hi)
		if part.Size() <= maxBody {
			fits = append(fits, part)
			return
		}
		if hi-lo == 1 {
			tooLarge = append(tooLarge, part)
			return
		}
		mid := lo + (hi-lo)/2
		cut(lo, mid)
		cut(mid, hi)
	}
	if s.n == 0 {
		return nil, nil, errors.New("wire: an empty batch cannot be split")
	}
	cut(0, s.n)
	return fits, tooLarge, nil
}

// splitter makes the part of a batch holding items [lo, hi).
type splitter struct {
	n    int
	part func(lo, hi int) Message
}

func splitterOf(m Message) splitter {
	with := func(p proto.Message) Message { return Message{To: m.To, Payload: p} }
	switch b := m.Payload.(type) {
	case *messages.TupleBatch:
		return splitter{n: len(b.Tuples), part: func(lo, hi int) Message {
			return with(&messages.TupleBatch{Topology: b.Topology, Epoch: b.Epoch, Tuples: b.Tuples[lo:hi:hi]})
		}}
	case *messages.CompletionBatch:
		return splitter{n: len(b.Completions), part: func(lo, hi int) Message {
			return with(&messages.CompletionBatch{Topology: b.Topology, Epoch: b.Epoch, SpoutTask: b.SpoutTask, Completions: b.Completions[lo:hi:hi]})
		}}
	case *messages.TrackerBatch:
		// Items are numbered across the four lists, in apply order.
		ni, na, nf := len(b.Inits), len(b.Acks), len(b.Fails)
		span := func(lo, hi, from, n int) (int, int) {
			return min(max(lo-from, 0), n), min(max(hi-from, 0), n)
		}
		return splitter{n: ni + na + nf + len(b.Resets), part: func(lo, hi int) Message {
			p := &messages.TrackerBatch{Topology: b.Topology, Epoch: b.Epoch, TrackerTask: b.TrackerTask}
			if i, j := span(lo, hi, 0, ni); i < j {
				p.Inits = b.Inits[i:j:j]
			}
			if i, j := span(lo, hi, ni, na); i < j {
				p.Acks = b.Acks[i:j:j]
			}
			if i, j := span(lo, hi, ni+na, nf); i < j {
				p.Fails = b.Fails[i:j:j]
			}
			if i, j := span(lo, hi, ni+na+nf, len(b.Resets)); i < j {
				p.Resets = b.Resets[i:j:j]
			}
			return with(p)
		}}
	}
	return splitter{} // envelope refused every other payload
}
