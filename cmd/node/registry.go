package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/squall-streams/squall/examples/wordcount/wordcount"
	"github.com/squall-streams/squall/topology"
)

// registry holds the topologies this binary runs by name.
var registry = map[string]registration{
	"wordcount": {
		description: "count words of wordcount.input (default: generated text); wordcount.output, wordcount.fail-rate",
		build:       buildWordCount,
	},
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
