package state_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// The simulation wires the pure cores the way the actor shell will, in one
// goroutine with a seeded scheduler, and checks exactly-once end to end
// (Flink's StreamCheckpointingITCase in miniature):
//
//	spout 1 ─┐
//	         ├─> count (task 3: keyed Value, changelog writer) ──> sink (task 4: two-phase)
//	spout 2 ─┘
//
// Channels are FIFO queues numbered by Sender/Receiver; the scheduler
// delivers, emits, ticks the coordinator and injects failures: a dropped
// element (transport loss) or a crashed task. After every failure
// everything restores to the last completed checkpoint. In the end the
// sink's committed output must hold, for every key, the running counts
// 1..n exactly once each and in order, and the counts restored from the
// committed changelog must be exact.

type simElem struct {
	epoch   checkpoint.Epoch
	seq     checkpoint.Seq
	barrier checkpoint.ID
	key     string
	count   int64
}

type simChan struct {
	from, to topology.TaskID
	send     *checkpoint.Sender
	recv     *checkpoint.Receiver
	q        []simElem
}

func (c *simChan) push(e simElem) {
	e.epoch, e.seq = c.send.Next()
	c.q = append(c.q, e)
}

// ack is what a task acks: a spout's position, the prepared transactions
// of a participant (the count's changelog, the sink's output).
type simAck struct {
	pos      int
	prepared []checkpoint.Prepared
}

type simParticipant struct {
	ring      *checkpoint.Ring
	slots     [][]simElem // what each slot's open or pending transaction holds
	committed []simElem   // what read_committed readers see
}

func newParticipant(t *testing.T, tolerable int) *simParticipant {
	r, err := checkpoint.NewRing(checkpoint.RingSize(tolerable))
	if err != nil {
		t.Fatal(err)
	}
	return &simParticipant{ring: r, slots: make([][]simElem, checkpoint.RingSize(tolerable))}
}

func (p *simParticipant) write(e simElem) {
	p.slots[p.ring.Open()] = append(p.slots[p.ring.Open()], e)
	p.ring.Wrote()
}

func (p *simParticipant) commit(prepared []checkpoint.Prepared) {
	for _, pr := range prepared {
		p.committed = append(p.committed, p.slots[pr.Slot]...)
		p.slots[pr.Slot] = nil
	}
}

// fence is a restore: every transaction not committed is aborted.
func (p *simParticipant) fence() {
	for i := range p.slots {
		p.slots[i] = nil
	}
	p.ring.Reset()
}

func TestExactlyOnceSimulation(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { simulate(t, seed) })
	}
}

func simulate(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 9))
	const perSpout, keys = 300, 7
	input := [2][]string{}
	truth := map[string]int64{}
	for s := range input {
		for range perSpout {
			k := fmt.Sprintf("k%d", rnd.IntN(keys))
			input[s] = append(input[s], k)
			truth[k]++
		}
	}
	tolerable := rnd.IntN(2)
	cfg := checkpoint.Config{Interval: 50 * time.Millisecond, Timeout: 400 * time.Millisecond, TolerableFailures: tolerable}
	all := []topology.TaskID{1, 2, 3, 4}
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	coord, err := checkpoint.NewCoordinator[simAck](cfg, all, checkpoint.Resume{}, now)
	if err != nil {
		t.Fatal(err)
	}

	var epoch checkpoint.Epoch
	chans := map[[2]topology.TaskID]*simChan{}
	newChans := func() {
		for _, ft := range [][2]topology.TaskID{{1, 3}, {2, 3}, {3, 4}} {
			chans[ft] = &simChan{from: ft[0], to: ft[1], send: checkpoint.NewSender(epoch), recv: checkpoint.NewReceiver(ft[0], epoch)}
		}
	}
	newChans()
	pos := [2]int{}
	countAligner, _ := checkpoint.NewAligner[simElem]([]topology.TaskID{1, 2}, 64, 0)
	sinkAligner, _ := checkpoint.NewAligner[simElem]([]topology.TaskID{3}, 64, 0)
	backend := state.NewBackend([]int{0, 1, 2, 3})
	count := mustV(state.NewValue(backend, "count", state.Int64))
	changelog := newParticipant(t, tolerable) // the count's changelog writer
	sink := newParticipant(t, tolerable)
	var records []checkpoint.Completed[simAck] // the checkpoint store
	failures := 0
	faults := true // inject faults (the first 70 % of the input)

	var exec func(cmds []checkpoint.Command)
	ack := func(task topology.TaskID, id checkpoint.ID, a simAck) {
		cmds, err := coord.Ack(now, task, id, a)
		if err != nil {
			t.Fatal(err)
		}
		exec(cmds)
	}
	decline := func(task topology.TaskID, id checkpoint.ID, reason error) {
		cmds, err := coord.Decline(now, task, id, reason)
		if err != nil {
			t.Fatal(err)
		}
		exec(cmds)
	}
	restore := func(r checkpoint.Restore) {
		epoch = r.Epoch
		// Recommit the restored checkpoint's transactions (idempotent: the
		// normal path may have committed them already), then fence.
		var last *checkpoint.Completed[simAck]
		for i := range records {
			if records[i].ID == r.From {
				last = &records[i]
			}
		}
		for _, p := range []struct {
			task topology.TaskID
			part *simParticipant
		}{{3, changelog}, {4, sink}} {
			if last != nil {
				pending := p.part.ring.Pending()
				var redo []checkpoint.Prepared
				for _, pr := range last.Acks[p.task].prepared {
					if slices.Contains(pending, pr) {
						redo = append(redo, pr)
					}
				}
				p.part.commit(redo)
			}
			p.part.fence()
		}
		// Spouts rewind; the count restores from the committed changelog.
		pos = [2]int{}
		if last != nil {
			pos = [2]int{last.Acks[1].pos, last.Acks[2].pos}
		}
		backend = state.NewBackend([]int{0, 1, 2, 3})
		count = mustV(state.NewValue(backend, "count", state.Int64))
		for _, e := range changelog.committed {
			must(t, backend.Apply(state.Record{KeyGroup: uint32(e.key[1]-'0') % 4, State: "count", Key: []byte(e.key), Value: mustV(state.Int64.Append(nil, e.count))}))
		}
		newChans()
		countAligner.Reset(r.From)
		sinkAligner.Reset(r.From)
		exec(coord.Restored(now, epoch))
	}
	exec = func(cmds []checkpoint.Command) {
		for _, cmd := range cmds {
			switch c := cmd.(type) {
			case checkpoint.Trigger:
				for s, task := range []topology.TaskID{1, 2} {
					chans[[2]topology.TaskID{task, 3}].push(simElem{barrier: c.ID})
					ack(task, c.ID, simAck{pos: pos[s]})
				}
			case checkpoint.Commit[simAck]:
				records = append(records, checkpoint.Completed[simAck]{ID: c.ID, Epoch: c.Epoch, Acks: c.Acks})
				exec(coord.Committed(now, c.ID))
			case checkpoint.Complete:
				if faults && rnd.IntN(6) == 0 {
					// The commit gap: the record is durable, the node dies
					// before the participants commit. The restore recommits.
					exec(coord.TaskFailed(now, 4, errors.New("killed before commit")))
					continue
				}
				changelog.commit(changelog.ring.Complete(c.ID))
				sink.commit(sink.ring.Complete(c.ID))
			case checkpoint.Abort:
				countAligner.Abort(c.ID) // nothing parked is lost: released tuples run next
				sinkAligner.Abort(c.ID)
			case checkpoint.Restore:
				failures++
				restore(c)
			case checkpoint.Resolve:
				t.Fatal("no indefinite commits in this simulation")
			}
		}
	}

	// countStep runs what the count's aligner says.
	var countStep func(step checkpoint.Step[simElem])
	countExecute := func(e simElem) {
		must(t, backend.SetCurrentKey(int(e.key[1]-'0')%4, []byte(e.key)))
		n, _ := mustV2(t, count.Get)
		must(t, count.Set(n+1))
		out := simElem{key: e.key, count: n + 1}
		chans[[2]topology.TaskID{3, 4}].push(out)
	}
	countStep = func(step checkpoint.Step[simElem]) {
		for _, e := range slices.Clone(step.Process) {
			countExecute(e)
		}
		if step.Declined != 0 {
			decline(3, step.Declined, step.Reason)
		}
		if id := step.Snapshot; id != 0 {
			snap := backend.Snapshot(id, state.Changes)
			for _, r := range snap.Changes {
				n := mustV(state.Int64.Decode(r.Value))
				changelog.write(simElem{key: string(r.Key), count: n})
			}
			p, ok, err := changelog.ring.PreCommit(id)
			chans[[2]topology.TaskID{3, 4}].push(simElem{barrier: id})
			if err != nil {
				decline(3, id, err)
			} else {
				a := simAck{}
				if ok {
					a.prepared = []checkpoint.Prepared{p}
				}
				ack(3, id, a)
			}
		}
		for _, e := range slices.Clone(step.Drain) {
			countExecute(e)
		}
	}
	sinkStep := func(step checkpoint.Step[simElem]) {
		for _, e := range step.Process {
			sink.write(e)
		}
		if id := step.Snapshot; id != 0 {
			p, ok, err := sink.ring.PreCommit(id)
			if err != nil {
				decline(4, id, err)
			} else {
				a := simAck{}
				if ok {
					a.prepared = []checkpoint.Prepared{p}
				}
				ack(4, id, a)
			}
		}
		for _, e := range step.Drain {
			sink.write(e)
		}
	}
	deliver := func(c *simChan) {
		e := c.q[0]
		c.q = c.q[1:]
		ok, err := c.recv.Accept(e.epoch, e.seq)
		if err != nil {
			if !errors.Is(err, checkpoint.ErrChannelLoss) {
				t.Fatalf("channel %d->%d: %v", c.from, c.to, err)
			}
			// The receiver's task declines whatever it is aligning; the
			// coordinator restores for a channel break in any phase.
			id, _, _ := countAligner.Aligning()
			if c.to == 4 {
				id, _, _ = sinkAligner.Aligning()
			}
			decline(c.to, id, err)
			return
		}
		if !ok {
			return
		}
		var step checkpoint.Step[simElem]
		a := countAligner
		if c.to == 4 {
			a = sinkAligner
		}
		if e.barrier != 0 {
			step, err = a.Barrier(c.from, e.barrier)
		} else {
			step, err = a.Tuple(c.from, e, 1)
		}
		if err != nil {
			t.Fatalf("channel %d->%d: %v", c.from, c.to, err)
		}
		if c.to == 3 {
			countStep(step)
		} else {
			sinkStep(step)
		}
	}

	done := func() bool {
		s := coord.Status()
		if pos[0] < perSpout || pos[1] < perSpout || s.LastCompleted == 0 {
			return false
		}
		for _, r := range records {
			if r.ID == s.LastCompleted {
				return r.Acks[1].pos == perSpout && r.Acks[2].pos == perSpout
			}
		}
		return false
	}
	for step := 0; !done(); step++ {
		if step > 200000 {
			t.Fatalf("no progress after %d steps: %+v, positions %v", step, coord.Status(), pos)
		}
		faults = pos[0]+pos[1] < perSpout*14/10
		switch r := rnd.IntN(100); {
		case r < 30:
			s := rnd.IntN(2)
			if coord.Status().Phase != checkpoint.Restoring && pos[s] < perSpout {
				chans[[2]topology.TaskID{topology.TaskID(s + 1), 3}].push(simElem{key: input[s][pos[s]]})
				pos[s]++
			}
		case r < 85:
			var ready []*simChan
			for _, ft := range [][2]topology.TaskID{{1, 3}, {2, 3}, {3, 4}} {
				if len(chans[ft].q) > 0 {
					ready = append(ready, chans[ft])
				}
			}
			if len(ready) > 0 {
				deliver(ready[rnd.IntN(len(ready))])
			}
		case r < 99:
			now = now.Add(10 * time.Millisecond)
			exec(coord.Tick(now))
		case faults && rnd.IntN(2) == 0:
			ft := [][2]topology.TaskID{{1, 3}, {2, 3}, {3, 4}}[rnd.IntN(3)]
			if c := chans[ft]; len(c.q) > 0 {
				i := rnd.IntN(len(c.q))
				c.q = slices.Delete(c.q, i, i+1) // the transport lost a frame
			}
		case faults:
			exec(coord.TaskFailed(now, all[rnd.IntN(4)], errors.New("node killed")))
		}
	}

	// Exactly once: every key's running counts 1..n, once each, in order.
	got := map[string][]int64{}
	for _, e := range sink.committed {
		got[e.key] = append(got[e.key], e.count)
	}
	for k, n := range truth {
		if int64(len(got[k])) != n {
			t.Fatalf("key %s: %d outputs committed, want %d (failures: %d)", k, len(got[k]), n, failures)
		}
		for i, c := range got[k] {
			if c != int64(i+1) {
				t.Fatalf("key %s: output %d is count %d, want %d: %v", k, i, c, i+1, got[k])
			}
		}
	}
	// The committed changelog restores the exact counts.
	restored := state.NewBackend([]int{0, 1, 2, 3})
	rc := mustV(state.NewValue(restored, "count", state.Int64))
	for _, e := range changelog.committed {
		must(t, restored.Apply(state.Record{KeyGroup: uint32(e.key[1]-'0') % 4, State: "count", Key: []byte(e.key), Value: mustV(state.Int64.Append(nil, e.count))}))
	}
	for k, n := range truth {
		must(t, restored.SetCurrentKey(int(k[1]-'0')%4, []byte(k)))
		if c, _ := mustV2(t, rc.Get); c != n {
			t.Fatalf("key %s: restored count %d, want %d", k, c, n)
		}
	}
	t.Logf("seed %d: %d checkpoints completed, %d restores, tolerable %d", seed, coord.Status().LastCompleted, failures, tolerable)
}
