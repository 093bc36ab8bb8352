package cluster_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/perf"
	"github.com/squall-streams/squall/topology"
)

// spoutAcked sums the acked trees (or, for the word count, counted words)
// of a topology over every node of c.
func spoutAcked(c *clustertest.Cluster, unit string) (n int64, p50, p99 float64) {
	for _, ti := range c.Node(0).Topologies(context.Background()) {
		if unit == "words" {
			for _, b := range ti.Bolts {
				if b.Component == "count" {
					n += b.Acked
				}
			}
		}
		for _, s := range ti.Spouts {
			if unit != "words" {
				n += s.Acked
			}
			p50, p99 = max(p50, s.CompleteP50Ms), max(p99, s.CompleteP99Ms)
		}
	}
	return n, p50, p99
}

// cpuTime is the CPU time this process (every node of the cluster) has
// used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCluster runs storm-perf shapes on 1 and 3 in-process nodes
// talking over loopback TCP (go test -run '^$' -bench Cluster ./cluster/).
// Latency percentiles are all-time, warm-up included. cpu-us/tuple (or
// /word) is the CPU time of the whole process per unit in the window: on a
// shared machine it moves much less than the rate, which follows the
// CPU the other processes leave. tls=on is the
// 3-node cluster with node certificates (mutual TLS 1.3 on the transport).
func BenchmarkCluster(b *testing.B) {
	for _, w := range []string{perf.ConstSpoutIDNullBolt, perf.FileReadWordCount} {
		for _, run := range []struct {
			nodes int
			tls   bool
		}{{1, false}, {3, false}, {3, true}} {
			name := fmt.Sprintf("%s/nodes=%d", w, run.nodes)
			if run.tls {
				name += "/tls=on"
			}
			b.Run(name, func(b *testing.B) {
				spec := perf.Spec{Workload: w, Acking: true, Bolts: 2}
				factory := func(conf topology.Config) (*topology.Topology, error) {
					t, _, err := perf.Build(spec)
					return t, err
				}
				var configure func(int, *cluster.Config)
				if run.tls {
					configure = withCerts(loadNode(b, newCerts(b)))
				}
				c := clustertest.NewWithConfig(b, run.nodes, map[string]cluster.Factory{"w": cluster.Simple(factory)}, configure)
				if err := c.Node(0).Submit("w", "w", nil); err != nil {
					b.Fatal(err)
				}
				unit := "tuples"
				if w == perf.FileReadWordCount {
					unit = "words"
				}
				time.Sleep(2 * time.Second) // warm-up: a measurement window, not synchronisation
				var rate, p50, p99, cpu float64
				for b.Loop() {
					n0, _, _ := spoutAcked(c, unit)
					t0, cpu0 := time.Now(), cpuTime(b)
					time.Sleep(5 * time.Second) // the measurement window
					n1, l50, l99 := spoutAcked(c, unit)
					cpu1 := cpuTime(b)
					if n1 <= n0 || l50 == 0 {
						// A figure of 0 would be a lie: say what the API showed.
						b.Fatalf("no progress measured (%s %d -> %d, p50 %v): %+v", unit, n0, n1, l50, c.Node(0).Topologies(context.Background()))
					}
					rate = float64(n1-n0) / time.Since(t0).Seconds()
					p50, p99 = l50, l99
					cpu = float64((cpu1 - cpu0).Microseconds()) / float64(n1-n0)
				}
				b.ReportMetric(rate, unit+"/s")
				b.ReportMetric(cpu, "cpu-us/"+unit)
				b.ReportMetric(p50, "p50-ms")
				b.ReportMetric(p99, "p99-ms")
			})
		}
	}
}
