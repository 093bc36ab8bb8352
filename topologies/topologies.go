// Package topologies holds the topologies squall's node binary registers —
// wordcount, kafka-wordcount, kafka-words and wikiedits — each in a package
// of its own below this one, and Registry, which registers them for
// nodecmd. A node binary of your own may start from Registry and add its
// topologies, or leave these out.
package topologies

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

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/nodecmd"
	"github.com/squall-streams/squall/topologies/kafkawords"
	"github.com/squall-streams/squall/topologies/wikiedits"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// Registry returns squall's topologies by name, a new map on every call.
func Registry() nodecmd.Registry {
	return nodecmd.Registry{
		"wordcount": {
			Description: "count words of wordcount.input (default: generated text); wordcount.output, wordcount.fail-rate, wordcount.count.parallelism (default 2) of wordcount.count.tasks (default 8: rebalance can scale count up to it)",
			Build:       buildWordCount,
			Keys:        wordcount.Keys,
		},
		kafkawords.WordCountName: {
			Description: "count words of kafka.input lines into kafka.output (key word, value running count); kafka.brokers (empty: embedded broker)",
			Build:       buildKafkaWords(kafkawords.WordCountName, kafkawords.WordCount),
			Keys:        kafkawords.Keys,
		},
		kafkawords.WordsName: {
			Description: "write every word of kafka.input lines to kafka.output (key word, value partition:offset:position); kafka.brokers",
			Build:       buildKafkaWords(kafkawords.WordsName, kafkawords.Words),
			Keys:        kafkawords.Keys,
		},
		wikiedits.Name: {
			Description: "count Wikipedia-style edit events per page and per user (kafka.input, kafka.output); kafka.brokers (empty: embedded broker and producer)",
			Build:       buildWikiEdits,
			Keys:        wikiedits.Keys,
		},
	}
}

// needBrokers refuses a cluster build of a Kafka topology without
// kafka.brokers. The embedded broker lives in the process that starts it:
// on a cluster every node (and Submit's validation) would start one of its
// own, and each node's tasks would read and write a different Kafka.
func needBrokers(name string, conf topology.Config, env nodecmd.Env) error {
	if env.Local || conf.String(kafka.KeyBrokers, "") != "" {
		return nil
	}
	return fmt.Errorf("%s: config %s is empty: on a cluster every node must read the same Kafka, so name its brokers "+
		"(--set %s=HOST:PORT); the embedded in-memory broker is for node run only", name, kafka.KeyBrokers, kafka.KeyBrokers)
}

// logOf is where a build's notes go.
func logOf(env nodecmd.Env) io.Writer {
	if env.Log == nil {
		return io.Discard
	}
	return env.Log
}

// buildKafkaWords registers a kafkawords topology: under node run it runs
// until Ctrl-C or SIGTERM, then drains, stops and prints a summary. Without
// kafka.brokers it runs on an embedded in-memory broker, announced on the
// log, that Close stops.
func buildKafkaWords(name string, build func(topology.Config, io.Writer) (*kafkawords.Job, error)) func(topology.Config, nodecmd.Env) (*nodecmd.Job, error) {
	return func(conf topology.Config, env nodecmd.Env) (*nodecmd.Job, error) {
		if err := needBrokers(name, conf, env); err != nil {
			return nil, err
		}
		kj, err := build(conf, logOf(env))
		if err != nil {
			return nil, err
		}
		return &nodecmd.Job{Topology: kj.Topology, Close: kj.Close, Report: func(w io.Writer, elapsed time.Duration) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return kj.Summary(ctx, w, elapsed)
		}}, nil
	}
}

// buildWikiEdits registers the wikiedits demo. On the embedded broker a
// producer writes wikiedits.rate edits per second until the topology stops.
func buildWikiEdits(conf topology.Config, env nodecmd.Env) (*nodecmd.Job, error) {
	if err := needBrokers(wikiedits.Name, conf, env); err != nil {
		return nil, err
	}
	log := logOf(env)
	wj, err := wikiedits.Build(conf, log)
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
				fmt.Fprintln(log, "wikiedits: producer:", err)
			}
		})
		fmt.Fprintf(log, "wikiedits: producing %d edits/s to %q until stopped\n", rate, wj.Input)
		stopProducer = sync.OnceFunc(func() { cancel(); wg.Wait() })
	}
	return &nodecmd.Job{
		Topology: wj.Topology,
		Report: func(w io.Writer, elapsed time.Duration) error {
			stopProducer()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return wj.Report(ctx, w, 10, elapsed)
		},
		Close: func() {
			stopProducer()
			wj.Close()
		},
	}, nil
}

func buildWordCount(conf topology.Config, _ nodecmd.Env) (*nodecmd.Job, error) {
	lines, err := wordcount.LoadLines(conf)
	if err != nil {
		return nil, err
	}
	wc := wordcount.NewJob(lines)
	t, err := wordcount.Build(wc, conf)
	if err != nil {
		return nil, err
	}
	return &nodecmd.Job{Topology: t, Done: wc.Done(), Report: func(w io.Writer, elapsed time.Duration) error {
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
