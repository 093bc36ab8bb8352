package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/squall-streams/squall/topologies/kafkawords"
	"github.com/squall-streams/squall/topologies/wikiedits"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// registry holds the topologies this binary runs by name.
var registry = map[string]registration{
	"wordcount": {
		description: "count words of wordcount.input (default: generated text); wordcount.output, wordcount.fail-rate, wordcount.count.parallelism (default 2) of wordcount.count.tasks (default 8: rebalance can scale count up to it)",
		build:       buildWordCount,
	},
	kafkawords.WordCountName: {
		description: "count words of kafka.input lines into kafka.output (key word, value running count); kafka.brokers (empty: embedded broker)",
		build:       buildKafkaWords(kafkawords.WordCount),
	},
	kafkawords.WordsName: {
		description: "write every word of kafka.input lines to kafka.output (key word, value partition:offset:position); kafka.brokers",
		build:       buildKafkaWords(kafkawords.Words),
	},
	wikiedits.Name: {
		description: "count Wikipedia-style edit events per page and per user (kafka.input, kafka.output); kafka.brokers (empty: embedded broker and producer)",
		build:       buildWikiEdits,
	},
}

// buildKafkaWords registers a kafkawords topology: it runs until Ctrl-C or
// SIGTERM, then drains, stops and prints a summary. Without kafka.brokers it
// runs on an embedded in-memory broker, announced on stderr.
func buildKafkaWords(build func(topology.Config, io.Writer) (*kafkawords.Job, error)) func(topology.Config) (*job, error) {
	return func(conf topology.Config) (*job, error) {
		kj, err := build(conf, os.Stderr)
		if err != nil {
			return nil, err
		}
		return &job{topology: kj.Topology, report: func(w io.Writer, elapsed time.Duration) error {
			defer kj.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return kj.Summary(ctx, w, elapsed)
		}}, nil
	}
}

// buildWikiEdits registers the wikiedits demo. On the embedded broker a
// producer writes wikiedits.rate edits per second until the node stops.
func buildWikiEdits(conf topology.Config) (*job, error) {
	wj, err := wikiedits.Build(conf, os.Stderr)
	if err != nil {
		return nil, err
	}
	stopProducer := func() {}
	if wj.Embedded != nil {
		rate, err := conf.Int(wikiedits.KeyRate, 1000)
		if err != nil {
			wj.Close()
			return nil, err
		}
		malformed := 0.001
		if v := conf.String(wikiedits.KeyMalformed, ""); v != "" {
			if _, err := fmt.Sscan(v, &malformed); err != nil {
				wj.Close()
				return nil, fmt.Errorf("config %s: %q is not a number", wikiedits.KeyMalformed, v)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := wikiedits.Produce(ctx, wj.Brokers, wj.Input, wikiedits.NewGenerator(1), 0, float64(rate), malformed); err != nil {
				fmt.Fprintln(os.Stderr, "wikiedits: producer:", err)
			}
		})
		fmt.Fprintf(os.Stderr, "wikiedits: producing %d edits/s to %q until stopped\n", rate, wj.Input)
		stopProducer = func() { cancel(); wg.Wait() }
	}
	return &job{topology: wj.Topology, report: func(w io.Writer, elapsed time.Duration) error {
		stopProducer()
		defer wj.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return wj.Report(ctx, w, 10, elapsed)
	}}, nil
}

func buildWordCount(conf topology.Config) (*job, error) {
	lines, err := wordcount.LoadLines(conf)
	if err != nil {
		return nil, err
	}
	wc := wordcount.NewJob(lines)
	t, err := wordcount.Build(wc, conf)
	if err != nil {
		return nil, err
	}
	return &job{topology: t, done: wc.Done(), report: func(w io.Writer, elapsed time.Duration) error {
		counts := wc.Counts()
		if path := conf.String(wordcount.KeyOutput, ""); path != "" {
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			if err := wordcount.WriteCounts(f, counts); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		type wordN struct {
			word string
			n    int64
		}
		var top []wordN
		var words int64
		for k, v := range counts {
			top = append(top, wordN{k, v})
			words += v
		}
		slices.SortFunc(top, func(a, b wordN) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.word, b.word)) })
		fmt.Fprintln(w, "top words:")
		for _, x := range top[:min(10, len(top))] {
			fmt.Fprintf(w, "  %-12s %d\n", x.word, x.n)
		}
		secs := elapsed.Seconds()
		fmt.Fprintf(w, "%d lines, %d words in %.2fs: %.0f lines/s, %.0f words/s\n",
			len(lines), words, secs, float64(len(lines))/secs, float64(words)/secs)
		out, err := json.Marshal(wc.Progress())
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(out))
		return err
	}}, nil
}
