package flux_test

import (
	"fmt"

	"github.com/squall-streams/squall/flux"
)

// A Storm Flux file whose bolts are Python: loading it starts nothing, so
// this runs without Python; local.Run(ctx, topo) would run it.
func ExampleLoad() {
	topo, err := flux.Load([]byte(`
name: wordcount
config:
  topology.multilang.serializer: msgpack
spouts:
  - id: words
    className: org.apache.storm.testing.TestWordSpout
bolts:
  - id: count
    command: streamparse_run
    script: "-s msgpack counter.CountBolt"
    fields: [word, count]
    parallelism: 2
streams:
  - from: words
    to: count
    grouping: {type: FIELDS, args: [word]}
`), flux.WithResourcesDir("/srv/wordcount/resources"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range topo.Components {
		fmt.Println(c.ID, c.Kind, c.Tasks)
	}
	// Output:
	// count bolt [1 2]
	// words spout [3]
}

func ExampleError() {
	_, err := flux.Load([]byte(`
name: broken
spouts:
  - {id: words, className: org.apache.storm.testing.TestWordSpout}
bolts:
  - {id: count, command: [python3, count.py], fields: [word, count]}
streams:
  - from: words
    to: count
    grouping: {type: FIELDS, args: [wrod]}
`))
	fmt.Println(err)
	// Output:
	// topology "broken": line 8: streams[0].grouping: bolt "count": fields grouping on "wrod": stream "default" of "words" declares [word]
}
