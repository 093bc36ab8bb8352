package frame

// SeqSender numbers the batches of one channel (one sender task to one
// receiving actor), from 1. Not safe for concurrent use: one writer owns
// it.
type SeqSender struct{ last uint64 }

// Next is the number of the next batch.
func (s *SeqSender) Next() uint64 {
	s.last++
	return s.last
}

// SeqReceiver checks the numbers of one channel's batches as they arrive.
// Not safe for concurrent use: one reader owns it.
type SeqReceiver struct{ last uint64 }

// Observe takes batch seq's number. lost is how many batches before it
// never arrived (their trees fail now, not at the message timeout); ok is
// false for a number at or below one already seen (a duplicate or a
// replay: drop the batch) and for 0, which no sender uses.
func (r *SeqReceiver) Observe(seq uint64) (lost uint64, ok bool) {
	if seq <= r.last {
		return 0, false
	}
	lost = seq - r.last - 1
	r.last = seq
	return lost, true
}

// Last is the highest number seen (0: none yet).
func (r *SeqReceiver) Last() uint64 { return r.last }
