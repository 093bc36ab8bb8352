package cluster

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
)

func TestParking(t *testing.T) {
	t0 := time.Unix(1000, 0)
	task := func(topology string) wire.TaskAddr { return wire.TaskAddr{Topology: topology, Boot: "b", Task: 1} }
	running := map[wire.TaskAddr]bool{}
	var got []any
	send := func(target wire.TaskAddr, payload any) bool {
		if !running[target] {
			return false
		}
		got = append(got, payload)
		return true
	}
	var p parking

	// A batch for a task that runs is not parked at all.
	running[task("up")] = true
	if !p.hold(task("up"), "now", 1, t0, nil, send) || p.Len() != 0 || !slices.Equal(got, []any{"now"}) {
		t.Fatalf("a batch for a running task: parked %d, got %v", p.Len(), got)
	}
	got = nil

	// Parked in arrival order, delivered in it once the task starts.
	for _, b := range []string{"a1", "a2", "a3"} {
		if !p.hold(task("a"), b, 10, t0, nil, send) {
			t.Fatal("hold refused with room to spare")
		}
	}
	p.hold(task("b"), "b1", 10, t0.Add(time.Second), nil, send)
	p.release(t0.Add(parkFor/2), send)
	if p.Len() != 4 || len(got) != 0 {
		t.Fatalf("nothing runs yet: parked %d, got %v", p.Len(), got)
	}
	// The task started, but its earlier batches are still parked: a new
	// one waits behind them, so they arrive in the order sent.
	running[task("a")] = true
	if !p.hold(task("a"), "a4", 10, t0, nil, send) || len(got) != 0 || p.Len() != 5 {
		t.Fatalf("a batch overtook the parked ones: got %v, parked %d", got, p.Len())
	}
	p.release(t0.Add(parkFor/2), send)
	if !slices.Equal(got, []any{"a1", "a2", "a3", "a4"}) || p.Len() != 1 || p.bytes != 10 {
		t.Fatalf("after a started: got %v, parked %d (%d bytes)", got, p.Len(), p.bytes)
	}

	// What waits longer than parkFor is dropped.
	p.release(t0.Add(time.Second+parkFor), send)
	if p.Len() != 1 || p.Dropped.Load() != 0 {
		t.Fatalf("b1 is not older than parkFor yet: parked %d, dropped %d", p.Len(), p.Dropped.Load())
	}
	p.release(t0.Add(time.Second+parkFor+time.Millisecond), send)
	if p.Len() != 0 || p.Dropped.Load() != 1 || p.bytes != 0 || len(p.targets) != 0 {
		t.Fatalf("b1 expired: parked %d, dropped %d, %d bytes, %d targets", p.Len(), p.Dropped.Load(), p.bytes, len(p.targets))
	}

	// Bounded in batches and in bytes.
	for i := range parkMax {
		if !p.hold(task("c"), i, 1, t0, nil, send) {
			t.Fatalf("batch %d refused", i)
		}
	}
	if p.hold(task("c"), "over", 1, t0, nil, send) || p.Dropped.Load() != 2 {
		t.Fatalf("batch %d accepted, or not counted as dropped", parkMax+1)
	}
	p.release(t0.Add(2*parkFor), send)
	if p.hold(task("d"), "huge", parkMaxBytes+1, t0, nil, send) || p.Len() != 0 {
		t.Fatal("a batch larger than the parking accepted")
	}
}

// fakeBudget is a sender's budget of limit bytes.
type fakeBudget struct{ held, limit int }

func (b *fakeBudget) Reserve(n int) bool {
	if b.held+n > b.limit {
		return false
	}
	b.held += n
	return true
}

func (b *fakeBudget) Release(n int) { b.held -= n }

// TestParkingChargesItsSender: parked bytes come from the budget of the
// node that sent them; over it, that sender's batches are dropped while
// another's still park; delivered or expired, the bytes go back.
func TestParkingChargesItsSender(t *testing.T) {
	t0 := time.Unix(1000, 0)
	task := wire.TaskAddr{Topology: "wc", Boot: "b", Task: 1}
	running := false
	send := func(wire.TaskAddr, any) bool { return running }
	var p parking
	a, b := &fakeBudget{limit: 100}, &fakeBudget{limit: 100}
	if !p.hold(task, "a1", 60, t0, a, send) || p.hold(task, "a2", 60, t0, a, send) {
		t.Fatal("the sender's second batch parked beyond its budget")
	}
	if !p.hold(task, "b1", 60, t0, b, send) {
		t.Fatal("another sender's batch refused")
	}
	if a.held != 60 || b.held != 60 || p.Dropped.Load() != 1 {
		t.Fatalf("held %d and %d, dropped %d; want 60, 60, 1", a.held, b.held, p.Dropped.Load())
	}
	running = true
	p.release(t0, send)
	if a.held != 0 || b.held != 0 || p.Len() != 0 {
		t.Fatalf("after delivery: held %d and %d, %d parked", a.held, b.held, p.Len())
	}
	running = false
	p.hold(task, "a3", 50, t0, a, send)
	p.release(t0.Add(2*parkFor), send)
	if a.held != 0 || p.Len() != 0 {
		t.Fatalf("after expiry: held %d, %d parked", a.held, p.Len())
	}
}

// recorder is an actor that keeps what it receives.
type recorder struct {
	mu  sync.Mutex
	got []any
}

func (r *recorder) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*messages.TupleBatch); ok {
		r.mu.Lock()
		r.got = append(r.got, ctx.Message())
		r.mu.Unlock()
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// TestNodeParksBatchesForTasksNotStarted: a batch from another node for a
// task actor this node has not started yet reaches it once it starts.
func TestNodeParksBatchesForTasksNotStarted(t *testing.T) {
	cfg := LocalConfig()
	cfg.Insecure = true // a throwaway node
	cfg.Name, cfg.Bind, cfg.HTTP = "solo", "127.0.0.1:0", ""
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	batch := func(to wire.TaskAddr) wire.Message {
		return wire.Message{To: to, Payload: &messages.TupleBatch{Topology: "wc"}}
	}
	// Batches for a task of another boot (a previous life of this node),
	// of a killed topology, or for no task at all can never be delivered:
	// dropped at once.
	n.state.Put(&messages.TopologySpec{Name: "gone", Kind: "x", Killed: true})
	junk := []wire.TaskAddr{
		{Topology: "gone", Boot: n.boot, Task: 1},
		{Topology: "wc", Boot: "0123456789abcdef", Task: 7},
		{Boot: n.boot, Task: 1},
		{Topology: "wc", Task: 7},
		{Topology: "wc", Boot: n.boot},
		{Topology: "wc", Boot: n.boot, Task: -7},
		{Topology: "wc", Boot: "x/" + n.boot, Task: 7},
	}
	for _, to := range junk {
		n.deliver(batch(to), nil)
	}
	if n.park.Len() != 0 || n.park.Dropped.Load() != int64(len(junk)) {
		t.Fatalf("junk: %d parked, %d dropped; want 0 and %d", n.park.Len(), n.park.Dropped.Load(), len(junk))
	}
	// A task of this boot, of a topology this node has not even heard of
	// yet (the sender learnt of it first), is parked.
	target := wire.TaskAddr{Topology: "wc", Boot: n.boot, Task: 7}
	n.deliver(batch(target), nil)
	if n.park.Len() != 1 {
		t.Fatalf("%d batches parked, want 1", n.park.Len())
	}
	rec := &recorder{}
	if _, err := n.sup.System().Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return rec }), n.sup.TaskPID(target).Id); err != nil {
		t.Fatal(err)
	}
	n.park.release(time.Now(), n.sendLocal)
	poll.Until(t, 10*time.Second, "the parked batch delivered", func() bool { return rec.count() == 1 })
	if n.park.Len() != 0 {
		t.Fatalf("%d batches still parked", n.park.Len())
	}
	// Once the task runs, batches go straight to it.
	n.deliver(batch(target), nil)
	poll.Until(t, 10*time.Second, "the second batch delivered", func() bool { return rec.count() == 2 })
	if n.park.Len() != 0 {
		t.Fatal("a batch for a running task was parked")
	}
}
