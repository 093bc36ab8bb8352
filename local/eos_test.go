package local_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// Flink's StreamCheckpointingITCase, in one process: checkpointed spouts,
// keyed counts, a two-phase sink, failures thrown while the input flows.
// What the sink commits must be each key's running counts 1, 2, …, n,
// every one exactly once.

// seqSpout emits (key, i) for its share of 0..n-1 (i ≡ its task index mod
// its parallelism); its position is the next i.
type seqSpout struct {
	n, keys int64         // emits up to n
	gate    *atomic.Int64 // and, if set, below it
	next    int64
	step    int64
	out     topology.SpoutCollector
}

func (s *seqSpout) Open(_ context.Context, tc *topology.Context, c topology.SpoutCollector) error {
	s.out, s.next, s.step = c, int64(tc.TaskIndex), int64(len(tc.ComponentTasks(tc.Component)))
	return nil
}

func (s *seqSpout) NextTuple() {
	for range 64 {
		if s.next >= s.n || (s.gate != nil && s.next >= s.gate.Load()) {
			return
		}
		s.out.Emit(topology.Values{s.next % s.keys, s.next}, s.next)
		s.next += s.step
	}
}

func (s *seqSpout) SnapshotPosition(uint64) ([]byte, error) {
	return binary.AppendVarint(nil, s.next), nil
}

func (s *seqSpout) RestorePosition(pos []byte) error {
	if pos == nil {
		return nil // from the beginning: Open set it
	}
	v, n := binary.Varint(pos)
	if n <= 0 {
		return fmt.Errorf("position % x: not a varint", pos)
	}
	s.next = v
	return nil
}

func (s *seqSpout) CheckpointComplete(uint64) {}
func (s *seqSpout) Ack(any)                   { panic("Ack in exactly-once") }
func (s *seqSpout) Fail(any)                  { panic("Fail in exactly-once") }
func (s *seqSpout) Activate()                 {}
func (s *seqSpout) Deactivate()               {}
func (s *seqSpout) Close() error              { return nil }

// countBoltEOS keeps a keyed count and emits (key, count). It panics once,
// when the topology has executed fail tuples (0: never).
type countBoltEOS struct {
	out      topology.OutputCollector
	count    *state.Value[int64]
	executed *atomic.Int64
	fail     int64
	failed   *atomic.Bool
}

func (b *countBoltEOS) DeclareState() topology.State { return topology.State{Keyed: []string{"count"}} }

func (b *countBoltEOS) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	st, err := state.Of(tc)
	if err != nil {
		return err
	}
	b.out = c
	b.count, err = state.NewValue(st, "count", state.Int64)
	return err
}

func (b *countBoltEOS) Execute(t topology.Tuple) {
	if n := b.executed.Add(1); b.fail > 0 && n >= b.fail && b.failed.CompareAndSwap(false, true) {
		panic("thrown once, as StreamCheckpointingITCase does")
	}
	n, _, err := b.count.Get()
	if err != nil {
		panic(err)
	}
	if err := b.count.Set(n + 1); err != nil {
		panic(err)
	}
	key, _ := topology.Int64(t, "key")
	b.out.Emit(topology.Values{key, n + 1}, t)
	b.out.Ack(t)
}

func (b *countBoltEOS) Cleanup() error { return nil }

// laterBolt emits and acks each tuple later, from a function it submits
// (as a multilang bolt does when its subprocess answers): a barrier that
// arrives meanwhile must wait for those acks, or a restore would lose the
// emits.
type laterBolt struct {
	tc  *topology.Context
	out topology.OutputCollector
}

func (b *laterBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.tc, b.out = tc, c
	return nil
}

func (b *laterBolt) Execute(t topology.Tuple) {
	b.tc.Submit(func() {
		b.out.Emit(t.Values(), t)
		b.out.Ack(t)
	})
}

func (b *laterBolt) Cleanup() error { return nil }

// committed is what the two-phase sink made visible, shared by every
// instance of it (the outside world).
type committed struct {
	mu     sync.Mutex
	counts map[int64][]int64 // key -> counts, in commit order
	ids    map[string]bool   // committed transactions
	n      int
}

func (c *committed) commit(txn string, recs [][2]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids[txn] {
		return
	}
	c.ids[txn] = true
	for _, r := range recs {
		c.counts[r[0]] = append(c.counts[r[0]], r[1])
		c.n++
	}
}

func (c *committed) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// sinkEOS is a two-phase sink: records go into an open transaction; a
// pre-commit seals it under the checkpoint's id and returns every sealed
// transaction as the committable, so Recover can finish their commit.
type sinkEOS struct {
	world  *committed
	out    topology.OutputCollector
	task   topology.TaskID
	open   [][2]int64
	sealed map[uint64][][2]int64
}

func (s *sinkEOS) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	s.task, s.sealed, s.out = tc.Task, map[uint64][][2]int64{}, c
	return nil
}

func (s *sinkEOS) Execute(t topology.Tuple) {
	key, _ := topology.Int64(t, "key")
	n, _ := topology.Int64(t, "n")
	s.open = append(s.open, [2]int64{key, n})
	s.out.Ack(t)
}

func (s *sinkEOS) Cleanup() error { return nil }

func (s *sinkEOS) txn(id uint64) string { return fmt.Sprintf("%d/%d", s.task, id) }

func (s *sinkEOS) PreCommit(id uint64) ([]byte, error) {
	s.sealed[id], s.open = s.open, nil
	var b []byte
	for sid, recs := range s.sealed {
		b = binary.AppendUvarint(b, sid)
		b = binary.AppendUvarint(b, uint64(len(recs)))
		for _, r := range recs {
			b = binary.AppendVarint(binary.AppendVarint(b, r[0]), r[1])
		}
	}
	return b, nil
}

func (s *sinkEOS) Commit(id uint64) error {
	for sid, recs := range s.sealed {
		if sid <= id {
			s.world.commit(s.txn(sid), recs)
			delete(s.sealed, sid)
		}
	}
	return nil
}

func (s *sinkEOS) Recover(_ uint64, committable []byte) error {
	for len(committable) > 0 {
		sid, n := binary.Uvarint(committable)
		k, m := binary.Uvarint(committable[n:])
		committable = committable[n+m:]
		recs := make([][2]int64, k)
		for i := range recs {
			key, a := binary.Varint(committable)
			v, b := binary.Varint(committable[a:])
			if a <= 0 || b <= 0 {
				return errors.New("committable: truncated")
			}
			committable = committable[a+b:]
			recs[i] = [2]int64{key, v}
		}
		s.world.commit(s.txn(sid), recs)
	}
	return nil
}

type eosCase struct {
	n, keys  int64
	limit    int64 // the spouts stop there (0: n)
	fail     int64 // panic once after this many executions (0: never)
	crash    bool  // the panic crashes the task (squall.task.max.failures 1): it restarts
	stateDir string
}

func eosTopology(t *testing.T, c eosCase, world *committed, executed *atomic.Int64, failed *atomic.Bool) *topology.Topology {
	t.Helper()
	b := topology.NewBuilder("eos")
	limit := c.n
	if c.limit > 0 {
		limit = c.limit
	}
	b.SetSpout("seq", func() topology.Spout { return &seqSpout{n: limit, keys: c.keys} }, 2).Output("key", "i")
	b.SetBolt("count", func() topology.Bolt {
		return &countBoltEOS{executed: executed, fail: c.fail, failed: failed}
	}, 3).FieldsGrouping("seq", "key").Output("key", "n")
	b.SetBolt("later", func() topology.Bolt { return &laterBolt{} }, 2).ShuffleGrouping("count").Output("key", "n")
	b.SetBolt("sink", func() topology.Bolt { return &sinkEOS{world: world} }, 1).ShuffleGrouping("later")
	conf := topology.Config{
		topology.GuaranteeKey:         topology.ExactlyOnce,
		topology.CheckpointIntervalMs: 50,
	}
	if c.stateDir != "" {
		conf[topology.StateDir] = c.stateDir
	}
	if c.crash {
		conf[topology.MaxTaskFailures] = 1
	}
	topo, err := b.Build(conf)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// checkCounts: every key's committed counts are 1..n/keys, each once.
func checkCounts(t *testing.T, c eosCase, world *committed) {
	t.Helper()
	world.mu.Lock()
	defer world.mu.Unlock()
	per := c.n / c.keys
	wrong := 0
	for key := range c.keys {
		got := world.counts[key]
		seen := make([]int, per+1)
		bad := 0
		for _, n := range got {
			if n < 1 || n > per {
				bad++
				continue
			}
			seen[n]++
		}
		for n := int64(1); n <= per; n++ {
			if seen[n] != 1 {
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("key %d: %d committed counts, %d of them wrong (want 1..%d once each)", key, len(got), bad, per)
			if wrong++; wrong == 3 {
				t.Fatalf("and more keys")
			}
		}
	}
}

// TestExactlyOnceThroughAFailure: a failure thrown once at a random point
// between 40 % and 70 % of the input — a failed tuple, or a task that
// crashes and restarts; every count committed exactly once.
func TestExactlyOnceThroughAFailure(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			c := eosCase{n: 200_000, keys: 100, crash: crash}
			c.fail = c.n*40/100 + rand.Int64N(c.n*30/100)
			world := &committed{counts: map[int64][]int64{}, ids: map[string]bool{}}
			var executed atomic.Int64
			var failed atomic.Bool
			ctx := context.Background()
			cl, err := local.Start(ctx, eosTopology(t, c, world, &executed, &failed))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Stop(ctx)
			poll.Until(t, 120*time.Second, "every record's count committed", func() bool { return world.size() >= int(c.n) })
			if !failed.Load() {
				t.Fatalf("the failure was never thrown (%d executed, threshold %d)", executed.Load(), c.fail)
			}
			st, ok := cl.Topology().Env().Checkpoints()
			if !ok || st.Restores < 1 || st.Completed < 1 {
				t.Errorf("checkpoint status %+v, want a restore and completed checkpoints", st)
			}
			if executed.Load() <= c.n {
				t.Errorf("%d executions for %d records: the restore replayed nothing", executed.Load(), c.n)
			}
			var restarts int64
			for _, s := range cl.Topology().Stats() {
				restarts += s.Restarts.Load()
			}
			if crash != (restarts > 0) {
				t.Errorf("%d task restarts, want them only when the panic crashes the task", restarts)
			}
			checkCounts(t, c, world)
			t.Logf("%d records, failure after %d executions, %d executions in all, checkpoints %+v", c.n, c.fail, executed.Load(), st)
		})
	}
}

// TestExactlyOnceResumesFromTheStateDir: a topology stopped half way, then
// started again on the same squall.state.dir, continues from its last
// completed checkpoint: the spouts rewind, the counts continue, and the
// sink finishes the commits the checkpoint names.
func TestExactlyOnceResumesFromTheStateDir(t *testing.T) {
	c := eosCase{n: 100_000, keys: 50, stateDir: t.TempDir(), limit: 50_000}
	world := &committed{counts: map[int64][]int64{}, ids: map[string]bool{}}
	var executed atomic.Int64
	var failed atomic.Bool
	ctx := context.Background()
	first, err := local.Start(ctx, eosTopology(t, c, world, &executed, &failed))
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the first half's counts committed", func() bool { return world.size() >= int(c.limit) })
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	before := world.size()
	c.limit = 0
	second, err := local.Start(ctx, eosTopology(t, c, world, &executed, &failed))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop(ctx)
	poll.Until(t, 120*time.Second, "every record's count committed", func() bool { return world.size() >= int(c.n) })
	if before != 50_000 {
		t.Fatalf("the first run committed %d counts, want the first half's 50000", before)
	}
	checkCounts(t, c, world)
}

// TestExactlyOnceRescaleMovesKeyedState: the keyed count rescaled 2 -> 5 ->
// 1 while its input flows (local mode): every key's running counts are
// still committed exactly once, so each key's state moved to the task that
// serves its key group after each rescale.
func TestExactlyOnceRescaleMovesKeyedState(t *testing.T) {
	c := eosCase{n: 150_000, keys: 100}
	world := &committed{counts: map[int64][]int64{}, ids: map[string]bool{}}
	var executed atomic.Int64
	var gate atomic.Int64
	gate.Store(c.n / 3)
	b := topology.NewBuilder("eos-rescale")
	b.SetSpout("seq", func() topology.Spout { return &seqSpout{n: c.n, keys: c.keys, gate: &gate} }, 2).Output("key", "i")
	b.SetBolt("count", func() topology.Bolt {
		return &countBoltEOS{executed: &executed, failed: &atomic.Bool{}}
	}, 2).NumTasks(5).FieldsGrouping("seq", "key").Output("key", "n")
	b.SetBolt("sink", func() topology.Bolt { return &sinkEOS{world: world} }, 1).ShuffleGrouping("count")
	topo, err := b.Build(topology.Config{topology.GuaranteeKey: topology.ExactlyOnce, topology.CheckpointIntervalMs: 50})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cl, err := local.Start(ctx, topo)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Stop(ctx)
	run := cl.Topology()
	for i, k := range []int{5, 1} {
		// The input flows: the gate opens a third further before the rescale.
		poll.Until(t, 60*time.Second, "a third more of the counts committed", func() bool { return world.size() >= int(gate.Load())*9/10 })
		gate.Add(c.n / 3)
		if err := run.Rescale(ctx, map[topology.ComponentID]int{"count": k}); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, 60*time.Second, fmt.Sprintf("rescale %d restored", i+1), func() bool {
			st, _ := run.Env().Checkpoints()
			return st.Rescales == int64(i+1) && st.Phase != "starting" && st.Phase != "restoring"
		})
	}
	gate.Store(c.n)
	poll.Until(t, 120*time.Second, "every record's count committed", func() bool { return world.size() >= int(c.n) })
	checkCounts(t, c, world)
	var ran5 int64
	for _, s := range run.Stats() {
		if s.Task == topo.Component("count").Tasks[4] {
			ran5 = s.Executed.Load()
		}
	}
	if ran5 == 0 {
		t.Errorf("the fifth count task never executed: the rescale to 5 did not take")
	}
	if err := run.Rescale(ctx, map[topology.ComponentID]int{"seq": 1}); !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), `spout "seq"`) {
		t.Errorf("rescale of a checkpointed spout: %v, want refused, naming it", err)
	}
}

// TestExactlyOnceStartsEveryTime: an exactly-once topology started and
// stopped many times completes a checkpoint every time. A task's hello can
// reach the coordinator before the task's supervisor recorded it in the
// directory; the restore must still reach it (it hung about 3 % of starts
// under -race when the coordinator looked tasks up in the directory).
func TestExactlyOnceStartsEveryTime(t *testing.T) {
	c := eosCase{n: 1000, keys: 10}
	for i := range 60 {
		world := &committed{counts: map[int64][]int64{}, ids: map[string]bool{}}
		var executed atomic.Int64
		cl, err := local.Start(context.Background(), eosTopology(t, c, world, &executed, &atomic.Bool{}))
		if err != nil {
			t.Fatal(err)
		}
		ok := poll.Wait(30*time.Second, func() bool {
			st, _ := cl.Topology().Env().Checkpoints()
			return st.Completed >= 1
		})
		st, _ := cl.Topology().Env().Checkpoints()
		if err := cl.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Fatalf("start %d: no checkpoint completed in 30 s: %+v", i, st)
		}
	}
}

// gatedBolt acks nothing until its gate opens, as a multilang bolt whose
// subprocess is slow: in exactly-once the spouts must stop at
// topology.executor.receive.buffer.size unacked tuples, not queue the
// whole input in front of it.
type gatedBolt struct {
	tc   *topology.Context
	out  topology.OutputCollector
	held []topology.Tuple
	gate *atomic.Bool
	seen *atomic.Int64
}

func (b *gatedBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.tc, b.out = tc, c
	return nil
}

func (b *gatedBolt) Execute(t topology.Tuple) {
	if !topology.IsTick(t) {
		b.seen.Add(1)
		b.held = append(b.held, t)
	}
	if b.gate.Load() {
		for _, h := range b.held {
			b.out.Ack(h)
		}
		b.held = b.held[:0]
	}
}

func (b *gatedBolt) Cleanup() error { return nil }

func TestExactlyOnceSpoutsWaitForAcks(t *testing.T) {
	const buffer = 2000
	var gate atomic.Bool
	var seen atomic.Int64
	b := topology.NewBuilder("eos-credit")
	b.SetSpout("seq", func() topology.Spout { return &seqSpout{n: 1 << 40, keys: 10} }, 1).Output("key", "i")
	b.SetBolt("hold", func() topology.Bolt { return &gatedBolt{gate: &gate, seen: &seen} }, 1).ShuffleGrouping("seq")
	topo, err := b.Build(topology.Config{topology.GuaranteeKey: topology.ExactlyOnce, topology.ReceiveBufferSize: buffer, topology.TickTupleFreqSecs: 1})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := local.Start(context.Background(), topo)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Stop(context.Background())
	poll.Until(t, 30*time.Second, "the bolt holding a full buffer", func() bool { return seen.Load() >= buffer })
	// Nothing acks: the spout must not run far past the buffer. (A poll
	// that must not succeed, bounded: 2 s of a spout that emits millions a
	// second.)
	limit := int64(buffer + 2*256*64) // a round of NextTuple calls of batches in flight
	if poll.Wait(2*time.Second, func() bool { return seen.Load() > limit }) {
		t.Fatalf("%d tuples reached a bolt that acked none, with a %d-tuple buffer", seen.Load(), buffer)
	}
	gate.Store(true)
	before := seen.Load()
	poll.Until(t, 30*time.Second, "the spout going on once acks come", func() bool { return seen.Load() > before+10*buffer })
}
