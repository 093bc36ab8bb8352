package local_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/bubble"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

// ledgerSpout emits ids 0..n-1 with message ids, replays failed ones, and
// keeps an exact account: what is pending by its own count, the most that
// ever was, and whether NextTuple was ever called without credit.
type ledgerSpout struct {
	topology.BaseSpout
	st     *spoutState
	out    topology.SpoutCollector
	next   int
	replay []int
}

type spoutState struct {
	n          int
	maxPending int // the configured limit, to check credit (0: none)
	mu         sync.Mutex
	acked      map[int]int
	fails      int
	pending    int
	peak       int
	overCredit int
	opens      int
	firstFail  time.Time
}

func newSpoutState(n, maxPending int) *spoutState {
	return &spoutState{n: n, maxPending: maxPending, acked: map[int]int{}}
}

func (s *spoutState) ackedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

// totalAcks counts every Ack call (ids repeat when several spout tasks share
// the state).
func (s *spoutState) totalAcks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.acked {
		n += c
	}
	return n
}

func (s *spoutState) snapshot() (acked, fails, peak, over int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked), s.fails, s.peak, s.overCredit
}

func (sp *ledgerSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	sp.out = c
	sp.st.mu.Lock()
	sp.st.opens++
	sp.st.mu.Unlock()
	return nil
}

func (sp *ledgerSpout) NextTuple() {
	st := sp.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.maxPending > 0 && st.pending >= st.maxPending {
		st.overCredit++
	}
	var id int
	switch {
	case len(sp.replay) > 0:
		id, sp.replay = sp.replay[0], sp.replay[1:]
	case sp.next < st.n:
		id = sp.next
		sp.next++
	default:
		return
	}
	st.pending++
	st.peak = max(st.peak, st.pending)
	sp.out.Emit(topology.Values{int64(id)}, id)
}

func (sp *ledgerSpout) Ack(m any) {
	sp.st.mu.Lock()
	defer sp.st.mu.Unlock()
	sp.st.pending--
	sp.st.acked[m.(int)]++
}

func (sp *ledgerSpout) Fail(m any) {
	sp.st.mu.Lock()
	defer sp.st.mu.Unlock()
	sp.st.pending--
	if sp.st.fails == 0 {
		sp.st.firstFail = time.Now()
	}
	sp.st.fails++
	sp.replay = append(sp.replay, m.(int))
}

func start(t *testing.T, b *topology.Builder, conf topology.Config) *local.Cluster {
	t.Helper()
	topo, err := b.Build(conf)
	if err != nil {
		t.Fatal(err)
	}
	c, err := local.Start(context.Background(), topo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

func stats(c *local.Cluster, comp topology.ComponentID) (emitted, acked, failed, timedOut, errs, restarts int64) {
	for _, s := range c.Topology().Stats() {
		if s.Component == comp {
			emitted += s.Emitted.Load()
			acked += s.Acked.Load()
			failed += s.Failed.Load()
			timedOut += s.TimedOut.Load()
			errs += s.Errors.Load()
			restarts += s.Restarts.Load()
		}
	}
	return
}

// holdBolt holds every input and acks what it holds once it holds `batch`
// tuples (or on a tick), so trees stay pending for a while.
type holdBolt struct {
	batch int
	out   topology.OutputCollector
	held  []topology.Tuple
}

func (b *holdBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *holdBolt) Execute(t topology.Tuple) {
	if !topology.IsTick(t) {
		b.held = append(b.held, t)
	}
	if len(b.held) >= b.batch || topology.IsTick(t) {
		for _, h := range b.held {
			b.out.Ack(h)
		}
		b.held = b.held[:0]
	}
}

func (b *holdBolt) Cleanup() error { return nil }

func TestMaxSpoutPendingIsCredit(t *testing.T) {
	const n, maxPending = 2000, 10
	st := newSpoutState(n, maxPending)
	b := topology.NewBuilder("credit")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
	b.SetBolt("hold", func() topology.Bolt { return &holdBolt{batch: 7} }, 1).ShuffleGrouping("s")
	start(t, b, topology.Config{topology.MaxSpoutPending: maxPending, topology.TickTupleFreqSecs: 0.01})
	poll.Until(t, 20*time.Second, "every tree acked", func() bool { return st.ackedCount() == n })
	acked, _, peak, over := st.snapshot()
	if over != 0 {
		t.Errorf("NextTuple called %d times with %d trees pending (max.spout.pending %d)", over, maxPending, maxPending)
	}
	if peak != maxPending {
		t.Errorf("peak pending %d, want exactly the credit %d", peak, maxPending)
	}
	if acked != n {
		t.Errorf("acked %d, want %d", acked, n)
	}
}

// panicBolt panics the first time it sees each id in [from, to).
type panicBolt struct {
	from, to int64
	seen     *sync.Map
	out      topology.OutputCollector
}

func (b *panicBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *panicBolt) Execute(t topology.Tuple) {
	id := t.Values()[0].(int64)
	if id >= b.from && id < b.to {
		if _, dup := b.seen.LoadOrStore(id, true); !dup {
			panic(fmt.Sprintf("boom on %d", id))
		}
	}
	b.out.Ack(t)
}

func (b *panicBolt) Cleanup() error { return nil }

// TestPanicsFailTuplesAndRestartTheTask runs on the fake clock (bubble):
// the restarts' backoff passes without waiting for it.
func TestPanicsFailTuplesAndRestartTheTask(t *testing.T) {
	bubble.Run(t, func(t *testing.T) {
		const n = 300
		st := newSpoutState(n, 0)
		var seen sync.Map
		b := topology.NewBuilder("panics")
		b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
		// 15 panics: more than squall.task.max.failures (5), so the task is
		// restarted at least once; every panicked tuple is failed and replayed.
		b.SetBolt("p", func() topology.Bolt { return &panicBolt{from: 10, to: 25, seen: &seen} }, 1).ShuffleGrouping("s")
		c := start(t, b, topology.Config{topology.MaxTaskFailures: 5, topology.MaxSpoutPending: 50})
		poll.Until(t, 30*time.Second, "every tree acked", func() bool { return st.ackedCount() == n })
		_, _, failed, _, errs, restarts := stats(c, "p")
		if errs < 15 {
			t.Errorf("bolt errors = %d, want >= 15 (one per panic)", errs)
		}
		if failed < 15 {
			t.Errorf("bolt failed = %d, want >= 15", failed)
		}
		if restarts < 1 {
			t.Errorf("bolt restarts = %d, want >= 1", restarts)
		}
		_, fails, _, _ := st.snapshot()
		if fails < 15 {
			t.Errorf("spout saw %d fails, want >= 15 (the panicked tuples)", fails)
		}
		for _, s := range c.Topology().Stats() {
			if s.Component == "p" && s.LastError() == nil {
				t.Error("no last error recorded")
			}
		}
	})
}

// flakyPrepare fails Prepare the first `fails` times and records when
// each Prepare was called.
type flakyPrepare struct {
	fails    *atomic.Int32
	mu       *sync.Mutex
	prepares *[]time.Time
	out      topology.OutputCollector
}

func (b *flakyPrepare) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	b.mu.Lock()
	*b.prepares = append(*b.prepares, time.Now())
	b.mu.Unlock()
	if b.fails.Add(-1) >= 0 {
		return errors.New("not yet")
	}
	return nil
}

func (b *flakyPrepare) Execute(t topology.Tuple) { b.out.Ack(t) }
func (b *flakyPrepare) Cleanup() error           { return nil }

// TestFailedPrepareIsRetriedWithBackoff runs on the fake clock (bubble), so
// the restarts' delays are exact: 100 ms, then 200 ms (DefaultBackoff).
func TestFailedPrepareIsRetriedWithBackoff(t *testing.T) {
	bubble.Run(t, func(t *testing.T) {
		const n = 50
		st := newSpoutState(n, 0)
		var fails atomic.Int32
		fails.Store(2)
		var mu sync.Mutex
		var prepares []time.Time
		b := topology.NewBuilder("prepare")
		b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
		b.SetBolt("b", func() topology.Bolt { return &flakyPrepare{fails: &fails, mu: &mu, prepares: &prepares} }, 1).ShuffleGrouping("s")
		c := start(t, b, nil)
		poll.Until(t, 20*time.Second, "every tree acked", func() bool { return st.ackedCount() == n })
		if _, _, _, _, _, restarts := stats(c, "b"); restarts != 2 {
			t.Errorf("restarts = %d, want 2", restarts)
		}
		// Two restarts 200 ms apart: the task shows as failing, as a
		// crashing subprocess's does.
		for _, s := range c.Topology().Stats() {
			if s.Component == "b" && !s.Failing(time.Now()) {
				t.Errorf("task %d restarted twice within 300 ms and is not failing", s.Task)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		var gaps []time.Duration
		for i := 1; i < len(prepares); i++ {
			gaps = append(gaps, prepares[i].Sub(prepares[i-1]))
		}
		if want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}; !slices.Equal(gaps, want) {
			t.Errorf("Prepare retried after %v, want %v", gaps, want)
		}
	})
}

// dropBolt never acks the first tuple with id 0; everything else is acked.
type dropBolt struct {
	dropped *atomic.Bool
	out     topology.OutputCollector
}

func (b *dropBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *dropBolt) Execute(t topology.Tuple) {
	if t.Values()[0].(int64) == 0 && b.dropped.CompareAndSwap(false, true) {
		return // lost: only the timeout can fail it
	}
	b.out.Ack(t)
}

func (b *dropBolt) Cleanup() error { return nil }

// TestLostTupleTimesOutAndReplays runs on the fake clock (bubble), so the
// default 30 s message timeout passes without waiting for it: the lost tree
// fails no sooner than the timeout and no later than the tick after it, and
// the tracker forgets it after twice the timeout.
func TestLostTupleTimesOutAndReplays(t *testing.T) {
	bubble.Run(t, func(t *testing.T) {
		const n = 20
		st := newSpoutState(n, 0)
		var dropped atomic.Bool
		b := topology.NewBuilder("timeout")
		b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
		b.SetBolt("d", func() topology.Bolt { return &dropBolt{dropped: &dropped} }, 1).ShuffleGrouping("s")
		c := start(t, b, nil)
		timeout := c.Topology().Topology.Runtime.MessageTimeout
		if timeout != 30*time.Second {
			t.Fatalf("default message timeout %v, want 30s", timeout)
		}
		begin := time.Now()
		poll.Until(t, 2*timeout, "every tree acked", func() bool { return st.ackedCount() == n })
		if _, _, failed, timedOut, _, _ := stats(c, "s"); timedOut != 1 || failed != 1 {
			t.Errorf("spout timed out %d, failed %d; want 1 and 1", timedOut, failed)
		}
		st.mu.Lock()
		failedAfter := st.firstFail.Sub(begin)
		st.mu.Unlock()
		tick := c.Topology().Env().TickInterval()
		if failedAfter < timeout || failedAfter > timeout+2*tick {
			t.Errorf("the lost tree failed after %v, want %v to %v (the timeout, checked every %v)", failedAfter, timeout, timeout+2*tick, tick)
		}
		// The tracker keeps the tree the spout gave up on for twice the
		// timeout (a late ack finds it), then forgets it.
		tracker := func() (pending int64) {
			for _, s := range c.Topology().Stats() {
				if s.Component == topology.TrackerComponent {
					pending += s.Pending.Load()
				}
			}
			return pending
		}
		c.Topology().Deactivate() // nothing left to emit: idle spouts cost a message a millisecond
		if p := tracker(); p != 1 {
			t.Errorf("tracker pending %d after the timeout, want 1 (the lost tree)", p)
		}
		poll.Until(t, 3*timeout, "the tracker to forget the lost tree", func() bool { return tracker() == 0 })
		if d := time.Since(begin); d < 2*timeout || d > 2*timeout+2*tick {
			t.Errorf("the tracker forgot the lost tree after %v, want %v to %v", d, 2*timeout, 2*timeout+2*tick)
		}
	})
}

// lateBolt acks every input after a delay, from a timer.
type lateBolt struct {
	delay time.Duration
	tc    *topology.Context
	out   topology.OutputCollector
}

func (b *lateBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.tc, b.out = tc, c
	return nil
}

func (b *lateBolt) Execute(t topology.Tuple) {
	time.AfterFunc(b.delay, func() { b.tc.Submit(func() { b.out.Ack(t) }) })
}

func (b *lateBolt) Cleanup() error { return nil }

// TestSlowTreesWithinTheTimeoutComplete: trees acked 29 s after their emit
// complete under the default 30 s message timeout, on the fake clock.
func TestSlowTreesWithinTheTimeoutComplete(t *testing.T) {
	bubble.Run(t, func(t *testing.T) {
		const n = 20
		st := newSpoutState(n, 0)
		b := topology.NewBuilder("slow")
		b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
		b.SetBolt("late", func() topology.Bolt { return &lateBolt{delay: 29 * time.Second} }, 1).ShuffleGrouping("s")
		c := start(t, b, nil)
		begin := time.Now()
		poll.Until(t, time.Minute, "every tree acked", func() bool { return st.ackedCount() == n })
		if d := time.Since(begin); d < 29*time.Second {
			t.Errorf("every tree acked after %v, before the bolt acked any", d)
		}
		if _, _, failed, timedOut, _, _ := stats(c, "s"); timedOut != 0 || failed != 0 {
			t.Errorf("spout timed out %d, failed %d; want none", timedOut, failed)
		}
	})
}

func TestZeroTrackersAckOnEmit(t *testing.T) {
	const n = 100
	st := newSpoutState(n, 0)
	b := topology.NewBuilder("noack")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
	b.SetBolt("d", func() topology.Bolt { return &holdBolt{batch: 1 << 30} }, 1).ShuffleGrouping("s")
	start(t, b, topology.Config{topology.AckerExecutors: 0})
	// The bolt never acks anything, yet with no trackers every emit is acked.
	poll.Until(t, 10*time.Second, "every tuple acked on emit", func() bool { return st.ackedCount() == n })
}

// fanBolt emits each input twice on "default" and once on "side", all
// anchored, and acks it.
type fanBolt struct{ out topology.OutputCollector }

func (b *fanBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}

func (b *fanBolt) Execute(t topology.Tuple) {
	b.out.Emit(t.Values(), t)
	b.out.Emit(t.Values(), t)
	b.out.EmitStream("side", t.Values(), t)
	b.out.Ack(t)
}

func (b *fanBolt) Cleanup() error { return nil }

// joinBolt acks each input, but only after it has seen both copies of an
// id on the default stream; the second emit is anchored to both copies
// (multi-anchoring).
type joinBolt struct {
	out     topology.OutputCollector
	waiting map[int64]topology.Tuple
}

func (b *joinBolt) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	b.waiting = map[int64]topology.Tuple{}
	return nil
}

func (b *joinBolt) Execute(t topology.Tuple) {
	id := t.Values()[0].(int64)
	first, ok := b.waiting[id]
	if !ok {
		b.waiting[id] = t
		return
	}
	delete(b.waiting, id)
	b.out.Emit(topology.Values{id}, first, t)
	b.out.Ack(first)
	b.out.Ack(t)
}

func (b *joinBolt) Cleanup() error { return nil }

type ackAll struct{ out topology.OutputCollector }

func (b *ackAll) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	b.out = c
	return nil
}
func (b *ackAll) Execute(t topology.Tuple) { b.out.Ack(t) }
func (b *ackAll) Cleanup() error           { return nil }

func TestFanOutStreamsAndMultiAnchoring(t *testing.T) {
	const n = 500
	st := newSpoutState(n, 0)
	b := topology.NewBuilder("dag")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 2).Output("id")
	b.SetBolt("fan", func() topology.Bolt { return &fanBolt{} }, 2).ShuffleGrouping("s").
		Output("id").OutputStream("side", "id")
	b.SetBolt("join", func() topology.Bolt { return &joinBolt{} }, 3).FieldsGrouping("fan", "id").Output("id")
	b.SetBolt("all", func() topology.Bolt { return &ackAll{} }, 3).Input("fan", "side", topology.AllGrouping())
	b.SetBolt("sink", func() topology.Bolt { return &ackAll{} }, 1).GlobalGrouping("join")
	c := start(t, b, nil)
	// Two spout tasks share the state: each emits ids 0..n-1.
	poll.Until(t, 20*time.Second, "every tree of both spout tasks acked", func() bool { return st.totalAcks() == 2*n })
	// Every tree acked exactly once, none failed.
	_, fails, _, _ := st.snapshot()
	if fails != 0 {
		t.Errorf("fails = %d", fails)
	}
	// With two spout tasks the ids repeat per task; count per component.
	if _, acked, _, _, _, _ := stats(c, "all"); acked != 3*2*n {
		t.Errorf("all-grouped bolt acked %d, want %d (3 tasks x every side tuple)", acked, 3*2*n)
	}
	if _, acked, _, _, _, _ := stats(c, "sink"); acked != 2*n {
		t.Errorf("sink acked %d, want %d", acked, 2*n)
	}
}

// directSpout emits every tuple directly to the last task of "d".
type directSpout struct {
	topology.BaseSpout
	out    topology.SpoutCollector
	target topology.TaskID
	n, i   int
}

func (s *directSpout) Open(_ context.Context, tc *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	tasks := tc.ComponentTasks("d")
	s.target = tasks[len(tasks)-1]
	return nil
}

func (s *directSpout) NextTuple() {
	if s.i < s.n {
		s.i++
		s.out.EmitDirect(s.target, "direct", topology.Values{int64(s.i)}, s.i)
	}
}

func TestEmitDirectReachesTheChosenTask(t *testing.T) {
	b := topology.NewBuilder("direct")
	b.SetSpout("s", func() topology.Spout { return &directSpout{n: 100} }, 1).DirectStream("direct", "id")
	b.SetBolt("d", func() topology.Bolt { return &ackAll{} }, 3).DirectGrouping("s", "direct")
	c := start(t, b, nil)
	topo := c.Topology().Topology
	last := topo.Component("d").Tasks[2]
	poll.Until(t, 10*time.Second, "spout acked 100", func() bool {
		_, acked, _, _, _, _ := stats(c, "s")
		return acked == 100
	})
	for _, s := range c.Topology().Stats() {
		if s.Component != "d" {
			continue
		}
		want := int64(0)
		if s.Task == last {
			want = 100
		}
		if got := s.Executed.Load(); got != want {
			t.Errorf("task %d executed %d, want %d", s.Task, got, want)
		}
	}
}

// TestTickTuplesReachBolts runs on the fake clock (bubble): at a frequency
// of 1 s, tick tuples come every second (at the clock's tick resolution),
// carrying rate_secs, for as long as the topology runs.
func TestTickTuplesReachBolts(t *testing.T) {
	bubble.Run(t, func(t *testing.T) {
		var mu sync.Mutex
		var ticks []time.Time
		var rates []any
		b := topology.NewBuilder("ticks")
		b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: newSpoutState(0, 0)} }, 1).Output("id")
		b.SetBasicBolt("b", func() topology.BasicBolt {
			return topology.BoltFunc(func(t topology.Tuple, _ topology.BasicCollector) error {
				if topology.IsTick(t) {
					mu.Lock()
					ticks = append(ticks, time.Now())
					rates = append(rates, t.Values()[0])
					mu.Unlock()
				}
				return nil
			})
		}, 1).ShuffleGrouping("s")
		c := start(t, b, topology.Config{topology.TickTupleFreqSecs: 1})
		begin := time.Now()
		time.Sleep(5*time.Second + time.Millisecond)
		tick := c.Topology().Env().TickInterval()
		mu.Lock()
		defer mu.Unlock()
		if len(ticks) != 5 {
			t.Fatalf("%d tick tuples in 5 s at 1 s frequency, want 5: %v", len(ticks), ticks)
		}
		prev := begin
		for i, at := range ticks {
			if gap := at.Sub(prev); gap < time.Second || gap > time.Second+tick {
				t.Errorf("tick tuple %d came %v after the last, want 1s to %v", i+1, gap, time.Second+tick)
			}
			if rates[i] != int64(1) {
				t.Errorf("tick tuple %d: rate_secs %v (%T), want int64 1", i+1, rates[i], rates[i])
			}
			prev = at
		}
	})
}

func TestStopDrainsTreesInFlight(t *testing.T) {
	const n = 1 << 30 // endless
	st := newSpoutState(n, 0)
	b := topology.NewBuilder("drain")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
	b.SetBolt("h", func() topology.Bolt { return &holdBolt{batch: 64} }, 2).ShuffleGrouping("s")
	topo, err := b.Build(topology.Config{topology.TickTupleFreqSecs: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	c, err := local.Start(context.Background(), topo)
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "some trees acked", func() bool { return st.ackedCount() > 1000 })
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pending != 0 {
		t.Errorf("%d trees still pending after a graceful stop", st.pending)
	}
	if st.fails != 0 {
		t.Errorf("%d trees failed during the drain", st.fails)
	}
}

func TestRunStopsWhenContextIsDone(t *testing.T) {
	st := newSpoutState(1<<30, 0)
	b := topology.NewBuilder("run")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
	b.SetBolt("a", func() topology.Bolt { return &ackAll{} }, 1).ShuffleGrouping("s")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- local.Run(ctx, topo) }()
	poll.Until(t, 10*time.Second, "some trees acked", func() bool { return st.ackedCount() > 100 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// asyncBolt acks each input from another goroutine, through Context.Submit.
type asyncBolt struct {
	tc  *topology.Context
	out topology.OutputCollector
}

func (b *asyncBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.tc, b.out = tc, c
	return nil
}

func (b *asyncBolt) Execute(t topology.Tuple) {
	go func() {
		b.tc.Submit(func() { b.out.Ack(t) })
	}()
}

func (b *asyncBolt) Cleanup() error { return nil }

func TestSubmitRunsOnTheTask(t *testing.T) {
	const n = 200
	st := newSpoutState(n, 0)
	b := topology.NewBuilder("submit")
	b.SetSpout("s", func() topology.Spout { return &ledgerSpout{st: st} }, 1).Output("id")
	b.SetBolt("a", func() topology.Bolt { return &asyncBolt{} }, 2).ShuffleGrouping("s")
	start(t, b, nil)
	poll.Until(t, 20*time.Second, "every tree acked", func() bool { return st.ackedCount() == n })
}
