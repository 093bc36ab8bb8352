package actors

import (
	"math/rand/v2"
	"testing"

	"github.com/squall-streams/squall/topology"
)

// treeSim does Storm's edge arithmetic by hand (spec §1), with random edge
// ids, producing the updates a ledger receives: the spout's init and every
// bolt's ack. The tests check the ledger against it rather than against
// hard-coded values.
type treeSim struct {
	rng *rand.Rand
}

func newTreeSim(seed uint64) *treeSim { return &treeSim{rng: rand.New(rand.NewPCG(seed, seed^0x5eed))} }

// simTuple is a tuple in flight: its edge id per root (anchorsToIds) and the
// XOR of the edges created from it while it was held (ackVal).
type simTuple struct {
	ids    map[uint64]uint64
	ackVal uint64
}

// spoutEmit emits one tuple to each of n destinations in tree root and
// returns them with the XOR the spout sends in its init.
func (s *treeSim) spoutEmit(root uint64, n int) ([]*simTuple, uint64) {
	var xor uint64
	var out []*simTuple
	for range n {
		e := s.rng.Uint64()
		xor ^= e
		out = append(out, &simTuple{ids: map[uint64]uint64{root: e}})
	}
	return out, xor
}

// emit is an anchored bolt emit to one destination: for every anchor a new
// edge is XORed into the anchor's ackVal and into the child's id of each of
// the anchor's roots.
func (s *treeSim) emit(anchors ...*simTuple) *simTuple {
	child := &simTuple{ids: map[uint64]uint64{}}
	for _, a := range anchors {
		e := s.rng.Uint64()
		a.ackVal ^= e
		for root := range a.ids {
			child.ids[root] ^= e
		}
	}
	return child
}

type simAck struct{ root, xor uint64 }

// ack is a bolt ack: (root, id XOR ackVal) for every root of t.
func (s *treeSim) ack(t *simTuple) []simAck {
	var out []simAck
	for root, id := range t.ids {
		out = append(out, simAck{root, id ^ t.ackVal})
	}
	return out
}

// applyAcks feeds acks to l and returns the outcome of each.
func applyAcks(l *Ledger, acks []simAck, now int64) (outs []Outcome, spouts []topology.TaskID) {
	for _, a := range acks {
		o, sp := l.Ack(a.root, a.xor, now)
		outs = append(outs, o)
		spouts = append(spouts, sp)
	}
	return outs, spouts
}

func wantOutcome(t *testing.T, what string, got Outcome, gotSpout topology.TaskID, want Outcome, wantSpout topology.TaskID) {
	t.Helper()
	if got != want || gotSpout != wantSpout {
		t.Fatalf("%s = (%v, %d), want (%v, %d)", what, got, gotSpout, want, wantSpout)
	}
}

func TestLedgerSimpleTree(t *testing.T) {
	for seed := range uint64(20) {
		sim := newTreeSim(seed)
		l := NewLedger(0, 0)
		root := sim.rng.Uint64()
		// spout -> a -> b: a single chain.
		spoutOut, xor := sim.spoutEmit(root, 1)
		o, sp := l.Init(root, xor, 7, 1)
		wantOutcome(t, "Init", o, sp, Pending, 0)
		a := spoutOut[0]
		b := sim.emit(a)
		outs, _ := applyAcks(l, sim.ack(a), 2)
		wantOutcome(t, "ack a", outs[0], 0, Pending, 0)
		outs, spouts := applyAcks(l, sim.ack(b), 3)
		wantOutcome(t, "ack b", outs[0], spouts[0], Completed, 7)
		if l.Len() != 0 {
			t.Fatalf("Len = %d after completion, want 0", l.Len())
		}
	}
}

func TestLedgerNoDestinationsCompletesAtInit(t *testing.T) {
	l := NewLedger(0, 0)
	sim := newTreeSim(1)
	_, xor := sim.spoutEmit(99, 0)
	o, sp := l.Init(99, xor, 4, 0)
	wantOutcome(t, "Init", o, sp, Completed, 4)
	if l.Len() != 0 {
		t.Errorf("Len = %d", l.Len())
	}
}

func TestLedgerFanOut(t *testing.T) {
	for seed := range uint64(20) {
		sim := newTreeSim(seed)
		l := NewLedger(0, 0)
		root := sim.rng.Uint64()
		kids, xor := sim.spoutEmit(root, 3) // one root, three edges
		if o, _ := l.Init(root, xor, 2, 0); o != Pending {
			t.Fatalf("Init = %v", o)
		}
		// The middle child emits two grandchildren before it is acked.
		g1, g2 := sim.emit(kids[1]), sim.emit(kids[1])
		order := []*simTuple{kids[0], kids[1], g1, kids[2], g2}
		for i, tup := range order {
			outs, spouts := applyAcks(l, sim.ack(tup), int64(i+1))
			want, wantSpout := Pending, topology.TaskID(0)
			if i == len(order)-1 {
				want, wantSpout = Completed, 2
			}
			wantOutcome(t, "ack", outs[0], spouts[0], want, wantSpout)
		}
	}
}

func TestLedgerMultiAnchorSameTree(t *testing.T) {
	for seed := range uint64(20) {
		sim := newTreeSim(seed)
		l := NewLedger(0, 0)
		root := sim.rng.Uint64()
		kids, xor := sim.spoutEmit(root, 2)
		l.Init(root, xor, 3, 0)
		// A join: one child anchored to both parents of the same tree; its id
		// for the root is the XOR of the two new edges.
		child := sim.emit(kids[0], kids[1])
		if len(child.ids) != 1 {
			t.Fatalf("child has %d roots, want 1", len(child.ids))
		}
		for i, tup := range []*simTuple{kids[0], child} {
			outs, _ := applyAcks(l, sim.ack(tup), int64(i))
			wantOutcome(t, "ack", outs[0], 0, Pending, 0)
		}
		outs, spouts := applyAcks(l, sim.ack(kids[1]), 5)
		wantOutcome(t, "last ack", outs[0], spouts[0], Completed, 3)
	}
}

func TestLedgerMultiAnchorTwoTrees(t *testing.T) {
	for seed := range uint64(20) {
		sim := newTreeSim(seed)
		l := NewLedger(0, 0)
		r1, r2 := sim.rng.Uint64(), sim.rng.Uint64()
		p, x1 := sim.spoutEmit(r1, 1)
		q, x2 := sim.spoutEmit(r2, 1)
		l.Init(r1, x1, 1, 0)
		l.Init(r2, x2, 2, 0)
		// child belongs to both trees.
		child := sim.emit(p[0], q[0])
		if len(child.ids) != 2 {
			t.Fatalf("child has %d roots, want 2", len(child.ids))
		}
		for _, tup := range []*simTuple{p[0], q[0]} {
			outs, _ := applyAcks(l, sim.ack(tup), 1)
			wantOutcome(t, "parent ack", outs[0], 0, Pending, 0)
		}
		// Acking the child completes both trees, each to its own spout.
		done := map[uint64]topology.TaskID{}
		for _, a := range sim.ack(child) {
			o, sp := l.Ack(a.root, a.xor, 2)
			if o != Completed {
				t.Fatalf("child ack of root %x = %v, want Completed", a.root, o)
			}
			done[a.root] = sp
		}
		if done[r1] != 1 || done[r2] != 2 {
			t.Fatalf("completed %v, want r1 -> 1, r2 -> 2", done)
		}
		if l.Len() != 0 {
			t.Fatalf("Len = %d", l.Len())
		}
	}
}

// Updates reach a tracker in any order: every ack may come before the init.
func TestLedgerAcksBeforeInit(t *testing.T) {
	for seed := range uint64(20) {
		sim := newTreeSim(seed)
		l := NewLedger(0, 0)
		root := sim.rng.Uint64()
		kids, xor := sim.spoutEmit(root, 2)
		g := sim.emit(kids[0])
		for i, tup := range []*simTuple{g, kids[1], kids[0]} {
			outs, _ := applyAcks(l, sim.ack(tup), int64(i))
			wantOutcome(t, "ack before init", outs[0], 0, Pending, 0)
		}
		if l.Len() != 1 {
			t.Fatalf("Len = %d before init, want 1", l.Len())
		}
		o, sp := l.Init(root, xor, 9, 10)
		wantOutcome(t, "Init after acks", o, sp, Completed, 9)
		if l.Len() != 0 {
			t.Fatalf("Len = %d", l.Len())
		}
	}
}

func TestLedgerFail(t *testing.T) {
	sim := newTreeSim(3)
	const spout topology.TaskID = 6

	t.Run("after init", func(t *testing.T) {
		l := NewLedger(0, 0)
		root := sim.rng.Uint64()
		_, xor := sim.spoutEmit(root, 2)
		l.Init(root, xor, spout, 0)
		o, sp := l.Fail(root, 1)
		wantOutcome(t, "Fail", o, sp, Failed, spout)
		if l.Len() != 0 {
			t.Fatalf("Len = %d after fail", l.Len())
		}
	})

	t.Run("before init", func(t *testing.T) {
		l := NewLedger(0, 0)
		root := sim.rng.Uint64()
		kids, xor := sim.spoutEmit(root, 2)
		o, sp := l.Fail(root, 1)
		wantOutcome(t, "Fail before init", o, sp, Pending, 0) // no spout to tell yet
		outs, _ := applyAcks(l, sim.ack(kids[0]), 2)
		wantOutcome(t, "ack after fail", outs[0], 0, Pending, 0)
		o, sp = l.Init(root, xor, spout, 3)
		wantOutcome(t, "Init", o, sp, Failed, spout)
		if l.Len() != 0 {
			t.Fatalf("Len = %d after fail", l.Len())
		}
	})

	// A tree that would complete with this init still fails: the fail wins.
	t.Run("fail then completing acks", func(t *testing.T) {
		l := NewLedger(0, 0)
		root := sim.rng.Uint64()
		kids, xor := sim.spoutEmit(root, 1)
		l.Fail(root, 0)
		applyAcks(l, sim.ack(kids[0]), 1)
		o, sp := l.Init(root, xor, spout, 2)
		wantOutcome(t, "Init", o, sp, Failed, spout)
	})

	// Failed is reported once: a late ack after it starts no second outcome.
	t.Run("once", func(t *testing.T) {
		l := NewLedger(0, 0)
		root := sim.rng.Uint64()
		kids, xor := sim.spoutEmit(root, 2)
		l.Init(root, xor, spout, 0)
		o, sp := l.Fail(root, 1)
		wantOutcome(t, "Fail", o, sp, Failed, spout)
		outs, _ := applyAcks(l, sim.ack(kids[1]), 2)
		wantOutcome(t, "late ack", outs[0], 0, Pending, 0)
		o, sp = l.Fail(root, 3)
		wantOutcome(t, "second Fail", o, sp, Pending, 0)
	})
}

func TestLedgerExpire(t *testing.T) {
	const retention = 100

	t.Run("idle trees dropped after retention", func(t *testing.T) {
		l := NewLedger(retention, 0)
		l.Init(1, 0xabc, 2, 0) // pending
		l.Ack(2, 0xdef, 50)    // pending, no init yet
		if n := l.Expire(99); n != 0 {
			t.Fatalf("Expire(99) = %d, want 0", n)
		}
		if n := l.Expire(100); n != 1 {
			t.Fatalf("Expire(100) = %d, want 1 (idle for exactly the retention)", n)
		}
		if l.Len() != 1 {
			t.Fatalf("Len = %d, want 1", l.Len())
		}
		if n := l.Expire(150); n != 1 || l.Len() != 0 {
			t.Fatalf("Expire(150) = %d, Len %d; want 1, 0", n, l.Len())
		}
		// A dropped tree is forgotten: its init starts a new entry.
		o, _ := l.Ack(1, 0xabc, 200)
		if o != Pending || l.Len() != 1 {
			t.Fatalf("ack of a dropped tree = %v, Len %d", o, l.Len())
		}
	})

	// Retention runs from a tree's first update: its life is bounded by the
	// spout's timeout, so later updates do not extend it (only Reset does).
	t.Run("retention runs from the first update", func(t *testing.T) {
		l := NewLedger(retention, 0)
		l.Ack(1, 0x00f, 0)      // first seen, before its init
		l.Init(1, 0xabc, 2, 50) // still pending
		l.Ack(1, 0x0f0, 99)
		if n := l.Expire(99); n != 0 {
			t.Fatalf("Expire(99) = %d, want 0", n)
		}
		if n := l.Expire(100); n != 1 || l.Len() != 0 {
			t.Fatalf("Expire(100) = %d, Len %d; want 1, 0: updates at 50 and 99 do not extend retention", n, l.Len())
		}
	})

	t.Run("reset restarts retention", func(t *testing.T) {
		l := NewLedger(retention, 0)
		l.Init(1, 0xabc, 2, 0)
		if sp, ok := l.Reset(1, 81); !ok || sp != 2 {
			t.Fatalf("Reset = %d, %v", sp, ok)
		}
		l.Ack(1, 0x0f0, 150)
		if n := l.Expire(180); n != 0 {
			t.Fatalf("Expire(180) = %d, want 0: the reset at 81 restarted retention", n)
		}
		if n := l.Expire(181); n != 1 || l.Len() != 0 {
			t.Fatalf("Expire(181) = %d, Len %d; want 1, 0", n, l.Len())
		}
	})

	t.Run("updates keep the value", func(t *testing.T) {
		l := NewLedger(retention, 0)
		l.Init(1, 0xabc, 2, 0)
		l.Ack(1, 0x00f, 80)
		if n := l.Expire(99); n != 0 {
			t.Fatalf("Expire(99) = %d", n)
		}
		// The value updated at 80 is still the tree's: acking the rest completes it.
		o, sp := l.Ack(1, 0xabc^0x00f, 90)
		wantOutcome(t, "last ack", o, sp, Completed, 2)
		if n := l.Expire(1000); n != 0 {
			t.Fatalf("Expire = %d after completion", n)
		}
	})

	t.Run("zero retention keeps everything", func(t *testing.T) {
		l := NewLedger(0, 0)
		l.Init(1, 0xabc, 2, 0)
		l.Ack(2, 0xabc, 0)
		if n := l.Expire(1 << 62); n != 0 || l.Len() != 2 {
			t.Fatalf("Expire = %d, Len %d; want 0, 2", n, l.Len())
		}
	})

	t.Run("completed trees are not expired", func(t *testing.T) {
		l := NewLedger(retention, 0)
		l.Ack(1, 0xabc, 0)
		l.Ack(1, 0x111, 10)
		o, sp := l.Init(1, 0xabc^0x111, 3, 20)
		wantOutcome(t, "Init", o, sp, Completed, 3)
		if n := l.Expire(1000); n != 0 {
			t.Fatalf("Expire = %d after completion, want 0", n)
		}
	})
}

func TestLedgerReset(t *testing.T) {
	const retention = 100
	l := NewLedger(retention, 0)
	if sp, ok := l.Reset(1, 0); ok || sp != 0 {
		t.Fatalf("Reset(unknown) = %d, %v", sp, ok)
	}
	if l.Len() != 0 {
		t.Fatalf("Reset of an unknown tree created an entry")
	}

	l.Ack(2, 0xabc, 0) // known, not inited
	if sp, ok := l.Reset(2, 10); ok || sp != 0 {
		t.Fatalf("Reset(not inited) = %d, %v; want 0, false", sp, ok)
	}

	l.Init(3, 0xabc, 8, 20)
	if sp, ok := l.Reset(3, 90); !ok || sp != 8 {
		t.Fatalf("Reset(inited) = %d, %v; want 8, true", sp, ok)
	}
	// Both resets restarted retention: at 105 tree 2 (reset at 10) is still
	// there, tree 3 (reset at 90) too; at 110 tree 2 goes, at 190 tree 3.
	if n := l.Expire(105); n != 0 {
		t.Fatalf("Expire(105) = %d, want 0", n)
	}
	if n := l.Expire(110); n != 1 {
		t.Fatalf("Expire(110) = %d, want 1", n)
	}
	if n := l.Expire(190); n != 1 || l.Len() != 0 {
		t.Fatalf("Expire(190) = %d, Len %d", n, l.Len())
	}
}

// Many interleaved trees with random fan-out and acks in a random order all
// complete exactly once, each to its own spout.
func TestLedgerRandomTrees(t *testing.T) {
	sim := newTreeSim(42)
	l := NewLedger(0, 0)
	type update struct {
		init  bool
		root  uint64
		xor   uint64
		spout topology.TaskID
	}
	var updates []update
	want := map[uint64]topology.TaskID{}
	for tree := range 200 {
		root := sim.rng.Uint64()
		spout := topology.TaskID(tree%5 + 1)
		want[root] = spout
		kids, xor := sim.spoutEmit(root, 1+sim.rng.IntN(4))
		updates = append(updates, update{init: true, root: root, xor: xor, spout: spout})
		// Each tuple may emit children before it is acked, to depth 3.
		level := kids
		for range 3 {
			var next []*simTuple
			for _, tup := range level {
				for range sim.rng.IntN(3) {
					next = append(next, sim.emit(tup))
				}
			}
			for _, tup := range level {
				for _, a := range sim.ack(tup) {
					updates = append(updates, update{root: a.root, xor: a.xor})
				}
			}
			level = next
		}
		for _, tup := range level {
			for _, a := range sim.ack(tup) {
				updates = append(updates, update{root: a.root, xor: a.xor})
			}
		}
	}
	sim.rng.Shuffle(len(updates), func(i, j int) { updates[i], updates[j] = updates[j], updates[i] })
	got := map[uint64]topology.TaskID{}
	for i, u := range updates {
		var o Outcome
		var sp topology.TaskID
		if u.init {
			o, sp = l.Init(u.root, u.xor, u.spout, int64(i))
		} else {
			o, sp = l.Ack(u.root, u.xor, int64(i))
		}
		switch o {
		case Completed:
			if _, dup := got[u.root]; dup {
				t.Fatalf("tree %x completed twice", u.root)
			}
			got[u.root] = sp
		case Failed:
			t.Fatalf("tree %x failed", u.root)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d trees completed, want %d", len(got), len(want))
	}
	for root, sp := range want {
		if got[root] != sp {
			t.Errorf("tree %x completed to spout %d, want %d", root, got[root], sp)
		}
	}
	if l.Len() != 0 {
		t.Errorf("Len = %d, want 0", l.Len())
	}
}

// A full ledger refuses updates of trees it does not know, whatever their
// kind, and keeps applying those of trees it knows; expiry makes room again.
func TestLedgerLimit(t *testing.T) {
	const retention, limit = 100, 3
	l := NewLedger(retention, limit)
	l.Init(1, 0xa, 2, 0)
	l.Ack(2, 0xb, 10)
	l.Fail(3, 20)
	if l.Len() != limit {
		t.Fatalf("Len = %d, want %d", l.Len(), limit)
	}
	for what, update := range map[string]func() (Outcome, topology.TaskID){
		"Init": func() (Outcome, topology.TaskID) { return l.Init(4, 0xc, 2, 30) },
		"Ack":  func() (Outcome, topology.TaskID) { return l.Ack(5, 0xd, 30) },
		"Fail": func() (Outcome, topology.TaskID) { return l.Fail(6, 30) },
	} {
		o, sp := update()
		wantOutcome(t, what+" of a new tree in a full ledger", o, sp, Refused, 0)
		if l.Len() != limit {
			t.Fatalf("Len = %d after a refused %s, want %d", l.Len(), what, limit)
		}
	}
	// An init that completes at once needs no entry: it is not refused.
	o, sp := l.Init(7, 0, 5, 30)
	wantOutcome(t, "Init completing at once", o, sp, Completed, 5)
	// Known trees still complete, fail and start.
	o, sp = l.Ack(1, 0xa, 40)
	wantOutcome(t, "Ack of a known tree", o, sp, Completed, 2)
	o, sp = l.Init(4, 0xc, 2, 40) // the room tree 1 left
	wantOutcome(t, "Init after a completion", o, sp, Pending, 0)
	o, sp = l.Init(3, 0xe, 8, 40)
	wantOutcome(t, "Init of a tree failed before", o, sp, Failed, 8)
	o, sp = l.Init(2, 0xb, 9, 40)
	wantOutcome(t, "Init of a tree acked before", o, sp, Completed, 9)
	// Full again (trees 4, 5, 6 at 40-50), then the oldest expire on the
	// update that finds the ledger full.
	l.Ack(5, 0x1, 45)
	l.Ack(6, 0x1, 50)
	o, _ = l.Ack(8, 0x1, 60)
	wantOutcome(t, "Ack of a new tree in a full ledger", o, 0, Refused, 0)
	o, _ = l.Ack(8, 0x1, 140) // tree 4 (put at 40) is due
	wantOutcome(t, "Ack once the oldest tree is due", o, 0, Pending, 0)
	if l.Len() != limit {
		t.Fatalf("Len = %d, want %d", l.Len(), limit)
	}
}
