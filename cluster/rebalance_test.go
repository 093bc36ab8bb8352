package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// countWindows records, per routing window, which count tasks counted each
// word. A window is a rebalance's parallelism, from when every node applied
// it until the next rebalance starts; a word counted in a window is one
// whose split task read the window's tag before emitting it and whose count
// task counted it while the window was still open, so it was routed under
// that parallelism and no other.
type countWindows struct {
	phase atomic.Int64 // the open window; -1 while a rebalance is under way
	mu    sync.Mutex
	tasks map[int64]map[string]map[topology.TaskID]bool
	n     map[int64]int
}

func newCountWindows() *countWindows {
	return &countWindows{tasks: map[int64]map[string]map[topology.TaskID]bool{}, n: map[int64]int{}}
}

func (w *countWindows) onCount(task topology.TaskID, word string, _, _, tag int64) {
	if tag < 0 || w.phase.Load() != tag {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	byWord := w.tasks[tag]
	if byWord == nil {
		byWord = map[string]map[topology.TaskID]bool{}
		w.tasks[tag] = byWord
	}
	if byWord[word] == nil {
		byWord[word] = map[topology.TaskID]bool{}
	}
	byWord[word][task] = true
	w.n[tag]++
}

// readLedger returns every (line, position) the count tasks recorded;
// nothing was killed, so no line may be torn.
func readLedger(t *testing.T, dir string) map[[2]int64]bool {
	t.Helper()
	entries, torn, err := wordcount.ReadLedgers(dir)
	if err != nil || torn != 0 || len(entries) == 0 {
		t.Fatalf("ledgers in %s: %d entries, %d torn lines, err %v", dir, len(entries), torn, err)
	}
	seen := map[[2]int64]bool{}
	for _, e := range entries {
		seen[[2]int64{e.Line, e.Pos}] = true
	}
	return seen
}

// TestRebalanceScalesTheCountWhileItRuns runs the word count on two nodes
// and changes the count bolt's parallelism up and down while it runs: every
// (line, position) is counted, and within each window every word was
// counted by exactly the one task its key group maps to.
func TestRebalanceScalesTheCountWhileItRuns(t *testing.T) {
	const lines = 30000
	job := wordcount.NewJob(wordcount.GenerateLines(lines, 7))
	win := newCountWindows()
	job.Tag, job.OnCount = win.phase.Load, win.onCount
	ledger := t.TempDir()
	const maxCount = 8
	c := clustertest.New(t, 2, map[string]cluster.Factory{"wordcount": cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		return wordcount.Build(job, topology.Config{
			topology.MessageTimeoutSecs: 5, topology.MaxSpoutPending: 200, topology.AckerExecutors: 2,
			wordcount.KeyLedger: ledger, wordcount.KeyCount: 2, wordcount.KeyCountTasks: maxCount,
		}.Merge(conf))
	})})
	if err := c.Node(0).Submit("wc", "wordcount", nil); err != nil {
		t.Fatal(err)
	}
	steps := []int{5, 8, 3, 1, 6}
	parallelism := map[int64]int{0: 2}
	var failedAt int64
	// Each window gets lines of its own, released once it has begun, so
	// none is empty however long a rebalance takes.
	chunk := lines / (len(steps) + 1)
	job.Release(chunk)
	for i, k := range steps {
		phase := int64(i + 1)
		// Most of the last window's lines acked; the rest cross the rebalance.
		want := int(phase)*chunk - chunk/10
		poll.Until(t, 60*time.Second, fmt.Sprintf("%d lines acked before rebalance %d", want, i+1), func() bool {
			return job.Progress().Acked >= int64(want)
		})
		before := job.Progress()
		if i > 0 {
			t.Logf("  between rebalance %d and %d: %d trees failed and replayed", i, i+1, before.Failed-failedAt)
		}
		failedAt = before.Failed
		win.phase.Store(-1)
		where := placementOf(c, 2)
		res, err := c.Node(i%2).Rebalance(context.Background(), "wc", cluster.RebalanceOptions{Parallelism: map[string]int{"count": k}, Wait: 30 * time.Second})
		if err != nil {
			t.Fatalf("rebalance count=%d: %v", k, err)
		}
		if !res.Applied || res.Parallelism["count"] != k {
			t.Fatalf("rebalance count=%d: %+v", k, res)
		}
		parallelism[phase] = k
		win.phase.Store(phase)
		if phase == int64(len(steps)) {
			job.Release(lines)
		} else {
			job.Release(int(phase+1) * chunk)
		}
		t.Logf("  tasks that changed node: %v", changedNodes(where, placementOf(c, 2)))
		t.Logf("rebalance %d: count %d -> %d: moved %d tasks (%d started, %d stopped), applied on every node in %.1f ms",
			i+1, parallelism[phase-1], k, res.Moved, res.Started, res.Stopped, res.TookMs)
		select {
		case <-job.Done():
			t.Fatalf("the job finished before rebalance %d: give it more lines", i+1)
		default:
		}
	}
	select {
	case <-job.Done():
	case <-time.After(120 * time.Second):
		t.Fatalf("job not done: %+v", job.Progress())
	}
	p := job.Progress()
	t.Logf("  after rebalance %d: %d trees failed and replayed", len(steps), p.Failed-failedAt)
	t.Logf("done: %d lines acked, %d trees failed and replayed over %d rebalances", p.Acked, p.Failed, len(steps))

	seen := readLedger(t, ledger)
	missing := 0
	for n, line := range job.Lines {
		for pos := range wordcount.Words(line) {
			if !seen[[2]int64{int64(n), int64(pos)}] {
				if missing++; missing <= 5 {
					t.Errorf("line %d position %d was never counted", n, pos)
				}
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d (line, position) pairs never counted", missing)
	}

	// Which task each word must go to under each parallelism.
	var countTasks []topology.TaskID
	if topo, err := wordcount.Build(wordcount.NewJob(nil), topology.Config{wordcount.KeyCountTasks: maxCount}); err != nil {
		t.Fatal(err)
	} else {
		countTasks = topo.Component("count").Tasks
	}
	win.mu.Lock()
	defer win.mu.Unlock()
	for phase := int64(1); phase <= int64(len(steps)); phase++ {
		k := parallelism[phase]
		owners := routing.KeyGroupOwners(k, maxCount)
		if win.n[phase] == 0 {
			t.Errorf("window %d (count=%d): no word counted in it", phase, k)
		}
		used := map[topology.TaskID]bool{}
		for word, tasks := range win.tasks[phase] {
			want := countTasks[owners[routing.KeyGroup(routing.FieldsHash(topology.Values{word}, []int{0}), maxCount)]]
			if len(tasks) != 1 || !tasks[want] {
				t.Errorf("window %d (count=%d): %q counted by tasks %v, want only task %d", phase, k, word, tasks, want)
			}
			used[want] = true
		}
		t.Logf("window %d: count=%d, %d words counted by %d tasks, each word by exactly one", phase, k, win.n[phase], len(used))
	}
}

// TestRebalanceAfterANodeJoins starts a topology on two nodes, adds a
// third, and rebalances: the cluster re-spread the tasks by itself when the
// node joined, so a rebalance without a parallelism change moves nothing,
// and one that changes it reports the tasks it started and stopped.
func TestRebalanceAfterANodeJoins(t *testing.T) {
	const n = 1 << 30 // never finishes: the topology runs throughout
	src := newSource(n)
	c := clustertest.New(t, 2, map[string]cluster.Factory{"ids": factory(src)})
	if err := c.Node(0).Submit("ids", "ids", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "some ids acked", func() bool { return src.Acked() > 100 })
	tasksOn := func(i int) int {
		total := 0
		for _, lt := range c.Node(i).LocalTopologies() {
			total += len(lt.Tasks)
		}
		return total
	}
	before := []int{tasksOn(0), tasksOn(1)}
	joined := time.Now()
	third := c.Add()
	poll.Until(t, 30*time.Second, "the new node runs tasks", func() bool { return tasksOn(third) > 0 })
	t.Logf("node joined: tasks per node %v -> [%d %d %d] in %v without a rebalance", before, tasksOn(0), tasksOn(1), tasksOn(third), time.Since(joined).Round(time.Millisecond))

	ctx := context.Background()
	res, err := c.Node(1).Rebalance(ctx, "ids", cluster.RebalanceOptions{Wait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Applied || res.Moved != 0 {
		t.Errorf("rebalance of a balanced topology = %+v, want applied, 0 moved", res)
	}
	t.Logf("rebalance with nothing to move: %+v", *res)

	acked := src.Acked()
	res, err = c.Node(third).Rebalance(ctx, "ids", cluster.RebalanceOptions{Parallelism: map[string]int{"relay": 1, "sink": 4}, Wait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Applied || res.Stopped != 2 || res.Started != 0 || res.Moved < 2 || res.Parallelism["relay"] != 1 {
		t.Errorf("rebalance relay=1 = %+v, want applied, 2 stopped, none started", res)
		for i := range 3 {
			for _, lt := range c.Node(i).LocalTopologies() {
				t.Logf("node %d: epoch %d tasks %v", i, lt.Epoch, lt.Tasks)
			}
		}
	}
	t.Logf("rebalance relay 3 -> 1: moved %d (%d stopped), applied in %.1f ms", res.Moved, res.Stopped, res.TookMs)
	poll.Until(t, 30*time.Second, "ids still acked after the rebalance", func() bool { return src.Acked() > acked+1000 })

	for _, bad := range []struct {
		p    map[string]int
		want string
	}{
		{map[string]int{"sinc": 2}, `"sinc": no such component`},
		{map[string]int{"sink": 0}, `bolt "sink": parallelism must be >= 1, got 0`},
		{map[string]int{"sink": 5}, `bolt "sink": parallelism 5 is above its NumTasks 4`},
	} {
		_, err := c.Node(0).Rebalance(ctx, "ids", cluster.RebalanceOptions{Parallelism: bad.p})
		if !errors.Is(err, cluster.ErrRebalance) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Rebalance(%v) = %v, want ErrRebalance naming %s", bad.p, err, bad.want)
		}
	}
	if _, err := c.Node(0).Rebalance(ctx, "nope", cluster.RebalanceOptions{}); !errors.Is(err, cluster.ErrTopologyNotFound) {
		t.Errorf("Rebalance(unknown topology) = %v, want ErrTopologyNotFound", err)
	}
}

// placementOf maps every task of the first n nodes to the node running it.
func placementOf(c *clustertest.Cluster, n int) map[int32]string {
	out := map[int32]string{}
	for i := range n {
		for _, lt := range c.Node(i).LocalTopologies() {
			for _, task := range lt.Tasks {
				out[task] = c.Node(i).Name()
			}
		}
	}
	return out
}

// changedNodes lists the tasks that run on another node in after than in
// before (not those that started or stopped).
func changedNodes(before, after map[int32]string) []int32 {
	var out []int32
	for task, node := range after {
		if prev, ok := before[task]; ok && prev != node {
			out = append(out, task)
		}
	}
	slices.Sort(out)
	return out
}
