// Command embedded is a Go service that embeds a squall node: it registers
// its own topology, starts a node in-process (a new cluster, or joining one
// with -join), submits the topology and prints its progress.
//
// A node is secured unless told otherwise: it needs a gossip key and the
// certificates `node cert` writes (or -insecure, for a throwaway cluster):
//
//	go run ./cmd/node cert create-ca --certs-dir certs
//	go run ./cmd/node cert create-node --host 127.0.0.1 --certs-dir certs
//	go run ./examples/embedded -key "$(go run ./cmd/node keygen)" -certs-dir certs
//	go run ./examples/embedded -key KEY -certs-dir certs -name svc2 -bind 127.0.0.1:7947 -http 127.0.0.1:8081 -join 127.0.0.1:7946
//	go run ./examples/embedded -insecure
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/topology"
)

// ticker emits the time every few milliseconds, acked.
type ticker struct {
	topology.BaseSpout
	out  topology.SpoutCollector
	last time.Time
	seq  int64
}

func (s *ticker) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *ticker) NextTuple() {
	if time.Since(s.last) < 5*time.Millisecond {
		return
	}
	s.last = time.Now()
	s.seq++
	s.out.Emit(topology.Values{s.last.UnixMilli()}, s.seq)
}

var seen atomic.Int64

// heartbeat is the service's topology: ticks, shuffled to 4 counting tasks.
func heartbeat(conf topology.Config) (*topology.Topology, error) {
	b := topology.NewBuilder("heartbeat")
	b.SetSpout("ticks", func() topology.Spout { return &ticker{} }, 1).Output("ms")
	b.SetBasicBolt("count", func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error {
			seen.Add(1)
			return nil
		})
	}, 4).ShuffleGrouping("ticks")
	return b.Build(conf)
}

func main() {
	name := flag.String("name", "svc1", "node name")
	bind := flag.String("bind", "127.0.0.1:7946", "gossip address")
	httpAddr := flag.String("http", "127.0.0.1:8080", "HTTP API address")
	join := flag.String("join", "", "gossip address of a node to join (empty: new cluster)")
	key := flag.String("key", "", "base64 gossip key (go run ./cmd/node keygen)")
	certsDir := flag.String("certs-dir", "", "directory of `node cert`'s certificates")
	insecure := flag.Bool("insecure", false, "a throwaway cluster: no key, no certificates")
	flag.Parse()
	if err := run(*name, *bind, *httpAddr, *join, *key, *certsDir, *insecure); err != nil {
		fmt.Fprintln(os.Stderr, "embedded:", err)
		os.Exit(1)
	}
}

func run(name, bind, httpAddr, join, key, certsDir string, insecure bool) error {
	cfg := cluster.DefaultConfig()
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.Insecure = name, bind, httpAddr, insecure
	if !insecure {
		k, err := base64.StdEncoding.DecodeString(key)
		if err != nil || key == "" {
			return fmt.Errorf("-key: want a base64 gossip key (go run ./cmd/node keygen), or -insecure")
		}
		if cfg.Certs, err = cluster.LoadCerts(certsDir); err != nil {
			return fmt.Errorf("-certs-dir: %w (or -insecure)", err)
		}
		cfg.GossipKey = k
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if join != "" {
		cfg.Join = strings.Split(join, ",")
	}
	cfg.Topologies = map[string]cluster.Factory{"heartbeat": cluster.Simple(heartbeat)}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	node, err := cluster.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if join == "" {
		if err := node.Submit("heartbeat", "heartbeat", nil); err != nil {
			return err
		}
	}
	scheme := "https"
	if cfg.Certs == nil {
		scheme = "http"
	}
	fmt.Printf("node %s up: gossip %s, API %s://%s/api/v1/topologies\n", node.Name(), bind, scheme, node.HTTPAddr())
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return node.Shutdown(sctx)
		case <-tick.C:
			fmt.Printf("%s: %d ticks counted here, %d members\n", node.Name(), seen.Load(), len(node.Members()))
		}
	}
}
