package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

	"github.com/squall-streams/squall/internal/bubble"
	"github.com/squall-streams/squall/internal/poll"
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

// TestBackoffRestartsCrashedChildren runs Backoff as a protoactor
// supervisor strategy on the fake clock (bubble): each restart of a child
// that keeps crashing waits twice as long up to Max, a child quiet for
// Reset starts again from Initial, and Close cancels a pending restart.
func TestBackoffRestartsCrashedChildren(t *testing.T) {
	bubble.Run(t, func(t *testing.T) {
		sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
		defer sys.Shutdown()
		b := &Backoff{Initial: 100 * time.Millisecond, Max: 400 * time.Millisecond, Reset: time.Minute}
		var mu sync.Mutex
		var crashed, started time.Time
		starts := 0
		child := actor.PropsFromFunc(func(c actor.Context) {
			switch c.Message().(type) {
			case *actor.Started:
				mu.Lock()
				started = time.Now()
				starts++
				mu.Unlock()
			case string:
				mu.Lock()
				crashed = time.Now()
				mu.Unlock()
				panic("crash")
			}
		})
		pids := make(chan *actor.PID, 1)
		parent := actor.PropsFromFunc(func(c actor.Context) {
			if _, ok := c.Message().(*actor.Started); ok {
				pids <- c.Spawn(child)
			}
		}, actor.WithSupervisor(b))
		sys.Root.Spawn(parent)
		pid := <-pids
		synctest.Wait() // the child has started
		mu.Lock()
		first := starts
		mu.Unlock()
		if first != 1 {
			t.Fatalf("%d starts before any crash, want 1", first)
		}
		// crash makes the child crash and returns how long its restart took.
		crash := func() time.Duration {
			t.Helper()
			mu.Lock()
			before := starts
			mu.Unlock()
			sys.Root.Send(pid, "crash")
			poll.Until(t, time.Minute, "a restart", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return starts == before+1
			})
			mu.Lock()
			defer mu.Unlock()
			return started.Sub(crashed)
		}
		for i, want := range []time.Duration{100, 200, 400, 400} {
			if got := crash(); got != want*time.Millisecond {
				t.Errorf("restart %d after %v, want %v", i+1, got, want*time.Millisecond)
			}
		}
		time.Sleep(b.Reset) // a quiet minute
		if got := crash(); got != b.Initial {
			t.Errorf("restart after a quiet minute after %v, want Initial (%v)", got, b.Initial)
		}
		if got := crash(); got != 2*b.Initial {
			t.Errorf("the next restart after %v, want %v", got, 2*b.Initial)
		}
		mu.Lock()
		before := starts
		mu.Unlock()
		sys.Root.Send(pid, "crash")
		synctest.Wait()
		b.Close()
		time.Sleep(2 * b.Max) // past the restart Close cancelled
		mu.Lock()
		defer mu.Unlock()
		if starts != before {
			t.Errorf("a restart after Close: %d starts, want %d", starts, before)
		}
	})
}
