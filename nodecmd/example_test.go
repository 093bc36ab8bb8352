package nodecmd_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/squall-streams/squall/nodecmd"
	"github.com/squall-streams/squall/topology"
)

// A team's own node binary: its registry names its Go topologies, and
// nodecmd gives them every subcommand of squall's node — node run, the
// cluster node with its web UI, submit, rebalance... Its main is
//
//	func main() { os.Exit(nodecmd.Main(context.Background(), os.Args[1:], registry)) }
//
// Here the example runs `node topologies` and `node run greetings --set
// greetings.text=...` in this process.
func Example() {
	registry := nodecmd.Registry{
		"greetings": {
			Description: "count the words of greetings.text",
			Build:       buildGreetings,
		},
	}
	ctx := context.Background()
	nodecmd.Run(ctx, []string{"topologies"}, registry, os.Stdout, os.Stderr)
	code := nodecmd.Run(ctx, []string{"run", "greetings", "--set", "greetings.text=hello storm hello squall"}, registry, os.Stdout, io.Discard)
	fmt.Println("exit", code)
	// Output:
	// greetings	count the words of greetings.text
	// hello 2
	// squall 1
	// storm 1
	// exit 0
}

// buildGreetings builds the topology: a spout emits the words of
// greetings.text, a bolt counts them. The job is done when every word is
// acked, and its report prints the counts.
func buildGreetings(conf topology.Config, _ nodecmd.Env) (*nodecmd.Job, error) {
	words := strings.Fields(conf.String("greetings.text", ""))
	if len(words) == 0 {
		return nil, fmt.Errorf("config greetings.text: no words to count")
	}
	done := make(chan struct{})
	var left atomic.Int64 // words not acked yet
	left.Store(int64(len(words)))
	acked := func() {
		if left.Add(-1) == 0 {
			close(done)
		}
	}
	var mu sync.Mutex
	counts := map[string]int{}

	b := topology.NewBuilder("greetings")
	b.SetSpout("words", func() topology.Spout { return &wordSpout{words: words, acked: acked} }, 1).Output("word")
	b.SetBasicBolt("count", func() topology.BasicBolt {
		return topology.BoltFunc(func(t topology.Tuple, _ topology.BasicCollector) error {
			mu.Lock()
			defer mu.Unlock()
			counts[topology.String(t, "word")]++
			return nil
		})
	}, 2).FieldsGrouping("words", "word")
	t, err := b.Build(conf)
	if err != nil {
		return nil, err
	}
	return &nodecmd.Job{Topology: t, Done: done, Report: func(w io.Writer, _ time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		for _, word := range slices.Sorted(maps.Keys(counts)) {
			fmt.Fprintln(w, word, counts[word])
		}
		return nil
	}}, nil
}

// wordSpout emits each word once, its index as message id, and again
// when it fails.
type wordSpout struct {
	topology.BaseSpout
	words []string
	acked func()
	out   topology.SpoutCollector
	next  int
	retry []int
}

func (s *wordSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *wordSpout) NextTuple() {
	i := s.next
	switch {
	case len(s.retry) > 0:
		i, s.retry = s.retry[0], s.retry[1:]
	case s.next < len(s.words):
		s.next++
	default:
		return
	}
	s.out.Emit(topology.Values{s.words[i]}, i)
}

func (s *wordSpout) Ack(any)     { s.acked() }
func (s *wordSpout) Fail(id any) { s.retry = append(s.retry, id.(int)) }
