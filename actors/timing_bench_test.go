package actors

import (
	"context"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// ackBolt acks every tuple inside Execute, like most bolts.
type ackBolt struct{ out topology.OutputCollector }

func (b *ackBolt) Prepare(context.Context, *topology.Context, topology.OutputCollector) error {
	return nil
}
func (b *ackBolt) Execute(t topology.Tuple) { b.out.Ack(t) }
func (b *ackBolt) Cleanup() error           { return nil }

// BenchmarkBoltExecute is a bolt task's own per-tuple cost around Execute
// (batches of 256 untracked tuples, a bolt that acks inside Execute):
// without squall.metrics.latency, with it, and with it in the per-tuple
// mode a bolt that holds tuples switches to (timing.go). The differences
// are what process latency costs per tuple.
func BenchmarkBoltExecute(b *testing.B) {
	for _, mode := range []string{"latency off", "latency on", "latency on, per tuple"} {
		b.Run(mode, func(b *testing.B) {
			env := &Env{start: time.Now()}
			timed := mode != "latency off"
			bt := &boltTask{env: env, stats: &TaskStats{}, timed: timed, panics: panicBudget{max: 10}}
			bt.timer = tupleTimer{clock: env.now, perTuple: mode == "latency on, per tuple"}
			bt.bolt = &ackBolt{out: bt}
			h := &topology.TupleHeader{Component: "s", Task: 1, Stream: topology.DefaultStream, Fields: topology.Fields{"x"}}
			batch := make([]*tuple, 256)
			for i := range batch {
				batch[i] = &tuple{TupleData: topoaccess.MakeTupleData(h, topology.Values{i}), held: -1}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += len(batch) {
				bt.executeBatch(&tupleBatch{tuples: batch})
			}
			b.StopTimer()
			s := bt.stats
			if timed && s.Processed.Load() != s.Executed.Load() {
				b.Fatalf("processed %d of %d", s.Processed.Load(), s.Executed.Load())
			}
		})
	}
}
