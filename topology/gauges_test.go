package topology_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

func TestGauges(t *testing.T) {
	var g topology.Gauges
	g.Set("lag", 5, "topic", "a", "partition", "0")
	g.Set("lag", 7, "partition", "1", "topic", "a")
	g.Set("lag", 6, "partition", "0", "topic", "a") // the same gauge, labels in another order
	g.Set("odd", 1, "key")
	if v, ok := g.Get("lag", "topic", "a", "partition", "0"); !ok || v != 6 {
		t.Errorf("lag{a,0} = %v, %v; want 6", v, ok)
	}
	all := g.All()
	if len(all) != 3 || all[0].Value != 6 || all[1].Value != 7 || all[2].Name != "odd" || all[2].Labels["key"] != "" {
		t.Errorf("All = %+v", all)
	}
	all[0].Labels["topic"] = "changed" // a copy
	g.Delete("lag", "topic", "a", "partition", "1")
	if _, ok := g.Get("lag", "topic", "a", "partition", "1"); ok {
		t.Error("deleted gauge still there")
	}
	if got := g.All(); len(got) != 2 || got[0].Labels["topic"] != "a" {
		t.Errorf("All after Delete = %+v", got)
	}
	g.Reset()
	if got := g.All(); len(got) != 0 {
		t.Errorf("All after Reset = %+v", got)
	}
}

func TestGaugesConcurrent(t *testing.T) {
	var g topology.Gauges
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 1000 {
				g.Set("x", float64(j), "i", string(rune('a'+i)))
				_ = g.All()
			}
		})
	}
	wg.Wait()
	if got := g.All(); len(got) != 4 {
		t.Errorf("%d gauges, want 4", len(got))
	}
}

func TestContextGauges(t *testing.T) {
	var tc topology.Context // outside a runtime
	tc.Gauges().Set("x", 1)
	if v, ok := tc.Gauges().Get("x"); !ok || v != 1 {
		t.Errorf("x = %v, %v", v, ok)
	}
	var shared topology.Gauges
	topoaccess.SetGauges(&tc, &shared)
	tc.Gauges().Set("y", 2)
	if v, _ := shared.Get("y"); v != 2 {
		t.Errorf("the runtime's gauges did not get y")
	}
}

// TestGaugesBoundPerName: a name keeps at most MaxGaugesPerName gauges;
// existing ones still update, other names are not affected, and Delete and
// Reset give room again.
func TestGaugesBoundPerName(t *testing.T) {
	var g topology.Gauges
	for i := range topology.MaxGaugesPerName {
		if !g.Set("w", 1, "key", strconv.Itoa(i)) {
			t.Fatalf("gauge %d refused", i)
		}
	}
	if g.Set("w", 1, "key", "over") {
		t.Fatal("a gauge beyond the bound kept")
	}
	if !g.Set("w", 2, "key", "0") || !g.Set("other", 1) {
		t.Fatal("an existing gauge or another name refused")
	}
	g.Delete("w", "key", "0")
	g.Delete("w", "key", "never set") // must not free a place
	if !g.Set("w", 1, "key", "over") || g.Set("w", 1, "key", "over2") {
		t.Fatal("Delete did not give exactly one place back")
	}
	g.Reset()
	if !g.Set("w", 1, "key", "over2") {
		t.Fatal("Reset did not give room again")
	}
}
