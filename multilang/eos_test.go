package multilang

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// A pystorm bolt inside squall.guarantee=exactly-once (issue 12, item 8):
// a checkpointed Go spout of lines -> wordcount.py's SplitBolt, unchanged
// (auto-anchored, auto-acked) -> a Go keyed count (state.Value) -> a Go
// two-phase sink. A barrier passes the shell bolt only once its subprocess
// acked every line it was given before it (the runtime holds every
// executed tuple until acked); a restore starts a new subprocess. What the
// sink commits must be each word's running counts 1, 2, …, N, every one
// exactly once, with or without a subprocess SIGKILLed mid-run.

// eosVocabulary is the words lines are made of.
const eosVocabulary = 37

// EOSLine is line i of the input: five words, the same for every run.
func EOSLine(i int64) string {
	var b strings.Builder
	for j := range int64(5) {
		if j > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "w%02d", (i*(j+1)+j*j+i/eosVocabulary)%eosVocabulary)
	}
	return b.String()
}

// EOSWordCounts is how often each word occurs in lines 0..n-1.
func EOSWordCounts(n int64) map[string]int64 {
	want := map[string]int64{}
	for i := range n {
		for _, w := range strings.Fields(EOSLine(i)) {
			want[w]++
		}
	}
	return want
}

// EOSLineSpout emits (EOSLine(i)) for its share of 0..N-1 (i ≡ its task
// index mod its parallelism); its checkpointed position is the next i.
//
// With Pace set, it stays at most Ahead lines ahead of Pace/Words (the
// count's executions): nothing in exactly-once holds a spout
// back from filling a shell bolt's backlog (see TestPythonExactlyOnce), so
// without a pace the whole input waits in front of the subprocess and the
// first barrier behind all of it.
type EOSLineSpout struct {
	N     int64
	Pace  *atomic.Int64
	Ahead int64
	Line  func(int64) string // nil: EOSLine
	Words int64              // words a line, for Pace (0: EOSLine's 5)

	next int64
	step int64
	out  topology.SpoutCollector
}

var _ topology.CheckpointedSpout = (*EOSLineSpout)(nil)

func (s *EOSLineSpout) Open(_ context.Context, tc *topology.Context, c topology.SpoutCollector) error {
	s.out, s.next, s.step = c, int64(tc.TaskIndex), int64(len(tc.ComponentTasks(tc.Component)))
	return nil
}

func (s *EOSLineSpout) NextTuple() {
	for range 16 {
		if s.next >= s.N || (s.Pace != nil && s.next > s.Pace.Load()/cmp.Or(s.Words, 5)+s.Ahead) {
			return
		}
		line := EOSLine
		if s.Line != nil {
			line = s.Line
		}
		s.out.Emit(topology.Values{line(s.next)}, s.next)
		s.next += s.step
	}
}

func (s *EOSLineSpout) SnapshotPosition(uint64) ([]byte, error) {
	return binary.AppendVarint(nil, s.next), nil
}

func (s *EOSLineSpout) RestorePosition(pos []byte) error {
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

func (s *EOSLineSpout) CheckpointComplete(uint64) {}
func (s *EOSLineSpout) Ack(any)                   { panic("Ack in exactly-once") }
func (s *EOSLineSpout) Fail(any)                  { panic("Fail in exactly-once") }
func (s *EOSLineSpout) Activate()                 {}
func (s *EOSLineSpout) Deactivate()               {}
func (s *EOSLineSpout) Close() error              { return nil }

// EOSWordCount keeps a keyed count per word (of tuples, or the sum of
// their field Add) and emits (word, n). Executed
// counts its executions over every instance; At, when set, is called once,
// from the execution that reaches AtN.
type EOSWordCount struct {
	Add      string // a field whose value the count adds ("": 1)
	Executed *atomic.Int64
	AtN      int64
	At       func()
	Once     *sync.Once

	out   topology.OutputCollector
	count *state.Value[int64]
}

func (b *EOSWordCount) DeclareState() topology.State { return topology.State{Keyed: []string{"count"}} }

func (b *EOSWordCount) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	st, err := state.Of(tc)
	if err != nil {
		return err
	}
	b.out = c
	b.count, err = state.NewValue(st, "count", state.Int64)
	return err
}

func (b *EOSWordCount) Execute(t topology.Tuple) {
	if n := b.Executed.Add(1); b.At != nil && n >= b.AtN {
		b.Once.Do(b.At)
	}
	n, _, err := b.count.Get()
	if err != nil {
		panic(err)
	}
	add := int64(1)
	if b.Add != "" {
		add, _ = topology.Int64(t, b.Add)
	}
	if err := b.count.Set(n + add); err != nil {
		panic(err)
	}
	b.out.Emit(topology.Values{topology.String(t, "word"), n + add}, t)
	b.out.Ack(t)
}

func (b *EOSWordCount) Cleanup() error { return nil }

// EOSCommitted is what the two-phase sink made visible, shared by every
// instance of it (the outside world).
type EOSCommitted struct {
	mu     sync.Mutex
	counts map[string][]int64 // word -> counts, in commit order
	txns   map[string]bool
	n      int
}

func NewEOSCommitted() *EOSCommitted {
	return &EOSCommitted{counts: map[string][]int64{}, txns: map[string]bool{}}
}

func (c *EOSCommitted) commit(txn string, recs []eosRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.txns[txn] {
		return
	}
	c.txns[txn] = true
	for _, r := range recs {
		c.counts[r.word] = append(c.counts[r.word], r.n)
		c.n++
	}
}

// Size is how many counts were committed.
func (c *EOSCommitted) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Check reports every word whose committed counts are not 1..want[word],
// each once.
func (c *EOSCommitted) Check(want map[string]int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for w, n := range want {
		seen := make([]int, n+1)
		bad := 0
		for _, v := range c.counts[w] {
			if v < 1 || v > n {
				bad++
				continue
			}
			seen[v]++
		}
		for v := int64(1); v <= n; v++ {
			if seen[v] != 1 {
				bad++
			}
		}
		if bad > 0 {
			errs = append(errs, fmt.Errorf("word %q: %d committed counts, %d of them wrong (want 1..%d once each)", w, len(c.counts[w]), bad, n))
		}
	}
	for w := range c.counts {
		if _, ok := want[w]; !ok {
			errs = append(errs, fmt.Errorf("word %q committed, but it is not in the input", w))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

type eosRecord struct {
	word string
	n    int64
}

// EOSSink is a two-phase sink of (word, n): records go into an open
// transaction; a pre-commit seals it under the checkpoint's id and returns
// every sealed transaction as the committable, so Recover can finish them.
type EOSSink struct {
	World *EOSCommitted

	out    topology.OutputCollector
	task   topology.TaskID
	open   []eosRecord
	sealed map[uint64][]eosRecord
}

var _ topology.TwoPhaseSink = (*EOSSink)(nil)

func (s *EOSSink) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	s.task, s.sealed, s.out = tc.Task, map[uint64][]eosRecord{}, c
	return nil
}

func (s *EOSSink) Execute(t topology.Tuple) {
	n, _ := topology.Int64(t, "n")
	s.open = append(s.open, eosRecord{topology.String(t, "word"), n})
	s.out.Ack(t)
}

func (s *EOSSink) Cleanup() error { return nil }

func (s *EOSSink) txn(id uint64) string { return fmt.Sprintf("%d/%d", s.task, id) }

func (s *EOSSink) PreCommit(id uint64) ([]byte, error) {
	s.sealed[id], s.open = s.open, nil
	var b []byte
	for sid, recs := range s.sealed {
		b = binary.AppendUvarint(b, sid)
		b = binary.AppendUvarint(b, uint64(len(recs)))
		for _, r := range recs {
			b = binary.AppendUvarint(b, uint64(len(r.word)))
			b = append(b, r.word...)
			b = binary.AppendVarint(b, r.n)
		}
	}
	return b, nil
}

func (s *EOSSink) Commit(id uint64) error {
	for sid, recs := range s.sealed {
		if sid <= id {
			s.World.commit(s.txn(sid), recs)
			delete(s.sealed, sid)
		}
	}
	return nil
}

func (s *EOSSink) Recover(_ uint64, committable []byte) error {
	next := func() uint64 {
		v, n := binary.Uvarint(committable)
		if n <= 0 {
			panic("committable: truncated")
		}
		committable = committable[n:]
		return v
	}
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Errorf("recover: %v", r))
		}
	}()
	for len(committable) > 0 {
		sid, k := next(), next()
		recs := make([]eosRecord, k)
		for i := range recs {
			l := next()
			recs[i].word = string(committable[:l])
			committable = committable[l:]
			v, n := binary.Varint(committable)
			if n <= 0 {
				return errors.New("committable: truncated")
			}
			committable = committable[n:]
			recs[i].n = v
		}
		s.World.commit(s.txn(sid), recs)
	}
	return nil
}

// startedSince are the subprocesses started since before (a snapshot of
// started), lowest first.
func startedSince(before map[int]bool) []int {
	startedMu.Lock()
	var pids []int
	for pid := range started {
		if !before[pid] {
			pids = append(pids, pid)
		}
	}
	startedMu.Unlock()
	slices.Sort(pids)
	return pids
}

// livePIDs are the subprocesses started since before that still run.
func livePIDs(before map[int]bool) []int {
	return slices.DeleteFunc(startedSince(before), func(pid int) bool { return !running(pid) })
}

// running reports whether pid is a process that has not exited.
func running(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

func startedSnapshot() map[int]bool {
	startedMu.Lock()
	defer startedMu.Unlock()
	m := make(map[int]bool, len(started))
	for pid := range started {
		m[pid] = true
	}
	return m
}

type eosPyCase struct {
	name  string
	lines int64
	pace  bool // the spouts stay a few hundred lines ahead of the count
	kill  bool // SIGKILL a split subprocess once, between 40 % and 70 % of the input
}

// TestPythonExactlyOnce: SplitBolt, unchanged, between a checkpointed Go
// spout and a Go keyed count with a two-phase sink: every word's running
// counts committed exactly once. With a subprocess SIGKILLed mid-run the
// shell bolt fails what it held, the topology restores to the checkpoint
// completed before the kill (every split task gets a new subprocess), and
// the counts are still exact. Unpaced, the spouts put the whole input in
// front of the subprocesses at once, and a barrier waits behind all of it:
// slow checkpoints, still exact.
func TestPythonExactlyOnce(t *testing.T) {
	for _, c := range []eosPyCase{
		{name: "paced", lines: 4000, pace: true},
		{name: "paced-kill", lines: 4000, pace: true, kill: true},
		{name: "unpaced", lines: 4000},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := launchers()[0]
			want := EOSWordCounts(c.lines)
			var total int64
			for _, n := range want {
				total += n
			}
			world := NewEOSCommitted()
			before := startedSnapshot()
			var executed atomic.Int64
			var once sync.Once
			var env atomic.Pointer[actors.Env]
			var killed atomic.Int64                            // the pid killed
			var atKill atomic.Pointer[actors.CheckpointStatus] // the checkpoints then
			count := &EOSWordCount{Executed: &executed, Once: &once}
			if c.kill {
				count.AtN = total*40/100 + rand.Int64N(total*30/100)
				count.At = func() {
					if e := env.Load(); e != nil {
						st, _ := e.Checkpoints()
						atKill.Store(&st)
					}
					if pids := livePIDs(before); len(pids) > 0 {
						pid := pids[rand.IntN(len(pids))]
						if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
							killed.Store(int64(pid))
						}
					}
				}
			}
			spout := EOSLineSpout{N: c.lines}
			if c.pace {
				spout.Pace, spout.Ahead = &executed, 200
			}
			b := topology.NewBuilder("pyeos")
			b.SetSpout("lines", func() topology.Spout { s := spout; return &s }, 2).Output("line")
			b.SetBolt("split", BoltFactory(l.command(t, "SplitBolt"), WithDir(resourcesDir(t)), Output("word")), 2).
				ShuffleGrouping("lines")
			b.SetBolt("count", func() topology.Bolt { cb := *count; return &cb }, 2).
				FieldsGrouping("split", "word").Output("word", "n")
			b.SetBolt("sink", func() topology.Bolt { return &EOSSink{World: world} }, 1).ShuffleGrouping("count")
			conf := fastConf(l)
			conf[topology.GuaranteeKey] = topology.ExactlyOnce
			conf[topology.CheckpointIntervalMs] = 50
			r := startTopology(t, b, conf, nil)
			env.Store(r.c.Topology().Env())
			if !poll.Wait(120*time.Second, func() bool { return world.Size() >= int(total) }) {
				st, _ := r.c.Topology().Env().Checkpoints()
				t.Fatalf("timed out: %d of %d counts committed; checkpoints %+v", world.Size(), total, st)
			}
			st := CheckpointsCompleted(t, r.c.Topology().Env())
			if c.kill {
				pid := killed.Load()
				if pid == 0 {
					t.Fatalf("no split subprocess was killed (%d executed, threshold %d)", executed.Load(), count.AtN)
				}
				if !r.logs.contains("shell subprocess died", fmt.Sprintf("pid %d", pid), "signal: killed") {
					t.Errorf("the log does not report the death of pid %d", pid)
				}
				live := livePIDs(before)
				if len(live) != 2 || slices.Contains(live, int(pid)) {
					t.Errorf("split subprocesses running %v, want two, not the killed %d", live, pid)
				}
				// A subprocess killed while it held no tuple loses nothing:
				// the shell bolt restarts it in place, with no restore. One
				// that held tuples fails them, and everything restores.
				if r.logs.contains("shell subprocess died", fmt.Sprintf("pid %d", pid), "failed its 0 pending tuples") {
					if st.Restores != 0 {
						t.Errorf("checkpoint status %+v: a restore after a death that lost nothing", st)
					}
					t.Logf("pid %d was killed holding no tuple: restarted in place", pid)
				} else {
					if st.Restores != 1 {
						t.Errorf("checkpoint status %+v, want one restore, after the SIGKILL of pid %d", st, pid)
					}
					if k := atKill.Load(); k == nil || k.LastCompleted == 0 {
						t.Errorf("checkpoints at the kill %+v: want one completed, so the restore rewinds to it", k)
					}
					if executed.Load() <= total {
						t.Errorf("%d executions for %d words: the restore replayed nothing", executed.Load(), total)
					}
					if n := len(startedSince(before)); n < 4 {
						t.Errorf("%d subprocesses started, want at least 4: two, then two for the restore", n)
					}
				}
			} else if st.Restores != 0 {
				t.Errorf("checkpoint status %+v, want no restore", st)
			}
			if err := world.Check(want); err != nil {
				t.Error(err)
			}
			t.Logf("%d lines, %d words, %d executions of count, checkpoints %+v", c.lines, total, executed.Load(), st)
			r.stopAndCheck()
		})
	}
}

// CheckpointsCompleted waits for env's checkpoint status to count a
// completed checkpoint and returns it: the coordinator tells the sinks to
// commit before it publishes the status, so a test that saw the commits
// may read the status of a moment before.
func CheckpointsCompleted(t testing.TB, env *actors.Env) actors.CheckpointStatus {
	t.Helper()
	var st actors.CheckpointStatus
	if !poll.Wait(10*time.Second, func() bool {
		st, _ = env.Checkpoints()
		return st.Completed >= 1
	}) {
		t.Errorf("checkpoint status %+v, want completed checkpoints", st)
	}
	return st
}

// CheckNoSubprocesses fails t if a subprocess a test started, or one of
// its children, is left (for the tests of package multilang_test).
func CheckNoSubprocesses(t testing.TB) { checkNoProcesses(t) }

// deadLetters records what reaches it (the dead-letter stream).
type deadLetters struct {
	mu   *sync.Mutex
	seen *[]string
	out  topology.OutputCollector
}

func (d *deadLetters) Prepare(_ context.Context, _ *topology.Context, c topology.OutputCollector) error {
	d.out = c
	return nil
}

func (d *deadLetters) Execute(t topology.Tuple) {
	d.mu.Lock()
	*d.seen = append(*d.seen, fmt.Sprint(t.Values()[2]))
	d.mu.Unlock()
	d.out.Ack(t)
}

func (d *deadLetters) Cleanup() error { return nil }

// TestPythonExactlyOnceDeadLetter: a tuple that kills the pystorm bolt
// (FaultyBolt raises on "raise": it reports the traceback, fails the tuple
// and exits) fails it, so the topology restores, and the replay brings it
// back to a new instance of the shell bolt. The deaths it caused must be
// remembered across those restores, or it would kill every new subprocess
// for ever: after DefaultDeadLetterAfter deaths it goes to the dead-letter
// stream, and every other word is counted exactly once.
func TestPythonExactlyOnceDeadLetter(t *testing.T) {
	l := launchers()[0]
	const lines, poison = 3000, 1700
	line := func(i int64) string {
		if i == poison {
			return "raise"
		}
		return fmt.Sprintf("w%02d", i%eosVocabulary)
	}
	want := map[string]int64{}
	var total int64
	for i := range int64(lines) {
		if w := line(i); w != "raise" {
			want[w]++
			total++
		}
	}
	world := NewEOSCommitted()
	var executed atomic.Int64
	var once sync.Once
	var mu sync.Mutex
	var dead []string
	b := topology.NewBuilder("pyeos-dlq")
	b.SetSpout("words", func() topology.Spout {
		return &EOSLineSpout{N: lines, Line: line, Words: 1, Pace: &executed, Ahead: 500}
	}, 1).Output("word")
	b.SetBolt("faulty", BoltFactory(l.command(t, "FaultyBolt"), WithDir(resourcesDir(t)), Output("word")), 1).
		ShuffleGrouping("words")
	b.SetBolt("count", func() topology.Bolt { return &EOSWordCount{Executed: &executed, Once: &once} }, 2).
		FieldsGrouping("faulty", "word").Output("word", "n")
	b.SetBolt("sink", func() topology.Bolt { return &EOSSink{World: world} }, 1).ShuffleGrouping("count")
	b.SetBolt("dead", func() topology.Bolt { return &deadLetters{mu: &mu, seen: &dead} }, 1).
		Input("faulty", DeadLetterStream, topology.ShuffleGrouping())
	conf := fastConf(l)
	conf[topology.GuaranteeKey] = topology.ExactlyOnce
	conf[topology.CheckpointIntervalMs] = 50
	r := startTopology(t, b, conf, nil)
	if !poll.Wait(60*time.Second, func() bool { return world.Size() >= int(total) }) {
		st, _ := r.c.Topology().Env().Checkpoints()
		t.Fatalf("timed out: %d of %d counts committed; checkpoints %+v", world.Size(), total, st)
	}
	st, _ := r.c.Topology().Env().Checkpoints()
	if st.Restores != DefaultDeadLetterAfter {
		t.Errorf("checkpoint status %+v, want %d restores: one per death the poison tuple caused", st, DefaultDeadLetterAfter)
	}
	mu.Lock()
	if len(dead) != 1 || dead[0] != "[raise]" {
		t.Errorf("dead letters %q, want the one poison tuple's values [raise]", dead)
	}
	mu.Unlock()
	if err := world.Check(want); err != nil {
		t.Error(err)
	}
	t.Logf("%d executions of count for %d words, checkpoints %+v", executed.Load(), total, st)
	r.stopAndCheck()
}

// TestPythonExactlyOnceBatchingBolt: pystorm's BatchingBolt acks only when
// a tick flushes its batch, so a barrier waits at it until the next tick
// (topology.tick.tuple.freq.secs, which such a bolt needs in any mode):
// checkpoints take up to a tick, and the sums of its per-batch counts are
// exact — each word's committed running sums distinct, rising to its
// number of occurrences.
func TestPythonExactlyOnceBatchingBolt(t *testing.T) {
	l := launchers()[0]
	const lines = 2000
	line := func(i int64) string { return fmt.Sprintf("w%02d", (i*7)%eosVocabulary) }
	want := map[string]int64{}
	for i := range int64(lines) {
		want[line(i)]++
	}
	world := NewEOSCommitted()
	var executed atomic.Int64
	var once sync.Once
	b := topology.NewBuilder("pyeos-batch")
	b.SetSpout("words", func() topology.Spout { return &EOSLineSpout{N: lines, Line: line} }, 1).Output("word")
	b.SetBolt("batch", BoltFactory(l.command(t, "BatchCountBolt"), WithDir(resourcesDir(t)), Output("word", "count")), 2).
		ShuffleGrouping("words")
	b.SetBolt("sum", func() topology.Bolt { return &EOSWordCount{Add: "count", Executed: &executed, Once: &once} }, 2).
		FieldsGrouping("batch", "word").Output("word", "n")
	b.SetBolt("sink", func() topology.Bolt { return &EOSSink{World: world} }, 1).ShuffleGrouping("sum")
	conf := fastConf(l)
	conf[topology.GuaranteeKey] = topology.ExactlyOnce
	conf[topology.CheckpointIntervalMs] = 50
	conf[topology.TickTupleFreqSecs] = 0.2
	r := startTopology(t, b, conf, nil)
	final := func() bool {
		world.mu.Lock()
		defer world.mu.Unlock()
		for w, n := range want {
			if c := world.counts[w]; len(c) == 0 || c[len(c)-1] < n {
				return false
			}
		}
		return true
	}
	if !poll.Wait(60*time.Second, final) {
		st, _ := r.c.Topology().Env().Checkpoints()
		t.Fatalf("timed out: %d sums committed; checkpoints %+v", world.Size(), st)
	}
	st := CheckpointsCompleted(t, r.c.Topology().Env())
	if st.Restores != 0 {
		t.Errorf("checkpoint status %+v, want no restore", st)
	}
	world.mu.Lock()
	for w, n := range want {
		sums := world.counts[w]
		if !slices.IsSorted(sums) || len(slices.Compact(slices.Clone(sums))) != len(sums) || sums[len(sums)-1] != n {
			t.Errorf("word %q: committed sums %v, want distinct, rising to %d", w, sums, n)
		}
	}
	world.mu.Unlock()
	t.Logf("%d batches summed, checkpoints %+v", executed.Load(), st)
	r.stopAndCheck()
}
