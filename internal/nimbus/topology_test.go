package nimbus

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/squall-streams/squall/flux"
	"github.com/squall-streams/squall/internal/nimbus/storm"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/topology"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// readTopology decodes a StormTopology captured from streamparse 5.0.1
// (testdata/topologies.py writes them with streamparse's Topology.write).
func readTopology(t *testing.T, name string) *storm.StormTopology {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".thrift"))
	if err != nil {
		t.Fatal(err)
	}
	buf := thrift.NewTMemoryBuffer()
	buf.Write(b)
	topo := storm.NewStormTopology()
	if err := topo.Read(context.Background(), thrift.NewTBinaryProtocolConf(buf, nil)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return topo
}

// submitConf is a jsonConf as `sparse submit` sends it (spec §2.4).
const submitConf = `{"topology.environment": {"LD_LIBRARY_PATH": "/usr/local/lib"}, "install_virtualenv": false,
 "virtualenv_root": "/var/lib/squall/venvs", "sudo_user": null, "topology.max.spout.pending": 100,
 "storm.workers.list": ["node1"], "topology.acker.executors": 1, "topology.workers": 1, "topology.original_name": "wordcount"}`

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// nodeRegistry is cmd/node's Flux registry: the Kafka classes as squall's
// Kafka spout and bolt.
func nodeRegistry() flux.Registry {
	conf := func(c *flux.Component, conf topology.Config) topology.Config {
		out := topology.Config{}
		maps.Copy(out, conf)
		maps.Copy(out, c.Conf)
		return out
	}
	return flux.Registry{
		Spouts: map[string]flux.SpoutFactory{KafkaSpoutClass: func(c *flux.Component, tc topology.Config) (func() topology.Spout, error) {
			cfg, err := kafka.SpoutConfigFrom(conf(c, tc))
			if err != nil {
				return nil, err
			}
			return kafka.NewSpout(cfg)
		}},
		Bolts: map[string]flux.BoltFactory{KafkaBoltClass: func(c *flux.Component, tc topology.Config) (func() topology.Bolt, error) {
			return kafka.NewBolt(kafka.BoltConfigFrom(conf(c, tc)))
		}},
	}
}

func TestConvertGolden(t *testing.T) {
	var conf map[string]any
	if err := json.Unmarshal([]byte(submitConf), &conf); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		wantErr string // a substring of the error; "" for success
	}{
		{name: "wordcount"},
		{name: "streams"},
		{name: "kafka"},
		{name: "partialkey"},
		{name: "javapixel", wantErr: `spout "pixel-spout": JVM class pixelcount.spouts.PixelSpout cannot run on squall (no JVM)`},
		{name: "customgrouping", wantErr: `bolt "odd": input words/default: custom grouping class com.example.OddGrouping cannot run on squall`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Convert(tt.name, conf, readTopology(t, tt.name))
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidTopology) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidTopology with %q", err, tt.wantErr)
				}
				golden(t, filepath.Join("testdata", tt.name+".err"), []byte(err.Error()+"\n"))
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tt.name+".yaml"), out)
			// The node builds exactly this with its flux factory.
			topo, err := flux.Load(out, flux.WithRegistry(nodeRegistry()), flux.WithResourcesDir(t.TempDir()))
			if err != nil {
				t.Fatalf("flux.Load: %v\n%s", err, out)
			}
			if topo.Name != tt.name {
				t.Errorf("name %q, want %q", topo.Name, tt.name)
			}
		})
	}
}

func TestConvertRejects(t *testing.T) {
	ptr := func(s string) *string { return &s }
	tests := []struct {
		name    string
		mutate  func(*storm.StormTopology)
		wantErr string
	}{
		{"unknown source", func(s *storm.StormTopology) {
			for id := range s.Bolts["count_bolt"].Common.Inputs {
				id.ComponentId = "nope"
			}
		}, `bolt "count_bolt": input nope/default: no component "nope"`},
		{"unknown stream", func(s *storm.StormTopology) {
			for id := range s.Bolts["count_bolt"].Common.Inputs {
				id.StreamId = "lines"
			}
		}, `spout "word_spout" declares no stream "lines" (it declares [default])`},
		{"fields not declared", func(s *storm.StormTopology) {
			for _, g := range s.Bolts["count_bolt"].Common.Inputs {
				g.Fields = []string{"wrod"}
			}
		}, `fields grouping on "wrod": the stream declares [word]`},
		{"two groupings", func(s *storm.StormTopology) {
			for _, g := range s.Bolts["count_bolt"].Common.Inputs {
				g.Shuffle = storm.NewNullStruct()
			}
		}, `a grouping sets exactly one kind, this one [fields shuffle]`},
		{"spout with inputs", func(s *storm.StormTopology) {
			s.Spouts["word_spout"].Common.Inputs = s.Bolts["count_bolt"].Common.Inputs
		}, `spout "word_spout" has inputs`},
		{"reserved id", func(s *storm.StormTopology) {
			s.Bolts["__acker"] = s.Bolts["count_bolt"]
		}, `bolt "__acker": ids starting with __ are reserved`},
		{"duplicate id", func(s *storm.StormTopology) {
			s.Bolts["word_spout"] = s.Bolts["count_bolt"]
		}, `component id "word_spout" is used by a spout and a bolt`},
		{"zero parallelism", func(s *storm.StormTopology) {
			var zero int32
			s.Bolts["count_bolt"].Common.ParallelismHint = &zero
		}, `bolt "count_bolt": parallelism hint 0: want 1 to 4096`},
		{"bad json_conf", func(s *storm.StormTopology) {
			s.Bolts["count_bolt"].Common.JSONConf = ptr("[1]")
		}, `bolt "count_bolt": json_conf is not a JSON object`},
		{"mixed serializers", func(s *storm.StormTopology) {
			s.Bolts["count_bolt"].BoltObject.Shell.Script = "-s msgpack bolts.Count"
		}, `shell components use different serializers: -s json (word_spout), -s msgpack (count_bolt)`},
		{"serialized java", func(s *storm.StormTopology) {
			s.Spouts["word_spout"].SpoutObject = &storm.ComponentObject{SerializedJava: []byte{0xac, 0xed}}
		}, `spout "word_spout": a serialized Java object cannot run on squall`},
		{"kafka spout fields", func(s *storm.StormTopology) {
			s.Spouts["word_spout"].SpoutObject = &storm.ComponentObject{JavaObject: &storm.JavaObject{FullClassName: "squall.kafka.KafkaSpout"}}
		}, `spout "word_spout": squall's Kafka spout emits [topic partition offset key value] on stream default`},
		{"bad name", func(*storm.StormTopology) {}, `name "a/b"`},
		{"state spouts", func(s *storm.StormTopology) {
			s.StateSpouts = map[string]*storm.StateSpoutSpec{"st": {}}
		}, `state spouts (st) are not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := readTopology(t, "wordcount")
			tt.mutate(topo)
			name := "wordcount"
			if tt.name == "bad name" {
				name = "a/b"
			}
			_, err := Convert(name, nil, topo)
			if err == nil || !errors.Is(err, ErrInvalidTopology) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrInvalidTopology with %q", err, tt.wantErr)
			}
		})
	}
}

func TestScriptSerializer(t *testing.T) {
	for script, want := range map[string]string{
		"-s json bolts.X": "json", "--serializer msgpack a.B": "msgpack", "bolts.X": "", "": "",
		"-s": "", "x.py -s json": "",
	} {
		if got := scriptSerializer(script); got != want {
			t.Errorf("scriptSerializer(%q) = %q, want %q", script, got, want)
		}
	}
}
