package local_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// counterSpout emits n numbered tuples with message ids and records acks.
type counterSpout struct {
	topology.BaseSpout
	n     int
	next  int
	out   topology.SpoutCollector
	acked *atomic.Int64
}

func (s *counterSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *counterSpout) NextTuple() {
	if s.next >= s.n {
		return
	}
	s.out.Emit(topology.Values{int64(s.next)}, s.next)
	s.next++
}

func (s *counterSpout) Ack(any) { s.acked.Add(1) }

func TestLocalAcksEveryTree(t *testing.T) {
	var acked atomic.Int64
	const n = 10000
	b := topology.NewBuilder("t")
	b.SetSpout("nums", func() topology.Spout { return &counterSpout{n: n, acked: &acked} }, 1).Output("n")
	b.SetBasicBolt("id", func() topology.BasicBolt {
		return topology.BoltFunc(func(tu topology.Tuple, c topology.BasicCollector) error {
			c.Emit(tu.Values())
			return nil
		})
	}, 2).ShuffleGrouping("nums").Output("n")
	b.SetBasicBolt("sink", func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
	}, 2).FieldsGrouping("id", "n")
	topo, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := local.Start(ctx, topo)
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "every tree acked", func() bool { return acked.Load() >= n })
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := acked.Load(); got != n {
		t.Fatalf("acked %d of %d", got, n)
	}
}
