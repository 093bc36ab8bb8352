package nodecmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/supervisor"
	"github.com/squall-streams/squall/topology"
)

// runOptions are `node run`'s options for running with the web UI.
type runOptions struct {
	http, adminToken string
	drain            time.Duration
	logger           *slog.Logger
	// timeout stops the topology when it fires (nil: at its end or on a
	// signal).
	timeout <-chan time.Time
}

// runWithUI runs job on a one-node cluster in this process, so the web UI
// and the REST API (with rebalance) serve it at opts.http exactly as a
// cluster node's do. It returns when ctx is done, the job is done or
// opts.timeout fired, after draining.
func runWithUI(ctx context.Context, j *Job, opts runOptions, stderr *console) (time.Duration, error) {
	cfg := cluster.LocalConfig()
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.AdminToken = "local", "127.0.0.1:0", opts.http, opts.adminToken
	cfg.Logger = opts.logger
	// Local mode: one node of its own, no key and no certificates; the
	// API is open on its (loopback) address unless --admin-token is given.
	cfg.Insecure = true
	// Yet its gossip is encrypted, with a key of its own that nothing
	// else knows: no node joins it, and the log has no warning about
	// gossip in clear for a cluster that has none.
	cfg.GossipKey = cluster.Keygen()
	// And it is Solo: it can never have a peer, so it runs exactly-once
	// topologies, which a cluster refuses until barriers cross nodes.
	cfg.Solo = true
	const kind = "run"
	t := j.Topology
	cfg.Topologies = map[string]cluster.Factory{kind: cluster.Simple(func(topology.Config) (*topology.Topology, error) { return t, nil })}
	n, err := cluster.Start(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("--http %s: %w", opts.http, err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = n.Shutdown(sctx)
	}()
	start := time.Now()
	if err := n.Submit(t.Name, kind, nil); err != nil {
		return 0, err
	}
	fmt.Fprintf(stderr, "squall UI: http://%s/   (REST API: http://%s/api/v1/topology/%s)\n", n.HTTPAddr(), n.HTTPAddr(), t.Name)
	live := newLiveLine(stderr, t.Name)
	counts := clusterCounts(n.LocalTopologies, t.Name)
	live.follow(ctx, j.Done, opts.timeout, counts)
	live.update(counts, true)
	live.end()
	elapsed := time.Since(start)
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.drain+10*time.Second)
	defer cancel()
	if err := n.Kill(kctx, t.Name, opts.drain); err != nil {
		return elapsed, err
	}
	return elapsed, nil
}

// console is node run's stderr: the build's notes, the log and the live
// line go through it. On a terminal the live line stays below what is
// written: it is cleared before and drawn again after every write.
type console struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	line     string // the live line on the terminal; "" none
}

// newConsole writes to w; it is a terminal when w is a character device.
func newConsole(w io.Writer) *console {
	c := &console{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			c.terminal = true
		}
	}
	return c
}

// Write writes p (a whole log record or note) above the live line.
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.line == "" {
		return c.w.Write(p)
	}
	if _, err := io.WriteString(c.w, "\r\033[K"); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	if err == nil {
		_, err = io.WriteString(c.w, c.line)
	}
	return n, err
}

// show prints the live line: in place on a terminal, else as a line.
func (c *console) show(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminal {
		fmt.Fprintf(c.w, "\r\033[K%s", line)
		c.line = line
	} else {
		fmt.Fprintln(c.w, line)
	}
}

// end finishes the live line on a terminal so that later output starts on
// a new line.
func (c *console) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.line != "" {
		fmt.Fprintln(c.w)
		c.line = ""
	}
}

// liveCounts are a topology's totals the live line shows.
type liveCounts struct {
	emitted, acked, failed int64 // by the spouts
	executed               int64 // by the bolts
	errors                 int64
	inFlight               int64 // trees pending and untracked tuples not yet executed
	pending                int64 // trees pending at the spouts: their tuples are tracked
}

// countsOf sums the tasks' all-time counts; inFlight is the topology's.
func countsOf(tasks []cluster.TaskInfo, inFlight int64) liveCounts {
	c := liveCounts{inFlight: inFlight}
	for _, t := range tasks {
		if t.Kind == "spout" {
			c.pending += t.Pending
		}
	}
	for _, cs := range cluster.ComponentTotals(tasks) {
		switch cs.Kind {
		case "spout":
			c.emitted += cs.Emitted
			c.acked += cs.Acked
			c.failed += cs.Failed
		case "bolt":
			c.executed += cs.Executed
		}
		c.errors += cs.Errors
	}
	return c
}

// clusterCounts reads topology name's counts on this node (--http: a
// one-node cluster).
func clusterCounts(local func() []cluster.LocalTopology, name string) func() liveCounts {
	return func() liveCounts {
		var tasks []cluster.TaskInfo
		var inFlight int64
		for _, lt := range local() {
			if lt.Name == name {
				inFlight += lt.InFlight
				tasks = append(tasks, lt.TaskStats...)
			}
		}
		return countsOf(tasks, inFlight)
	}
}

// runningCounts reads a local-mode topology's counts.
func runningCounts(r *supervisor.Running) func() liveCounts {
	return func() liveCounts {
		stats := r.Stats()
		tasks := make([]cluster.TaskInfo, 0, len(stats))
		for _, s := range stats {
			tasks = append(tasks, api.NewTaskInfo(r.Topology, s, "local", "", 0))
		}
		return countsOf(tasks, r.InFlight())
	}
}

// rateMeter turns successive counts into the live line's rate. Its unit is
// chosen once, when something has moved, and kept: trees/s (trees acked
// by the spouts) when the spouts' tuples are tracked, else tuples/s
// (executed by the bolts). Until then it reads "no tuples yet". The rate
// is never negative: tasks that stop (a rebalance) take their counts out
// of the totals.
type rateMeter struct {
	unit     string // "" undecided
	last     time.Time
	prev     liveCounts
	rate     float64
	measured bool // rate was measured once
}

// minInterval is the shortest interval a rate is measured over: a final
// line drawn just after a periodic one repeats that one's rate.
const minInterval = 500 * time.Millisecond

func (m *rateMeter) observe(now time.Time, c liveCounts) string {
	if m.unit == "" {
		switch {
		case c.acked+c.failed+c.pending > 0:
			m.unit = "trees/s"
		case c.executed > 0:
			m.unit = "tuples/s"
		default:
			m.last, m.prev = now, c
			return "no tuples yet"
		}
	}
	if dt := now.Sub(m.last); dt >= minInterval || !m.measured && dt > 0 {
		done, prev := c.acked, m.prev.acked
		if m.unit == "tuples/s" {
			done, prev = c.executed, m.prev.executed
		}
		m.rate = max(0, float64(done-prev)/dt.Seconds())
		m.last, m.prev, m.measured = now, c, true
	}
	return human(m.rate) + " " + m.unit
}

// formatLive is the live line.
func formatLive(elapsed time.Duration, name, rate string, c liveCounts) string {
	return fmt.Sprintf("[%s] %s: %s | spouts emitted %s acked %s failed %s | bolts executed %s | in flight %d | errors %d",
		elapsed.Truncate(time.Second), name, rate,
		human(float64(c.emitted)), human(float64(c.acked)), human(float64(c.failed)), human(float64(c.executed)), c.inFlight, c.errors)
}

// liveLine is the console's one live line of throughput and totals: on a
// terminal it is rewritten in place every update (every second);
// elsewhere a line is printed every 10 seconds.
type liveLine struct {
	con     *console
	name    string
	start   time.Time
	meter   rateMeter
	printed time.Time
}

func newLiveLine(con *console, name string) *liveLine {
	now := time.Now()
	return &liveLine{con: con, name: name, start: now, meter: rateMeter{last: now}}
}

// update prints the line from the counts read returns; final prints it
// even when not on a terminal and printed less than 10 s ago.
// follow updates the line every second until ctx is done (it then says
// the run drains), done is closed or timeout fires: node run's wait, with
// or without --http.
func (l *liveLine) follow(ctx context.Context, done <-chan struct{}, timeout <-chan time.Time, read func() liveCounts) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			l.end()
			fmt.Fprintln(l.con, "node run: stopping: draining trees in flight")
			return
		case <-done:
			return
		case <-timeout:
			return
		case <-tick.C:
			l.update(read, false)
		}
	}
}

func (l *liveLine) update(read func() liveCounts, final bool) {
	if !l.con.terminal && !final && time.Since(l.printed) < 10*time.Second {
		return // nothing to print: do not read the counts either
	}
	c := read()
	now := time.Now()
	l.con.show(formatLive(now.Sub(l.start), l.name, l.meter.observe(now, c), c))
	l.printed = now
}

// end finishes the live line so that later output starts on a new line.
func (l *liveLine) end() { l.con.end() }

// human formats a count with k/M suffixes.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
