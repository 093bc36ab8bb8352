package cluster

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
)

// TestTransportForgetsPeers: a forgotten peer's writer closes its
// connection and exits, sends to it are refused, and a new peer for the
// same address works.
func TestTransportForgetsPeers(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	recv, err := listenTransport("127.0.0.1:0", slog.New(slog.DiscardHandler), func(m wire.Message) {
		mu.Lock()
		got[m.To.Topology]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	send, err := listenTransport("127.0.0.1:0", slog.New(slog.DiscardHandler), func(wire.Message) {})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	received := func(target string) int {
		mu.Lock()
		defer mu.Unlock()
		return got[target]
	}
	inbound := func() int {
		recv.mu.Lock()
		defer recv.mu.Unlock()
		return len(recv.inbound)
	}
	env := func(topology string) wire.Message {
		return wire.Message{To: wire.TaskAddr{Topology: topology, Boot: "b", Task: 1}, Payload: &messages.TupleBatch{}}
	}

	old := send.peer(recv.Addr())
	if !send.Send(old, env("a")) {
		t.Fatal("send to a new peer refused")
	}
	poll.Until(t, 10*time.Second, "frame a delivered", func() bool { return received("a") == 1 })
	if send.peerCount() != 1 || inbound() != 1 {
		t.Fatalf("%d peers, %d inbound connections; want 1 and 1", send.peerCount(), inbound())
	}

	send.retain(map[string]bool{"127.0.0.1:1": true}) // not recv's address
	if send.peerCount() != 0 {
		t.Fatalf("%d peers after retain, want 0", send.peerCount())
	}
	poll.Until(t, 10*time.Second, "the forgotten peer's connection closed", func() bool { return inbound() == 0 })
	dropped := send.Dropped.Load()
	if send.Send(old, env("b")) || send.Dropped.Load() != dropped+1 {
		t.Fatal("send to a forgotten peer accepted or not counted as dropped")
	}

	fresh := send.peer(recv.Addr())
	if fresh == old || !send.Send(fresh, env("c")) {
		t.Fatal("no working new peer for the same address")
	}
	poll.Until(t, 10*time.Second, "frame c delivered", func() bool { return received("c") == 1 })
	if received("b") != 0 {
		t.Fatal("a frame sent to the forgotten peer was delivered")
	}
}
