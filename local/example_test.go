package local_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

// upTo emits 1..n, each as its own tuple tree.
type upTo struct {
	topology.BaseSpout
	n, i  int
	out   topology.SpoutCollector
	acked chan int
}

func (s *upTo) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *upTo) NextTuple() {
	if s.i < s.n {
		s.i++
		s.out.Emit(topology.Values{int64(s.i)}, s.i)
	}
}

func (s *upTo) Ack(id any) { s.acked <- id.(int) }

func Example() {
	var sum atomic.Int64
	acked := make(chan int, 100)
	b := topology.NewBuilder("sum")
	b.SetSpout("numbers", func() topology.Spout { return &upTo{n: 100, acked: acked} }, 1).Output("n")
	b.SetBasicBolt("add", func() topology.BasicBolt {
		return topology.BoltFunc(func(t topology.Tuple, _ topology.BasicCollector) error {
			n, _ := topology.Int64(t, "n")
			sum.Add(n)
			return nil
		})
	}, 4).ShuffleGrouping("numbers")
	topo, err := b.Build(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := local.Start(context.Background(), topo)
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 100 {
		<-acked // every tree completes: the bolt has added its number
	}
	if err := c.Stop(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("sum:", sum.Load())
	// Output: sum: 5050
}
