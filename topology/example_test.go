package topology_test

import (
	"fmt"
	"strings"

	"github.com/squall-streams/squall/topology"
)

// sentenceSpout emits lines of text; a real one would read them from a source.
type sentenceSpout struct{ topology.BaseSpout }

func (*sentenceSpout) NextTuple() {}

// split emits every word of its input's "sentence" field, anchored to it.
func split(t topology.Tuple, c topology.BasicCollector) error {
	for w := range strings.FieldsSeq(topology.String(t, "sentence")) {
		c.Emit(topology.Values{w})
	}
	return nil
}

// Words are counted by a bolt whose tasks each see every occurrence of the
// words they own (a fields grouping on "word"). Task IDs are dense from 1, in
// the order of the sorted component IDs; the tracker tasks come last.
func ExampleBuilder() {
	counts := map[string]int{}
	count := func(t topology.Tuple, c topology.BasicCollector) error {
		w := topology.String(t, "word")
		counts[w]++
		c.Emit(topology.Values{w, counts[w]})
		return nil
	}

	b := topology.NewBuilder("word-count")
	b.SetSpout("sentences", func() topology.Spout { return &sentenceSpout{} }, 2).
		Output("sentence")
	b.SetBasicBolt("split", func() topology.BasicBolt { return topology.BoltFunc(split) }, 3).
		ShuffleGrouping("sentences").
		Output("word")
	b.SetBasicBolt("count", func() topology.BasicBolt { return topology.BoltFunc(count) }, 2).
		FieldsGrouping("split", "word").
		Output("word", "count")

	topo, err := b.Build(topology.Config{topology.AckerExecutors: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range topo.Components {
		fmt.Println(c.Kind, c.ID, c.Tasks)
	}
	fmt.Println("trackers", topo.Trackers)
	// Output:
	// bolt count [1 2]
	// spout sentences [3 4]
	// bolt split [5 6 7]
	// trackers [8 9]
}

// Build reports every mistake at once, naming the component, stream and field.
func ExampleBuilder_Build_errors() {
	b := topology.NewBuilder("word-count")
	b.SetSpout("split", func() topology.Spout { return &sentenceSpout{} }, 1).Output("word")
	b.SetBasicBolt("count", func() topology.BasicBolt { return topology.BoltFunc(split) }, 0).
		FieldsGrouping("split", "wrod")

	_, err := b.Build(nil)
	fmt.Println(err)
	// Output:
	// topology "word-count": bolt "count": parallelism must be >= 1, got 0
	// bolt "count": fields grouping on "wrod": stream "default" of "split" declares [word]
}
