package multilang_test

import (
	"context"
	"log"

	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

type lines struct{ topology.BaseSpout }

func (lines) NextTuple() {}

func logDeadLetters() topology.Bolt {
	return topology.Basic(func() topology.BasicBolt {
		return topology.BoltFunc(func(t topology.Tuple, _ topology.BasicCollector) error {
			log.Printf("poison tuple from %v: %v", topology.Value(t, "source"), topology.Value(t, "values"))
			return nil
		})
	})()
}

// A Go spout feeding unchanged streamparse bolts: split is started the way
// streamparse starts it, count the way Flux would; both speak msgpack.
// (No output: it needs the Python code in /srv/wordcount.)
func Example() {
	var topo *topology.Topology // for the handshake's context; set below
	shell := []multilang.Option{
		multilang.WithDir("/srv/wordcount"),
		multilang.WithTopology(func() *topology.Topology { return topo }),
	}
	b := topology.NewBuilder("wordcount")
	b.SetSpout("lines", func() topology.Spout { return lines{} }, 1).Output("line")
	b.SetBolt("split", multilang.BoltFactory(
		[]string{"streamparse_run", "-s msgpack words.SplitBolt"},
		append(shell, multilang.Output("word"))...), 2).ShuffleGrouping("lines")
	b.SetBolt("count", multilang.BoltFactory(
		[]string{"python3", "count.py", "-s", "msgpack"},
		append(shell, multilang.Output("word", "count"))...), 2).FieldsGrouping("split", "word")
	// Tuples that crashed split's subprocess three times come out here.
	b.SetBolt("dead", logDeadLetters, 1).Input("split", multilang.DeadLetterStream, topology.ShuffleGrouping())
	var err error
	topo, err = b.Build(topology.Config{
		multilang.SerializerKey:        "msgpack",
		multilang.SubprocessTimeoutKey: 10,  // seconds of silence before a restart
		multilang.MaxPendingKey:        200, // tuples queued for each pipe
		topology.TickTupleFreqSecs:     5,   // for pystorm's BatchingBolt
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = func(ctx context.Context) error { return local.Run(ctx, topo) }
}
