package kafka

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/IBM/sarama"
)

func heldAt(off int64) held {
	return held{msg: &sarama.ConsumerMessage{Offset: off}}
}

// checkHeld fails t unless r holds exactly want (offset -> present) and
// keeps its invariants: ascending offsets from head on, a finished front
// before it, a true count.
func checkHeld(t *testing.T, where string, r *heldRecords, want map[int64]bool) {
	t.Helper()
	from := r.items[r.head:]
	if !slices.IsSortedFunc(from, func(a, b heldItem) int { return int(a.off - b.off) }) {
		t.Fatalf("%s: items from head %d out of order: %v", where, r.head, r.items)
	}
	for i := 1; i < len(from); i++ {
		if from[i].off == from[i-1].off {
			t.Fatalf("%s: offset %d twice", where, from[i].off)
		}
	}
	for _, it := range r.items[:r.head] {
		if it.h.msg != nil {
			t.Fatalf("%s: item %d before head %d holds a record", where, it.off, r.head)
		}
	}
	live := 0
	for _, it := range r.items {
		if it.h.msg != nil {
			live++
			if !want[it.off] {
				t.Fatalf("%s: holds %d, which it should not", where, it.off)
			}
			if it.h.msg.Offset != it.off {
				t.Fatalf("%s: item %d holds the record of %d", where, it.off, it.h.msg.Offset)
			}
		}
	}
	if live != r.len() || live != len(want) {
		t.Fatalf("%s: %d items hold records, len() = %d, want %d", where, live, r.len(), len(want))
	}
	for off := range want {
		if h, ok := r.get(off); !ok || h.msg.Offset != off {
			t.Fatalf("%s: get(%d) = %v, %v", where, off, h.msg, ok)
		}
	}
}

func TestHeldRecords(t *testing.T) {
	// Each script line: "put 1 2 3", "rm 2", "get 5" (held), "get! 5" (not
	// held); then the held offsets must be exactly the ones put and not
	// removed.
	tests := []struct {
		name   string
		script string
		items  int // len(items) at the end
	}{
		{"empty", ``, 0},
		{"in order, finished in order", "put 0 1 2 3\nrm 0 1 2 3\nget! 0", 0},
		{"the front is cut", "put 0 1 2 3\nrm 0 1\nget 2 3\nget! 0 1", 4},
		{"a hole in the middle stays", "put 0 1 2 3\nrm 1 2\nget 0 3", 4},
		{"gaps", "put 0 1 6 7\nget 6 7\nget! 2 5 8\nrm 6\nget 0 1 7", 4},
		{"a seek back inserts", "put 5 6 9\nput 7\nput 2\nget 2 5 6 7 9", 5},
		{"put again replaces", "put 1 2\nput 1\nget 1 2", 2},
		{"a finished item is reused", "put 1 2 3\nrm 2\nput 2\nget 1 2 3", 3},
		{"remove twice", "put 1 2\nrm 1\nrm 1\nget 2", 2},
		{"remove what was never held", "put 1 2\nrm 9 0\nget 1 2", 2},
		{"all finished resets", "put 10 11\nrm 11 10\nput 3\nget 3", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := new(heldRecords)
			want := map[int64]bool{}
			for _, line := range strings.Split(tt.script, "\n") {
				f := strings.Fields(line)
				if len(f) == 0 {
					continue
				}
				for _, a := range f[1:] {
					off, err := strconv.ParseInt(a, 10, 64)
					if err != nil {
						t.Fatal(err)
					}
					switch f[0] {
					case "put":
						r.put(off, heldAt(off))
						want[off] = true
					case "rm":
						r.remove(off)
						delete(want, off)
					case "get", "get!":
						if _, ok := r.get(off); ok != (f[0] == "get") {
							t.Fatalf("%q: get(%d) = %v", line, off, ok)
						}
					}
				}
				checkHeld(t, line, r, want)
			}
			if len(r.items) != tt.items {
				t.Errorf("len(items) = %d, want %d: %v", len(r.items), tt.items, r.items)
			}
		})
	}
}

func TestHeldRecordsNil(t *testing.T) {
	var r *heldRecords
	r.put(1, heldAt(1))
	r.remove(1)
	if _, ok := r.get(1); ok || r.len() != 0 {
		t.Fatal("a nil heldRecords holds something")
	}
}

// A spout's pattern: offsets put in order with gaps, finished in about that
// order, a few put again after a seek back; checked against a map. The
// items stay few when records finish: the front is cut and reused.
func TestHeldRecordsAgainstModel(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			r := new(heldRecords)
			want := map[int64]bool{}
			next := int64(0)
			for step := range 3000 {
				switch op := rng.IntN(10); {
				case op < 5:
					next += 1 + int64(rng.IntN(4)/3*rng.IntN(50))
					r.put(next, heldAt(next))
					want[next] = true
				case op < 9:
					// Finish one of the oldest few.
					offs := slices.Sorted(func(yield func(int64) bool) {
						for off := range want {
							if !yield(off) {
								return
							}
						}
					})
					if len(offs) > 0 {
						off := offs[rng.IntN(min(len(offs), 4))]
						r.remove(off)
						delete(want, off)
					}
				default:
					// A seek back: an offset below the newest, maybe held.
					if next > 0 {
						off := next - int64(rng.IntN(int(min(next, 30))))
						r.put(off, heldAt(off))
						want[off] = true
					}
				}
				if step%50 == 0 || step == 2999 {
					checkHeld(t, fmt.Sprintf("step %d", step), r, want)
				}
				if live := len(r.items) - r.head; live > 4*len(want)+200 {
					t.Fatalf("step %d: %d items after head for %d held", step, live, len(want))
				}
			}
		})
	}
}
