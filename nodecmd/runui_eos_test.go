package nodecmd_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/nodecmd"
	"github.com/squall-streams/squall/topology"
)

// countingSpout emits 0, 1, 2, … without end; its checkpointed position
// is the next number, so it runs in exactly-once topologies.
type countingSpout struct {
	topology.BaseSpout
	next int64
	out  topology.SpoutCollector
}

func (s *countingSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *countingSpout) NextTuple() {
	s.out.Emit(topology.Values{s.next}, s.next)
	s.next++
}

func (s *countingSpout) SnapshotPosition(uint64) ([]byte, error) {
	return binary.AppendVarint(nil, s.next), nil
}

func (s *countingSpout) RestorePosition(pos []byte) error {
	s.next = 0
	if pos != nil {
		v, k := binary.Varint(pos)
		if k <= 0 {
			return fmt.Errorf("position % x: not a varint", pos)
		}
		s.next = v
	}
	return nil
}

func (s *countingSpout) CheckpointComplete(uint64) {}

// TestRunWithHTTPRunsExactlyOnce: `node run … --http` runs on a Solo
// node, so it accepts an exactly-once topology (a cluster refuses one),
// and its REST API shows the checkpoints completing.
func TestRunWithHTTPRunsExactlyOnce(t *testing.T) {
	reg := nodecmd.Registry{"numbers": {Description: "numbers without end", Build: func(conf topology.Config, _ nodecmd.Env) (*nodecmd.Job, error) {
		b := topology.NewBuilder("numbers")
		b.SetSpout("numbers", func() topology.Spout { return &countingSpout{} }, 1).Output("n")
		b.SetBasicBolt("drop", func() topology.BasicBolt {
			return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
		}, 1).ShuffleGrouping("numbers")
		t, err := b.Build(conf)
		if err != nil {
			return nil, err
		}
		return &nodecmd.Job{Topology: t}, nil
	}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- nodecmd.Run(ctx, []string{"run", "numbers", "--http", "127.0.0.1:0",
			"--set", topology.GuaranteeKey + "=exactly-once", "--set", topology.CheckpointIntervalMs + "=20"}, reg, io.Discard, pw)
		pw.Close()
	}()
	urlRE := regexp.MustCompile(`squall UI: (http://[0-9.:]+)/`)
	sc := bufio.NewScanner(pr)
	var base string
	var stderr strings.Builder
	for base == "" && sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	rest := make(chan string, 1)
	go func() { // keep reading so the live line never blocks the run
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		rest <- b.String()
	}()
	if base == "" {
		cancel()
		<-done
		t.Fatalf("no UI address on stderr (was the exactly-once topology refused?):\n%s%s", stderr.String(), <-rest)
	}
	var page struct {
		SquallGuarantee   string
		SquallCheckpoints struct {
			LastCompleted, Completed, Failed int64
		}
	}
	poll.Until(t, 60*time.Second, "two checkpoints completed, read through the REST API", func() bool {
		resp, err := http.Get(base + "/api/v1/topology/numbers")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&page) != nil {
			return false
		}
		return page.SquallCheckpoints.Completed >= 2 && page.SquallCheckpoints.LastCompleted >= 2
	})
	if page.SquallGuarantee != "exactly-once" {
		t.Errorf("squallGuarantee = %q", page.SquallGuarantee)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, stderr.String(), <-rest)
	}
	<-rest
}
