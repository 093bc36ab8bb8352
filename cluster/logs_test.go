package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

// lines adds n lines of text "<prefix><i>" (component c) to topology t.
func addLines(s *subprocessLogs, t, c, prefix string, n int) {
	for i := range n {
		s.add(t, api.LogLine{Component: c, Text: fmt.Sprintf("%s%d", prefix, i+1)})
	}
}

func texts(p api.LogPage) string {
	var b []string
	for _, l := range p.Lines {
		b = append(b, fmt.Sprintf("%d:%s", l.Seq, l.Text))
	}
	return strings.Join(b, " ")
}

// TestLogRingPages: pages after a seq, filtered by component, bounded by
// their limit, with what the ring overwrote counted, and a since from
// another incarnation of the node read from the start.
func TestLogRingPages(t *testing.T) {
	s := newSubprocessLogs()
	for i := range 6 {
		c := "split"
		if i%2 == 1 {
			c = "count"
		}
		s.add("wc", api.LogLine{Component: c, Text: fmt.Sprint("l", i+1)})
	}
	cases := []struct {
		name  string
		q     api.LogQuery
		lines string
		next  uint64
		more  bool
	}{
		{"all", api.LogQuery{}, "1:l1 2:l2 3:l3 4:l4 5:l5 6:l6", 6, false},
		{"since", api.LogQuery{Since: 4}, "5:l5 6:l6", 6, false},
		{"nothing new", api.LogQuery{Since: 6}, "", 6, false},
		{"component", api.LogQuery{Component: "count"}, "2:l2 4:l4 6:l6", 6, false},
		{"component, the last line another's", api.LogQuery{Component: "split", Since: 1}, "3:l3 5:l5", 6, false},
		{"limit", api.LogQuery{Limit: 2}, "1:l1 2:l2", 2, true},
		{"limit and component", api.LogQuery{Component: "count", Limit: 1}, "2:l2", 3, true},
		{"a since from before a restart", api.LogQuery{Since: 99}, "1:l1 2:l2 3:l3 4:l4 5:l5 6:l6", 6, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := s.page("wc", tc.q)
			if got := texts(p); got != tc.lines || p.Next != tc.next || p.More != tc.more || p.Missed != 0 {
				t.Errorf("page = %q next %d more %v missed %d; want %q next %d more %v", got, p.Next, p.More, p.Missed, tc.lines, tc.next, tc.more)
			}
		})
	}
	if p := s.page("other", api.LogQuery{Since: 3}); len(p.Lines) != 0 || p.Lines == nil || p.Next != 0 {
		t.Errorf("a topology without lines: %+v", p)
	}
	var none *subprocessLogs // a node without rings (reconcile's tests)
	if p := none.page("wc", api.LogQuery{}); len(p.Lines) != 0 {
		t.Errorf("nil rings: %+v", p)
	}
}

// TestLogRingBounds: a ring keeps its newest ringLines lines, fewer when
// their text passes ringBytes; a line's text is cut at maxLogText; a page
// stops at MaxLogPageBytes; the rings of at most maxRings topologies are
// kept, the least recently written forgotten first.
func TestLogRingBounds(t *testing.T) {
	t.Run("lines", func(t *testing.T) {
		s := newSubprocessLogs()
		addLines(s, "wc", "c", "x", ringLines+500)
		r := s.rings["wc"]
		if r.len() != ringLines {
			t.Fatalf("%d lines kept, want %d", r.len(), ringLines)
		}
		p := s.page("wc", api.LogQuery{Since: 10, Limit: 1})
		if p.Missed != 490 || len(p.Lines) != 1 || p.Lines[0].Seq != 501 || p.Lines[0].Text != "x501" {
			t.Errorf("page after seq 10 = %+v, want line 501 and 490 missed", p)
		}
		p = s.page("wc", api.LogQuery{Since: 2400, Limit: 1000})
		if p.Missed != 0 || len(p.Lines) != 100 || p.Lines[0].Seq != 2401 || p.Next != 2500 {
			t.Errorf("page after seq 2400: %d lines from %d, next %d, missed %d", len(p.Lines), p.Lines[0].Seq, p.Next, p.Missed)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		s := newSubprocessLogs()
		big := strings.Repeat("b", maxLogText)
		for range 2 * ringBytes / maxLogText {
			s.add("wc", api.LogLine{Text: big})
		}
		r := s.rings["wc"]
		if r.bytes > ringBytes || r.len() != ringBytes/maxLogText {
			t.Errorf("%d lines of %d bytes kept, want %d lines of at most %d", r.len(), r.bytes, ringBytes/maxLogText, ringBytes)
		}
		total := 0
		for i := range r.len() {
			total += len(r.at(i).Text)
		}
		if total != r.bytes {
			t.Errorf("bytes counted %d, held %d", r.bytes, total)
		}
		p := s.page("wc", api.LogQuery{Limit: api.MaxLogLines})
		size := 0
		for _, l := range p.Lines {
			size += len(l.Text)
		}
		if size > api.MaxLogPageBytes || !p.More || len(p.Lines) != api.MaxLogPageBytes/maxLogText {
			t.Errorf("a page of %d lines, %d bytes, more %v; want at most %d bytes and more", len(p.Lines), size, p.More, api.MaxLogPageBytes)
		}
		s.add("wc", api.LogLine{Text: strings.Repeat("é", maxLogText)})
		last := r.at(r.len() - 1).Text
		if len(last) > maxLogText+len("…") || !strings.HasSuffix(last, "…") || !strings.HasPrefix(last, "éé") {
			t.Errorf("a long line kept as %d bytes ending %q", len(last), last[len(last)-8:])
		}
	})
	t.Run("topologies", func(t *testing.T) {
		s := newSubprocessLogs()
		for i := range maxRings {
			addLines(s, fmt.Sprint("t", i), "c", "x", 1)
		}
		addLines(s, "t0", "c", "again", 1) // t1 is now the least recently written
		addLines(s, "new", "c", "x", 1)
		if len(s.rings) != maxRings || s.rings["t1"] != nil || s.rings["t0"] == nil || s.rings["new"] == nil {
			t.Errorf("rings of %d topologies; t0 %v, t1 %v, new %v", len(s.rings), s.rings["t0"] != nil, s.rings["t1"] != nil, s.rings["new"] != nil)
		}
	})
}

// TestCaptureHandler: the records multilang marks reach their topology's
// ring with their component, task, pid, level and text, at Info and up
// even when the node's own handler logs only errors; the node's handler
// gets what it enables, and nothing else is kept.
func TestCaptureHandler(t *testing.T) {
	var node bytes.Buffer
	s := newSubprocessLogs()
	logger := slog.New(newCaptureHandler(slog.NewTextHandler(&node, &slog.HandlerOptions{Level: slog.LevelError}), s))
	task := logger.With("topology", "wc").With("component", topology.ComponentID("split"), "task", topology.TaskID(3))
	task.Info("hello from python", "pid", int64(41), multilang.SourceKey, multilang.SourceLog)
	task.Debug("too low", "pid", int64(41), multilang.SourceKey, multilang.SourceLog)
	task.Error("shell subprocess reported an error", "pid", 41, multilang.SourceKey, multilang.SourceError, "err", "Traceback ...\nValueError: x")
	stderr := task.With("pid", 42).With(multilang.SourceKey, multilang.SourceStderr)
	stderr.Warn("subprocess stderr", "line", "Traceback (most recent call last):")
	stderr.Warn("log lines dropped", "dropped", 7, "why", "over the rate limit")
	task.Warn("shell subprocess died", "err", "subprocess exited", multilang.SourceKey, multilang.SourceExit)
	task.Warn("not a subprocess's")                                                       // the runtime's own
	logger.Info("no topology", multilang.SourceKey, multilang.SourceLog)                  // nobody's
	task.WithGroup("g").Info("grouped", multilang.SourceKey, multilang.SourceLog, "x", 1) // not the shape multilang logs

	var got []string
	for _, l := range s.page("wc", api.LogQuery{}).Lines {
		if l.TimeUnixMs == 0 {
			t.Errorf("line %d has no time", l.Seq)
		}
		got = append(got, fmt.Sprintf("%s/%d pid %d %s %s: %s", l.Component, l.Task, l.PID, l.Level, l.Source, l.Text))
	}
	want := []string{
		"split/3 pid 41 INFO log: hello from python",
		"split/3 pid 41 ERROR error: Traceback ...\nValueError: x",
		"split/3 pid 42 WARN stderr: Traceback (most recent call last):",
		"split/3 pid 42 WARN stderr: log lines dropped: 7",
		"split/3 pid 0 WARN exit: subprocess exited",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("kept\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if out := node.String(); strings.Count(out, "\n") != 1 || !strings.Contains(out, "shell subprocess reported an error") {
		t.Errorf("the node's handler (errors only) got:\n%s", out)
	}
	if !logger.Handler().Enabled(context.Background(), slog.LevelInfo) || logger.Handler().Enabled(context.Background(), slog.LevelDebug) {
		t.Error("the capture enables Info and up, and no lower than the node's handler")
	}
}
