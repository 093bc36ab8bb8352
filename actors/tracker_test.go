package actors

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/internal/spawnlock"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// trackerRig runs one tracker task of a topology with spout "s" (2 tasks)
// and bolt "b" (2 tasks) in an actor system; every spout and bolt task is
// one probe actor that passes on the completions it is sent, in order.
type trackerRig struct {
	env     *Env
	tracker *actor.PID
	done    chan completion
	spouts  []topology.TaskID
	bolts   []topology.TaskID
}

// rigDirectory places the tracker and the probe in this process.
type rigDirectory struct{ tracker, probe *actor.PID }

func (d *rigDirectory) Local(task topology.TaskID) (*actor.PID, bool) {
	if task == 5 { // the tracker: after the components' four tasks
		return d.tracker, d.tracker != nil
	}
	return d.probe, d.probe != nil && task >= 1 && task <= 4
}

func (*rigDirectory) SendRemote(topology.TaskID, proto.Message) bool { return false }

type probe struct{ done chan<- completion }

func (p *probe) Receive(ctx actor.Context) {
	if b, ok := ctx.Message().(*completionBatch); ok {
		for _, c := range b.done {
			p.done <- c
		}
	}
}

const rigEpoch = 7

func newTrackerRig(t *testing.T) *trackerRig {
	t.Helper()
	b := topology.NewBuilder("tracked")
	b.SetSpout("s", func() topology.Spout { return routingTestSpout{} }, 2).Output("k")
	b.SetBolt("b", func() topology.Bolt { return routingTestBolt{} }, 2).ShuffleGrouping("s")
	topo, err := b.Build(topology.Config{topology.AckerExecutors: 1})
	if err != nil {
		t.Fatal(err)
	}
	if topo.NumTasks() != 5 || len(topo.Trackers) != 1 || topo.Trackers[0] != 5 {
		t.Fatalf("tasks %d, trackers %v: the rig expects four component tasks and tracker 5", topo.NumTasks(), topo.Trackers)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	dir := &rigDirectory{}
	r := &trackerRig{
		env:    NewEnv(topo, rigEpoch, sys, dir, nil),
		done:   make(chan completion, 1<<10),
		spouts: topo.Component("s").Tasks,
		bolts:  topo.Component("b").Tasks,
	}
	t.Cleanup(r.env.Close)
	spawnlock.Mu.Lock()
	dir.probe = sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &probe{done: r.done} }))
	dir.tracker = sys.Root.Spawn(actor.PropsFromProducer(r.env.Producer(5)))
	spawnlock.Mu.Unlock()
	r.tracker = dir.tracker
	t.Cleanup(func() {
		sys.Root.Stop(dir.tracker)
		sys.Root.Stop(dir.probe)
	})
	return r
}

func (r *trackerRig) send(msg any) { r.env.System.Root.Send(r.tracker, msg) }

// await returns once the probe has been sent a completion of every root in
// want, failing on any completion of a root in never.
func (r *trackerRig) await(t *testing.T, want []uint64, never map[uint64]string) {
	t.Helper()
	missing := map[uint64]bool{}
	for _, root := range want {
		missing[root] = true
	}
	deadline := time.After(10 * time.Second)
	for len(missing) > 0 {
		select {
		case c := <-r.done:
			if what, bad := never[c.root]; bad {
				t.Fatalf("tree %x (%s) completed to a task: its init was accepted", c.root, what)
			}
			delete(missing, c.root)
		case <-deadline:
			t.Fatalf("no completion of %d legitimate trees after 10s", len(missing))
		}
	}
}

// A tracker takes inits only from spout tasks of its topology: an init that
// names a bolt task, the tracker, or a task the topology does not have is
// dropped and counted, through the remote and the local path alike, and
// inits of the spouts complete as before.
func TestTrackerAcceptsInitsOnlyFromSpoutTasks(t *testing.T) {
	for _, remote := range []bool{true, false} {
		t.Run(map[bool]string{true: "remote", false: "local"}[remote], func(t *testing.T) {
			r := newTrackerRig(t)
			s0, s1, b0, b1 := r.spouts[0], r.spouts[1], r.bolts[0], r.bolts[1]
			legit := []trackerInit{
				{root: 0x11, xor: 0xa1, spout: s0},
				{root: 0x12, xor: 0xa2, spout: s1},
				{root: 0x13, xor: 0, spout: s0}, // no edges: completes at its init
			}
			forged := []trackerInit{
				{root: 0x21, xor: 0, spout: b0}, // would complete to a bolt at once
				{root: 0x22, xor: 0xb2, spout: b1},
				{root: 0x23, xor: 0, spout: 5}, // the tracker itself
				{root: 0x24, xor: 0xb4, spout: 6},
				{root: 0x25, xor: 0, spout: 0},
				{root: 0x26, xor: 0xb6, spout: -3},
				{root: 0x27, xor: 0xb7, spout: 1 << 30},
			}
			never := map[uint64]string{}
			for _, in := range forged {
				never[in.root] = fmt.Sprintf("init claiming task %d", in.spout)
			}
			inits := append(append([]trackerInit{}, legit[:2]...), forged...)
			inits = append(inits, legit[2])
			acks := []trackerAck{{root: 0x11, xor: 0xa1}, {root: 0x12, xor: 0xa2}}
			if remote {
				w := &messages.TrackerBatch{Topology: "tracked", Epoch: rigEpoch, TrackerTask: 5}
				for _, in := range inits {
					w.Inits = append(w.Inits, &messages.TrackerInit{Root: in.root, Xor: in.xor, SpoutTask: int32(in.spout)})
				}
				r.send(w)
				r.send(&messages.TrackerBatch{Topology: "tracked", Epoch: rigEpoch, TrackerTask: 5,
					Acks: []*messages.TrackerAck{{Root: 0x11, Xor: 0xa1}, {Root: 0x12, Xor: 0xa2}}})
			} else {
				r.send(&trackerBatch{inits: inits})
				r.send(&trackerBatch{acks: acks})
			}
			// The tick stores the ledger's size; the completions are sent by
			// the flush queued behind it, so once they arrive it is stored.
			r.send(theTick)
			r.await(t, []uint64{0x11, 0x12, 0x13}, never)

			st := r.env.Stats(5)
			if got := st.Pending.Load(); got != 0 {
				t.Errorf("tracker holds %d trees, want 0: forged inits were added to the pending set", got)
			}
			if got, want := st.Dropped.Load(), int64(len(forged)); got != want {
				t.Errorf("Dropped = %d, want %d (the forged inits)", got, want)
			}
			if got := st.Acked.Load(); got != int64(len(legit)) {
				t.Errorf("Acked = %d, want %d (the legitimate trees)", got, len(legit))
			}
			if got, want := st.Executed.Load(), int64(len(legit)+len(acks)); got != want {
				t.Errorf("Executed = %d, want %d: dropped inits are not executed", got, want)
			}
		})
	}
}

// A flood of inits that name a real spout task fills the ledger to its
// bound and no further; the rest are dropped and counted, and a tree that
// needs no entry still completes.
func TestTrackerLedgerIsBounded(t *testing.T) {
	r := newTrackerRig(t)
	limit := ledgerLimit(r.env.Topology)
	const extra = 1000
	const batch = 4096
	s0 := r.spouts[0]
	for sent := 0; sent < limit+extra; {
		n := min(batch, limit+extra-sent)
		b := &trackerBatch{inits: make([]trackerInit, n)}
		for i := range b.inits {
			b.inits[i] = trackerInit{root: uint64(1_000_000 + sent + i), xor: 1, spout: s0}
		}
		r.send(b)
		sent += n
	}
	r.send(&trackerBatch{inits: []trackerInit{{root: 7, xor: 0, spout: r.spouts[1]}}})
	r.send(theTick)
	r.await(t, []uint64{7}, nil)

	st := r.env.Stats(5)
	if got := st.Pending.Load(); got != int64(limit) {
		t.Errorf("tracker holds %d trees, want its bound %d", got, limit)
	}
	if got := st.Dropped.Load(); got != extra {
		t.Errorf("Dropped = %d, want %d", got, extra)
	}
}

func TestLedgerLimitOfATopology(t *testing.T) {
	build := func(spouts, trackers, pending int) *topology.Topology {
		b := topology.NewBuilder("sized")
		b.SetSpout("s", func() topology.Spout { return routingTestSpout{} }, spouts).Output("k")
		b.SetBolt("b", func() topology.Bolt { return routingTestBolt{} }, 1).ShuffleGrouping("s")
		topo, err := b.Build(topology.Config{topology.AckerExecutors: trackers, topology.MaxSpoutPending: pending})
		if err != nil {
			t.Fatal(err)
		}
		return topo
	}
	for _, tc := range []struct {
		spouts, trackers, pending, want int
	}{
		{1, 1, 1000, ledgerFloor},            // 16k trees: the floor
		{8, 1, 1000, 16 * 8 * 1000},          // 128k
		{8, 2, 2000, 16 * 8 * 2000 / 2},      // each tracker holds its share
		{64, 1, 1000, 16 * 64 * 1000},        // just below the ceiling
		{66, 1, 1000, ledgerCeiling},         // just above it
		{1, 1, 0, ledgerCeiling},             // unlimited pending: the ceiling
		{2, 1, 1 << 40, ledgerCeiling},       // no overflow
		{4, 1, 100_000, ledgerCeiling},       // a big max.spout.pending
		{4, 3, 3000, ledgerFloor},            // 64k: below the floor
		{2, 1, 3000, 16 * 2 * 3000},          // 96k
		{1, 4, 1000, ledgerFloor},            // shares below the floor
		{16, 16, 1 << 20, ledgerCeiling},     // pending above the ceiling
		{3, 1, ledgerCeiling, ledgerCeiling}, // pending at the ceiling
	} {
		topo := build(tc.spouts, tc.trackers, tc.pending)
		if got := ledgerLimit(topo); got != tc.want {
			t.Errorf("%d spout tasks, %d trackers, max.spout.pending %d: limit %d, want %d", tc.spouts, tc.trackers, tc.pending, got, tc.want)
		}
	}
}
