package supervisor

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackoffDelayDoublesToTheCap(t *testing.T) {
	b := &Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if got := b.Delay(10_000); got != time.Second {
		t.Errorf("Delay(10000) = %v, want the cap", got)
	}
}

type idleSpout struct{ topology.BaseSpout }

func (idleSpout) NextTuple() {}

func build(t *testing.T, name string) *topology.Topology {
	t.Helper()
	b := topology.NewBuilder(name)
	b.SetSpout("s", func() topology.Spout { return idleSpout{} }, 2).Output("x")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestNodeLifecycle(t *testing.T) {
	ctx := context.Background()
	n := NewNode(nil)
	r, err := n.Start(ctx, build(t, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Start(ctx, build(t, "a")); !errors.Is(err, ErrTopologyExists) {
		t.Errorf("second start: %v, want ErrTopologyExists", err)
	}
	if got, err := n.Get("a"); err != nil || got != r {
		t.Errorf("Get: %v %v", got, err)
	}
	if _, err := n.Get("b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(b): %v", err)
	}
	if err := r.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(ctx); err != nil { // twice is fine
		t.Fatal(err)
	}
	if _, err := n.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("killed topology still listed: %v", err)
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Start(ctx, build(t, "c")); !errors.Is(err, ErrStopped) {
		t.Errorf("start after shutdown: %v, want ErrStopped", err)
	}
}
