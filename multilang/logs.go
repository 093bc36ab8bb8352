package multilang

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/squall-streams/squall/internal/linelimit"
)

// What a subprocess writes to the node log goes through internal/linelimit:
// whole lines, each cut at its MaxLine, at most its rate, with a count of
// what was dropped (issue 11: a Python component's stderr or log flood
// wrote 3.6 GB of node log in 24 s). Its stderr has a Writer per
// subprocess (the stderr goroutine writes into it); its log and error
// commands share one per task, written on the task's goroutine.

// SourceKey marks the node-log records that carry what a subprocess itself
// said, so a node can keep them apart from its own (cluster keeps the
// recent ones per topology for `node logs`). Its value is one of:
//
//   - SourceLog: a log command; the record's message is its msg, at its level;
//   - SourceError: an error command; its msg is the record's "err";
//   - SourceStderr: a line of stderr, the record's "line" (or, from the
//     rate limit, "log lines dropped" with a count in "dropped");
//   - SourceExit: the subprocess died or did not start, described by "err".
//
// Records from a task's logger also carry its "topology", "component" and
// "task", and the subprocess's "pid".
const SourceKey = "subprocess"

// The values of SourceKey.
const (
	SourceLog    = "log"
	SourceError  = "error"
	SourceStderr = "stderr"
	SourceExit   = "exit"
)

// logLimits are the limits of both: linelimit.DefaultConfig, about
// 400 KiB/s of node log per subprocess and per task at most.
var logLimits = linelimit.DefaultConfig

// newStderrLog is the node log's view of one subprocess's stderr: each line
// a warning "subprocess stderr" with the line in "line".
func newStderrLog(logger *slog.Logger) *linelimit.Writer {
	w, err := linelimit.New(linelimit.SlogSink(logger.With(SourceKey, SourceStderr), slog.LevelWarn, "subprocess stderr"), logLimits())
	if err != nil {
		panic(err) // logLimits is valid
	}
	return w
}

// commandLog passes a task's subprocesses' log and error commands to the
// task's logger within the limits.
type commandLog struct {
	w    *linelimit.Writer
	sink *commandSink
	max  int // MaxLine
}

func newCommandLog(logger *slog.Logger, limits linelimit.Config) (*commandLog, error) {
	sink := &commandSink{logger: logger}
	w, err := linelimit.New(sink, limits)
	if err != nil {
		return nil, err
	}
	return &commandLog{w: w, sink: sink, max: limits.MaxLine}, nil
}

// log logs a log command's msg at level, as Storm does with the message as
// the record's message; levels the logger does not log cost no budget.
func (c *commandLog) log(level slog.Level, msg string, pid int64) {
	if !c.sink.logger.Enabled(context.Background(), level) {
		return
	}
	c.sink.level, c.sink.what, c.sink.pid = level, "", pid
	c.w.WriteLine([]byte(msg))
}

// error logs an error command's msg as "shell subprocess reported an error".
func (c *commandLog) error(msg string, pid int64) {
	c.sink.level, c.sink.what, c.sink.pid = slog.LevelError, "shell subprocess reported an error", pid
	c.w.WriteLine([]byte(msg))
}

// cut is msg cut to the limit of a line, for the task's last error (the
// REST API and the UI show it): a subprocess may send megabytes.
func (c *commandLog) cut(msg string) string {
	if len(msg) <= c.max {
		return msg
	}
	return fmt.Sprintf("%s… (%d bytes cut)", strings.ToValidUTF8(msg[:c.max], ""), len(msg)-c.max)
}

// close reports what was dropped since the last report.
func (c *commandLog) close() { _ = c.w.Close() }

// commandSink is the Sink of a commandLog. The Writer calls it within
// WriteLine and Close, and only the task's goroutine calls those, so
// commandLog sets the fields of the line it writes just before.
type commandSink struct {
	logger *slog.Logger
	level  slog.Level
	what   string // "": the line is the message; else the message, the line its "err"
	pid    int64
}

func (s *commandSink) Line(line []byte, cut int) {
	msg, args := string(line), []any{"pid", s.pid, SourceKey, SourceLog}
	if s.what != "" {
		msg, args = s.what, []any{"pid", s.pid, SourceKey, SourceError, "err", string(line)}
	}
	if cut > 0 {
		args = append(args, "cut_bytes", cut)
	}
	s.logger.Log(context.Background(), s.level, msg, args...)
}

func (s *commandSink) Dropped(n uint64) {
	s.logger.Warn("log lines dropped", "dropped", n, "why", "over the rate limit", "from", "log and error commands", SourceKey, SourceLog)
}
