package topoaccess_test

import (
	"slices"
	"testing"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// TestHooks checks that package topology filled every hook: the tuple data
// carries its header and values, and the context's Submit and Gauges are
// the runtime's.
func TestHooks(t *testing.T) {
	h := &topology.TupleHeader{Component: "c", Task: 3, Stream: "s", Fields: topology.Fields{"a"}}
	d := topoaccess.MakeTupleData(h, topology.Values{1})
	if d.SourceComponent() != "c" || d.SourceTask() != 3 || d.Stream() != "s" || !slices.Equal(d.Values(), topology.Values{1}) {
		t.Errorf("tuple data %v from %s/%d on %s", d.Values(), d.SourceComponent(), d.SourceTask(), d.Stream())
	}
	var tc topology.Context
	var ran bool
	topoaccess.SetSubmit(&tc, func(fn func()) bool { fn(); return true })
	if !tc.Submit(func() { ran = true }) || !ran {
		t.Errorf("Submit did not reach the runtime's submit")
	}
	var g topology.Gauges
	topoaccess.SetGauges(&tc, &g)
	tc.Gauges().Set("x", 1)
	if v, ok := g.Get("x"); !ok || v != 1 {
		t.Errorf("gauge x = %v, %v in the runtime's gauges", v, ok)
	}
}
