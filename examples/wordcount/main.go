// Command wordcount counts the words of a file with a local squall topology:
//
//	go run ./examples/wordcount -input FILE -output FILE [-fail-rate 0.05]
//
// It writes word<TAB>count lines sorted by word once every line has been
// acked, and prints {"lines":N,"acked":N,"failed":N,"replayed":N} as its last
// line on stdout. With -fail-rate the split bolt fails that fraction of
// tuples; failed lines replay until they succeed, so every count is at least
// the true count.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

func main() {
	input := flag.String("input", "", "text file to count (required)")
	output := flag.String("output", "", "file to write word<TAB>count lines to (required)")
	failRate := flag.Float64("fail-rate", 0, "fraction of split tuples to fail at random, in [0, 1)")
	flag.Parse()
	if *input == "" || *output == "" {
		fmt.Fprintln(os.Stderr, "wordcount: -input and -output are required")
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*input, *output, *failRate); err != nil {
		fmt.Fprintln(os.Stderr, "wordcount:", err)
		os.Exit(1)
	}
}

func run(input, output string, failRate float64) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	conf := topology.Config{wordcount.KeyInput: input, wordcount.KeyFailRate: failRate}
	if failRate > 0 {
		// Failed lines replay at once; a short timeout bounds the rare loss.
		conf[topology.MessageTimeoutSecs] = 5
	}
	lines, err := wordcount.LoadLines(conf)
	if err != nil {
		return err
	}
	job := wordcount.NewJob(lines)
	topo, err := wordcount.Build(job, conf)
	if err != nil {
		return err
	}
	start := time.Now()
	c, err := local.Start(ctx, topo)
	if err != nil {
		return err
	}
	select {
	case <-job.Done():
	case <-ctx.Done():
	}
	elapsed := time.Since(start)
	if err := c.Stop(context.Background()); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %d of %d lines acked", job.Progress().Acked, len(lines))
	}
	f, err := os.Create(output)
	if err != nil {
		return err
	}
	if err := wordcount.WriteCounts(f, job.Counts()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wordcount: %d lines in %v (%.0f lines/s)\n", len(lines), elapsed.Round(time.Millisecond), float64(len(lines))/elapsed.Seconds())
	out, err := json.Marshal(job.Progress())
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
