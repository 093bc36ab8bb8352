package multilang

import (
	"testing"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// TestPoisonMemory: a task's tracker passes from one instance to the next
// (take after give), per task; a nil memory (NewShellBolt alone) and a
// changed threshold start afresh.
func TestPoisonMemory(t *testing.T) {
	hdr := &topology.TupleHeader{Component: "words", Stream: topology.DefaultStream, Fields: topology.Fields{"word"}}
	data := topoaccess.MakeTupleData(hdr, topology.Values{"raise"})
	poison := &data

	m := &poisonMemory{}
	p := m.take(3, DefaultDeadLetterAfter)
	p.record(poison, "died")
	m.give(3, p)
	if q := m.take(4, DefaultDeadLetterAfter); q.active() {
		t.Errorf("task 4 got task 3's tracker")
	}
	q := m.take(3, DefaultDeadLetterAfter)
	if q != p || q.lookup(q.key(poison)).count != 1 {
		t.Errorf("task 3's next instance does not remember the death")
	}
	if again := m.take(3, DefaultDeadLetterAfter); again == q {
		t.Errorf("a tracker taken twice: two instances would share it")
	}
	m.give(3, q)
	if r := m.take(3, 1); r.active() {
		t.Errorf("a tracker kept across a changed threshold")
	}
	var none *poisonMemory
	none.give(3, p)
	if r := none.take(3, DefaultDeadLetterAfter); r == p || r.active() {
		t.Errorf("a nil memory remembered")
	}
}
