package local_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// BenchmarkWordCountGuarantees is the in-process word count (lines ->
// split -> keyed count) in the three guarantees side by side, each
// iteration 300,000 lines of ~9.5 words: lines/s, and for exactly-once the
// checkpoints' duration and size. The count keeps its counts as keyed
// state in every mode (state.Of works in all of them), so the modes differ
// only in how they guarantee.
//
//	go test -run '^$' -bench WordCountGuarantees -benchtime 3x -count 3 ./local/
func BenchmarkWordCountGuarantees(b *testing.B) {
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%04d", i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	lines := make([]string, 10_000)
	for i := range lines {
		ws := make([]string, 5+r.IntN(10))
		for j := range ws {
			ws[j] = vocab[r.IntN(len(vocab))]
		}
		lines[i] = strings.Join(ws, " ")
	}
	const perIteration = 300_000
	for _, g := range topology.Guarantees {
		b.Run(string(g), func(b *testing.B) {
			var counted atomic.Int64
			words := int64(0)
			for i := range perIteration {
				words += int64(len(strings.Fields(lines[i%len(lines)])))
			}
			bld := topology.NewBuilder("wc")
			bld.SetSpout("lines", func() topology.Spout { return &benchLines{lines: lines, limit: perIteration} }, 1).Output("line")
			bld.SetBasicBolt("split", func() topology.BasicBolt {
				return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
					for _, w := range strings.Fields(topology.String(t, "line")) {
						c.Emit(topology.Values{w})
					}
					return nil
				})
			}, 2).ShuffleGrouping("lines").Output("word")
			bld.SetBolt("count", func() topology.Bolt { return &benchCount{counted: &counted} }, 2).FieldsGrouping("split", "word")
			topo, err := bld.Build(topology.Config{topology.GuaranteeKey: g})
			if err != nil {
				b.Fatal(err)
			}
			var elapsed time.Duration
			var st any
			for range b.N {
				counted.Store(0)
				start := time.Now()
				cl, err := local.Start(context.Background(), topo)
				if err != nil {
					b.Fatal(err)
				}
				poll.Until(b, 5*time.Minute, "every word counted", func() bool { return counted.Load() >= words })
				elapsed += time.Since(start)
				if s, ok := cl.Topology().Env().Checkpoints(); ok {
					st = s
				}
				cl.Stop(context.Background())
			}
			b.ReportMetric(float64(perIteration*b.N)/elapsed.Seconds(), "lines/s")
			b.ReportMetric(0, "ns/op")
			if st != nil {
				b.Logf("checkpoints: %+v", st)
			}
		})
	}
}

type benchLines struct {
	topology.BaseSpout
	lines []string
	limit int
	next  int
	out   topology.SpoutCollector
}

func (s *benchLines) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *benchLines) NextTuple() {
	for range 64 {
		if s.next >= s.limit {
			return
		}
		s.out.Emit(topology.Values{s.lines[s.next%len(s.lines)]}, s.next)
		s.next++
	}
}

func (s *benchLines) SnapshotPosition(uint64) ([]byte, error) {
	return binary.AppendUvarint(nil, uint64(s.next)), nil
}

func (s *benchLines) RestorePosition(pos []byte) error {
	if pos != nil {
		v, _ := binary.Uvarint(pos)
		s.next = int(v)
	}
	return nil
}

func (s *benchLines) CheckpointComplete(uint64) {}

type benchCount struct {
	count   *state.Value[int64]
	out     topology.OutputCollector
	counted *atomic.Int64
}

func (b *benchCount) DeclareState() topology.State { return topology.State{Keyed: []string{"count"}} }

func (b *benchCount) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	st, err := state.Of(tc)
	if err != nil {
		return err
	}
	b.out = c
	b.count, err = state.NewValue(st, "count", state.Int64)
	return err
}

func (b *benchCount) Execute(t topology.Tuple) {
	n, _, _ := b.count.Get()
	b.count.Set(n + 1)
	b.counted.Add(1)
	b.out.Ack(t)
}

func (b *benchCount) Cleanup() error { return nil }
