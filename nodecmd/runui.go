package nodecmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/squall-streams/squall/cluster"
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
func runWithUI(ctx context.Context, j *Job, opts runOptions, stderr io.Writer) (time.Duration, error) {
	cfg := cluster.LocalConfig()
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.AdminToken = "local", "127.0.0.1:0", opts.http, opts.adminToken
	cfg.Logger = opts.logger
	// Local mode: one node of its own, no key and no certificates; the
	// API is open on its (loopback) address unless --admin-token is given.
	cfg.Insecure = true
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
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			live.end()
			fmt.Fprintln(stderr, "node run: stopping: draining trees in flight")
			break loop
		case <-j.Done:
			break loop
		case <-opts.timeout:
			break loop
		case <-tick.C:
			live.update(n.LocalTopologies, false)
		}
	}
	live.update(n.LocalTopologies, true)
	live.end()
	elapsed := time.Since(start)
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.drain+10*time.Second)
	defer cancel()
	if err := n.Kill(kctx, t.Name, opts.drain); err != nil {
		return elapsed, err
	}
	return elapsed, nil
}

// liveLine is the console's one live line of throughput and totals: on a
// terminal it is rewritten in place every second; elsewhere a line is
// printed every 10 seconds.
type liveLine struct {
	w        io.Writer
	name     string
	terminal bool
	start    time.Time
	last     time.Time
	lastDone int64
	printed  time.Time
}

func newLiveLine(w io.Writer, name string) *liveLine {
	l := &liveLine{w: w, name: name, start: time.Now(), last: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			l.terminal = true
		}
	}
	return l
}

// update prints the line from the topology's counts on this node (local
// reads them); final
// prints it even when not on a terminal and printed less than 10 s ago.
// The rate is over the time since the line was last printed.
func (l *liveLine) update(local func() []cluster.LocalTopology, final bool) {
	if l.w == nil || !l.terminal && !final && time.Since(l.printed) < 10*time.Second {
		return // nothing to print: do not read the counts either
	}
	lts := local()
	var emitted, acked, failed, executed, errs int64
	var inFlight int64
	for _, lt := range lts {
		if lt.Name != l.name {
			continue
		}
		inFlight += lt.InFlight
		for _, c := range cluster.ComponentTotals(lt.TaskStats) {
			switch c.Kind {
			case "spout":
				emitted += c.Emitted
				acked += c.Acked
				failed += c.Failed
			case "bolt":
				executed += c.Executed
			}
			errs += c.Errors
		}
	}
	now := time.Now()
	// Throughput is trees completed per second when the spouts are acked,
	// else tuples executed by bolts.
	done := acked
	unit := "trees/s"
	if acked == 0 {
		done, unit = executed, "tuples/s"
	}
	rate := float64(done-l.lastDone) / now.Sub(l.last).Seconds()
	l.last, l.lastDone = now, done
	line := fmt.Sprintf("[%s] %s: %s %s | spouts emitted %s acked %s failed %s | bolts executed %s | in flight %d | errors %d",
		now.Sub(l.start).Truncate(time.Second), l.name, human(rate), unit,
		human(float64(emitted)), human(float64(acked)), human(float64(failed)), human(float64(executed)), inFlight, errs)
	if l.terminal {
		fmt.Fprintf(l.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(l.w, line)
	}
	l.printed = now
}

// end finishes the live line so that later output starts on a new line.
func (l *liveLine) end() {
	if l.w != nil && l.terminal {
		fmt.Fprintln(l.w)
		l.terminal = false
	}
}

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
