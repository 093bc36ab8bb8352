package actors

// Process latency (Storm's: from the start of a bolt's Execute of a tuple
// to its Ack) for every tuple, without a clock read per tuple. A clock read
// costs ~90 ns on the project's VM, as much as the rest of a bolt task's
// per-tuple work, so the timer reads the clock only where it must:
//
//   - Most bolts ack every tuple inside its Execute. A tuple's process time
//     is then its slice of the batch, from the start of its Execute to the
//     start of the next, and the slices add up to the batch's time: the
//     two clock reads a batch makes anyway (for execute time) give the
//     exact sum. Acks inside Execute are counted, not timed.
//   - A tuple failed inside its Execute takes its slice out of the sum: the
//     clock is read after it, and the time since the last read is shared
//     evenly by the tuples in it (the failed one's share is dropped; only
//     this share is an estimate).
//   - A tuple still unacked when its Execute returns (a bolt that holds
//     tuples, acks them later or from Submit) needs its own start time, so
//     from then on the task reads the clock after every tuple and stamps
//     the next with it, and an Ack after Execute reads the clock once
//     more. The tuple that caused the switch gets its start estimated as
//     above.
//
// Sums go to the task's stats once per batch. Pure: the clock is injected.
type tupleTimer struct {
	clock    func() int64 // monotonic ns
	perTuple bool         // a tuple outlived its Execute: stamp every tuple
	// last is the last clock read in the batch; inline counts the tuples
	// acked inside their Execute since then (not yet in procNanos).
	last      int64
	inline    int64
	executing *tuple
	acked     bool // executing was acked inside its Execute
	failed    bool // executing was failed inside its Execute
	procNanos int64
	processed int64
}

// startBatch starts timing a batch whose first Execute starts at now.
func (m *tupleTimer) startBatch(now int64) { m.last, m.inline = now, 0 }

// before is called just before t's Execute.
func (m *tupleTimer) before(t *tuple) {
	t.received = m.last // exact per tuple; in batch mode replaced if t outlives Execute
	m.executing, m.acked, m.failed = t, false, false
}

// after is called when t's Execute returned.
func (m *tupleTimer) after(t *tuple) {
	if !m.afterAcked() {
		m.afterSlow(t)
	}
}

// afterAcked is after for the common case, t acked inside its Execute in
// batch mode: small enough to be inlined on the per-tuple path.
func (m *tupleTimer) afterAcked() bool {
	if !m.acked || m.perTuple {
		return false
	}
	m.executing = nil
	m.inline++
	return true
}

func (m *tupleTimer) afterSlow(t *tuple) {
	m.executing = nil
	if m.perTuple {
		now := m.clock()
		if m.acked {
			m.procNanos += now - m.last
			m.processed++
		}
		m.last = now
		return
	}
	// Failed inside Execute, or held: close the slice since the last read.
	now := m.clock()
	share := (now - m.last) / (m.inline + 1)
	m.procNanos += m.inline * share
	m.processed += m.inline
	m.inline, m.last = 0, now
	if !m.failed {
		t.received = now - share
		m.perTuple = true
	}
}

// ack is called on the Ack of t. An Ack after t's Execute is timed at
// once: delayed is true and nanos is t's process time.
func (m *tupleTimer) ack(t *tuple) (nanos int64, delayed bool) {
	switch {
	case t.received == 0: // not timed (a tick, or latency off)
	case t == m.executing:
		m.acked = true
	default:
		return m.clock() - t.received, true
	}
	return 0, false
}

// fail is called on the Fail of t.
func (m *tupleTimer) fail(t *tuple) {
	if t == m.executing {
		m.failed = true
	}
}

// endBatch closes the batch at now and returns the sums since the last
// call.
func (m *tupleTimer) endBatch(now int64) (procNanos, processed int64) {
	if m.inline > 0 {
		m.procNanos += now - m.last
		m.processed += m.inline
	}
	m.inline, m.last = 0, now
	procNanos, processed = m.procNanos, m.processed
	m.procNanos, m.processed = 0, 0
	return procNanos, processed
}
