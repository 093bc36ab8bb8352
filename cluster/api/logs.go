package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// What the topologies' subprocesses said — the log and error commands of
// Python components, their stderr, their deaths (package multilang) — as
// each node keeps it: its recent lines per topology, numbered on that node
// (Seq, from 1). `node logs NAME [-f]` reads them, as streamparse's `sparse
// tail` read the workers' log files:
//
//	GET /api/v1/local/topology/{name}/logs?component=C&since=SEQ&limit=N
//	    this node's lines after SEQ (a LogPage); also a node-to-node call
//	GET /api/v1/topology/{id}/logs?component=C&since=NODE:SEQ...&limit=N
//	    every live node's (ClusterLogs), each after its own SEQ
//
// Pages are bounded (MaxLogLines lines, MaxLogPageBytes of text): More
// says to ask again from Next at once.

// LogLine is one line a subprocess of a topology said.
type LogLine struct {
	// Seq numbers the line among the topology's on its node, from 1.
	Seq        uint64 `json:"seq"`
	TimeUnixMs int64  `json:"time_unix_ms"`
	Component  string `json:"component"`
	Task       int32  `json:"task"`
	PID        int64  `json:"pid,omitempty"`
	// Level is the line's slog level: DEBUG, INFO, WARN, ERROR.
	Level string `json:"level"`
	// Source is multilang's: log, error, stderr or exit.
	Source string `json:"source"`
	Text   string `json:"text"`
}

// LogPage is one node's lines of a topology after a Seq.
type LogPage struct {
	Node  string    `json:"node"`
	Lines []LogLine `json:"lines"`
	// Next is the since to ask for the lines after these (the last Seq
	// looked at, whether the component filter kept it or not).
	Next uint64 `json:"next"`
	// Missed counts lines after since the node no longer holds: its ring
	// of recent lines overwrote them before they were asked for.
	Missed uint64 `json:"missed,omitempty"`
	// More: the page was cut at its bounds; more lines follow Next.
	More bool `json:"more,omitempty"`
}

// LogQuery selects a node's lines of a topology.
type LogQuery struct {
	// Component keeps only its lines ("": every component's).
	Component string
	// Since is the Seq after which lines are wanted (0: all the node
	// holds). A Since beyond the node's last Seq (it restarted, and
	// numbers from 1 again) is 0.
	Since uint64
	// Limit bounds the lines (0 or beyond MaxLogLines: MaxLogLines).
	Limit int
}

// ClusterLogs is GET /api/v1/topology/{id}/logs's answer: each node's page.
type ClusterLogs struct {
	Topology string    `json:"topology"`
	Nodes    []LogPage `json:"nodes"` // by node name
}

const (
	// MaxLogLines bounds the lines of a LogPage; DefaultLogLines is a
	// page's when the query sets no limit.
	MaxLogLines     = 1000
	DefaultLogLines = 500
	// MaxLogPageBytes bounds the text of a LogPage's lines: a page stops
	// before the line that would pass it (it holds at least one line).
	MaxLogPageBytes = 512 << 10
)

// LineLimit is q's bound on lines: Limit, or DefaultLogLines when it is 0,
// at most MaxLogLines.
func (q LogQuery) LineLimit() int {
	if q.Limit <= 0 {
		return DefaultLogLines
	}
	return min(q.Limit, MaxLogLines)
}

// logRoutes adds the logs routes to mux.
func (s server) logRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/local/topology/{name}/logs", LocalLogsHandler(s.b.Logs))
	mux.HandleFunc("GET /api/v1/topology/{id}/logs", func(w http.ResponseWriter, r *http.Request) {
		name, err := s.logTopology(r.PathValue("id"))
		if err != nil {
			writeErr(w, statusOf(err), err)
			return
		}
		v := r.URL.Query()
		limit, err := logLimit(v.Get("limit"))
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		since, err := ParseLogSince(v["since"])
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		pages := s.b.ClusterLogs(r.Context(), name, LogQuery{Component: v.Get("component"), Limit: limit}, since)
		out := ClusterLogs{Topology: name, Nodes: []LogPage{}}
		for _, node := range sortedKeys(pages) {
			p := pages[node]
			p.Node = node
			if p.Lines == nil {
				p.Lines = []LogLine{}
			}
			out.Nodes = append(out.Nodes, p)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// LocalLogsHandler serves GET /api/v1/local/topology/{name}/logs from
// logs (Backend.Logs): on the API, and as a node-to-node call.
func LocalLogsHandler(logs func(name string, q LogQuery) LogPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := localLogQuery(r)
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, logs(r.PathValue("name"), q))
	}
}

// logTopology is the name of the topology id names (its id or name),
// killed ones included: what a topology said before it was killed is
// still worth reading.
func (s server) logTopology(id string) (string, error) {
	specs := s.b.Specs()
	for _, spec := range specs {
		if !spec.Killed && (spec.Name == id || TopologyID(spec) == id) {
			return spec.Name, nil
		}
	}
	for _, spec := range specs {
		if spec.Name == id || TopologyID(spec) == id {
			return spec.Name, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrTopologyNotFound, id)
}

// localLogQuery reads ?component=C&since=SEQ&limit=N.
func localLogQuery(r *http.Request) (LogQuery, error) {
	v := r.URL.Query()
	q := LogQuery{Component: v.Get("component")}
	var err error
	if s := v.Get("since"); s != "" {
		if q.Since, err = strconv.ParseUint(s, 10, 64); err != nil {
			return q, fmt.Errorf("%w: since %q: want a line's seq, a number", errBadRequest, s)
		}
	}
	q.Limit, err = logLimit(v.Get("limit"))
	return q, err
}

func logLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: limit %q: want a number of lines, at most %d", errBadRequest, s, MaxLogLines)
	}
	return n, nil
}

// ParseLogSince reads the cluster route's since values, NODE:SEQ each
// (a node's name may hold colons: the last one separates).
func ParseLogSince(values []string) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, v := range values {
		i := strings.LastIndexByte(v, ':')
		if i <= 0 {
			return nil, fmt.Errorf("%w: since %q: want NODE:SEQ", errBadRequest, v)
		}
		seq, err := strconv.ParseUint(v[i+1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: since %q: want NODE:SEQ, SEQ a number", errBadRequest, v)
		}
		out[v[:i]] = seq
	}
	return out, nil
}

// LogSince is ParseLogSince's inverse: the since values of a query, in
// node order.
func LogSince(since map[string]uint64) []string {
	out := make([]string, 0, len(since))
	for _, node := range slices.Sorted(maps.Keys(since)) {
		out = append(out, node+":"+strconv.FormatUint(since[node], 10))
	}
	return out
}
