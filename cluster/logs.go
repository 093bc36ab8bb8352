package cluster

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/multilang"
)

// What a topology's subprocesses say — their log and error commands, their
// stderr, their deaths — reaches the node log through the tasks' loggers,
// marked by multilang.SourceKey and rate-limited by multilang. The node
// also keeps the recent ones per topology in memory (subprocessLogs), for
// `node logs` (api.Backend.Logs and ClusterLogs; the routes are in
// cluster/api/logs.go): the tasks' loggers go through a captureHandler in
// front of the node's handler.

// The bounds of what a node keeps.
const (
	// ringLines and ringBytes bound a topology's ring: its newest
	// ringLines lines, and fewer when their text passes ringBytes.
	ringLines = 2000
	ringBytes = 1 << 20
	// maxRings bounds the topologies with a ring: a new one pushes out
	// the ring written to least recently (a killed topology's, first).
	maxRings = 32
	// maxLogText bounds a line's text (multilang cuts lines at 4 KiB
	// already; a record from elsewhere may be longer).
	maxLogText = 4 << 10
)

// subprocessLogs are a node's rings of recent subprocess lines, by
// topology name. Safe for concurrent use; its lock is a leaf.
type subprocessLogs struct {
	mu    sync.Mutex
	rings map[string]*logRing
	clock uint64 // counts writes, to find the least recently written ring
}

func newSubprocessLogs() *subprocessLogs {
	return &subprocessLogs{rings: map[string]*logRing{}}
}

// logRing is one topology's recent lines, a circular buffer.
type logRing struct {
	lines   []api.LogLine // len ≤ ringLines; oldest at head once full
	head    int
	bytes   int    // of the lines' text
	next    uint64 // the Seq of the next line
	written uint64 // subprocessLogs.clock at the last write
}

// add appends line to the ring of topology, numbering it.
func (s *subprocessLogs) add(topology string, line api.LogLine) {
	if len(line.Text) > maxLogText {
		line.Text = strings.ToValidUTF8(line.Text[:maxLogText], "") + "…"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock++
	r := s.rings[topology]
	if r == nil {
		if len(s.rings) >= maxRings {
			s.evict()
		}
		r = &logRing{next: 1}
		s.rings[topology] = r
	}
	r.written = s.clock
	line.Seq = r.next
	r.next++
	r.push(line)
}

// evict forgets the ring written to least recently.
func (s *subprocessLogs) evict() {
	var oldest string
	var at uint64
	for name, r := range s.rings {
		if oldest == "" || r.written < at {
			oldest, at = name, r.written
		}
	}
	delete(s.rings, oldest)
}

func (r *logRing) push(line api.LogLine) {
	r.bytes += len(line.Text)
	if len(r.lines) < ringLines {
		r.lines = append(r.lines, line)
	} else {
		r.bytes -= len(r.lines[r.head].Text)
		r.lines[r.head] = line
		r.head = (r.head + 1) % len(r.lines)
	}
	for r.bytes > ringBytes && r.len() > 1 {
		r.dropOldest()
	}
}

func (r *logRing) len() int { return len(r.lines) }

// at is the i-th oldest line.
func (r *logRing) at(i int) *api.LogLine { return &r.lines[(r.head+i)%len(r.lines)] }

// dropOldest forgets the oldest line (rebuilding the buffer in order: it
// is rare, only for lines far longer than usual).
func (r *logRing) dropOldest() {
	kept := make([]api.LogLine, 0, len(r.lines))
	for i := 1; i < r.len(); i++ {
		kept = append(kept, *r.at(i))
	}
	r.bytes -= len(r.at(0).Text)
	r.lines, r.head = kept, 0
}

// page answers q from topology's ring (see api.LogQuery and api.LogPage).
func (s *subprocessLogs) page(topology string, q api.LogQuery) api.LogPage {
	out := api.LogPage{Lines: []api.LogLine{}}
	if s == nil {
		return out
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[topology]
	if r == nil {
		return out
	}
	since := q.Since
	if since >= r.next {
		since = 0 // numbered by another incarnation of this node
	}
	first := r.next - uint64(r.len()) // the oldest Seq held
	if since+1 < first {
		out.Missed = first - since - 1
	}
	out.Next = max(since, first-1)
	limit, size := q.LineLimit(), 0
	for i := int(out.Next + 1 - first); i < r.len(); i++ {
		l := r.at(i)
		if q.Component != "" && l.Component != q.Component {
			out.Next = l.Seq
			continue
		}
		if len(out.Lines) == limit || (len(out.Lines) > 0 && size+len(l.Text) > api.MaxLogPageBytes) {
			out.More = true
			break
		}
		size += len(l.Text)
		out.Lines = append(out.Lines, *l)
		out.Next = l.Seq
	}
	return out
}

// captureHandler is the handler of the tasks' loggers: every record goes
// to the node's handler as before (when it is enabled there), and the
// records of subprocesses (multilang.SourceKey) to the topology's ring as
// well, whatever the node's level down to Info, so `node logs` shows a
// Python component's info lines on a node started with -q.
type captureHandler struct {
	inner slog.Handler
	logs  *subprocessLogs
	// What the logger's With gave (not inside a group).
	topology, component, source string
	task, pid                   int64
	grouped                     bool
}

// captureLevel is the lowest level kept in the rings.
const captureLevel = slog.LevelInfo

func newCaptureHandler(inner slog.Handler, logs *subprocessLogs) *captureHandler {
	return &captureHandler{inner: inner, logs: logs}
}

func (h *captureHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= captureLevel || h.inner.Enabled(ctx, l)
}

func (h *captureHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.source != "" || r.NumAttrs() > 0 {
		h.capture(r)
	}
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	return nil
}

// capture keeps r in its topology's ring if a subprocess said it.
func (h *captureHandler) capture(r slog.Record) {
	if h.grouped || r.Level < captureLevel {
		return
	}
	c := *h
	var line, errText, dropped string
	var hasLine, hasErr bool
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "line":
			line, hasLine = a.Value.String(), true
		case "err":
			errText, hasErr = a.Value.String(), true
		case "dropped":
			dropped = a.Value.String()
		default:
			c.set(a)
		}
		return true
	})
	if c.source == "" || c.topology == "" {
		return
	}
	text := r.Message
	switch {
	case hasLine:
		text = line
	case hasErr:
		text = errText
	case dropped != "":
		text += ": " + dropped
	}
	h.logs.add(c.topology, api.LogLine{
		TimeUnixMs: r.Time.UnixMilli(), Component: c.component, Task: int32(c.task), PID: c.pid,
		Level: r.Level.String(), Source: c.source, Text: text,
	})
}

// set notes a an attribute the capture needs.
func (h *captureHandler) set(a slog.Attr) {
	switch a.Key {
	case "topology":
		h.topology = a.Value.String()
	case "component":
		h.component = a.Value.String()
	case "task":
		h.task = attrInt(a.Value)
	case "pid":
		h.pid = attrInt(a.Value)
	case multilang.SourceKey:
		h.source = a.Value.String()
	}
}

// attrInt reads an integer attribute (a topology.TaskID is an Any).
func attrInt(v slog.Value) int64 {
	switch v.Kind() {
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return int64(v.Uint64())
	}
	n, _ := strconv.ParseInt(v.String(), 10, 64)
	return n
}

func (h *captureHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(attrs)
	if !c.grouped {
		for _, a := range attrs {
			c.set(a)
		}
	}
	return &c
}

func (h *captureHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	c.grouped = c.grouped || name != ""
	return &c
}

// Logs and ClusterLogs are the node's side of api.Backend's.

func (b backend) Logs(name string, q api.LogQuery) api.LogPage {
	p := b.n.subLogs.page(name, q)
	p.Node = b.n.cfg.Name
	return p
}

func (b backend) ClusterLogs(ctx context.Context, name string, q api.LogQuery, since map[string]uint64) map[string]api.LogPage {
	path := func(member string) string {
		v := url.Values{}
		if q.Component != "" {
			v.Set("component", q.Component)
		}
		if q.Limit > 0 {
			v.Set("limit", strconv.Itoa(q.Limit))
		}
		if s := since[member]; s > 0 {
			v.Set("since", strconv.FormatUint(s, 10))
		}
		return logsPath(name) + "?" + v.Encode()
	}
	return fromPeersEach(ctx, b.n, path, func() api.LogPage {
		local := q
		local.Since = since[b.n.cfg.Name]
		return b.Logs(name, local)
	})
}

// logsPath is the node-to-node call for a topology's lines on one node.
func logsPath(name string) string { return "/api/v1/local/topology/" + url.PathEscape(name) + "/logs" }
