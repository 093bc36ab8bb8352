package multilang_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/squall-streams/squall/internal/multilang"
)

// A shell bolt's view of the pipe: write a tuple to the subprocess, then
// read what it answers (here, what pystorm writes for a split-and-ack bolt).
func Example() {
	var stdin bytes.Buffer
	enc, err := multilang.NewEncoder(&stdin, multilang.JSON)
	if err != nil {
		panic(err)
	}
	tuple := multilang.Tuple{
		ID:     multilang.StringID("-6955786537413359385"),
		Comp:   "example-spout",
		Stream: "default",
		Task:   9,
		Values: []any{"snow white", int64(3)},
	}
	if err := enc.Encode(tuple); err != nil {
		panic(err)
	}
	fmt.Print(stdin.String())

	stdout := strings.NewReader(`{"command": "emit", "tuple": ["snow"], "anchors": ["-6955786537413359385"], "need_task_ids": false}
end
{"command": "ack", "id": "-6955786537413359385"}
end
`)
	dec, err := multilang.NewDecoder(stdout, multilang.JSON, multilang.FromSubprocess)
	if err != nil {
		panic(err)
	}
	for {
		m, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			break // the subprocess closed its stdout
		}
		if err != nil {
			panic(err)
		}
		switch m := m.(type) {
		case multilang.Emit:
			fmt.Printf("emit %v on %q anchored to %v\n", m.Values, m.Stream, m.Anchors)
		case multilang.Ack:
			fmt.Printf("ack %v\n", m.ID)
		}
	}
	// Output:
	// {"id":"-6955786537413359385","comp":"example-spout","stream":"default","task":9,"tuple":["snow white",3]}
	// end
	// emit [snow] on "default" anchored to [-6955786537413359385]
	// ack -6955786537413359385
}

func ExampleSerializerFromConf() {
	for _, v := range []any{nil, "org.apache.storm.multilang.JsonSerializer", "msgpack", "thrift"} {
		conf := map[string]any{multilang.SerializerKey: v}
		s, err := multilang.SerializerFromConf(conf)
		fmt.Println(s, err)
	}
	// Output:
	// json <nil>
	// json <nil>
	// msgpack <nil>
	// Serializer(0) multilang: topology.multilang.serializer: unknown multilang serializer "thrift": want "org.apache.storm.multilang.JsonSerializer" (the default), "com.yelp.pyleus.serializer.MessagePackSerializer" or "msgpack"
}
