package actors

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// expired runs expire(deadline) and returns the ids it expired, in order.
func expired(e *expiring[string], deadline int64) []uint64 {
	var ids []uint64
	e.expire(deadline, func(id uint64, _ string) { ids = append(ids, id) })
	return ids
}

func TestExpiringPutGetTakeUpdate(t *testing.T) {
	e := newExpiring[string]()
	if _, ok := e.get(1); ok {
		t.Fatal("get on an empty map found something")
	}
	e.put(1, "a", 10)
	e.put(2, "b", 20)
	if v, ok := e.get(1); !ok || v != "a" || e.len() != 2 {
		t.Fatalf("get(1) = %q, %v; len %d", v, ok, e.len())
	}

	e.update(1, "a2")
	if v, _ := e.get(1); v != "a2" {
		t.Fatalf("get after update = %q", v)
	}
	e.update(3, "nobody") // updating an unknown id adds nothing
	if _, ok := e.get(3); ok || e.len() != 2 {
		t.Fatalf("update of an unknown id added it (len %d)", e.len())
	}

	v, added, ok := e.take(1)
	if !ok || v != "a2" || added != 10 {
		t.Fatalf("take(1) = %q, %d, %v; want a2, 10, true", v, added, ok)
	}
	if _, _, ok := e.take(1); ok {
		t.Fatal("second take(1) found it")
	}
	if _, ok := e.get(1); ok || e.len() != 1 {
		t.Fatalf("after take: len %d", e.len())
	}

	// put replaces the value and restarts the time.
	e.put(2, "b2", 30)
	if v, added, ok := e.take(2); !ok || v != "b2" || added != 30 || e.len() != 0 {
		t.Fatalf("take(2) = %q, %d, %v; len %d", v, added, ok, e.len())
	}
}

func TestExpiringExpireDeadline(t *testing.T) {
	e := newExpiring[string]()
	for i := range uint64(10) {
		e.put(100+i, "v", int64(i*10)) // added at 0, 10, ..., 90
	}
	tests := []struct {
		deadline int64
		want     []uint64
	}{
		{-1, nil},
		{0, []uint64{100}}, // added == deadline expires
		{9, nil},
		{35, []uint64{101, 102, 103}},
		{40, []uint64{104}},
		{1000, []uint64{105, 106, 107, 108, 109}},
		{2000, nil},
	}
	for _, tt := range tests {
		if got := expired(e, tt.deadline); !slices.Equal(got, tt.want) {
			t.Errorf("expire(%d) = %v, want %v", tt.deadline, got, tt.want)
		}
	}
	if e.len() != 0 {
		t.Errorf("len = %d", e.len())
	}
}

func TestExpiringUpdateKeepsTime(t *testing.T) {
	e := newExpiring[string]()
	e.put(1, "a", 0)
	e.update(1, "b")
	var got []string
	e.expire(0, func(_ uint64, v string) { got = append(got, v) })
	if !slices.Equal(got, []string{"b"}) {
		t.Errorf("expire(0) gave %v, want [b]: update keeps the entry's time and its new value expires", got)
	}
}

func TestExpiringStaleQueueEntries(t *testing.T) {
	t.Run("re-put later", func(t *testing.T) {
		e := newExpiring[string]()
		e.put(1, "a", 0)
		e.put(1, "b", 50)
		if got := expired(e, 10); got != nil {
			t.Fatalf("expire(10) = %v: the stale queue entry of the first put expired the re-put id", got)
		}
		if v, ok := e.get(1); !ok || v != "b" {
			t.Fatalf("get(1) = %q, %v", v, ok)
		}
		if got := expired(e, 50); !slices.Equal(got, []uint64{1}) {
			t.Fatalf("expire(50) = %v, want [1]", got)
		}
	})

	t.Run("taken then re-put", func(t *testing.T) {
		e := newExpiring[string]()
		e.put(1, "a", 0)
		e.take(1)
		e.put(1, "b", 20)
		if got := expired(e, 10); got != nil {
			t.Fatalf("expire(10) = %v", got)
		}
		if got := expired(e, 20); !slices.Equal(got, []uint64{1}) {
			t.Fatalf("expire(20) = %v, want [1]", got)
		}
	})

	t.Run("re-put at the same time expires once", func(t *testing.T) {
		e := newExpiring[string]()
		e.put(1, "a", 5)
		e.take(1)
		e.put(1, "b", 5)
		e.put(1, "c", 5)
		var got []string
		e.expire(5, func(_ uint64, v string) { got = append(got, v) })
		if !slices.Equal(got, []string{"c"}) {
			t.Fatalf("expire(5) called fn with %v, want [c]", got)
		}
	})

	t.Run("taken entries do not expire", func(t *testing.T) {
		e := newExpiring[string]()
		e.put(1, "a", 0)
		e.put(2, "b", 1)
		e.take(1)
		if got := expired(e, 100); !slices.Equal(got, []uint64{2}) {
			t.Fatalf("expire = %v, want [2]", got)
		}
	})
}

// Entries taken early stay in the FIFO; compaction must keep it proportional
// to the live entries however long the map is used.
func TestExpiringCompactionBoundsQueue(t *testing.T) {
	tests := []struct {
		name string
		live int // entries kept in the map throughout
	}{
		{"empty between cycles", 0},
		{"a few live entries", 10},
		{"many live entries", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExpiring[string]()
			for i := range tt.live {
				e.put(uint64(1_000_000+i), "live", 0)
			}
			bound := 2*tt.live + 4096
			most := 0
			for i := range 100_000 {
				e.put(uint64(i), "v", int64(i))
				e.take(uint64(i))
				most = max(most, len(e.queue))
			}
			if most >= bound {
				t.Errorf("queue reached %d entries for %d live ones, want < %d", most, e.len(), bound)
			}
			if e.len() != tt.live {
				t.Errorf("len = %d, want %d", e.len(), tt.live)
			}
			// The live entries survived every compaction and still expire.
			n := 0
			e.expire(1<<62, func(id uint64, v string) {
				if v != "live" {
					t.Errorf("expired %d = %q", id, v)
				}
				n++
			})
			if n != tt.live {
				t.Errorf("expired %d live entries, want %d", n, tt.live)
			}
		})
	}
}

// In a steady sliding window — entries put continuously, most of them
// expiring rather than being taken (a spout whose trees time out, a ledger
// whose trees are never completed) — the FIFO must stay proportional to the
// map, not grow with every put ever made.
func TestExpiringSlidingWindowBoundsQueue(t *testing.T) {
	tests := []struct {
		name     string
		takeEach int // take every takeEach-th entry early; 0: none
	}{
		{"every entry expires", 0},
		{"half the entries expire", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExpiring[string]()
			const window = 100
			most := 0
			for now := range int64(100_000) {
				id := uint64(now)
				e.put(id, "v", now)
				if tt.takeEach > 0 && now%int64(tt.takeEach) == 0 {
					e.take(id)
				}
				e.expire(now-window, func(uint64, string) {})
				most = max(most, len(e.queue))
			}
			if e.len() > window+1 {
				t.Fatalf("len = %d, want <= %d", e.len(), window+1)
			}
			// Regression: the consumed head of the FIFO must be reclaimed in a
			// steady sliding window, or every key ever put stays in memory.
			if most >= 4096 {
				t.Errorf("queue reached %d entries for at most %d live ones: the consumed head is never reclaimed", most, window+1)
			}
		})
	}
}

// expire calls fn exactly once per live entry, with its latest value, and
// never for taken or replaced ones: checked against a plain map under a
// random mix of operations.
func TestExpiringExpireOncePerLiveEntry(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	e := newExpiring[string]()
	type entry struct {
		v     string
		added int64
	}
	model := map[uint64]entry{}
	calls := map[uint64]int{}
	now := int64(0)
	for step := range 50_000 {
		now += int64(rng.IntN(3))
		id := uint64(rng.IntN(3000))
		switch op := rng.IntN(10); {
		case op < 5:
			v := string(rune('a' + step%26))
			e.put(id, v, now)
			model[id] = entry{v, now}
		case op < 7:
			_, _, ok := e.take(id)
			if _, want := model[id]; ok != want {
				t.Fatalf("step %d: take(%d) ok = %v, want %v", step, id, ok, want)
			}
			delete(model, id)
		case op < 8:
			v := "u" + string(rune('a'+step%26))
			e.update(id, v)
			if m, ok := model[id]; ok {
				m.v = v
				model[id] = m
			}
		default:
			deadline := now - int64(rng.IntN(500))
			e.expire(deadline, func(id uint64, v string) {
				calls[id]++
				m, ok := model[id]
				if !ok || m.v != v || m.added > deadline {
					t.Fatalf("step %d: expire(%d) gave %d=%q, model has %+v (present %v)", step, deadline, id, v, m, ok)
				}
				delete(model, id)
			})
			for id, m := range model {
				if m.added <= deadline {
					t.Fatalf("step %d: %d added at %d survived expire(%d)", step, id, m.added, deadline)
				}
			}
		}
		if e.len() != len(model) {
			t.Fatalf("step %d: len = %d, model %d", step, e.len(), len(model))
		}
	}
	// Everything left expires, each exactly once.
	left := len(model)
	clear(calls)
	e.expire(now, func(id uint64, v string) {
		calls[id]++
		if model[id].v != v {
			t.Errorf("final expire: %d = %q, want %q", id, v, model[id].v)
		}
	})
	if len(calls) != left {
		t.Errorf("final expire called fn for %d ids, want %d", len(calls), left)
	}
	for id, n := range calls {
		if n != 1 {
			t.Errorf("fn called %d times for %d", n, id)
		}
	}
	if e.len() != 0 {
		t.Errorf("len = %d after expiring everything", e.len())
	}
}
