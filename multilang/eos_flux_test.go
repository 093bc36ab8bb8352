package multilang_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/flux"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

// TestPythonExactlyOnceFromFlux: a Flux file sets squall.guarantee and the
// checkpoint interval under config:, with the pystorm SplitBolt as a
// shell bolt between Go components of the registry (the checkpointed
// spout, the keyed count, the two-phase sink of eos_test.go): every word's
// running counts committed exactly once.
func TestPythonExactlyOnceFromFlux(t *testing.T) {
	py := os.Getenv("SQUALL_PYTHON")
	if py == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)`")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "resources"))
	if err != nil {
		t.Fatal(err)
	}
	const lines = 2000
	yaml := fmt.Sprintf(`name: pyeos-flux
config:
  squall.guarantee: exactly-once
  topology.state.checkpoint.interval.ms: 50
spouts:
  - id: lines
    className: squall.test.EOSLineSpout
    fields: [line]
    parallelism: 2
bolts:
  - id: split
    command: [%q, wordcount.py, SplitBolt]
    fields: [word]
    parallelism: 2
  - id: count
    className: squall.test.EOSWordCount
    fields: [word, n]
    parallelism: 2
  - id: sink
    className: squall.test.EOSSink
streams:
  - {from: lines, to: split, grouping: {type: SHUFFLE}}
  - {from: split, to: count, grouping: {type: FIELDS, args: [word]}}
  - {from: count, to: sink, grouping: {type: SHUFFLE}}
`, py)
	world := multilang.NewEOSCommitted()
	var executed atomic.Int64
	var once sync.Once
	reg := flux.Registry{
		Spouts: map[string]flux.SpoutFactory{
			"squall.test.EOSLineSpout": func(*flux.Component, topology.Config) (func() topology.Spout, error) {
				return func() topology.Spout { return &multilang.EOSLineSpout{N: lines, Pace: &executed, Ahead: 200} }, nil
			},
		},
		Bolts: map[string]flux.BoltFactory{
			"squall.test.EOSWordCount": func(*flux.Component, topology.Config) (func() topology.Bolt, error) {
				return func() topology.Bolt { return &multilang.EOSWordCount{Executed: &executed, Once: &once} }, nil
			},
			"squall.test.EOSSink": func(*flux.Component, topology.Config) (func() topology.Bolt, error) {
				return func() topology.Bolt { return &multilang.EOSSink{World: world} }, nil
			},
		},
	}
	topo, err := flux.Load([]byte(yaml), flux.WithRegistry(reg), flux.WithResourcesDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if topo.Runtime.Guarantee != topology.ExactlyOnce || topo.Runtime.Checkpoints.Interval != 50*time.Millisecond {
		t.Fatalf("guarantee %q, checkpoint interval %v: want the file's exactly-once and 50ms",
			topo.Runtime.Guarantee, topo.Runtime.Checkpoints.Interval)
	}
	ctx := context.Background()
	c, err := local.Start(ctx, topo)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := c.Stop(stop); err != nil {
			t.Errorf("stop: %v", err)
		}
		multilang.CheckNoSubprocesses(t)
	}()
	want := multilang.EOSWordCounts(lines)
	var total int
	for _, n := range want {
		total += int(n)
	}
	if !poll.Wait(120*time.Second, func() bool { return world.Size() >= total }) {
		st, _ := c.Topology().Env().Checkpoints()
		t.Fatalf("timed out: %d of %d counts committed; checkpoints %+v", world.Size(), total, st)
	}
	if st := multilang.CheckpointsCompleted(t, c.Topology().Env()); st.Restores != 0 {
		t.Errorf("checkpoint status %+v, want no restore", st)
	}
	if err := world.Check(want); err != nil {
		t.Error(err)
	}
}
