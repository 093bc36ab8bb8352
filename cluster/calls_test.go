package cluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// heldSink executes nothing until held is closed: the trees routed to it
// stay in flight.
type heldSink struct {
	sinkBolt
	held <-chan struct{}
}

func (b *heldSink) Execute(t topology.Tuple) {
	<-b.held
	b.sinkBolt.Execute(t)
}

// TestNodeToNodeCallsWithoutHTTP: in a cluster whose nodes serve no HTTP
// API, a node fetches a topology's resources from the node it was
// submitted to, sums what the other node has in flight, and `kill --wait`
// on the node without the spout waits for the trees in flight there.
func TestNodeToNodeCallsWithoutHTTP(t *testing.T) {
	const emitted = 50
	src := newSource(1000)
	src.Release(emitted)
	held := make(chan struct{})
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(held) }) }
	t.Cleanup(release) // before the cluster stops, even when the test fails
	// The topology builds only with its resources: a node that cannot
	// fetch them runs none of its tasks.
	withResources := func(conf topology.Config) (*topology.Topology, error) {
		dir, _ := conf[cluster.ConfResourcesDir].(string)
		b, err := os.ReadFile(filepath.Join(dir, "marker"))
		if err != nil || string(b) != "shipped" {
			return nil, errors.Join(errors.New("no resources"), err)
		}
		return idsTopology(src, 3, 4, func() topology.Bolt { return &heldSink{sinkBolt: sinkBolt{src: src}, held: held} },
			topology.Config{topology.MessageTimeoutSecs: 60, topology.MaxSpoutPending: 200, topology.AckerExecutors: 2}.Merge(conf))
	}
	c := clustertest.NewWithConfig(t, 2, map[string]cluster.Factory{"ids": cluster.Simple(withResources)}, func(_ int, c *cluster.Config) { c.HTTP = "" })
	for i := range 2 {
		if a := c.Node(i).HTTPAddr(); a != "" {
			t.Fatalf("node %d serves HTTP at %s", i, a)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte("shipped"), 0o644); err != nil {
		t.Fatal(err)
	}
	tgz, err := cluster.TarGz(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Node(0).SubmitWithResources("ids", "ids", nil, tgz); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "both nodes run tasks (node 1 fetched the resources)", func() bool {
		return len(c.Node(0).LocalTopologies()) == 1 && len(c.Node(1).LocalTopologies()) == 1
	})

	// The node running the spout holds every tree in flight.
	localInFlight := func(i int) int64 { return c.Node(i).LocalTopologies()[0].InFlight }
	spoutNode := -1
	for i := range 2 {
		for _, ti := range c.Node(i).LocalTopologies()[0].TaskStats {
			if ti.Component == "ids" {
				spoutNode = i
			}
		}
	}
	if spoutNode < 0 {
		t.Fatal("no node runs the spout")
	}
	other := 1 - spoutNode
	poll.Until(t, 30*time.Second, "every emitted tree in flight at the spout", func() bool { return localInFlight(spoutNode) == emitted })
	clusterInFlight := func() int64 {
		infos := c.Node(other).Topologies(context.Background())
		if len(infos) != 1 {
			return -1
		}
		return infos[0].InFlight
	}
	if got := clusterInFlight(); got != emitted {
		t.Fatalf("node %d counts %d trees in flight over the cluster, want %d (those of node %d)", other, got, emitted, spoutNode)
	}

	// kill --wait from the other node: it deactivates the topology, and
	// must wait for the trees in flight on the spout's node, released only
	// once the topology is inactive.
	var released atomic.Bool
	go func() {
		poll.Wait(30*time.Second, func() bool {
			infos := c.Node(spoutNode).Topologies(context.Background())
			return len(infos) == 1 && infos[0].Status == "INACTIVE"
		})
		released.Store(true)
		release()
	}()
	const wait = 30 * time.Second
	start := time.Now()
	if err := c.Node(other).Kill(context.Background(), "ids", wait); err != nil {
		t.Fatal(err)
	}
	if !released.Load() {
		t.Fatal("kill --wait returned while trees were still in flight on the spout's node")
	}
	if took := time.Since(start); took >= wait {
		t.Fatalf("kill --wait ran into its wait (%v): the drain never saw the trees complete", took)
	}
	poll.Until(t, 10*time.Second, "every emitted tree acked", func() bool { return src.Acked() == emitted })
}
