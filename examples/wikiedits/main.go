// Command wikiedits runs the talk's demo on an embedded, in-memory Kafka
// broker (for trying things out only: nothing is kept):
//
//	go run ./examples/wikiedits [-duration 10s] [-rate 2000] [-malformed 0.001] [-top 10]
//
// A producer writes Wikipedia-style edit events (page, user, bot flag, bytes
// changed, timestamp; JSON) into the topic "wikiedits" for -duration. A
// topology reads them with a Kafka spout, counts edits per page and per
// user, and writes every running count to "wikiedits-counts" with a Kafka
// bolt; malformed events go to "wikiedits-dlq". When the producer is done
// the demo waits until every event is counted, stops the topology and
// prints the top pages and users, read back from the output topic.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topologies/wikiedits"
	"github.com/squall-streams/squall/topology"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long to produce edits")
	rate := flag.Float64("rate", 2000, "edits per second (0: as fast as possible)")
	malformed := flag.Float64("malformed", 0.001, "fraction of events that are not valid JSON")
	top := flag.Int("top", 10, "how many pages and users to print")
	seed := flag.Uint64("seed", 1, "seed of the edit generator")
	flag.Parse()
	if err := run(*duration, *rate, *malformed, *top, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "wikiedits:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, rate, malformed float64, top int, seed uint64) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	job, err := wikiedits.Build(topology.Config{}, os.Stderr)
	if err != nil {
		return err
	}
	defer job.Close()
	start := time.Now()
	c, err := local.Start(ctx, job.Topology)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wikiedits: producing edits to %q for %v at %.0f/s\n", job.Input, duration, rate)
	pctx, cancel := context.WithTimeout(ctx, duration)
	n, err := wikiedits.Produce(pctx, job.Brokers, job.Input, wikiedits.NewGenerator(seed), 0, rate, malformed)
	cancel()
	if err != nil {
		_ = c.Stop(context.Background())
		return err
	}
	fmt.Fprintf(os.Stderr, "wikiedits: wrote %d edits; waiting until every one is counted\n", n)
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	for job.Spout.Acked.Load()+job.Spout.DeadLettered.Load() < int64(n) && ctx.Err() == nil && time.Now().Before(deadline) {
		<-tick.C
	}
	tick.Stop()
	elapsed := time.Since(start)
	if err := c.Stop(context.Background()); err != nil {
		return err
	}
	if done := job.Spout.Acked.Load() + job.Spout.DeadLettered.Load(); done < int64(n) {
		fmt.Fprintf(os.Stderr, "wikiedits: stopped with %d of %d edits counted\n", done, n)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	return job.Report(rctx, os.Stdout, top, elapsed)
}
