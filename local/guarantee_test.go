package local_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// relayBolt emits every input anchored to it, then acks it.
type relayBolt struct{ out topology.OutputCollector }

func (b *relayBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *relayBolt) Execute(t topology.Tuple) {
	b.out.Emit(t.Values(), t)
	b.out.Ack(t)
}

func (b *relayBolt) Cleanup() error { return nil }

// countBolt counts and acks what it executes.
type countBolt struct {
	n   *atomic.Int64
	out topology.OutputCollector
}

func (b *countBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *countBolt) Execute(t topology.Tuple) {
	b.n.Add(1)
	b.out.Ack(t)
}

func (b *countBolt) Cleanup() error { return nil }

// TestAtMostOnceTracksNothing: with squall.guarantee=at-most-once the
// spout emits with message ids, as an at-least-once spout does, and every
// tuple is processed through an anchoring bolt, but no tracker runs, the
// spout's Ack and Fail are never called and nothing is pending, so
// max.spout.pending (1 here) does not hold the spout back.
func TestAtMostOnceTracksNothing(t *testing.T) {
	const n = 500
	st := newSpoutState(n, 1)
	var counted atomic.Int64
	b := topology.NewBuilder("amo")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
	b.SetBolt("relay", func() topology.Bolt { return &relayBolt{} }, 2).ShuffleGrouping("s").Output("id")
	b.SetBolt("count", func() topology.Bolt { return &countBolt{n: &counted} }, 2).FieldsGrouping("relay", "id")
	c := start(t, b, topology.Config{topology.GuaranteeKey: "at-most-once", topology.MaxSpoutPending: 1})

	if topo := c.Topology().Topology; len(topo.Trackers) != 0 || topo.Runtime.Guarantee != topology.AtMostOnce {
		t.Fatalf("compiled with %d trackers, guarantee %q", len(topo.Trackers), topo.Runtime.Guarantee)
	}
	poll.Until(t, 20*time.Second, "every tuple counted", func() bool { return counted.Load() == n })

	acked, fails, peak, _ := st.snapshot()
	if acked != 0 || fails != 0 || st.totalAcks() != 0 {
		t.Errorf("spout saw %d acks and %d fails, want none", st.totalAcks(), fails)
	}
	// The spout counts an emit pending until its Ack or Fail: at-most-once
	// let it emit all n with max.spout.pending 1.
	if peak != n {
		t.Errorf("spout emitted at most %d without an ack, want all %d (max.spout.pending must not throttle)", peak, n)
	}
	for _, s := range c.Topology().Stats() {
		switch s.Component {
		case topology.TrackerComponent:
			t.Errorf("a tracker task %d runs", s.Task)
		case "s":
			if a, f, to, p := s.Acked.Load(), s.Failed.Load(), s.TimedOut.Load(), s.Pending.Load(); a+f+to+p != 0 {
				t.Errorf("spout task: acked %d, failed %d, timed out %d, pending %d; want all 0", a, f, to, p)
			}
			if e := s.Emitted.Load(); e != n {
				t.Errorf("spout emitted %d, want %d", e, n)
			}
		}
	}
	if _, acked, failed, _, _, _ := stats(c, "count"); acked != n || failed != 0 {
		t.Errorf("count bolt acked %d, failed %d; want %d acks counted (as no-ops), no fail", acked, failed, n)
	}
}

// TestZeroTrackersStillAckAtLeastOnce is the relation at-most-once keeps
// with Storm's topology.acker.executors=0: the same untracked path, but
// under at-least-once the spout's Ack is called at emit.
func TestZeroTrackersStillAckAtLeastOnce(t *testing.T) {
	const n = 100
	st := newSpoutState(n, 0)
	var counted atomic.Int64
	b := topology.NewBuilder("zero")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
	b.SetBolt("count", func() topology.Bolt { return &countBolt{n: &counted} }, 1).ShuffleGrouping("s")
	c := start(t, b, topology.Config{topology.AckerExecutors: 0})
	if g := c.Topology().Topology.Runtime.Guarantee; g != topology.AtLeastOnce {
		t.Fatalf("guarantee %q, want the default", g)
	}
	poll.Until(t, 10*time.Second, "every tuple counted and acked at emit", func() bool {
		return counted.Load() == n && st.ackedCount() == n
	})
}
