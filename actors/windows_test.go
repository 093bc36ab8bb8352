package actors

import (
	"slices"
	"testing"
	"time"

	"github.com/squall-streams/squall/topology"
)

// run drives s's counters and windows with a fake clock from start to end:
// at every tick the task has executed one tuple per elapsed millisecond
// and spent half the time in Execute, then the clock samples.
func run(s *TaskStats, start, end time.Time, tick time.Duration) {
	for now := start.Add(tick); !now.After(end); now = now.Add(tick) {
		ms := now.Sub(start).Milliseconds()
		s.Executed.Store(ms)
		s.ExecuteNanos.Store(int64(now.Sub(start)) / 2)
		s.sampleWindows(now)
	}
}

func TestWindows(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		age      time.Duration // how long the task ran
		tick     time.Duration // the clock's tick
		window   time.Duration
		min, max time.Duration // the span covered
	}{
		{"younger than the window", 5 * time.Minute, time.Second, 10 * time.Minute, 5 * time.Minute, 5 * time.Minute},
		{"10m of 15m, ticks on steps", 15 * time.Minute, time.Second, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute},
		{"10m, ticks off steps", 15*time.Minute + 7*time.Second, 700 * time.Millisecond, 10 * time.Minute, 9*time.Minute + 30*time.Second, 10 * time.Minute},
		{"10m of 2 days", 48 * time.Hour, 10 * time.Second, 10 * time.Minute, 9*time.Minute + 30*time.Second, 10 * time.Minute},
		{"3h of 5h", 5 * time.Hour, 5 * time.Second, 3 * time.Hour, 3 * time.Hour, 3 * time.Hour},
		{"3h, ticks off steps", 5*time.Hour + 4*time.Minute, 7 * time.Second, 3 * time.Hour, 2*time.Hour + 50*time.Minute, 3 * time.Hour},
		{"1d of 30h", 30*time.Hour + 20*time.Minute, 10 * time.Second, 24 * time.Hour, 23 * time.Hour, 24 * time.Hour},
		{"1d of 23h", 23 * time.Hour, 10 * time.Second, 24 * time.Hour, 23 * time.Hour, 23 * time.Hour},
		{"all time", 30 * time.Hour, 10 * time.Second, 0, 30 * time.Hour, 30 * time.Hour},
		{"shorter than a step: since the last sample", 15*time.Minute + 20*time.Second, time.Second, 10 * time.Second, 20 * time.Second, 20 * time.Second},
		{"shorter than a step, a sample inside", 15*time.Minute + 5*time.Second, time.Second, 10 * time.Second, 5 * time.Second, 5 * time.Second},
		{"any length: 1h", 5 * time.Hour, 5 * time.Second, time.Hour, 50 * time.Minute, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &TaskStats{}
			s.markStarted(t0)
			end := t0.Add(tt.age)
			run(s, t0, end, tt.tick)
			// The clock's last tick may fall before end: read at the last tick.
			now := t0.Add(tt.age / tt.tick * tt.tick)
			c := s.window(tt.window, now)
			if c.Span < tt.min || c.Span > tt.max {
				t.Errorf("Span = %v, want %v..%v", c.Span, tt.min, tt.max)
			}
			// Exact, not sampled: one tuple per millisecond of the span.
			if c.Executed != c.Span.Milliseconds() {
				t.Errorf("Executed = %d over %v, want %d", c.Executed, c.Span, c.Span.Milliseconds())
			}
			if got := c.Capacity(); got != 0.5 {
				t.Errorf("Capacity = %v, want 0.5", got)
			}
		})
	}
}

func TestWindowsBeforeStart(t *testing.T) {
	s := &TaskStats{}
	s.Acked.Store(3)
	s.sampleWindows(time.Now()) // nothing to sample into
	c := s.window(10*time.Minute, time.Now())
	if c.Span != 0 || c.Acked != 3 || c.Capacity() != 0 {
		t.Errorf("never started: %+v, want the counters with a zero Span", c)
	}
	if !s.Started().IsZero() {
		t.Errorf("Started = %v, want zero", s.Started())
	}
}

func TestStartedSurvivesRestarts(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	s := &TaskStats{}
	s.markStarted(t0)
	s.markStarted(t0.Add(time.Hour)) // a restart
	if !s.Started().Equal(t0) {
		t.Errorf("Started = %v, want %v", s.Started(), t0)
	}
	if c := s.window(0, t0.Add(2*time.Hour)); c.Span != 2*time.Hour {
		t.Errorf("all-time Span = %v, want 2h", c.Span)
	}
}

// A clock that stalls (the process was suspended) takes one sample when it
// resumes; spans stay exact because samples carry their time.
func TestWindowsClockStall(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	s := &TaskStats{}
	s.markStarted(t0)
	run(s, t0, t0.Add(5*time.Minute), time.Second)
	resumed := t0.Add(47 * time.Minute)
	s.Executed.Store(resumed.Sub(t0).Milliseconds())
	s.sampleWindows(resumed)
	c := s.window(10*time.Minute, resumed)
	// Nothing was sampled between 5 and 47 minutes: the window is the one
	// sample at 47 minutes, so it covers nothing yet.
	if c.Span != 0 || c.Executed != 0 {
		t.Errorf("after a stall: %+v, want an empty span", c)
	}
	later := resumed.Add(2 * time.Minute)
	s.Executed.Store(later.Sub(t0).Milliseconds())
	if c := s.window(10*time.Minute, later); c.Span != 2*time.Minute || c.Executed != c.Span.Milliseconds() {
		t.Errorf("2m after the stall: Span %v, Executed %d", c.Span, c.Executed)
	}
}

func TestWindowCountsAndMeans(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	s := &TaskStats{}
	s.markStarted(t0)
	s.Emitted.Store(10)
	s.Transferred.Store(20)
	s.Acked.Store(9)
	s.Failed.Store(1)
	s.Executed.Store(10)
	s.ExecuteNanos.Store(int64(10 * time.Millisecond))
	s.ProcessNanos.Store(int64(18 * time.Millisecond))
	s.Processed.Store(9)
	s.CompleteNanos.Store(int64(30 * time.Millisecond))
	s.Completed.Store(3)
	s.sampleWindows(t0.Add(30 * time.Second))
	s.Executed.Add(5)
	s.ExecuteNanos.Add(int64(5 * time.Second))
	c := s.window(10*time.Minute, t0.Add(50*time.Second))
	want := Counts{Emitted: 10, Transferred: 20, Acked: 9, Failed: 1, Executed: 15,
		ExecuteNanos: int64(5*time.Second + 10*time.Millisecond),
		ProcessNanos: int64(18 * time.Millisecond), Processed: 9,
		CompleteNanos: int64(30 * time.Millisecond), Completed: 3, Span: 50 * time.Second}
	if c != want {
		t.Errorf("Window(10m) = %+v\nwant %+v", c, want)
	}
	if c.ProcessLatency() != 2*time.Millisecond || c.CompleteLatency() != 10*time.Millisecond {
		t.Errorf("process %v, complete %v; want 2ms, 10ms", c.ProcessLatency(), c.CompleteLatency())
	}
	if got := s.window(15*time.Second, t0.Add(50*time.Second)); got.Executed != 5 || got.Span != 20*time.Second {
		t.Errorf("Window(15s) = %+v, want 5 executed over 20s", got)
	}
	if (Counts{}).ExecuteLatency() != 0 || (Counts{}).Capacity() != 0 {
		t.Error("empty Counts: want zero means and capacity")
	}
}

// TestEdges: each emit counts once per consumer component it reached, and a
// restarted task keeps its edge counters.
func TestEdges(t *testing.T) {
	b := topology.NewBuilder("edges")
	b.SetSpout("s", func() topology.Spout { return nil }, 1).Output("x")
	b.SetBolt("a", func() topology.Bolt { return nil }, 2).ShuffleGrouping("s")
	b.SetBolt("b", func() topology.Bolt { return nil }, 1).AllGrouping("s")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	s := &TaskStats{}
	s.markStarted(t0)
	counters := s.registerEdges(topo.Component("s"))
	if again := s.registerEdges(topo.Component("s")); !slices.Equal(again, counters) {
		t.Fatal("a restart got new edge counters")
	}
	edges := newStreamEdges(topo, topo.Component("s"), counters)
	a, bt := topo.Component("a").Tasks, topo.Component("b").Tasks
	for i := range 10 {
		edges[topology.DefaultStream].count([]topology.TaskID{a[i%2], bt[0]})
	}
	for range 4 {
		edges[topology.DefaultStream].count([]topology.TaskID{a[0], bt[0]})
	}
	edges["undeclared"].count([]topology.TaskID{a[0]})
	all := []EdgeCount{{topology.DefaultStream, "a", 14}, {topology.DefaultStream, "b", 14}}
	if got := s.Edges(); !slices.Equal(got, all) {
		t.Errorf("edges %v, want %v", got, all)
	}
}
