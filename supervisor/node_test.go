package supervisor

import (
	"context"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// TestTaskPIDNamesTheRunningTask: the PID TaskPID gives for a task is the
// actor the supervisor spawned for it, for every instance.
func TestTaskPIDNamesTheRunningTask(t *testing.T) {
	ctx := context.Background()
	n := NewNode(nil)
	defer n.Shutdown(ctx)
	topo := build(t, "a/b") // a slash in the name must not confuse anything
	r, err := n.StartAssigned(ctx, topo, Assignment{Epoch: 1, Instance: "0123abcd", Tasks: []topology.TaskID{2}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	for _, c := range []struct {
		a       wire.TaskAddr
		running bool
	}{
		{wire.TaskAddr{Topology: "a/b", Boot: "0123abcd", Task: 2}, true},
		{wire.TaskAddr{Topology: "a/b", Boot: "0123abcd", Task: 1}, false}, // not assigned here
		{wire.TaskAddr{Topology: "a/b", Boot: "ffff", Task: 2}, false},     // another incarnation
	} {
		_, ok := n.system.ProcessRegistry.GetLocal(n.TaskPID(c.a).Id)
		if ok != c.running {
			t.Errorf("TaskPID(%v) = %s: registered %v, want %v", c.a, n.TaskPID(c.a).Id, ok, c.running)
		}
	}
}

type recorder struct{ got chan any }

func (r *recorder) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*messages.TupleBatch); ok {
		r.got <- ctx.Message()
	}
}

// TestDeliver: a batch for a task actor that runs reaches it; one for a
// task that does not is refused.
func TestDeliver(t *testing.T) {
	n := NewNode(nil)
	defer n.Shutdown(context.Background())
	a := wire.TaskAddr{Topology: "a/b", Boot: "c", Task: 7}
	batch := &messages.TupleBatch{Topology: "wc"}
	if n.Deliver(a, batch) {
		t.Fatal("delivered to a task that does not run")
	}
	rec := &recorder{got: make(chan any, 1)}
	if _, err := n.system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return rec }), n.TaskPID(a).Id); err != nil {
		t.Fatal(err)
	}
	if !n.Deliver(a, batch) {
		t.Fatal("a batch for a running task refused")
	}
	var got any
	poll.Until(t, 10*time.Second, "the batch delivered", func() bool {
		select {
		case got = <-rec.got:
			return true
		default:
			return false
		}
	})
	if got != batch {
		t.Fatalf("delivered %v, want the batch", got)
	}
	for _, other := range []wire.TaskAddr{
		{Topology: "a/b", Boot: "c", Task: 8},
		{Topology: "a/b", Boot: "d", Task: 7},
		{Topology: "a", Boot: "b/c", Task: 7}, // would name the same actor
	} {
		if n.Deliver(other, batch) {
			t.Errorf("a batch for %v delivered", other)
		}
	}
}
