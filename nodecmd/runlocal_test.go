package nodecmd_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/squall-streams/squall/nodecmd"
	"github.com/squall-streams/squall/topology"
)

// loudSpout is the example's word spout logging a warning and an info
// line when it opens.
type loudSpout struct{ wordSpout }

func (s *loudSpout) Open(ctx context.Context, tc *topology.Context, c topology.SpoutCollector) error {
	tc.Logger.Warn("a warning from the spout")
	tc.Logger.Info("an info line from the spout")
	return s.wordSpout.Open(ctx, tc, c)
}

// loudRegistry holds "loud": loudSpout emits the words of greetings.text
// to a bolt that drops them; it is done when every word is acked.
func loudRegistry() nodecmd.Registry {
	return nodecmd.Registry{"loud": {Description: "words that log", Build: func(conf topology.Config, _ nodecmd.Env) (*nodecmd.Job, error) {
		words := strings.Fields(conf.String("greetings.text", ""))
		done := make(chan struct{})
		left := len(words) // the one spout task's
		b := topology.NewBuilder("loud")
		b.SetSpout("words", func() topology.Spout {
			return &loudSpout{wordSpout{words: words, acked: func() {
				if left--; left == 0 {
					close(done)
				}
			}}}
		}, 1).Output("word")
		b.SetBasicBolt("drop", func() topology.BasicBolt {
			return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
		}, 1).ShuffleGrouping("words")
		t, err := b.Build(conf)
		if err != nil {
			return nil, err
		}
		return &nodecmd.Job{Topology: t, Done: done}, nil
	}}}
}

// TestRunWithoutHTTPShowsTheLiveLineAndLogsWarnings: `node run` without
// --http prints the live line (here, stderr not a terminal: at least the
// final one, the run's summary) and logs warnings and errors by default,
// more with -v, none with -q; --help lists -v and -q.
func TestRunWithoutHTTPShowsTheLiveLineAndLogsWarnings(t *testing.T) {
	liveRE := regexp.MustCompile(`(?m)^\[\d+s\] loud: [0-9.kM]+ trees/s \| spouts emitted 3 acked 3 failed 0 \| bolts executed 3 \| in flight 0 \| errors 0$`)
	for _, tc := range []struct {
		flags      []string
		warn, info bool
	}{
		{nil, true, false},
		{[]string{"-v"}, true, true},
		{[]string{"-q"}, false, false},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"run", "loud", "--set", "greetings.text=a b c"}, tc.flags...)
		if code := nodecmd.Run(context.Background(), args, loudRegistry(), &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		out := stderr.String()
		if !liveRE.MatchString(out) {
			t.Errorf("%v: no final live line on stderr:\n%s", tc.flags, out)
		}
		if got := strings.Contains(out, "level=WARN") && strings.Contains(out, "a warning from the spout"); got != tc.warn {
			t.Errorf("%v: warning logged %v, want %v:\n%s", tc.flags, got, tc.warn, out)
		}
		if got := strings.Contains(out, "an info line from the spout"); got != tc.info {
			t.Errorf("%v: info logged %v, want %v:\n%s", tc.flags, got, tc.info, out)
		}
	}
	var stderr bytes.Buffer
	if code := nodecmd.Run(context.Background(), []string{"run", "--help"}, loudRegistry(), &bytes.Buffer{}, &stderr); code != 0 ||
		!strings.Contains(stderr.String(), "  -q\t") || !strings.Contains(stderr.String(), "  -v\t") {
		t.Errorf("node run --help: exit %d, %q: want -q and -v listed", code, stderr.String())
	}
	var stdout bytes.Buffer
	nodecmd.Run(context.Background(), []string{"--help"}, loudRegistry(), &stdout, &bytes.Buffer{})
	if !strings.Contains(stdout.String(), "a live status line on stderr") || !strings.Contains(stdout.String(), "-v | -q") {
		t.Errorf("node --help does not describe the live line and -v | -q:\n%s", stdout.String())
	}
	if code := nodecmd.Run(context.Background(), []string{"run", "loud", "-v", "-q"}, loudRegistry(), &bytes.Buffer{}, &stderr); code != 2 {
		t.Errorf("-v -q: exit %d, want 2", code)
	}
}
