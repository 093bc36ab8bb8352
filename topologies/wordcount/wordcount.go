// Package wordcount is the word count topology: a spout reads lines (the
// message id is the line number), a split bolt emits the words of a line
// anchored to it, and a count bolt, fields-grouped on the word, counts them.
// It is registered in the node binary as "wordcount" (package topologies)
// and run by examples/wordcount; its Words and CountBolt are the word
// splitting and counting of every other topology of squall's.
package wordcount

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/squall-streams/squall/topology"
)

// Configuration keys (set with --set on node run).
const (
	KeyInput    = "wordcount.input"     // a text file; empty: generated text
	KeyOutput   = "wordcount.output"    // a file for the merged counts, or a directory for counts-<task>.tsv per count task
	KeyLedger   = "wordcount.ledger"    // a directory: each count task appends line<TAB>position<TAB>word per tuple
	KeyFailRate = "wordcount.fail-rate" // fraction of split tuples to fail
	KeyLines    = "wordcount.lines"     // lines of generated text (default 200000)
	KeySplit    = "wordcount.split.parallelism"
	KeyCount    = "wordcount.count.parallelism"
	// KeyCountTasks is the count bolt's NumTasks: its key groups, the most
	// count tasks a rebalance can run (default 8, at least the parallelism).
	KeyCountTasks = "wordcount.count.tasks"
)

// Keys are the configuration keys above, which the word count reads
// (besides topology.* and squall.*): its nodecmd.Topology.Keys.
var Keys = []string{KeyInput, KeyOutput, KeyLedger, KeyFailRate, KeyLines, KeySplit, KeyCount, KeyCountTasks}

// Words splits a line into words: maximal runs of Unicode letters or digits,
// lowercased.
func Words(line string) []string {
	ws := strings.FieldsFunc(line, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range ws {
		ws[i] = strings.ToLower(w)
	}
	return ws
}

// Job is one run of the word count: its lines, its progress and its counts.
// The components of the topology report into it; it is safe for concurrent use.
type Job struct {
	Lines []string

	// Tag and OnCount are hooks for tests, set before the topology starts.
	// Tag is called by split tasks for every word they emit; its value
	// travels with the word (field "tag", 0 without a hook). OnCount is
	// called by count tasks for every word they count.
	Tag     func() int64
	OnCount func(task topology.TaskID, word string, line, pos, tag int64)

	acked, failed, replayed atomic.Int64
	// ackedLine records which lines were acked, so a spout task that
	// restarts or moves (in this process) resumes instead of starting over.
	ackedLine []atomic.Bool
	released  atomic.Int64 // lines from this one on are held back
	left      atomic.Int64
	done      chan struct{}
	doneOnce  sync.Once

	mu     sync.Mutex
	counts map[string]int64
}

// NewJob makes a job over lines.
func NewJob(lines []string) *Job {
	j := &Job{Lines: lines, done: make(chan struct{}), counts: map[string]int64{}, ackedLine: make([]atomic.Bool, len(lines))}
	j.left.Store(int64(len(lines)))
	j.released.Store(int64(len(lines)))
	if len(lines) == 0 {
		j.finish()
	}
	return j
}

// ReadLines reads the lines of r.
func ReadLines(r io.Reader) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// GenerateLines makes n lines of random words from a fixed vocabulary with a
// Zipf-like skew, seeded so every run reads the same text (like storm-perf's
// FileReadWordCount input).
func GenerateLines(n int, seed uint64) []string {
	vocab := strings.Fields(`the of and to in is was he for it with as his on be at by had are but from
		or have an they which one you were her all she there would their we him been has when who will more no
		if out so said what up its about into than them can only other new some could time these two may then do
		first any my now such like our over man me even most made after also did many before must through back
		years where much your way well down should because each just those people how too little state good very
		make world still own see men work long get here between both life being under never day same another know
		while last might us great old year off come since against go came right used take three storm spout bolt
		tuple stream squall kafka actor gossip python`)
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	z := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	lines := make([]string, n)
	var b strings.Builder
	for i := range lines {
		b.Reset()
		k := 4 + r.IntN(12)
		for w := range k {
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vocab[z.Uint64()])
		}
		lines[i] = b.String()
	}
	return lines
}

// Done is closed when every line has been acked.
func (j *Job) Done() <-chan struct{} { return j.done }

// Release lets spouts read only the first n lines (replays aside), like a
// file that is still being written; a new Job has released all of them.
// Tests release lines in phases so that each phase has lines of its own.
func (j *Job) Release(n int) { j.released.Store(int64(min(n, len(j.Lines)))) }

func (j *Job) finish() { j.doneOnce.Do(func() { close(j.done) }) }

// Progress is the job's counters.
type Progress struct {
	Lines    int   `json:"lines"`
	Acked    int64 `json:"acked"`
	Failed   int64 `json:"failed"`
	Replayed int64 `json:"replayed"`
}

// Progress returns the job's counters now.
func (j *Job) Progress() Progress {
	return Progress{Lines: len(j.Lines), Acked: j.acked.Load(), Failed: j.failed.Load(), Replayed: j.replayed.Load()}
}

// Counts returns the word counts merged from every count task that has
// stopped (they hand their counts over in Cleanup).
func (j *Job) Counts() map[string]int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return maps.Clone(j.counts)
}

// WriteCounts writes word<TAB>count lines sorted by word.
func WriteCounts(w io.Writer, counts map[string]int64) error {
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	slices.Sort(words)
	bw := bufio.NewWriter(w)
	for _, word := range words {
		fmt.Fprintf(bw, "%s\t%d\n", word, counts[word])
	}
	return bw.Flush()
}

// Build returns the word count topology for job. failRate is the fraction
// of lines the split bolt fails (they replay).
func Build(job *Job, conf topology.Config) (*topology.Topology, error) {
	failRate, err := floatConf(conf, KeyFailRate)
	if err != nil {
		return nil, err
	}
	if failRate < 0 || failRate >= 1 {
		return nil, fmt.Errorf("config %s: must be in [0, 1), got %v", KeyFailRate, failRate)
	}
	split, err := conf.Int(KeySplit, 2)
	if err != nil {
		return nil, err
	}
	count, err := conf.Int(KeyCount, 2)
	if err != nil {
		return nil, err
	}
	countTasks, err := conf.Int(KeyCountTasks, 8)
	if err != nil {
		return nil, err
	}
	b := topology.NewBuilder("wordcount")
	b.SetSpout("lines", func() topology.Spout { return &LineSpout{job: job} }, 1).Output("line_no", "line")
	b.SetBasicBolt("split", func() topology.BasicBolt { return &SplitBolt{FailRate: failRate, job: job} }, split).
		ShuffleGrouping("lines").Output("word", "line_no", "pos", "tag")
	outDir := ""
	if out := conf.String(KeyOutput, ""); out != "" {
		if fi, err := os.Stat(out); err == nil && fi.IsDir() {
			outDir = out
		}
	}
	ledger := conf.String(KeyLedger, "")
	b.SetBolt("count", func() topology.Bolt { return &CountBolt{job: job, OutputDir: outDir, LedgerDir: ledger} }, count).
		NumTasks(max(countTasks, count)).FieldsGrouping("split", "word")
	return b.Build(conf)
}

func floatConf(conf topology.Config, key string) (float64, error) {
	switch v := conf[key].(type) {
	case nil:
		return 0, nil
	case float64:
		return v, nil
	case int:
		return float64(v), nil
	case string:
		var f float64
		if _, err := fmt.Sscan(v, &f); err != nil {
			return 0, fmt.Errorf("config %s: %q is not a number", key, v)
		}
		return f, nil
	default:
		return 0, fmt.Errorf("config %s: %v (%T) is not a number", key, v, v)
	}
}

// LineSpout emits every line once with its line number as message id, and
// again after every Fail, until it is acked. A new instance in the same
// process (a restart, a move) resumes with the lines not acked yet.
type LineSpout struct {
	topology.BaseSpout
	job    *Job
	out    topology.SpoutCollector
	next   int
	replay []int
}

func (s *LineSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *LineSpout) NextTuple() {
	var n int
	switch {
	case len(s.replay) > 0:
		n = s.replay[len(s.replay)-1]
		s.replay = s.replay[:len(s.replay)-1]
		s.job.replayed.Add(1)
	default:
		released := int(s.job.released.Load())
		for s.next < released && s.job.ackedLine[s.next].Load() {
			s.next++
		}
		if s.next >= released {
			return
		}
		n = s.next
		s.next++
	}
	s.out.Emit(topology.Values{int64(n), s.job.Lines[n]}, n)
}

func (s *LineSpout) Ack(id any) {
	n := id.(int)
	if s.job.ackedLine[n].Swap(true) {
		return
	}
	s.job.acked.Add(1)
	if s.job.left.Add(-1) == 0 {
		s.job.finish()
	}
}

func (s *LineSpout) Fail(id any) {
	s.job.failed.Add(1)
	s.replay = append(s.replay, id.(int))
}

// SplitBolt emits (word, line_no, pos, tag) for every word of a line (tag:
// see Job.Tag). With a FailRate it fails that fraction of lines at random,
// before emitting.
type SplitBolt struct {
	topology.BaseBolt
	FailRate float64
	job      *Job
}

// errInjected is the failure SplitBolt injects.
var errInjected = fmt.Errorf("wordcount: injected failure")

func (b *SplitBolt) Prepare(context.Context, *topology.Context) error { return nil }

func (b *SplitBolt) Execute(t topology.Tuple, c topology.BasicCollector) error {
	if b.FailRate > 0 && rand.Float64() < b.FailRate {
		return errInjected
	}
	v := t.Values()
	var tag int64
	if b.job != nil && b.job.Tag != nil {
		tag = b.job.Tag()
	}
	for i, w := range Words(v[1].(string)) {
		c.Emit(topology.Values{w, v[0], int64(i), tag})
	}
	return nil
}

// CountBolt counts words — the values of its input's field Field, default
// "word" — and acks every tuple once it is counted. It is the one counting
// bolt of squall's own topologies; its options say what else it does:
//
//   - Emit: on every update it emits (Prefix+word, decimal running count),
//     anchored to the input (kafka-wordcount and wikiedits, whose Kafka bolt
//     writes them);
//   - Executed: it adds the tuples it counted to that counter, 256 at a time
//     (internal/perf's sink);
//   - OutputDir: in Cleanup it adds its counts to OutputDir/counts-<task>.tsv
//     (a clean stop: counts in memory die with a killed node);
//   - LedgerDir: it appends line<TAB>position<TAB>word (the input's fields
//     line_no and pos) for every tuple to LedgerDir/ledger-<task>.tsv and
//     writes it before acking: an at-least-once file sink (like Storm's
//     HdfsBolt) that shows after a crash what was counted.
//
// In the word count topology (Build) it also reports to the Job: OnCount
// for every word, and its counts in Cleanup.
type CountBolt struct {
	Field     string
	Emit      bool
	Prefix    string
	Executed  *atomic.Int64
	OutputDir string
	LedgerDir string
	job       *Job
	out       topology.OutputCollector
	counts    map[string]int64
	n         int64 // tuples counted since Executed was last advanced
	task      topology.TaskID
	ledger    *os.File
	line      []byte
}

var _ topology.Bolt = (*CountBolt)(nil)

// Prepare implements topology.Bolt.
func (b *CountBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.out = c
	b.counts = map[string]int64{}
	b.task = tc.Task
	if b.Field == "" {
		b.Field = "word"
	}
	if b.LedgerDir != "" {
		if err := os.MkdirAll(b.LedgerDir, 0o755); err != nil {
			return fmt.Errorf("config %s: %w", KeyLedger, err)
		}
		f, err := os.OpenFile(filepath.Join(b.LedgerDir, fmt.Sprintf("ledger-%d.tsv", tc.Task)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("config %s: %w", KeyLedger, err)
		}
		b.ledger = f
	}
	return nil
}

// Execute implements topology.Bolt.
func (b *CountBolt) Execute(t topology.Tuple) {
	word := topology.String(t, b.Field)
	if b.ledger != nil || b.job != nil && b.job.OnCount != nil {
		lineNo, _ := topology.Int64(t, "line_no")
		pos, _ := topology.Int64(t, "pos")
		if b.ledger != nil {
			b.line = fmt.Appendf(b.line[:0], "%d\t%d\t%s\n", lineNo, pos, word)
			if _, err := b.ledger.Write(b.line); err != nil {
				b.out.ReportError(err)
				b.out.Fail(t) // not recorded: replay
				return
			}
		}
		if b.job != nil && b.job.OnCount != nil {
			tag, _ := topology.Int64(t, "tag")
			b.job.OnCount(b.task, word, lineNo, pos, tag)
		}
	}
	b.counts[word]++
	if b.Emit {
		b.out.Emit(topology.Values{b.Prefix + word, strconv.FormatInt(b.counts[word], 10)}, t)
	}
	b.out.Ack(t)
	if b.Executed != nil {
		if b.n++; b.n == 256 {
			b.Executed.Add(b.n)
			b.n = 0
		}
	}
}

// Cleanup implements topology.Bolt.
func (b *CountBolt) Cleanup() error {
	var errs []error
	if b.ledger != nil {
		errs = append(errs, b.ledger.Close())
	}
	if b.OutputDir != "" {
		errs = append(errs, mergeCounts(filepath.Join(b.OutputDir, fmt.Sprintf("counts-%d.tsv", b.task)), b.counts))
	}
	if b.job != nil {
		b.job.mu.Lock()
		for w, n := range b.counts {
			b.job.counts[w] += n
		}
		b.job.mu.Unlock()
	}
	return errors.Join(errs...)
}

// mergeCounts adds counts to those already in path (a task that stopped in
// a rebalance and started again later, or ran on another node before,
// wrote them) and writes the sum back.
func mergeCounts(path string, counts map[string]int64) error {
	sum := maps.Clone(counts)
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			word, n, ok := strings.Cut(sc.Text(), "\t")
			var c int64
			if _, err := fmt.Sscan(n, &c); ok && err == nil {
				sum[word] += c
			}
		}
		f.Close()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(WriteCounts(f, sum), f.Close())
}

// LoadLines reads the input file named in conf, or generates text.
func LoadLines(conf topology.Config) ([]string, error) {
	if path := conf.String(KeyInput, ""); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", KeyInput, err)
		}
		defer f.Close()
		return ReadLines(f)
	}
	n, err := conf.Int(KeyLines, 200000)
	if err != nil {
		return nil, err
	}
	return GenerateLines(n, 42), nil
}
