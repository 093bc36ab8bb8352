// Command stateful counts the words of a file exactly once, through a
// failure, with squall.guarantee=exactly-once in local mode: the pieces a
// user copies to write a stateful topology.
//
//		go run ./examples/stateful -input FILE -output DIR [-crash-after N] [-state-dir DIR]
//
//	  - linesSpout is a topology.CheckpointedSpout: its position (the next
//	    line) is part of every checkpoint, and a restore rewinds it.
//	  - countBolt keeps each word's count as keyed state (state.Of,
//	    state.NewValue), scoped by the runtime to the word its fields
//	    grouping routes; it declares it (topology.StateDeclarer).
//	  - fileSink is a topology.TwoPhaseSink: what it receives goes into an
//	    open file, sealed at each checkpoint's barrier (PreCommit) and
//	    renamed into place when the checkpoint completes (Commit); after a
//	    crash, Recover finishes the renames the last checkpoint names and
//	    deletes the rest. Only committed files are output.
//
// With -crash-after N the count bolt panics once after N words: every task
// rolls back to the last completed checkpoint and the input replays from
// there, yet every word's running counts 1, 2, …, n appear in the output
// exactly once. It prints {"lines":…,"words":…,"checkpoints":…,"restores":…}
// and writes word<TAB>count lines to DIR/counts.tsv.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

func main() {
	input := flag.String("input", "", "text file to count (required)")
	output := flag.String("output", "", "directory for the committed files and counts.tsv (required)")
	crashAfter := flag.Int64("crash-after", 0, "panic once in the count bolt after this many words (0: never)")
	stateDir := flag.String("state-dir", "", "keep checkpoints in this directory (squall.state.dir; default: memory)")
	flag.Parse()
	if *input == "" || *output == "" {
		fmt.Fprintln(os.Stderr, "stateful: -input and -output are required")
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, *input, *output, *crashAfter, *stateDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stateful:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

type result struct {
	Lines       int   `json:"lines"`
	Words       int   `json:"words"`
	Checkpoints int64 `json:"checkpoints"`
	Restores    int64 `json:"restores"`
}

func run(ctx context.Context, input, output string, crashAfter int64, stateDir string) (result, error) {
	raw, err := os.ReadFile(input)
	if err != nil {
		return result{}, err
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	words := 0
	for _, l := range lines {
		words += len(strings.Fields(l))
	}
	if err := os.MkdirAll(output, 0o755); err != nil {
		return result{}, err
	}
	var counted atomic.Int64
	var crashed atomic.Bool
	b := topology.NewBuilder("stateful-wordcount")
	b.SetSpout("lines", func() topology.Spout { return &linesSpout{lines: lines} }, 1).Output("line")
	b.SetBasicBolt("split", func() topology.BasicBolt {
		return topology.BoltFunc(func(t topology.Tuple, c topology.BasicCollector) error {
			line := topology.String(t, "line")
			for _, w := range strings.Fields(line) {
				c.Emit(topology.Values{strings.ToLower(w)})
			}
			return nil
		})
	}, 2).ShuffleGrouping("lines").Output("word")
	b.SetBolt("count", func() topology.Bolt {
		return &countBolt{counted: &counted, crashAfter: crashAfter, crashed: &crashed}
	}, 2).FieldsGrouping("split", "word").Output("word", "count")
	b.SetBolt("sink", func() topology.Bolt { return &fileSink{dir: output} }, 1).ShuffleGrouping("count")
	conf := topology.Config{
		topology.GuaranteeKey:         topology.ExactlyOnce,
		topology.CheckpointIntervalMs: 200,
	}
	if stateDir != "" {
		conf[topology.StateDir] = stateDir
	}
	topo, err := b.Build(conf)
	if err != nil {
		return result{}, err
	}
	c, err := local.Start(ctx, topo)
	if err != nil {
		return result{}, err
	}
	defer c.Stop(context.WithoutCancel(ctx))
	// Done when the committed output holds a count for every word.
	for {
		n, err := committedRecords(output)
		if err != nil {
			return result{}, err
		}
		if n >= words {
			break
		}
		select {
		case <-ctx.Done():
			return result{}, fmt.Errorf("interrupted: %d of %d words committed", n, words)
		case <-time.After(50 * time.Millisecond):
		}
	}
	st, _ := c.Topology().Env().Checkpoints()
	if err := writeCounts(output); err != nil {
		return result{}, err
	}
	return result{Lines: len(lines), Words: words, Checkpoints: st.Completed, Restores: st.Restores}, nil
}

// linesSpout emits the lines of a file; its position is the next line.
type linesSpout struct {
	lines []string
	next  int
	out   topology.SpoutCollector
}

func (s *linesSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *linesSpout) NextTuple() {
	if s.next < len(s.lines) {
		s.out.Emit(topology.Values{s.lines[s.next]}, s.next)
		s.next++
	}
}

func (s *linesSpout) SnapshotPosition(uint64) ([]byte, error) {
	return binary.AppendUvarint(nil, uint64(s.next)), nil
}

func (s *linesSpout) RestorePosition(pos []byte) error {
	if pos == nil {
		s.next = 0
		return nil
	}
	v, n := binary.Uvarint(pos)
	if n <= 0 || v > uint64(len(s.lines)) {
		return fmt.Errorf("position % x is not a line of the input", pos)
	}
	s.next = int(v)
	return nil
}

func (s *linesSpout) CheckpointComplete(uint64) {}
func (s *linesSpout) Ack(any)                   {}
func (s *linesSpout) Fail(any)                  {}
func (s *linesSpout) Activate()                 {}
func (s *linesSpout) Deactivate()               {}
func (s *linesSpout) Close() error              { return nil }

// countBolt keeps a count per word in keyed state.
type countBolt struct {
	out        topology.OutputCollector
	count      *state.Value[int64]
	counted    *atomic.Int64
	crashAfter int64
	crashed    *atomic.Bool
}

func (b *countBolt) DeclareState() topology.State { return topology.State{Keyed: []string{"count"}} }

func (b *countBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	st, err := state.Of(tc)
	if err != nil {
		return err
	}
	b.out = c
	b.count, err = state.NewValue(st, "count", state.Int64)
	return err
}

func (b *countBolt) Execute(t topology.Tuple) {
	if n := b.counted.Add(1); b.crashAfter > 0 && n >= b.crashAfter && b.crashed.CompareAndSwap(false, true) {
		panic("a failure, thrown once (-crash-after)")
	}
	n, _, err := b.count.Get()
	if err == nil {
		err = b.count.Set(n + 1)
	}
	if err != nil {
		b.out.Fail(t) // exactly-once: rolls every task back, nothing is lost
		return
	}
	word := topology.String(t, "word")
	b.out.Emit(topology.Values{word, n + 1}, t)
	b.out.Ack(t)
}

func (b *countBolt) Cleanup() error { return nil }

// fileSink writes what it receives into the open part, sealed as
// pending-<task>-<checkpoint> at each barrier and renamed to
// committed-<task>-<checkpoint> when the checkpoint completes.
type fileSink struct {
	dir     string
	task    topology.TaskID
	out     topology.OutputCollector
	open    []string
	pending []uint64 // sealed checkpoints not committed yet
}

func (s *fileSink) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	s.task, s.out = tc.Task, c
	return nil
}

func (s *fileSink) Execute(t topology.Tuple) {
	word := topology.String(t, "word")
	n, _ := topology.Int64(t, "count")
	s.open = append(s.open, fmt.Sprintf("%s\t%d\n", word, n))
	s.out.Ack(t)
}

func (s *fileSink) Cleanup() error { return nil }

func (s *fileSink) name(kind string, id uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s-%d-%020d", kind, s.task, id))
}

// PreCommit seals the open part durably; the committable names every
// sealed part not committed yet.
func (s *fileSink) PreCommit(id uint64) ([]byte, error) {
	if len(s.open) > 0 {
		tmp := s.name("tmp", id)
		if err := writeSynced(tmp, strings.Join(s.open, "")); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, s.name("pending", id)); err != nil {
			return nil, err
		}
		s.open = nil
		s.pending = append(s.pending, id)
	}
	var c []byte
	for _, p := range s.pending {
		c = binary.AppendUvarint(c, p)
	}
	return c, nil
}

// Commit renames every sealed part the checkpoint covers into place.
func (s *fileSink) Commit(id uint64) error {
	keep := s.pending[:0]
	for _, p := range s.pending {
		if p > id {
			keep = append(keep, p)
			continue
		}
		if err := s.commit(p); err != nil {
			return err
		}
	}
	s.pending = keep
	return nil
}

func (s *fileSink) commit(p uint64) error {
	err := os.Rename(s.name("pending", p), s.name("committed", p))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(s.name("committed", p)); serr == nil {
			return nil // committed before the crash
		}
	}
	return err
}

// Recover commits what the last completed checkpoint sealed and deletes
// every other part this task left behind.
func (s *fileSink) Recover(_ uint64, committable []byte) error {
	for len(committable) > 0 {
		p, n := binary.Uvarint(committable)
		if n <= 0 {
			return fmt.Errorf("committable % x: malformed", committable)
		}
		committable = committable[n:]
		if err := s.commit(p); err != nil {
			return err
		}
	}
	for _, kind := range []string{"pending", "tmp"} {
		left, _ := filepath.Glob(filepath.Join(s.dir, fmt.Sprintf("%s-%d-*", kind, s.task)))
		for _, f := range left {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	s.open, s.pending = nil, nil
	return nil
}

func writeSynced(path, data string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readCommitted returns every committed (word, count) line.
func readCommitted(dir string) ([][2]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "committed-*"))
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			word, n, _ := strings.Cut(sc.Text(), "\t")
			out = append(out, [2]string{word, n})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func committedRecords(dir string) (int, error) {
	recs, err := readCommitted(dir)
	return len(recs), err
}

// writeCounts writes each word's highest committed count to counts.tsv.
func writeCounts(dir string) error {
	recs, err := readCommitted(dir)
	if err != nil {
		return err
	}
	final := map[string]int{}
	for _, r := range recs {
		var n int
		fmt.Sscan(r[1], &n)
		final[r[0]] = max(final[r[0]], n)
	}
	var b strings.Builder
	for _, w := range slices.Sorted(maps.Keys(final)) {
		fmt.Fprintf(&b, "%s\t%d\n", w, final[w])
	}
	return os.WriteFile(filepath.Join(dir, "counts.tsv"), []byte(b.String()), 0o644)
}
