// Package clustertest starts an in-process squall cluster for tests: several
// nodes in one process, each with its own actor system, gossip and HTTP API
// on loopback, with short failure-detection timers. Kill a node abruptly to
// test recovery, and restart it under the same name.
//
//	c := clustertest.New(t, 3, map[string]cluster.Factory{"wc": cluster.Simple(buildWordCount)})
//	c.Node(0).Submit("wc", "wc", nil)
//	c.Kill(1)
package clustertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/internal/poll"
)

// Cluster is a set of in-process nodes sharing a gossip key.
type Cluster struct {
	t          testing.TB
	key        []byte
	topologies map[string]cluster.Factory
	mu         sync.Mutex
	nodes      []*cluster.Node
	addrs      []string // gossip address per index
	// Configure, if set, adjusts each node's config before it starts.
	Configure func(i int, c *cluster.Config)
}

// New starts n nodes and waits until each sees all of them. They are shut
// down when the test ends.
func New(t testing.TB, n int, topologies map[string]cluster.Factory) *Cluster {
	t.Helper()
	return NewWithConfig(t, n, topologies, nil)
}

// NewWithConfig is New with configure (kept as Configure) adjusting each
// node's config before it starts.
func NewWithConfig(t testing.TB, n int, topologies map[string]cluster.Factory, configure func(i int, c *cluster.Config)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, key: cluster.Keygen(), topologies: topologies, nodes: make([]*cluster.Node, n), addrs: make([]string, n), Configure: configure}
	t.Cleanup(c.shutdown)
	for i := range n {
		c.addrs[i] = net.JoinHostPort(loopbackIP(), "0")
		c.start(i)
	}
	c.WaitMembers(n)
	return c
}

// FreeAddr returns a loopback address whose port was free for TCP and UDP
// a moment ago (gossip needs the same port for both), for a node that must
// be started (and restarted) at an address known in advance. The host is a
// random one of 127.0.0.0/8 other than 127.0.0.1: every connection a test
// opens takes its local port on 127.0.0.1, so none of them can take the
// port between this call and the node binding it — which a port on
// 127.0.0.1 could not promise to tests running in parallel.
func FreeAddr(t testing.TB) string {
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(loopbackIP(), "0"))
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			continue
		}
		u.Close()
		return addr
	}
	t.Fatal("no free port for gossip")
	return ""
}

// loopbackIP is a random address of 127.0.0.0/8 other than 127.0.0.1 where
// the system answers on all of them (Linux), else 127.0.0.1 (macOS
// configures only that one).
func loopbackIP() string {
	if !wholeLoopback() {
		return "127.0.0.1"
	}
	return fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
}

var wholeLoopback = sync.OnceValue(func() bool {
	l, err := net.Listen("tcp", "127.3.2.1:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
})

func (c *Cluster) config(i int) cluster.Config {
	cfg := cluster.LocalConfig()
	cfg.Name = fmt.Sprintf("node-%d", i)
	cfg.Bind = c.addrs[i]
	cfg.HTTP = "127.0.0.1:0"
	cfg.GossipKey = c.key
	// Without certificates (WithCerts gives them): a throwaway cluster,
	// whose HTTP API is plain and open unless Configure sets AdminToken.
	cfg.Insecure = true
	cfg.Topologies = c.topologies
	for j, a := range c.addrs {
		if j != i && a != "" && c.nodes[j] != nil {
			cfg.Join = append(cfg.Join, a)
		}
	}
	if c.Configure != nil {
		c.Configure(i, &cfg)
	}
	return cfg
}

func (c *Cluster) start(i int) {
	c.t.Helper()
	c.mu.Lock()
	cfg := c.config(i)
	c.mu.Unlock()
	n, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		c.t.Fatalf("start node %d: %v", i, err)
	}
	c.mu.Lock()
	c.nodes[i] = n
	c.addrs[i] = n.GossipAddr() // the port the kernel chose; Restart reuses it
	c.mu.Unlock()
}

// Key is the cluster's gossip key.
func (c *Cluster) Key() []byte { return c.key }

// Node returns node i (nil after Kill until Restart).
func (c *Cluster) Node(i int) *cluster.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Kill stops node i abruptly: no goodbye to the cluster, like SIGKILL.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n == nil {
		return
	}
	if err := n.KillAbruptly(context.Background()); err != nil {
		c.t.Logf("kill node %d: %v", i, err)
	}
}

// Add starts one more node, joining the others, waits until every node
// sees it alive, and returns its index.
func (c *Cluster) Add() int {
	c.t.Helper()
	c.mu.Lock()
	i := len(c.nodes)
	c.nodes = append(c.nodes, nil)
	c.addrs = append(c.addrs, net.JoinHostPort(loopbackIP(), "0"))
	alive := 0
	for _, n := range c.nodes {
		if n != nil {
			alive++
		}
	}
	c.mu.Unlock()
	c.start(i)
	c.WaitMembers(alive + 1)
	return i
}

// Restart starts node i again under the same name and address.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.start(i)
}

// WaitMembers waits until every running node sees exactly n alive members.
func (c *Cluster) WaitMembers(n int) {
	c.t.Helper()
	poll.Until(c.t, 30*time.Second, fmt.Sprintf("every node to see %d alive members", n), func() bool {
		c.mu.Lock()
		nodes := append([]*cluster.Node(nil), c.nodes...)
		c.mu.Unlock()
		for _, node := range nodes {
			if node == nil {
				continue
			}
			alive := 0
			for _, m := range node.Members() {
				if m.Status == "alive" {
					alive++
				}
			}
			if alive != n {
				return false
			}
		}
		return true
	})
}

func (c *Cluster) shutdown() {
	c.mu.Lock()
	nodes := append([]*cluster.Node(nil), c.nodes...)
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n != nil {
			wg.Go(func() { _ = n.Shutdown(ctx) })
		}
	}
	wg.Wait()
}
