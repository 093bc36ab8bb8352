package multilang

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	wire "github.com/squall-streams/squall/internal/multilang"
	"github.com/squall-streams/squall/topology"
)

// shell is what ShellSpout and ShellBolt share: the settings, the current
// subprocess, its restarts with backoff, and the handling of the commands
// both kinds of subprocess send. Every method runs on the task's goroutine.
type shell struct {
	argv    []string
	opts    options
	kind    topology.ComponentKind
	streams map[topology.StreamID]streamDecl
	declErr error

	tc        *topology.Context
	s         settings
	logger    *slog.Logger
	logs      *commandLog
	pidDir    string
	handshake wire.Handshake

	proc    *proc
	gen     uint64
	wg      sync.WaitGroup // every proc's monitor
	backoff restartBackoff
	restart *time.Timer
	closed  bool

	restarts restartReporter // the runtime's, when it counts them

	metricsSeen   map[string]bool
	warnedTaskIDs bool
	taskScratch   []int
}

// CommandLine is the command the component runs (topology.CommandRunner).
func (sh *shell) CommandLine() []string { return slices.Clone(sh.argv) }

func (sh *shell) init(kind topology.ComponentKind, command []string, opts []Option) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	sh.argv, sh.opts, sh.kind, sh.streams = slices.Clone(command), o, kind, map[topology.StreamID]streamDecl{}
	decls := slices.Clone(o.streams)
	if kind == topology.KindBolt && o.dlq != "" {
		decls = append(decls, streamDecl{id: o.dlq, fields: DeadLetterFields})
	}
	sh.opts.streams = decls
	for _, d := range decls {
		if _, dup := sh.streams[d.id]; dup {
			sh.declErr = fmt.Errorf("stream %q declared twice", d.id)
		}
		sh.streams[d.id] = d
	}
}

// declare declares the component's streams (DeclareOutputFields).
func (sh *shell) declare(d topology.OutputFieldsDeclarer) {
	for _, s := range sh.opts.streams {
		d.DeclareStream(s.id, s.direct, s.fields...)
	}
}

// prepare reads the settings and makes the handshake; it starts nothing.
func (sh *shell) prepare(tc *topology.Context) error {
	sh.tc = tc
	sh.logger = tc.Logger
	if sh.logger == nil {
		sh.logger = slog.New(slog.DiscardHandler)
	}
	logs, err := newCommandLog(sh.logger, logLimits())
	if err != nil {
		return err
	}
	sh.logs = logs
	sh.metricsSeen = map[string]bool{}
	s, err := resolve(sh.argv, sh.opts, tc.Config, sh.kind)
	if err != nil {
		return err
	}
	if sh.declErr != nil {
		return fmt.Errorf("%w: %s %q: %w", ErrConfig, sh.kind, tc.Component, sh.declErr)
	}
	sh.s = s
	sh.backoff.initial, sh.backoff.max, sh.backoff.reset = s.backoff, s.backoffMax, defaultBackoffReset
	safe := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return '_'
	}, string(tc.Component))
	dir, err := os.MkdirTemp(sh.opts.pidDir, fmt.Sprintf("squall-%s-%d-pids-", safe, tc.Task))
	if err != nil {
		return fmt.Errorf("multilang: %s %q: pidDir: %w", sh.kind, tc.Component, err)
	}
	sh.pidDir = dir
	topo := tc.Compiled()
	if sh.opts.topo != nil {
		topo = sh.opts.topo()
	}
	sh.handshake = wire.Handshake{
		PIDDir:  dir,
		Conf:    handshakeConf(tc, sh.opts.conf),
		Context: handshakeContext(tc, topo, sh.opts.streams),
	}
	return nil
}

// launch starts a subprocess; on failure it schedules another try.
func (sh *shell) launch(spec procSpec, report func(error), relaunch func()) {
	sh.gen++
	frame, err := wire.AppendFrame(nil, sh.s.ser, sh.handshake)
	if err != nil {
		// The conf was filtered to JSON values, so this is a bug; keep trying
		// anyway, the task must not die.
		report(fmt.Errorf("multilang: %s %q: encoding the handshake: %w", sh.kind, sh.tc.Component, err))
		sh.scheduleRestart(relaunch)
		return
	}
	s := &sh.s
	if l := sh.opts.launcher; l != nil {
		var launch Launch
		if launch, err = l(sh.argv); err == nil {
			ls := launchSettings(sh.s, launch)
			s = &ls
		}
	}
	spec.gen, spec.s, spec.logger, spec.submit, spec.handshake = sh.gen, s, sh.logger, sh.tc.Submit, frame
	spec.bolt = sh.kind == topology.KindBolt
	var p *proc
	if err == nil {
		p, err = startProc(spec)
	}
	sh.backoff.started(time.Now())
	if err != nil {
		delay := sh.scheduleRestart(relaunch)
		err = fmt.Errorf("multilang: %s %q task %d: starting %q in %q: %w; retrying in %v",
			sh.kind, sh.tc.Component, sh.tc.Task, s.argv, s.dir, err, delay)
		if errors.Is(err, ErrNotReady) {
			sh.logger.Info("shell subprocess waits for its environment", "err", err, SourceKey, SourceExit)
		} else {
			sh.logger.Error("shell subprocess did not start", "err", err, SourceKey, SourceExit)
		}
		report(err)
		return
	}
	sh.proc = p
	sh.wg.Go(p.monitor)
	sh.logger.Debug("shell subprocess started", "pid", p.pgid, "command", s.argv, "dir", s.dir, "serializer", sh.s.ser.String())
}

// scheduleRestart runs relaunch on the task's goroutine after the backoff
// delay, which it returns; the runtime counts a restart of the task.
func (sh *shell) scheduleRestart(relaunch func()) time.Duration {
	if sh.restarts != nil {
		sh.restarts.ReportRestart()
	}
	delay := sh.backoff.next(time.Now())
	tc := sh.tc
	gen := sh.gen
	sh.restart = time.AfterFunc(delay, func() {
		tc.Submit(func() {
			if sh.closed || sh.gen != gen || sh.proc != nil {
				return
			}
			sh.restart = nil
			relaunch()
		})
	})
	return delay
}

// died records the end of p, the current subprocess, and returns a
// description of it and its postmortem (see postmortem); the caller fails
// what p held and restarts.
func (sh *shell) died(p *proc) (what, post string) {
	sh.proc = nil
	return fmt.Sprintf("subprocess %q (pid %d) %s", sh.argv, p.pgid, p.death()), postmortem(p.lastError, p.errEnd.String())
}

// postmortem is what a dead subprocess last said, to follow the report of
// its death: the last error it reported (pystorm sends the traceback of
// the exception it dies of so) and the end of its stderr (where Python
// prints a traceback pystorm did not catch), each on lines of its own.
// Both are bounded: the error by the log's line limit, stderr by tail's.
func postmortem(lastError, stderr string) string {
	var b strings.Builder
	if lastError != "" {
		b.WriteString("\nthe last error it reported: ")
		b.WriteString(lastError)
	}
	if stderr != "" {
		b.WriteString("\nits stderr ended with:\n")
		b.WriteString(stderr)
	}
	return b.String()
}

// restartReporter is what the runtime's collectors implement to count a
// restart inside the task (a new subprocess) in the task's Restarts,
// beside the supervisor's restarts of the task itself.
type restartReporter interface{ ReportRestart() }

// close stops the subprocess and every goroutine; it is idempotent.
func (sh *shell) close() {
	if sh.closed {
		return
	}
	sh.closed = true
	if sh.restart != nil {
		sh.restart.Stop()
		sh.restart = nil
	}
	if sh.proc != nil {
		sh.proc.stop(sh.s.stopTimeout)
		sh.proc = nil
	}
	sh.wg.Wait()
	if sh.logs != nil {
		sh.logs.close()
	}
	if sh.pidDir != "" {
		_ = os.RemoveAll(sh.pidDir)
	}
}

// current reports whether p is the live subprocess whose output counts.
func (sh *shell) current(p *proc) bool { return p == sh.proc && !p.broken && !sh.closed }

// protocolError kills p for output that parsed but broke the protocol; its
// death is handled when the monitor reports it.
func (sh *shell) protocolError(p *proc, err error) {
	if p.broken {
		return
	}
	p.broken = true
	p.kill("protocol error: " + err.Error())
}

// common handles the commands spouts and bolts share; it reports whether m
// was one of them.
func (sh *shell) common(p *proc, m wire.Message, report func(error)) bool {
	switch m := m.(type) {
	case wire.PIDReply:
		if _, err := os.Stat(filepath.Join(sh.pidDir, strconv.Itoa(m.PID))); err != nil {
			sh.logger.Debug("shell subprocess made no pid file", "pid", m.PID, "pidDir", sh.pidDir)
		}
		sh.logger.Debug("shell subprocess ready", "pid", m.PID)
	case wire.Log:
		sh.logs.log(m.Level.SlogLevel(), m.Msg, p.pid.Load())
	case wire.ReportError:
		p.lastError = sh.logs.cut(m.Msg)
		err := fmt.Errorf("Shell Process Exception: %s", p.lastError)
		sh.logs.error(m.Msg, p.pid.Load())
		report(err)
	case wire.Metrics:
		switch {
		case sh.opts.metrics != nil:
			sh.opts.metrics(sh.tc, m.Name, m.Params)
		case sh.setGauges(m.Name, m.Params):
		case !sh.metricsSeen[m.Name]:
			sh.metricsSeen[m.Name] = true
			sh.logger.Info("shell subprocess metric dropped: neither a number nor a map of numbers, and no multilang.WithMetrics", "metric", m.Name)
		}
	default:
		return false
	}
	return true
}

// checkEmit validates an emit against the declared streams, as Storm's
// collector would (where it kills the worker).
func (sh *shell) checkEmit(m *wire.Emit) (topology.StreamID, error) {
	stream := topology.StreamID(m.Stream)
	if stream == "" {
		stream = topology.DefaultStream
	}
	d, ok := sh.streams[stream]
	switch {
	case !ok:
		declared := make([]string, 0, len(sh.streams))
		for id := range sh.streams {
			declared = append(declared, string(id))
		}
		slices.Sort(declared)
		return stream, fmt.Errorf("emit on stream %q, which %q does not declare (it declares %v)", stream, sh.tc.Component, declared)
	case m.Task != 0 && !d.direct:
		return stream, fmt.Errorf("direct emit to task %d on stream %q, which is not declared direct", m.Task, stream)
	case m.Task == 0 && d.direct:
		return stream, fmt.Errorf("emit on direct stream %q without a task", stream)
	case len(m.Values) != len(d.fields):
		return stream, fmt.Errorf("emit of %d values on stream %q, which declares %d fields %v", len(m.Values), stream, len(d.fields), d.fields)
	}
	return stream, nil
}

// guard runs a collector call, turning the runtime's panic on a bad emit
// (a direct emit to a task that does not consume the stream, say) into an
// error against the subprocess.
func guard(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("emit rejected: %v", r)
		}
	}()
	fn()
	return nil
}

// replyTaskIDs answers an emit that asked for its task ids (Storm's
// default; storm.py waits for them, pystorm asks only when told to).
// targets are the tasks the emit went to, as the task's collector reported
// them: the same choice its routing made (topology.TaskReporter). A
// collector that does not report (not squall's runtime: a test double, say)
// gets an empty reply, so the subprocess does not wait forever.
func (sh *shell) replyTaskIDs(p *proc, m *wire.Emit, stream topology.StreamID, targets []topology.TaskID, reported bool) {
	if !m.NeedTaskIDs || m.Task != 0 {
		return
	}
	if !reported {
		targets = nil
		if !sh.warnedTaskIDs {
			sh.warnedTaskIDs = true
			sh.logger.Warn("need_task_ids: the collector does not report the tasks an emit went to (it is not squall's runtime); "+
				"the replies list no tasks", "stream", stream)
		}
	}
	ids := sh.taskScratch[:0]
	for _, t := range targets {
		ids = append(ids, int(t))
	}
	sh.taskScratch = ids
	// The frame is encoded here and now, so ids need no copy.
	frame, err := wire.AppendFrame(nil, sh.s.ser, wire.TaskIDs(ids))
	if err == nil {
		p.out.pushPrio(frame)
	}
}

// setGauges keeps a metric of a subprocess as the task's gauges, shown with
// its counters (the REST API, the UI, Prometheus as squall_<name>): a
// number is the gauge name; a map's numbers are gauges name{key="<key>"}
// (the decoders give numbers as int64 or float64, maps as map[string]any).
// It reports whether the metric held a number, and how many keys the
// gauges' bound (topology.MaxGaugesPerName) refused.
func setGauges(g *topology.Gauges, name string, params any) (set bool, refused int) {
	if v, ok := number(params); ok {
		return g.Set(name, v), 0
	}
	m, _ := params.(map[string]any)
	for k, v := range m {
		if f, ok := number(v); ok {
			if g.Set(name, f, "key", k) {
				set = true
			} else {
				refused++
			}
		}
	}
	return set, refused
}

// setGauges is setGauges for this task; it warns once per metric name the
// bound refused keys of.
func (sh *shell) setGauges(name string, params any) bool {
	set, refused := setGauges(sh.tc.Gauges(), name, params)
	if refused > 0 && !sh.metricsSeen[name] {
		sh.metricsSeen[name] = true
		sh.logger.Warn("shell subprocess metric has more keys than a task keeps gauges of; the rest are dropped", "metric", name, "max", topology.MaxGaugesPerName)
	}
	return set || refused > 0
}

// number is v as a float64 when v is a decoded number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
