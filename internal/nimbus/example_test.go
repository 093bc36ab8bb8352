package nimbus_test

import (
	"fmt"

	"github.com/squall-streams/squall/internal/nimbus"
	"github.com/squall-streams/squall/internal/nimbus/storm"
)

// A StormTopology as streamparse's DSL builds it for `sparse submit` with
// "serializer": "json", and the Flux definition the node builds from it.
func ExampleConvert() {
	par := int32(2)
	noConf := "{}"
	shell := func(script string) *storm.ComponentObject {
		return &storm.ComponentObject{Shell: &storm.ShellComponent{ExecutionCommand: "streamparse_run", Script: script}}
	}
	topo := &storm.StormTopology{
		Spouts: map[string]*storm.SpoutSpec{"words": {
			SpoutObject: shell("-s json spouts.words.WordSpout"),
			Common: &storm.ComponentCommon{Inputs: map[*storm.GlobalStreamId]*storm.Grouping{},
				Streams: map[string]*storm.StreamInfo{"default": {OutputFields: []string{"word"}}}, JSONConf: &noConf},
		}},
		Bolts: map[string]*storm.Bolt{"count": {
			BoltObject: shell("-s json bolts.wordcount.WordCountBolt"),
			Common: &storm.ComponentCommon{
				Inputs:          map[*storm.GlobalStreamId]*storm.Grouping{{ComponentId: "words", StreamId: "default"}: {Fields: []string{"word"}}},
				Streams:         map[string]*storm.StreamInfo{"default": {OutputFields: []string{"word", "count"}}},
				ParallelismHint: &par, JSONConf: &noConf},
		}},
		StateSpouts: map[string]*storm.StateSpoutSpec{},
	}
	def, err := nimbus.Convert("wordcount", map[string]any{"topology.workers": 1}, topo)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(def))
	// Output:
	// name: wordcount
	// config:
	//     topology.multilang.serializer: json
	//     topology.workers: 1
	// spouts:
	//     - id: words
	//       command: [streamparse_run]
	//       script: -s json spouts.words.WordSpout
	//       parallelism: 1
	//       outputs:
	//         default: [word]
	// bolts:
	//     - id: count
	//       command: [streamparse_run]
	//       script: -s json bolts.wordcount.WordCountBolt
	//       parallelism: 2
	//       outputs:
	//         default: [word, count]
	// streams:
	//     - name: words --default--> count
	//       from: words
	//       to: count
	//       grouping:
	//         type: FIELDS
	//         args: [word]
}
