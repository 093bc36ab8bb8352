package cluster_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/nimbus/storm"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// holdBolt never acks: the topology always has trees in flight, so a kill
// waits its whole wait.
type holdBolt struct{}

func (holdBolt) Prepare(context.Context, *topology.Context, topology.OutputCollector) error {
	return nil
}
func (holdBolt) Execute(topology.Tuple) {}
func (holdBolt) Cleanup() error         { return nil }

func dialNimbus(t *testing.T, addr string) *storm.NimbusClient {
	t.Helper()
	cfg := &thrift.TConfiguration{ConnectTimeout: 5 * time.Second, SocketTimeout: 7 * time.Second}
	trans := thrift.NewTFramedTransportConf(thrift.NewTSocketConf(addr, cfg), cfg)
	if err := trans.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trans.Close() })
	return storm.NewNimbusClientFactory(trans, thrift.NewTBinaryProtocolFactoryConf(cfg))
}

func topologyStatus(t *testing.T, c *storm.NimbusClient, name string) (*storm.TopologySummary, *storm.ClusterSummary) {
	t.Helper()
	info, err := c.GetClusterInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range info.Topologies {
		if ts.Name == name {
			return ts, info
		}
	}
	return nil, info
}

// TestNimbusAPIOnANode drives a node's Nimbus API (Config.Nimbus) with
// apache/thrift's Go client: getClusterInfo reports the nodes and the
// topology, a rebalance of workers only is refused naming what was
// ignored, a kill returns at once, shows KILLED while it waits for the
// trees in flight and then the topology is gone.
func TestNimbusAPIOnANode(t *testing.T) {
	src := newSource(1 << 30)
	hold := cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		return idsTopology(src, 2, 4, func() topology.Bolt { return holdBolt{} },
			topology.Config{topology.MessageTimeoutSecs: 30, topology.MaxSpoutPending: 50}.Merge(conf))
	})
	c := clustertest.NewWithConfig(t, 2, map[string]cluster.Factory{"ids": hold}, func(i int, c *cluster.Config) {
		if i == 0 {
			c.Nimbus = "127.0.0.1:0"
		}
	})
	n0 := c.Node(0)
	if c.Node(1).NimbusAddr() != "" {
		t.Errorf("node 1 serves Nimbus at %s without Config.Nimbus", c.Node(1).NimbusAddr())
	}
	client := dialNimbus(t, n0.NimbusAddr())
	ctx := context.Background()
	if err := n0.Submit("hold", "ids", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "hold ACTIVE on both nodes in getClusterInfo", func() bool {
		ts, _ := topologyStatus(t, client, "hold")
		return ts != nil && ts.Status == "ACTIVE" && ts.NumWorkers == 2 && ts.NumTasks > 0
	})
	ts, info := topologyStatus(t, client, "hold")
	if len(info.Supervisors) != 2 || len(info.Nimbuses) != 2 {
		t.Errorf("supervisors %d, nimbuses %d: want one of each per node", len(info.Supervisors), len(info.Nimbuses))
	}
	_, port, _ := net.SplitHostPort(n0.NimbusAddr())
	leaders := 0
	for _, nb := range info.Nimbuses {
		if nb.IsLeader {
			leaders++
		}
		if strconv.Itoa(int(nb.Port)) != port || nb.Version != "2.8.8" {
			t.Errorf("nimbus %+v: want port %s, version 2.8.8", nb, port)
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders among %d nimbuses, want 1: the node answering", leaders, len(info.Nimbuses))
	}
	if !strings.HasPrefix(ts.ID, "hold-") {
		t.Errorf("topology id %q", ts.ID)
	}

	workers := int32(3)
	err := client.Rebalance(ctx, "hold", &storm.RebalanceOptions{NumWorkers: &workers})
	var ite *storm.InvalidTopologyException
	if !errors.As(err, &ite) || !strings.Contains(ite.Msg, "num_workers 3") {
		t.Errorf("rebalance of num_workers only: %v, want InvalidTopologyException naming num_workers 3", err)
	}
	if err := client.Rebalance(ctx, "hold", &storm.RebalanceOptions{NumExecutors: map[string]int32{"sink": 2}}); err != nil {
		t.Errorf("rebalance sink=2: %v", err)
	}
	var nae *storm.NotAliveException
	if err := client.KillTopologyWithOpts(ctx, "nope", storm.NewKillOptions()); !errors.As(err, &nae) || nae.Msg != "nope is not alive" {
		t.Errorf("kill nope: %v, want NotAliveException", err)
	}

	wait := int32(2)
	start := time.Now()
	if err := client.KillTopologyWithOpts(ctx, "hold", &storm.KillOptions{WaitSecs: &wait}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("kill took %v: it must return at once", took)
	}
	if ts, _ := topologyStatus(t, client, "hold"); ts == nil || ts.Status != "KILLED" {
		t.Errorf("during the kill's wait: %+v, want KILLED", ts)
	}
	if ok, err := client.IsTopologyNameAllowed(ctx, "hold"); ok || err != nil {
		t.Errorf("isTopologyNameAllowed during the kill: %v, %v: want false", ok, err)
	}
	if err := client.Activate(ctx, "hold"); err == nil {
		t.Error("activate during the kill: no error")
	}
	poll.Until(t, 20*time.Second, "hold gone from getClusterInfo", func() bool {
		ts, _ := topologyStatus(t, client, "hold")
		return ts == nil
	})
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("hold removed after %v: the kill did not wait its 2 s for the trees in flight", took)
	}
}

func TestNodeRefusesNimbusOffLoopback(t *testing.T) {
	// A secured node: only --insecure lets Nimbus off loopback (which no
	// test binds: loopback only).
	cfg := cluster.LocalConfig()
	cfg.Certs, cfg.GossipKey = loadNode(t, newCerts(t)), cluster.Keygen()
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.Nimbus = "n", "127.0.0.1:0", "", "0.0.0.0:6627"
	_, err := cluster.Start(context.Background(), cfg)
	if !errors.Is(err, cluster.ErrConfig) || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("Start with Nimbus 0.0.0.0:6627: %v, want ErrConfig: not a loopback address", err)
	}
}
