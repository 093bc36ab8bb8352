package actors_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/internal/bubble"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

// countSpout emits n tuples with message ids.
type countSpout struct {
	topology.BaseSpout
	n, i int
	out  topology.SpoutCollector
}

func (s *countSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *countSpout) NextTuple() {
	if s.i < s.n {
		s.out.Emit(topology.Values{s.i}, s.i)
		s.i++
	}
}

// laterBolt acks every tuple after its Execute, from a submitted function.
type laterBolt struct {
	tc  *topology.Context
	out topology.OutputCollector
}

func (b *laterBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.tc, b.out = tc, c
	tc.Gauges().Set("held", 1, "kind", "test")
	return nil
}

func (b *laterBolt) Execute(t topology.Tuple) { b.tc.Submit(func() { b.out.Ack(t) }) }
func (b *laterBolt) Cleanup() error           { return nil }

// TestMetricsInALocalTopology runs spout -> split -> {count, audit, later}
// and checks that every tuple is in the latency sums and on its edges.
func TestMetricsInALocalTopology(t *testing.T) {
	for _, timed := range []bool{true, false} {
		t.Run(map[bool]string{true: "latency on", false: "latency off"}[timed], func(t *testing.T) {
			testMetrics(t, timed)
		})
	}
}

func testMetrics(t *testing.T, timed bool) {
	const n = 2000
	var counted, audited atomic.Int64
	b := topology.NewBuilder("metrics")
	b.SetSpout("spout", func() topology.Spout { return &countSpout{n: n} }, 1).Output("i")
	b.SetBasicBolt("split", func() topology.BasicBolt {
		return topology.BoltFunc(func(tu topology.Tuple, c topology.BasicCollector) error {
			c.Emit(topology.Values{tu.Values()[0]})
			c.Emit(topology.Values{tu.Values()[0]})
			c.EmitStream("odd", topology.Values{tu.Values()[0]})
			return nil
		})
	}, 2).ShuffleGrouping("spout").Output("i").OutputStream("odd", "i")
	b.SetBasicBolt("count", func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { counted.Add(1); return nil })
	}, 2).ShuffleGrouping("split")
	b.SetBasicBolt("audit", func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { audited.Add(1); return nil })
	}, 1).ShuffleGrouping("split").Input("split", "odd", topology.ShuffleGrouping())
	b.SetBolt("later", func() topology.Bolt { return &laterBolt{} }, 1).Input("split", "odd", topology.ShuffleGrouping())
	topo, err := b.Build(topology.Config{topology.MetricsLatency: timed})
	if err != nil {
		t.Fatal(err)
	}
	c, err := local.Start(context.Background(), topo)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop(context.Background()) }()
	r := c.Topology()
	sum := func(comp topology.ComponentID) (total actors.Counts) {
		for _, s := range r.Stats() {
			if s.Component == comp {
				total = total.Plus(s.Window(10 * time.Minute))
			}
		}
		return total
	}
	poll.Until(t, 30*time.Second, "every tree completed", func() bool { return sum("spout").Completed == n })
	poll.Until(t, 30*time.Second, "every tuple acked", func() bool {
		return sum("split").Acked == n && sum("count").Acked == 2*n && sum("audit").Acked == 3*n && sum("later").Acked == n
	})

	if s := sum("spout"); s.CompleteNanos <= 0 || s.Span <= 0 {
		t.Errorf("spout: %+v, want complete latencies and a span", s)
	}
	for comp, want := range map[topology.ComponentID]int64{"split": n, "count": 2 * n, "audit": 3 * n, "later": n} {
		s := sum(comp)
		if s.Executed != want || s.ExecuteNanos <= 0 {
			t.Errorf("%s: executed %d in %v, want %d in some time", comp, s.Executed, time.Duration(s.ExecuteNanos), want)
		}
		switch {
		case !timed && (s.Processed != 0 || s.ProcessNanos != 0):
			t.Errorf("%s: latency off, but %d processed in %v", comp, s.Processed, time.Duration(s.ProcessNanos))
		case timed && (s.Processed != want || s.ProcessNanos <= 0):
			t.Errorf("%s: processed %d in %v, want %d in some time", comp, s.Processed, time.Duration(s.ProcessNanos), want)
		case timed && comp != "later" && s.ProcessNanos > s.ExecuteNanos:
			// Acked inside Execute: processing is part of executing.
			t.Errorf("%s: process time %v > execute time %v", comp, time.Duration(s.ProcessNanos), time.Duration(s.ExecuteNanos))
		}
	}

	edges := map[topology.ComponentID][]actors.EdgeCount{}
	for _, s := range r.Stats() {
		for _, e := range s.Edges() {
			i := slices.IndexFunc(edges[s.Component], func(x actors.EdgeCount) bool { return x.Stream == e.Stream && x.Consumer == e.Consumer })
			if i < 0 {
				edges[s.Component] = append(edges[s.Component], e)
			} else {
				edges[s.Component][i].Transferred += e.Transferred
			}
		}
		if s.Started().IsZero() && s.Component != topology.TrackerComponent {
			t.Errorf("task %d (%s): Started is zero", s.Task, s.Component)
		}
	}
	wantEdges := map[topology.ComponentID][]actors.EdgeCount{
		"spout": {{Stream: topology.DefaultStream, Consumer: "split", Transferred: n}},
		"split": {
			{Stream: topology.DefaultStream, Consumer: "audit", Transferred: 2 * n},
			{Stream: topology.DefaultStream, Consumer: "count", Transferred: 2 * n},
			{Stream: "odd", Consumer: "audit", Transferred: n},
			{Stream: "odd", Consumer: "later", Transferred: n},
		},
	}
	for comp, want := range wantEdges {
		if got := edges[comp]; !slices.Equal(got, want) {
			t.Errorf("%s edges %v, want %v", comp, got, want)
		}
	}

	later := topo.Component("later").Tasks[0]
	gauges := r.Env().Stats(later).Gauges()
	if len(gauges) != 1 || gauges[0].Name != "held" || gauges[0].Labels["kind"] != "test" || gauges[0].Value != 1 {
		t.Errorf("later's gauges %+v, want held{kind=test} 1", gauges)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g := r.Env().Stats(later).Gauges(); len(g) != 0 {
		t.Errorf("gauges after stop: %+v, want none", g)
	}
}

// TestWindowsFollowTheTopologysClock runs a topology on the fake clock
// (bubble) for 11 minutes and a half: the trees it completed in its first
// moments are in the 10 minute window until they are older than it, and in
// the 3 hour and 1 day windows, which span the topology's whole life.
func TestWindowsFollowTheTopologysClock(t *testing.T) {
	bubble.Run(t, func(t *testing.T) {
		const n = 100
		b := topology.NewBuilder("windows")
		b.SetSpout("spout", func() topology.Spout { return &countSpout{n: n} }, 1).Output("i")
		b.SetBasicBolt("sink", func() topology.BasicBolt {
			return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
		}, 1).ShuffleGrouping("spout")
		topo, err := b.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := local.Start(context.Background(), topo)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Stop(context.Background()) })
		begin := time.Now()
		spout := c.Topology().Env().Stats(topo.Component("spout").Tasks[0])
		poll.Until(t, time.Minute, "every tree acked", func() bool { return spout.Window(0).Acked == n })
		c.Topology().Deactivate() // nothing more to emit; the clock goes on
		time.Sleep(5 * time.Minute)
		if w := spout.Window(10 * time.Minute); w.Acked != n || w.Span != time.Since(begin) {
			t.Errorf("after 5m: 10m window acked %d over %v, want %d over the whole %v", w.Acked, w.Span, n, time.Since(begin))
		}
		time.Sleep(6*time.Minute + 30*time.Second)
		age := time.Since(begin)
		for _, tt := range []struct {
			d          time.Duration
			acked      int64
			minS, maxS time.Duration
		}{
			{10 * time.Minute, 0, 10*time.Minute - 30*time.Second, 10 * time.Minute}, // one 30 s step short at most
			{3 * time.Hour, n, age, age},
			{24 * time.Hour, n, age, age},
			{0, n, age, age},
		} {
			if w := spout.Window(tt.d); w.Acked != tt.acked || w.Span < tt.minS || w.Span > tt.maxS {
				t.Errorf("after %v: %v window acked %d over %v, want %d over %v..%v", age, tt.d, w.Acked, w.Span, tt.acked, tt.minS, tt.maxS)
			}
		}
	})
}
