package kafka

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runScript drives a PartitionOffsets through a small script, one command a
// line, and fails the test on the first expectation that does not hold:
//
//	emit 0 1 6 7      each Emit returns true      emit! 3   each returns false
//	ack 0 1           each Ack returns true       ack! 3    each returns false
//	dlq 4             each DeadLettered is true   dlq! 4    each is false
//	dead 4            each DeadLetter is true     dead! 4   each is false
//	retryat 1 4ms     RetryAt(1) is now+4ms       retryat! 1  RetryAt(1) is not ok
//	fail 1 retry      Fail(1) answers FailRetry (or ignored, dead-letter)
//	wait 4ms          the clock moves on
//	next 8            NextCommit() == 8, true     next- 0   NextCommit() == 0, false
//	commit 8          Committed(8)
//	position 8        Position() == 8
//	due 1 3           the retries Emit takes now are [1 3]   due   there are none
//	uncommitted 4     Uncommitted() == 4
//	cap / !cap        AtCap() is true / false
func runScript(t *testing.T, p *PartitionOffsets, script string) {
	t.Helper()
	now := t0
	for n, line := range strings.Split(strings.TrimSpace(script), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		where := fmt.Sprintf("line %d %q", n+1, strings.TrimSpace(line))
		cmd, args := f[0], f[1:]
		nums := func() []int64 {
			var out []int64
			for _, a := range args {
				v, err := strconv.ParseInt(a, 10, 64)
				if err != nil {
					t.Fatalf("%s: bad number %q", where, a)
				}
				out = append(out, v)
			}
			return out
		}
		one := func() int64 {
			v := nums()
			if len(v) != 1 {
				t.Fatalf("%s: want one number", where)
			}
			return v[0]
		}
		switch cmd {
		case "emit", "emit!":
			for _, off := range nums() {
				if got, want := p.Emit(off, now), cmd == "emit"; got != want {
					t.Fatalf("%s: Emit(%d) = %v, want %v", where, off, got, want)
				}
			}
		case "ack", "ack!":
			for _, off := range nums() {
				if got, want := p.Ack(off), cmd == "ack"; got != want {
					t.Fatalf("%s: Ack(%d) = %v, want %v", where, off, got, want)
				}
			}
		case "dlq", "dlq!":
			for _, off := range nums() {
				if got, want := p.DeadLettered(off), cmd == "dlq"; got != want {
					t.Fatalf("%s: DeadLettered(%d) = %v, want %v", where, off, got, want)
				}
			}
		case "dead", "dead!":
			for _, off := range nums() {
				if got, want := p.DeadLetter(off), cmd == "dead"; got != want {
					t.Fatalf("%s: DeadLetter(%d) = %v, want %v", where, off, got, want)
				}
			}
		case "retryat", "retryat!":
			off, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			at, ok := p.RetryAt(off)
			if cmd == "retryat!" {
				if ok {
					t.Fatalf("%s: RetryAt(%d) = %v, true; want not ok", where, off, at)
				}
				break
			}
			if len(args) != 2 {
				t.Fatalf("%s: want retryat OFFSET DELAY", where)
			}
			d, err := time.ParseDuration(args[1])
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if want := now.Add(d); !ok || !at.Equal(want) {
				t.Fatalf("%s: RetryAt(%d) = %v, %v; want %v, true", where, off, at, ok, want)
			}
		case "fail":
			if len(args) != 2 {
				t.Fatalf("%s: want fail OFFSET OUTCOME", where)
			}
			off, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if got := p.Fail(off, now); got.String() != args[1] {
				t.Fatalf("%s: Fail(%d) = %v, want %s", where, off, got, args[1])
			}
		case "wait":
			d, err := time.ParseDuration(args[0])
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			now = now.Add(d)
		case "next", "next-":
			pos, ok := p.NextCommit()
			if want, wantOK := one(), cmd == "next"; pos != want || ok != wantOK {
				t.Fatalf("%s: NextCommit() = %d, %v, want %d, %v", where, pos, ok, want, wantOK)
			}
		case "commit":
			p.Committed(one())
		case "position":
			if got, want := p.Position(), one(); got != want {
				t.Fatalf("%s: Position() = %d, want %d", where, got, want)
			}
		case "due":
			if got, want := dueRetries(p, now), nums(); !slices.Equal(got, want) {
				t.Fatalf("%s: due retries %v, want %v", where, got, want)
			}
		case "uncommitted":
			if got, want := p.Uncommitted(), one(); int64(got) != want {
				t.Fatalf("%s: Uncommitted() = %d, want %d", where, got, want)
			}
		case "cap", "!cap":
			if got, want := p.AtCap(), cmd == "cap"; got != want {
				t.Fatalf("%s: AtCap() = %v, want %v", where, got, want)
			}
		default:
			t.Fatalf("%s: unknown command %q", where, cmd)
		}
	}
}

// dueRetries lists, in offset order, the failed offsets whose retry Emit
// would take at now.
func dueRetries(p *PartitionOffsets, now time.Time) []int64 {
	var out []int64
	for _, s := range p.slots {
		if s.state == awaitingRetry && !p.retryAt[s.off].After(now) {
			out = append(out, s.off)
		}
	}
	return out
}

func TestPartitionOffsets(t *testing.T) {
	def := DefaultConfig()
	retries := func(n int) Config { c := def; c.Retry.MaxRetries = n; return c }
	capped := func(n int) Config { c := def; c.MaxUncommitted = n; return c }
	tests := []struct {
		name      string
		committed int64
		cfg       Config
		script    string
		wantStats Stats
	}{
		{
			name: "contiguous acks commit the whole prefix",
			script: `
				emit 0 1 2 3
				next- 0
				ack 0 1 2 3
				next 4
				uncommitted 4
				commit 4
				position 4
				uncommitted 0
				next- 4`,
			wantStats: Stats{Acked: 4},
		},
		{
			name: "an in-flight offset holds the commit back",
			script: `
				emit 0 1 2 3
				ack 0 1 3
				next 2
				ack 2
				next 4`,
			wantStats: Stats{Acked: 4},
		},
		{
			name: "gaps that were never emitted are skipped",
			script: `
				emit 0 1 6 7
				ack 0 1 7
				next 2
				ack 6
				next 8
				commit 8
				uncommitted 0`,
			wantStats: Stats{Acked: 4},
		},
		{
			name:      "a committed position below the first emitted offset",
			committed: 5,
			script: `
				emit! 3 4
				emit 5 9
				ack 9
				next- 5
				ack 5
				next 10`,
			wantStats: Stats{Acked: 2},
		},
		{
			name: "out-of-order acks",
			script: `
				emit 0 1 2 3 4
				ack 4 3 2
				next- 0
				ack 0
				next 1
				ack 1
				next 5`,
			wantStats: Stats{Acked: 5},
		},
		{
			name:      "no committed position starts at the first emitted offset",
			committed: NoPosition,
			script: `
				position -1
				next- -1
				emit 42 43
				position 42
				emit! 41
				ack 42
				next 43`,
			wantStats: Stats{Acked: 1},
		},
		{
			name: "duplicates and late messages are ignored",
			script: `
				emit 0
				emit! 0
				ack 0
				ack! 0
				emit! 0
				fail 0 ignored
				dlq! 0
				commit 1
				emit! 0
				ack! 0
				ack! 99
				fail 99 ignored`,
			wantStats: Stats{Acked: 1, Ignored: 6},
		},
		{
			name: "fail, retry, ack",
			script: `
				emit 0 1 2
				ack 0 2
				fail 1 retry
				next 1
				due 1
				emit 1
				due
				ack 1
				next 3`,
			wantStats: Stats{Acked: 3, Retries: 1},
		},
		{
			name: "a retry that is not due is skipped until it is",
			script: `
				emit 0 1
				fail 1 retry
				emit 1
				fail 1 retry
				emit! 1
				due
				wait 3ms
				due
				emit! 1
				wait 1ms
				due 1
				emit 1
				fail 1 retry
				wait 7ms
				due
				wait 1ms
				due 1`,
			wantStats: Stats{Retries: 3},
		},
		{
			name: "due retries come in offset order",
			script: `
				emit 0 3 5 8
				fail 8 retry
				fail 3 retry
				fail 5 retry
				due 3 5 8
				ack 0
				next 1`,
			wantStats: Stats{Acked: 1, Retries: 3},
		},
		{
			name: "dead-lettered offsets count as done and are counted",
			cfg:  retries(1),
			script: `
				emit 0 1
				ack 1
				fail 0 retry
				emit 0
				fail 0 dead-letter
				due
				emit! 0
				next- 0
				ack! 0
				dlq 0
				dlq! 0
				next 2`,
			wantStats: Stats{Acked: 1, Retries: 1, DeadLetters: 1, DeadLettered: 1, Ignored: 2},
		},
		{
			name: "undecodable records skip their retries (DeadLetter)",
			script: `
				emit 0 1 2
				ack 0 2
				dead 1
				dead! 1
				ack! 1
				fail 1 ignored
				next 1
				dlq 1
				next 3
				dead! 7`,
			wantStats: Stats{Acked: 2, DeadLetters: 1, DeadLettered: 1, Ignored: 4},
		},
		{
			name: "RetryAt follows the backoff schedule",
			script: `
				emit 0 1
				retryat! 0
				fail 0 retry
				retryat 0 0s
				emit 0
				retryat! 0
				fail 0 retry
				retryat 0 4ms
				wait 4ms
				emit 0
				fail 0 retry
				retryat 0 8ms
				ack 1
				retryat! 1`,
			wantStats: Stats{Acked: 1, Retries: 3},
		},
		{
			name: "MaxRetries 0 dead-letters on the first fail",
			cfg:  retries(0),
			script: `
				emit 0
				fail 0 dead-letter
				dlq 0
				next 1`,
			wantStats: Stats{DeadLetters: 1, DeadLettered: 1},
		},
		{
			name: "commit forgets what is below it, retries too",
			script: `
				emit 0 1 2
				ack 0 1
				fail 2 retry
				commit 2
				uncommitted 1
				due 2
				commit 3
				due
				uncommitted 0
				commit 1
				position 3
				ack! 2`,
			wantStats: Stats{Acked: 2, Retries: 1, Ignored: 1},
		},
		{
			name: "an offset first seen after a seek back is inserted in order",
			script: `
				emit 2 5
				ack 2 5
				next 6
				emit 3
				next 3
				ack 3
				next 6
				uncommitted 3`,
			wantStats: Stats{Acked: 3},
		},
		{
			name: "the cap counts acked but uncommitted offsets",
			cfg:  capped(3),
			script: `
				emit 0 1
				!cap
				emit 2
				cap
				ack 0 1 2
				cap
				commit 1
				!cap`,
			wantStats: Stats{Acked: 3},
		},
		{
			name: "retries within the cap still flow (STORM-2343)",
			cfg:  capped(3),
			script: `
				emit 0 1 2 3
				cap
				fail 1 retry
				due 1
				emit 1
				cap`,
			wantStats: Stats{Retries: 1},
		},
		{
			name: "a retry waits for its time even at the cap",
			cfg:  capped(2),
			script: `
				emit 0 1
				fail 0 retry
				emit 0
				fail 0 retry
				cap
				emit! 0
				due
				wait 4ms
				due 0
				emit 0`,
			wantStats: Stats{Retries: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg == (Config{}) {
				cfg = def
			}
			p, err := NewPartitionOffsets(tt.committed, cfg)
			if err != nil {
				t.Fatal(err)
			}
			runScript(t, p, tt.script)
			if got := p.Stats(); got != tt.wantStats {
				t.Fatalf("Stats() = %+v, want %+v", got, tt.wantStats)
			}
		})
	}
}

func TestPartitionOffsetsRejectsBadInput(t *testing.T) {
	tests := []struct {
		name      string
		committed int64
		cfg       Config
	}{
		{"committed below NoPosition", -2, DefaultConfig()},
		{"zero config", 0, Config{}},
		{"negative cap", 0, Config{MaxUncommitted: -1, Retry: DefaultRetryConfig()}},
		{"negative retry delay", 0, Config{MaxUncommitted: 1, Retry: RetryConfig{MaxDelay: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPartitionOffsets(tt.committed, tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) || p != nil {
				t.Fatalf("NewPartitionOffsets() = %v, %v; want nil and an error wrapping ErrInvalidConfig", p, err)
			}
		})
	}
	p, err := NewPartitionOffsets(0, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if p.Emit(-1, t0) {
		t.Fatal("Emit(-1) = true, want false")
	}
}

// TestPartitionOffsetsAgainstModel drives random emits, acks, fails, dead
// letters and commits over offsets with gaps and checks NextCommit against a
// plain recomputation.
func TestPartitionOffsetsAgainstModel(t *testing.T) {
	for seed := range uint64(50) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			cfg := DefaultConfig()
			cfg.Retry.MaxRetries = rng.IntN(3)
			cfg.Retry.DelayPeriod = 0
			p, err := NewPartitionOffsets(0, cfg)
			if err != nil {
				t.Fatal(err)
			}
			const (
				none = iota
				flying
				done
				retry
				dead
			)
			model := map[int64]int{} // offset -> state, for offsets >= committed
			fails := map[int64]int{}
			committed, next := int64(0), int64(0)
			now := t0
			pick := func(state int) (int64, bool) {
				var offs []int64
				for off, s := range model {
					if s == state {
						offs = append(offs, off)
					}
				}
				if len(offs) == 0 {
					return 0, false
				}
				slices.Sort(offs)
				return offs[rng.IntN(len(offs))], true
			}
			for step := range 400 {
				switch op := rng.IntN(10); {
				case op < 3: // new record, maybe after a gap
					next += 1 + int64(rng.IntN(3)/2*rng.IntN(5))
					if !p.Emit(next, now) {
						t.Fatalf("step %d: Emit(%d) of a new offset = false", step, next)
					}
					model[next] = flying
				case op < 6:
					if off, ok := pick(flying); ok {
						if !p.Ack(off) {
							t.Fatalf("step %d: Ack(%d) = false", step, off)
						}
						model[off] = done
					}
				case op < 7:
					if off, ok := pick(flying); ok {
						fails[off]++
						want := FailRetry
						if fails[off] > cfg.Retry.MaxRetries {
							want = FailDeadLetter
						}
						if got := p.Fail(off, now); got != want {
							t.Fatalf("step %d: Fail(%d) = %v, want %v", step, off, got, want)
						}
						model[off] = map[FailOutcome]int{FailRetry: retry, FailDeadLetter: dead}[want]
					}
				case op < 8:
					if off, ok := pick(retry); ok {
						if !slices.Contains(dueRetries(p, now), off) || !p.Emit(off, now) {
							t.Fatalf("step %d: retry of %d not due or not emitted", step, off)
						}
						model[off] = flying
					}
				case op < 9:
					if off, ok := pick(dead); ok {
						if !p.DeadLettered(off) {
							t.Fatalf("step %d: DeadLettered(%d) = false", step, off)
						}
						model[off] = done
					}
				default:
					if pos, ok := p.NextCommit(); ok {
						p.Committed(pos)
						for off := range model {
							if off < pos {
								delete(model, off)
							}
						}
						committed = pos
					}
				}
				// The plain answer: walk the emitted offsets in order.
				want := committed
				for _, off := range slices.Sorted(maps.Keys(model)) {
					if model[off] != done {
						break
					}
					want = off + 1
				}
				pos, ok := p.NextCommit()
				if pos != want || ok != (want > committed) {
					t.Fatalf("step %d: NextCommit() = %d, %v, want %d (committed %d)", step, pos, ok, want, committed)
				}
				if p.Uncommitted() != len(model) {
					t.Fatalf("step %d: Uncommitted() = %d, want %d", step, p.Uncommitted(), len(model))
				}
			}
		})
	}
}

var (
	tp0 = TopicPartition{Topic: "words", Partition: 0}
	tp1 = TopicPartition{Topic: "words", Partition: 1}
	tpB = TopicPartition{Topic: "alpha", Partition: 7}
)

func mustOffsets(t *testing.T) *Offsets {
	t.Helper()
	o, err := NewOffsets(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func mustAssign(t *testing.T, o *Offsets, gen int32, committed map[TopicPartition]int64) {
	t.Helper()
	if err := o.Assign(gen, committed); err != nil {
		t.Fatalf("Assign(%d): %v", gen, err)
	}
}

func mustEmit(t *testing.T, o *Offsets, tp TopicPartition, offset int64) MessageID {
	t.Helper()
	id, ok := o.Emit(tp, offset, t0)
	if !ok {
		t.Fatalf("Emit(%v, %d) = false", tp, offset)
	}
	return id
}

func TestOffsetsGenerations(t *testing.T) {
	tests := []struct {
		name      string
		cfg       *Config
		run       func(t *testing.T, o *Offsets)
		wantStats Stats
	}{
		{
			name: "message ids carry the generation",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 3, map[TopicPartition]int64{tp0: 10})
				id := mustEmit(t, o, tp0, 10)
				if want := (MessageID{Topic: "words", Partition: 0, Offset: 10, Generation: 3}); id != want {
					t.Fatalf("Emit() = %v, want %v", id, want)
				}
				if gen, ok := o.Generation(); gen != 3 || !ok {
					t.Fatalf("Generation() = %d, %v", gen, ok)
				}
				if !o.Ack(id) {
					t.Fatal("Ack() = false")
				}
			},
			wantStats: Stats{Acked: 1},
		},
		{
			name: "acks of an older generation are dropped after a rebalance (STORM-2087)",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 1, map[TopicPartition]int64{tp0: 0})
				old := mustEmit(t, o, tp0, 0)
				mustAssign(t, o, 2, map[TopicPartition]int64{tp0: 0})
				if o.Ack(old) {
					t.Fatal("Ack(stale) = true")
				}
				if c, ok := o.NextCommit(); ok {
					t.Fatalf("NextCommit() = %v after a stale ack", c)
				}
				// The new generation replays offset 0 and may ack it.
				id := mustEmit(t, o, tp0, 0)
				if !o.Ack(id) {
					t.Fatal("Ack(current) = false")
				}
				c, ok := o.NextCommit()
				if !ok || c.Generation != 2 || c.Positions[tp0] != 1 {
					t.Fatalf("NextCommit() = %+v, %v", c, ok)
				}
			},
			wantStats: Stats{Acked: 1, Dropped: 1},
		},
		{
			name: "fails and dead-letter confirmations of an older generation are dropped",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 1, map[TopicPartition]int64{tp0: 0})
				old := mustEmit(t, o, tp0, 0)
				mustAssign(t, o, 2, map[TopicPartition]int64{tp0: 0})
				if got := o.Fail(old, t0); got != FailDropped {
					t.Fatalf("Fail(stale) = %v", got)
				}
				if o.DeadLettered(old) {
					t.Fatal("DeadLettered(stale) = true")
				}
				if due := dueRetries(o.Partition(tp0), t0); len(due) != 0 {
					t.Fatalf("due retries %v after a stale fail", due)
				}
			},
			wantStats: Stats{Dropped: 2},
		},
		{
			name: "an id from a newer generation than ours is dropped too",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 1, map[TopicPartition]int64{tp0: 0})
				mustEmit(t, o, tp0, 0)
				if o.Ack(MessageID{Topic: "words", Offset: 0, Generation: 2}) {
					t.Fatal("Ack(future) = true")
				}
			},
			wantStats: Stats{Dropped: 1},
		},
		{
			name: "acks before any assignment are dropped",
			run: func(t *testing.T, o *Offsets) {
				if o.Ack(MessageID{Topic: "words"}) {
					t.Fatal("Ack() = true")
				}
				if _, ok := o.Generation(); ok {
					t.Fatal("Generation() ok before Assign")
				}
				if _, ok := o.Emit(tp0, 0, t0); ok {
					t.Fatal("Emit() = true before Assign")
				}
			},
			wantStats: Stats{Dropped: 1},
		},
		{
			name: "revoked partitions drop acks and fails and emit nothing",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 1, map[TopicPartition]int64{tp0: 0, tp1: 0})
				a := mustEmit(t, o, tp0, 0)
				b := mustEmit(t, o, tp1, 0)
				c := mustEmit(t, o, tp1, 1)
				o.Revoke(tp1)
				if o.Ack(b) {
					t.Fatal("Ack(revoked) = true")
				}
				if got := o.Fail(c, t0); got != FailDropped {
					t.Fatalf("Fail(revoked) = %v", got)
				}
				if _, ok := o.Emit(tp1, 2, t0); ok {
					t.Fatal("Emit(revoked) = true")
				}
				if !o.Ack(a) {
					t.Fatal("Ack(owned) = false")
				}
				commit, ok := o.NextCommit()
				if want := map[TopicPartition]int64{tp0: 1}; !ok || !maps.Equal(commit.Positions, want) {
					t.Fatalf("NextCommit() = %+v, want %v", commit, want)
				}
				if got := o.Partitions(); !slices.Equal(got, []TopicPartition{tp0}) {
					t.Fatalf("Partitions() = %v", got)
				}
			},
			wantStats: Stats{Acked: 1, Dropped: 2},
		},
		{
			name: "a new assignment revokes partitions it does not name",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 1, map[TopicPartition]int64{tp0: 0, tp1: 0})
				id := mustEmit(t, o, tp1, 0)
				if !o.Ack(id) {
					t.Fatal("Ack() = false")
				}
				mustAssign(t, o, 2, map[TopicPartition]int64{tp0: 0})
				if o.Partition(tp1) != nil {
					t.Fatal("Partition(tp1) still tracked")
				}
				if _, ok := o.Emit(tp1, 1, t0); ok {
					t.Fatal("Emit(tp1) = true")
				}
			},
			// Counters of the revoked partition are kept.
			wantStats: Stats{Acked: 1},
		},
		{
			name: "a commit computed under an older generation is ignored",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 1, map[TopicPartition]int64{tp0: 0})
				if !o.Ack(mustEmit(t, o, tp0, 0)) {
					t.Fatal("Ack() = false")
				}
				c, ok := o.NextCommit()
				if !ok {
					t.Fatal("NextCommit() not ok")
				}
				mustAssign(t, o, 2, map[TopicPartition]int64{tp0: 0})
				if o.Committed(c) {
					t.Fatal("Committed(stale) = true")
				}
				if got := o.Partition(tp0).Position(); got != 0 {
					t.Fatalf("Position() = %d after a stale commit", got)
				}
			},
			wantStats: Stats{Acked: 1},
		},
		{
			name: "commits over several partitions",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 5, map[TopicPartition]int64{tp0: 0, tp1: 100, tpB: NoPosition})
				for _, off := range []int64{0, 1, 6, 7} {
					o.Ack(mustEmit(t, o, tp0, off))
				}
				mustEmit(t, o, tp1, 100) // in flight: tp1 does not advance
				o.Ack(mustEmit(t, o, tpB, 30))
				c, ok := o.NextCommit()
				want := map[TopicPartition]int64{tp0: 8, tpB: 31}
				if !ok || c.Generation != 5 || !maps.Equal(c.Positions, want) {
					t.Fatalf("NextCommit() = %+v, want %v", c, want)
				}
				if !o.Committed(c) {
					t.Fatal("Committed() = false")
				}
				if c, ok := o.NextCommit(); ok {
					t.Fatalf("NextCommit() = %+v after committing", c)
				}
				// A partition revoked between NextCommit and Committed is skipped.
				o.Ack(mustEmit(t, o, tp0, 8))
				c, _ = o.NextCommit()
				o.Revoke(tp0)
				if !o.Committed(c) {
					t.Fatal("Committed() = false")
				}
				if got := o.Partitions(); !slices.Equal(got, []TopicPartition{tpB, tp1}) {
					t.Fatalf("Partitions() = %v", got)
				}
			},
			wantStats: Stats{Acked: 6},
		},
		{
			name: "DeadLetter and RetryAt through Offsets drop stale ids",
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 1, map[TopicPartition]int64{tp0: 0})
				bad := mustEmit(t, o, tp0, 0)
				failed := mustEmit(t, o, tp0, 1)
				if !o.DeadLetter(bad) {
					t.Fatal("DeadLetter() = false")
				}
				if got := o.Fail(failed, t0); got != FailRetry {
					t.Fatalf("Fail() = %v", got)
				}
				if at, ok := o.RetryAt(failed); !ok || !at.Equal(t0) {
					t.Fatalf("RetryAt() = %v, %v", at, ok)
				}
				mustAssign(t, o, 2, map[TopicPartition]int64{tp0: 0})
				if _, ok := o.RetryAt(failed); ok {
					t.Fatal("RetryAt(stale) ok")
				}
				if o.DeadLetter(bad) {
					t.Fatal("DeadLetter(stale) = true")
				}
			},
			wantStats: Stats{Retries: 1, DeadLetters: 1, Dropped: 1},
		},
		{
			name: "dead letters through Offsets",
			cfg:  &Config{MaxUncommitted: 10, Retry: RetryConfig{MaxRetries: 0}},
			run: func(t *testing.T, o *Offsets) {
				mustAssign(t, o, 1, map[TopicPartition]int64{tp0: 0})
				id := mustEmit(t, o, tp0, 0)
				if got := o.Fail(id, t0); got != FailDeadLetter {
					t.Fatalf("Fail() = %v", got)
				}
				if !o.DeadLettered(id) {
					t.Fatal("DeadLettered() = false")
				}
				c, ok := o.NextCommit()
				if !ok || c.Positions[tp0] != 1 {
					t.Fatalf("NextCommit() = %+v, %v", c, ok)
				}
			},
			wantStats: Stats{DeadLetters: 1, DeadLettered: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				cfg = *tt.cfg
			}
			o, err := NewOffsets(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tt.run(t, o)
			if got := o.Stats(); got != tt.wantStats {
				t.Fatalf("Stats() = %+v, want %+v", got, tt.wantStats)
			}
		})
	}
}

func TestOffsetsAssignErrors(t *testing.T) {
	tests := []struct {
		name    string
		gen     int32
		parts   map[TopicPartition]int64
		wantErr error
	}{
		{"same generation", 4, map[TopicPartition]int64{tp0: 0}, ErrStaleGeneration},
		{"older generation", 3, map[TopicPartition]int64{tp0: 0}, ErrStaleGeneration},
		{"negative generation", -1, nil, ErrInvalidConfig},
		{"bad position", 5, map[TopicPartition]int64{tp0: -9}, ErrInvalidConfig},
		{"newer generation", 5, map[TopicPartition]int64{tp1: 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mustOffsets(t)
			mustAssign(t, o, 4, map[TopicPartition]int64{tp0: 0})
			id := mustEmit(t, o, tp0, 0)
			err := o.Assign(tt.gen, tt.parts)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Assign(%d) = %v, want %v", tt.gen, err, tt.wantErr)
			}
			if err != nil {
				// A refused assignment changes nothing.
				if gen, _ := o.Generation(); gen != 4 || !o.Ack(id) {
					t.Fatalf("assignment changed after a refused Assign: generation %d", gen)
				}
			}
		})
	}
	if _, err := NewOffsets(Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewOffsets(Config{}) = %v, want ErrInvalidConfig", err)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{tp0.String(), "words/0"},
		{MessageID{Topic: "t", Partition: 2, Offset: 9, Generation: 1}.String(), "t/2@9 (generation 1)"},
		{FailIgnored.String(), "ignored"},
		{FailRetry.String(), "retry"},
		{FailDeadLetter.String(), "dead-letter"},
		{FailDropped.String(), "dropped"},
		{FailOutcome(42).String(), "FailOutcome(42)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestFindSlot(t *testing.T) {
	slots := func(offs ...int64) []slot {
		out := make([]slot, len(offs))
		for i, o := range offs {
			out[i] = slot{off: o, state: inFlight}
		}
		return out
	}
	tests := []struct {
		name   string
		slots  []slot
		offset int64
		want   int
		found  bool
	}{
		{"empty", nil, 5, 0, false},
		{"below the first", slots(3, 4, 5), 2, 0, false},
		{"above the last", slots(3, 4, 5), 6, 3, false},
		{"contiguous first", slots(3, 4, 5), 3, 0, true},
		{"contiguous middle", slots(3, 4, 5), 4, 1, true},
		{"contiguous last", slots(3, 4, 5), 5, 2, true},
		{"after a gap", slots(0, 1, 6, 7), 6, 2, true},
		{"last after a gap", slots(0, 1, 6, 7), 7, 3, true},
		{"in a gap", slots(0, 1, 6, 7), 3, 2, false},
		{"first of the gap", slots(0, 1, 6, 7), 2, 2, false},
		{"last of the gap", slots(0, 1, 6, 7), 5, 2, false},
		{"guess past the end", slots(0, 10, 20), 15, 2, false},
		{"guess past the end, found", slots(0, 10, 20), 10, 1, true},
		{"one slot, hit", slots(9), 9, 0, true},
		{"one slot, below", slots(9), 8, 0, false},
		{"one slot, above", slots(9), 10, 1, false},
		{"big gaps", slots(100, 1_000, 1_000_000, 1_000_001), 1_000_000, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := findSlot(tt.slots, tt.offset)
			if got != tt.want || found != tt.found {
				t.Errorf("findSlot(%v, %d) = %d, %v; want %d, %v", tt.slots, tt.offset, got, found, tt.want, tt.found)
			}
			// The same answer as a plain binary search.
			i, ok := slices.BinarySearchFunc(tt.slots, tt.offset, func(s slot, off int64) int { return cmp.Compare(s.off, off) })
			if i != got || ok != found {
				t.Errorf("binary search says %d, %v", i, ok)
			}
		})
	}
}

// Records first seen below the highest emitted offset (after a seek back)
// are inserted in order, hold back the commit, and are looked up like the
// others.
func TestPartitionOffsetsOutOfOrderEmits(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			p, err := NewPartitionOffsets(0, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			// A random subset of [0, 200), emitted in random order.
			var offs []int64
			for off := range int64(200) {
				if rng.IntN(4) > 0 {
					offs = append(offs, off)
				}
			}
			rng.Shuffle(len(offs), func(i, j int) { offs[i], offs[j] = offs[j], offs[i] })
			acked := map[int64]bool{}
			for i, off := range offs {
				if !p.Emit(off, t0) {
					t.Fatalf("Emit(%d) = false", off)
				}
				if p.Emit(off, t0) {
					t.Fatalf("second Emit(%d) = true", off)
				}
				// Ack some earlier one.
				if j := rng.IntN(i + 1); !acked[offs[j]] {
					if !p.Ack(offs[j]) {
						t.Fatalf("Ack(%d) = false", offs[j])
					}
					acked[offs[j]] = true
				}
				if !slices.IsSortedFunc(p.slots, func(a, b slot) int { return cmp.Compare(a.off, b.off) }) {
					t.Fatalf("slots out of order after Emit(%d)", off)
				}
				// The commit position: below the first emitted offset not acked.
				emitted := slices.Sorted(slices.Values(offs[:i+1]))
				want := int64(0)
				for _, o := range emitted {
					if !acked[o] {
						break
					}
					want = o + 1
				}
				if pos, _ := p.NextCommit(); pos != want {
					t.Fatalf("after Emit(%d): NextCommit() = %d, want %d", off, pos, want)
				}
			}
			// Ack the rest: everything commits, and nothing is left.
			for _, off := range offs {
				if !acked[off] && !p.Ack(off) {
					t.Fatalf("Ack(%d) = false", off)
				}
			}
			want := slices.Max(offs) + 1
			if pos, ok := p.NextCommit(); pos != want || !ok {
				t.Fatalf("NextCommit() = %d, %v; want %d, true", pos, ok, want)
			}
			p.Committed(want)
			if p.Uncommitted() != 0 || p.Position() != want {
				t.Fatalf("after Committed(%d): Uncommitted() = %d, Position() = %d", want, p.Uncommitted(), p.Position())
			}
		})
	}
}
