package transport

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
)

// batch is a tuple batch as a busy word count sends it: 64 tuples of one
// word each.
func batch() *messages.TupleBatch {
	b := &messages.TupleBatch{Topology: "wc", Epoch: 12345}
	for i := range 64 {
		b.Tuples = append(b.Tuples, &messages.Tuple{Stream: "default", SourceComponent: "split", SourceTask: 3, DestTask: 7,
			Values: []*messages.Value{{Kind: &messages.Value_Str{Str: "word"}}}, Anchors: []*messages.Edge{{Root: uint64(i), Id: uint64(i) * 7}}})
	}
	return b
}

// BenchmarkSend sends batches from one transport to another over loopback
// and waits until each is delivered (at most half a queue in flight).
func BenchmarkSend(b *testing.B) {
	var delivered atomic.Int64
	recv := start(b, func(wire.Message) { delivered.Add(1) }, nil)
	send := start(b, func(wire.Message) {}, nil)
	p := send.Peer(recv.Addr())
	m := wire.Message{To: wire.TaskAddr{Topology: "wc", Boot: "0123456789abcdef", Task: 7}, Payload: batch()}
	window := int64(DefaultConfig().PeerQueue / 2)
	b.ReportAllocs()
	sent := int64(0)
	for b.Loop() {
		for sent-delivered.Load() >= window {
			runtime.Gosched()
		}
		if !send.Send(p, m) {
			b.Fatal("send refused")
		}
		sent++
	}
	for delivered.Load() < sent {
		runtime.Gosched()
	}
}
