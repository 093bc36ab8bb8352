package actors

import "testing"

// fakeClock returns the given times in order, counting reads.
type fakeClock struct {
	times []int64
	reads int
}

func (c *fakeClock) now() int64 {
	t := c.times[c.reads]
	c.reads++
	return t
}

func TestTupleTimer(t *testing.T) {
	tests := []struct {
		name string
		// ops is one letter per tuple of a batch from 1000 to 2000: a acked
		// inside its Execute, f failed inside it, h held past it.
		ops          string
		perTuple     bool    // the timer starts in per-tuple mode
		reads        []int64 // the clock read after tuples, as the timer asks
		wantNanos    int64
		wantN        int64
		wantPerTuple bool
	}{
		{name: "all acked inside Execute: the batch's two reads", ops: "aaaa", wantNanos: 1000, wantN: 4},
		{name: "empty batch", ops: "", wantNanos: 0, wantN: 0},
		{name: "a failed tuple's share leaves the sum", ops: "afa", reads: []int64{1400}, wantNanos: 200 + 600, wantN: 2},
		{name: "only failures", ops: "ff", reads: []int64{1300, 1500}, wantNanos: 0, wantN: 0},
		{name: "a held tuple switches to per-tuple", ops: "aaha", reads: []int64{1600, 1700}, wantNanos: 400 + 100, wantN: 3, wantPerTuple: true},
		{name: "per tuple: acked ones by their reads", ops: "aha", perTuple: true, reads: []int64{1100, 1500, 1600}, wantNanos: 100 + 100, wantN: 2, wantPerTuple: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{times: tt.reads}
			m := tupleTimer{clock: clk.now, perTuple: tt.perTuple}
			m.startBatch(1000)
			for _, op := range tt.ops {
				tu := &tuple{held: -1}
				m.before(tu)
				switch op {
				case 'a':
					m.ack(tu)
				case 'f':
					m.fail(tu)
				}
				m.after(tu)
			}
			ns, n := m.endBatch(2000)
			if ns != tt.wantNanos || n != tt.wantN {
				t.Errorf("endBatch = %d ns over %d, want %d over %d", ns, n, tt.wantNanos, tt.wantN)
			}
			if clk.reads != len(tt.reads) {
				t.Errorf("%d clock reads, want %d", clk.reads, len(tt.reads))
			}
			if m.perTuple != tt.wantPerTuple {
				t.Errorf("perTuple = %v, want %v", m.perTuple, tt.wantPerTuple)
			}
		})
	}
}

// A tuple acked after its Execute is timed from its start to the Ack.
func TestTupleTimerDelayedAck(t *testing.T) {
	clk := &fakeClock{times: []int64{1600, 5000, 9000}}
	m := tupleTimer{clock: clk.now}
	m.startBatch(1000)
	a, h := &tuple{held: -1}, &tuple{held: -1}
	m.before(a)
	m.ack(a)
	m.after(a)
	m.before(h)
	m.after(h) // held: read 1600, a and h share 1000..1600
	if h.received != 1300 {
		t.Errorf("the held tuple's start %d, want 1300 (its estimated slice)", h.received)
	}
	if ns, n := m.endBatch(2000); ns != 300 || n != 1 {
		t.Errorf("endBatch = %d over %d, want 300 over 1", ns, n)
	}
	if ns, delayed := m.ack(h); !delayed || ns != 5000-1300 {
		t.Errorf("the later Ack = %d, %v; want %d, true", ns, delayed, 5000-1300)
	}
	// Per-tuple from now on: the next tuple's start is exact.
	m.startBatch(8000)
	x := &tuple{held: -1}
	m.before(x)
	m.after(x) // held again: read 9000
	if x.received != 8000 {
		t.Errorf("per-tuple start %d, want 8000", x.received)
	}
	if _, delayed := m.ack(&tuple{held: -1}); delayed {
		t.Error("an untimed tuple's Ack was timed")
	}
}
