package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/internal/nimbus"
	"github.com/squall-streams/squall/internal/waittime"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// Storm UI's REST API (/api/v1/...), with Storm's routes and field names so
// tools written for Storm read squall; squall-only data are extra fields.
// Every node answers for the whole cluster: its Backend reads the other
// nodes' /api/v1/local/topologies (ClusterLocalTopologies) and the pages
// sum them.

// TaskInfo is one task's statistics as its node reports them.
type TaskInfo struct {
	Task          int32  `json:"task"`
	Component     string `json:"component"`
	Kind          string `json:"kind"` // spout, bolt or tracker
	Node          string `json:"node"`
	Host          string `json:"host"`
	Port          int    `json:"port"`
	StartedUnixMs int64  `json:"started_unix_ms"`
	Restarts      int64  `json:"restarts"`
	Errors        int64  `json:"errors"`
	LastError     string `json:"last_error,omitempty"`
	LastErrorMs   int64  `json:"last_error_unix_ms,omitempty"`
	Pending       int64  `json:"pending"`
	// CompleteP50Ms and CompleteP99Ms are a spout task's complete latency
	// quantiles (all time).
	CompleteP50Ms float64 `json:"complete_latency_p50_ms,omitempty"`
	CompleteP99Ms float64 `json:"complete_latency_p99_ms,omitempty"`
	// Windows are the counts over each of actors.Windows, in that order.
	Windows []actors.Counts `json:"windows"`
	Edges   []EdgeInfo      `json:"edges,omitempty"`
	Gauges  []GaugeInfo     `json:"gauges,omitempty"`

	// LastRestartMs is when the task's component last restarted inside it
	// (a shell component's subprocess); Failing, that it keeps doing so
	// (actors.TaskStats.Failing, judged by the task's node).
	LastRestartMs int64 `json:"last_restart_unix_ms,omitempty"`
	Failing       bool  `json:"failing,omitempty"`
}

// EdgeInfo counts the tuples a task sent on a stream to a component.
type EdgeInfo struct {
	Stream      string `json:"stream"`
	Target      string `json:"target"`
	Transferred int64  `json:"transferred"`
}

// GaugeInfo is a value a component reports (a Kafka spout's lag).
type GaugeInfo struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
}

// NewTaskInfo reads one task's statistics: a task of t on the node called
// node, whose tasks run at host and port.
func NewTaskInfo(t *topology.Topology, s *actors.TaskStats, node, host string, port int) TaskInfo {
	ti := TaskInfo{
		Task: int32(s.Task), Component: string(s.Component), Kind: ComponentKind(t, s.Component), Node: node, Host: host, Port: port,
		Restarts: s.Restarts.Load(), Errors: s.Errors.Load(), Pending: s.Pending.Load(),
	}
	if st := s.Started(); !st.IsZero() {
		ti.StartedUnixMs = st.UnixMilli()
	}
	if le := s.LastError(); le != nil {
		ti.LastError, ti.LastErrorMs = le.Err, le.Time.UnixMilli()
	}
	if lr := s.LastRestart(); !lr.IsZero() {
		ti.LastRestartMs, ti.Failing = lr.UnixMilli(), s.Failing(time.Now())
	}
	if h := &s.CompleteLatency; h.Count() > 0 {
		ti.CompleteP50Ms, ti.CompleteP99Ms = ms(h.Quantile(0.5)), ms(h.Quantile(0.99))
	}
	for _, d := range actors.Windows {
		ti.Windows = append(ti.Windows, s.Window(d))
	}
	for _, e := range s.Edges() {
		ti.Edges = append(ti.Edges, EdgeInfo{Stream: string(e.Stream), Target: string(e.Consumer), Transferred: e.Transferred})
	}
	for _, g := range s.Gauges() {
		ti.Gauges = append(ti.Gauges, GaugeInfo{Name: g.Name, Labels: g.Labels, Value: g.Value})
	}
	return ti
}

// NodeInfo is what GET /api/v1/local/node reports about the answering node.
type NodeInfo struct {
	Name          string `json:"name"`
	StartedUnixMs int64  `json:"started_unix_ms"`
	Version       string `json:"version"`
}

// Version is squall's version: the module version the binary was built
// from, or "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "devel"
}

// stormRoutes adds Storm UI's REST API to mux.
func (s server) stormRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/local/node", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.b.NodeInfo())
	})
	mux.HandleFunc("GET /api/v1/cluster/summary", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.clusterSummary())
	})
	mux.HandleFunc("GET /api/v1/supervisor/summary", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"supervisors": s.supervisorSummary(r.Context())})
	})
	mux.HandleFunc("GET /api/v1/topology/summary", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"topologies": s.topologySummary(r.Context())})
	})
	mux.HandleFunc("GET /api/v1/topology/{id}", func(w http.ResponseWriter, r *http.Request) {
		win, err := parseWindow(r.URL.Query().Get("window"))
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		page, err := s.topologyPage(r.Context(), r.PathValue("id"), win)
		if err != nil {
			writeErr(w, statusOf(err), err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
	mux.HandleFunc("GET /api/v1/topology/{id}/component/{component}", func(w http.ResponseWriter, r *http.Request) {
		win, err := parseWindow(r.URL.Query().Get("window"))
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		page, err := s.componentPage(r.Context(), r.PathValue("id"), r.PathValue("component"), win)
		if err != nil {
			writeErr(w, statusOf(err), err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
	op := func(name string, fn func(w http.ResponseWriter, r *http.Request, spec *messages.TopologySpec, wait time.Duration) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxOpBody)
			spec, err := s.specByID(r.PathValue("id"))
			if err != nil {
				writeErr(w, statusOf(err), err)
				return
			}
			wait, err := parseWait(r.PathValue("wait"))
			if err != nil {
				writeErr(w, http.StatusBadRequest, err)
				return
			}
			extra, err := fn(w, r, spec, wait)
			if err != nil {
				writeErr(w, statusOf(err), err)
				return
			}
			resp := map[string]any{"topologyOperation": name, "topologyId": TopologyID(spec), "status": "success"}
			if extra != nil {
				resp["squall"] = extra
			}
			writeJSON(w, http.StatusOK, resp)
		}
	}
	activate := op("activate", func(_ http.ResponseWriter, _ *http.Request, spec *messages.TopologySpec, _ time.Duration) (any, error) {
		return nil, s.b.Activate(spec.Name)
	})
	deactivate := op("deactivate", func(_ http.ResponseWriter, _ *http.Request, spec *messages.TopologySpec, _ time.Duration) (any, error) {
		return nil, s.b.Deactivate(spec.Name)
	})
	kill := op("kill", func(w http.ResponseWriter, r *http.Request, spec *messages.TopologySpec, wait time.Duration) (any, error) {
		if err := holdFor(w, r, wait); err != nil {
			return nil, err
		}
		return nil, s.b.Kill(r.Context(), spec.Name, wait)
	})
	rebalance := op("rebalance", func(w http.ResponseWriter, r *http.Request, spec *messages.TopologySpec, wait time.Duration) (any, error) {
		// Storm's body is {"rebalanceOptions": {"numWorkers": N,
		// "executors": {component: K}}}. squall applies executors (a
		// component's running tasks); it has no workers, so numWorkers —
		// like any other field — is ignored, and a body that asks only for
		// what is ignored is refused instead of answering success for
		// nothing done. No body, {} or empty executors re-spread the tasks.
		var body map[string]json.RawMessage
		if r.ContentLength != 0 {
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				return nil, fmt.Errorf("%w: rebalance body: %v", errBadRequest, err)
			}
		}
		var opts map[string]json.RawMessage
		var ignored []string
		for _, k := range sortedKeys(body) {
			switch {
			case k != "rebalanceOptions":
				ignored = append(ignored, k)
			case string(body[k]) != "null":
				if err := json.Unmarshal(body[k], &opts); err != nil {
					return nil, fmt.Errorf("%w: rebalance body: rebalanceOptions: %v", errBadRequest, err)
				}
			}
		}
		var executors map[string]int
		for _, k := range sortedKeys(opts) {
			switch {
			case k == "executors":
				if err := json.Unmarshal(opts[k], &executors); err != nil {
					return nil, fmt.Errorf("%w: rebalance body: rebalanceOptions.executors: want {\"component\": K}: %v", errBadRequest, err)
				}
			case string(opts[k]) != "null":
				ignored = append(ignored, "rebalanceOptions."+k)
			}
		}
		if len(ignored) > 0 && len(executors) == 0 {
			return nil, fmt.Errorf("%w: rebalance: nothing in the body squall applies: %s ignored (squall has no workers: every node runs a share of each topology); "+
				"set components' running tasks with rebalanceOptions.executors {\"component\": K}, or send no body to re-spread the tasks over the nodes",
				errBadRequest, strings.Join(ignored, ", "))
		}
		if err := holdFor(w, r, wait); err != nil {
			return nil, err
		}
		res, err := s.b.Rebalance(r.Context(), spec.Name, executors, wait)
		if err != nil || len(ignored) == 0 {
			return res, err
		}
		// Applied, with what was ignored named beside squall's report.
		b, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
		out["ignored"] = ignored
		return out, nil
	})
	mux.HandleFunc("POST /api/v1/topology/{id}/activate", activate)
	mux.HandleFunc("POST /api/v1/topology/{id}/deactivate", deactivate)
	mux.HandleFunc("POST /api/v1/topology/{id}/kill", kill)
	mux.HandleFunc("POST /api/v1/topology/{id}/kill/{wait}", kill)
	mux.HandleFunc("POST /api/v1/topology/{id}/rebalance", rebalance)
	mux.HandleFunc("POST /api/v1/topology/{id}/rebalance/{wait}", rebalance)
}

var errBadRequest = errors.New("bad request")

// maxOpBody bounds the body of Storm's POST routes: only rebalance reads
// one, its options.
const maxOpBody = 1 << 20

// waitMargin is how long a kill or rebalance may take past its wait to
// answer (publishing the change, the last drain poll).
const waitMargin = 30 * time.Second

// holdFor lets a route that waits answer after the server's write
// timeout (httpauth.Timeouts): it reads what is left of the (bounded)
// body — at its end the server stops the read deadline, which would
// otherwise cancel the request's context mid-wait — then moves the
// connection's write deadline to wait + waitMargin from now. A wait of 0
// keeps the server's deadlines.
func holdFor(w http.ResponseWriter, r *http.Request, wait time.Duration) error {
	if wait <= 0 {
		return nil
	}
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return fmt.Errorf("%w: body: %v", errBadRequest, err)
	}
	// A writer without deadlines (a recorder in a test) has none to move.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait).Add(waitMargin))
	return nil
}

// parseWait reads the {wait} of a kill or rebalance route, in whole
// seconds up to waittime.Max: none is waittime.Default (Storm's 30 s).
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return waittime.Default, nil
	}
	return waittime.Parse(s)
}

// ComponentKind is "spout", "bolt", or "tracker" for the tracker tasks
// (which belong to no component of t), as the API and metrics name them.
func ComponentKind(t *topology.Topology, id topology.ComponentID) string {
	switch c := t.Component(id); {
	case c == nil:
		return "tracker"
	case c.Kind == topology.KindSpout:
		return "spout"
	default:
		return "bolt"
	}
}

// window is a Storm UI window: "600", "10800", "86400" or ":all-time".
type window struct {
	index int // into actors.Windows
	d     time.Duration
}

func parseWindow(s string) (window, error) {
	if s == "" || s == ":all-time" || s == "all-time" {
		s = "0"
	}
	secs, err := strconv.Atoi(s)
	if err == nil {
		for i, d := range actors.Windows {
			if d == time.Duration(secs)*time.Second {
				return window{index: i, d: d}, nil
			}
		}
	}
	return window{}, fmt.Errorf("%w: window %q: want 600, 10800, 86400 or :all-time", errBadRequest, s)
}

func (w window) String() string {
	if w.d == 0 {
		return ":all-time"
	}
	return strconv.Itoa(int(w.d / time.Second))
}

func (w window) pretty() string {
	if w.d == 0 {
		return "All time"
	}
	return prettyDuration(w.d)
}

// prettyDuration formats like Storm's UI: "10m 0s", "3h 0m 0s", "1d 0h 0m 0s".
func prettyDuration(d time.Duration) string {
	s := int64(d / time.Second)
	days, h, m, sec := s/86400, s/3600%24, s/60%60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm %ds", days, h, m, sec)
	case h > 0:
		return fmt.Sprintf("%dh %dm %ds", h, m, sec)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, sec)
	default:
		return fmt.Sprintf("%ds", sec)
	}
}

// TopologyID is a deployment's id, as Storm names them: "<name>-<submit time>".
func TopologyID(s *messages.TopologySpec) string {
	return fmt.Sprintf("%s-%d", s.Name, s.SubmittedUnixMs)
}

// specByID finds a live topology by its id or its name.
func (s server) specByID(id string) (*messages.TopologySpec, error) {
	for _, spec := range s.b.Specs() {
		if !spec.Killed && (spec.Name == id || TopologyID(spec) == id) {
			return spec, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrTopologyNotFound, id)
}

// clusterTasks gathers every live node's tasks of the topology called name
// (leaving out reports with another number of windows) and sums its trees
// in flight.
func (s server) clusterTasks(ctx context.Context, name string) (tasks []TaskInfo, inFlight int64) {
	for _, lts := range s.b.ClusterLocalTopologies(ctx) {
		for _, lt := range lts {
			if lt.Name != name {
				continue
			}
			inFlight += lt.InFlight
			for _, ti := range lt.TaskStats {
				if len(ti.Windows) == len(actors.Windows) {
					tasks = append(tasks, ti)
				}
			}
		}
	}
	slices.SortFunc(tasks, func(a, b TaskInfo) int { return cmp.Compare(a.Task, b.Task) })
	return tasks, inFlight
}

func (s server) clusterSummary() map[string]any {
	ms := s.b.Members()
	alive, used, tasks := 0, 0, 0
	for _, m := range ms {
		if m.Status != "dead" {
			alive++
		}
		if m.Tasks > 0 {
			used++
		}
		tasks += m.Tasks
	}
	tops := 0
	for _, spec := range s.b.Specs() {
		if !spec.Killed {
			tops++
		}
	}
	out := map[string]any{
		// Storm's latest release, as streamparse parses it (PEP 440;
		// specs/streamparse.md §9.1); squallVersion is squall's own.
		"stormVersion": nimbus.StormVersion, "squallVersion": Version(),
		"supervisors": alive, "topologies": tops,
		// A node is one worker slot: it runs a share of every topology.
		"slotsTotal": alive, "slotsUsed": used, "slotsFree": alive - used,
		"executorsTotal": tasks, "tasksTotal": tasks,
	}
	if s.cfg.Warning != "" {
		out["squallWarning"] = s.cfg.Warning // the web UI shows it on every page
	}
	return out
}

func (s server) supervisorSummary(ctx context.Context) []map[string]any {
	infos := s.b.ClusterNodeInfo(ctx)
	var out []map[string]any
	for _, m := range s.b.Members() {
		host, _, _ := net.SplitHostPort(m.GossipAddr)
		row := map[string]any{
			"id": m.Name, "host": host, "status": m.Status, "tasks": m.Tasks,
			"slotsTotal": 1, "slotsUsed": min(m.Tasks, 1),
			"gossipAddr": m.GossipAddr, "httpAddr": m.HTTPAddr, "remoteAddr": m.RemoteAddr, "bootId": m.BootID,
			"uptime": "", "uptimeSeconds": 0,
		}
		if info := infos[m.Name]; info.StartedUnixMs > 0 {
			up := time.Since(time.UnixMilli(info.StartedUnixMs))
			row["uptime"], row["uptimeSeconds"], row["version"] = prettyDuration(up), int64(up/time.Second), info.Version
		}
		out = append(out, row)
	}
	return out
}

// Status is a spec's status as the REST API (and the Nimbus API) shows it:
// ACTIVE, INACTIVE or KILLED.
func Status(s *messages.TopologySpec) string {
	switch {
	case s.Killed:
		return "KILLED"
	case !s.Active:
		return "INACTIVE"
	}
	return "ACTIVE"
}

func (s server) topologySummary(ctx context.Context) []map[string]any {
	local := s.b.ClusterLocalTopologies(ctx)
	cps, now := s.b.Checkpoints(), time.Now()
	out := []map[string]any{}
	for _, spec := range s.b.Specs() {
		if spec.Killed {
			continue
		}
		tasks, workers := 0, 0
		for _, lts := range local {
			for _, lt := range lts {
				if lt.Name == spec.Name && len(lt.Tasks) > 0 {
					workers++
					tasks += len(lt.Tasks)
				}
			}
		}
		up := time.Since(time.UnixMilli(spec.SubmittedUnixMs))
		g := guaranteeOf(s.b.Built(spec.Name), spec)
		out = append(out, map[string]any{
			"id": TopologyID(spec), "name": spec.Name, "status": Status(spec), "kind": spec.Kind,
			"uptime": prettyDuration(up), "uptimeSeconds": int64(up / time.Second),
			"tasksTotal": tasks, "executorsTotal": tasks, "workersTotal": workers,
			"owner": "", "schedulerInfo": "",
			"failingComponents": failingOf(spec.Name, local),
			"squallGuarantee":   g,
			"squallCheckpoints": checkpointsBrief(g, cps, spec.Name, now),
		})
	}
	return out
}

// millis formats a latency as Storm does: milliseconds, 3 decimals.
func millis(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

// countFields are Storm's fields for counts of one kind of component
// ("spout" or "bolt"); capacity is the bolt's (the largest of its tasks').
func countFields(kind string, c actors.Counts, capacity float64) map[string]any {
	row := map[string]any{"emitted": c.Emitted, "transferred": c.Transferred, "acked": c.Acked, "failed": c.Failed}
	if kind == "spout" {
		row["completeLatency"] = millis(c.CompleteLatency())
		row["timedOut"] = c.TimedOut
	} else {
		row["executed"] = c.Executed
		row["executeLatency"] = millis(c.ExecuteLatency())
		row["processLatency"] = millis(c.ProcessLatency())
		row["capacity"] = fmt.Sprintf("%.3f", capacity)
	}
	return row
}

// sum adds up the tasks' counts over window w; maxCap is the largest
// capacity among them (Storm shows a component's busiest executor).
// A task whose report lacks window w (a peer of another version) adds nothing.
func sum(tasks []TaskInfo, w int) (total actors.Counts, maxCap float64) {
	for _, t := range tasks {
		if w >= len(t.Windows) {
			continue
		}
		c := t.Windows[w]
		total = total.Plus(c)
		maxCap = max(maxCap, c.Capacity())
	}
	return total, maxCap
}

// componentRow is a component's row of the topology page for one window.
func componentRow(kind string, tasks []TaskInfo, w int, maxTasks int) map[string]any {
	total, maxCap := sum(tasks, w)
	row := countFields(kind, total, maxCap)
	var lastErr TaskInfo
	for _, t := range tasks {
		if t.LastErrorMs > lastErr.LastErrorMs {
			lastErr = t
		}
	}
	row["executors"], row["tasks"], row["maxTasks"] = len(tasks), len(tasks), maxTasks
	row["lastError"], row["errorHost"], row["errorPort"] = lastErr.LastError, lastErr.Host, lastErr.Port
	row["errorTime"], row["errorLapsedSecs"] = lastErr.LastErrorMs, lapsed(lastErr.LastErrorMs)
	row["failing"] = len(failingComponents(tasks)) > 0
	return row
}

func lapsed(unixMs int64) any {
	if unixMs == 0 {
		return nil
	}
	return int64(time.Since(time.UnixMilli(unixMs)) / time.Second)
}

// byComponent groups the spout and bolt tasks by component.
func byComponent(tasks []TaskInfo) map[string][]TaskInfo {
	m := map[string][]TaskInfo{}
	for _, t := range tasks {
		if t.Kind != "tracker" {
			m[t.Component] = append(m[t.Component], t)
		}
	}
	return m
}

// windowRows are a component's rows per window (Storm's spoutSummary or
// boltStats).
func windowRows(kind string, tasks []TaskInfo) []map[string]any {
	var out []map[string]any
	for i, d := range actors.Windows {
		w := window{index: i, d: d}
		total, maxCap := sum(tasks, i)
		row := countFields(kind, total, maxCap)
		row["window"], row["windowPretty"] = w.String(), w.pretty()
		out = append(out, row)
	}
	return out
}

// topologyStats are Storm's topologyStats: per window, what every
// component emitted and transferred, and the spouts' trees.
func topologyStats(comps map[string][]TaskInfo) []map[string]any {
	var spouts, all []TaskInfo
	for _, tasks := range comps {
		all = append(all, tasks...)
		if len(tasks) > 0 && tasks[0].Kind == "spout" {
			spouts = append(spouts, tasks...)
		}
	}
	rows := windowRows("spout", spouts)
	for i := range rows {
		total, _ := sum(all, i)
		rows[i]["emitted"], rows[i]["transferred"] = total.Emitted, total.Transferred
	}
	return rows
}

// describe returns a component's kind and its maximum number of tasks,
// from this node's build of the topology when it has one, else from the
// running tasks; ok is false for a component the topology does not have.
func describe(t *topology.Topology, comps map[string][]TaskInfo, component string) (kind string, maxTasks int, ok bool) {
	if t != nil {
		if c := t.Component(topology.ComponentID(component)); c != nil {
			return ComponentKind(t, c.ID), len(c.Tasks), true
		}
	}
	if tasks := comps[component]; len(tasks) > 0 {
		return tasks[0].Kind, len(tasks), true
	}
	return "", 0, false
}

// command is the command line a component runs as a subprocess (a
// topology.CommandRunner's, e.g. a multilang shell bolt), from this node's
// build of the topology; nil for a component that runs in the node, or
// when the node could not build the topology.
func command(t *topology.Topology, component string) []string {
	if t == nil {
		return nil
	}
	if c := t.Component(topology.ComponentID(component)); c != nil && c.Command != nil {
		return slices.Clone(c.Command)
	}
	return nil
}

func (s server) topologyPage(ctx context.Context, id string, win window) (map[string]any, error) {
	spec, err := s.specByID(id)
	if err != nil {
		return nil, err
	}
	tasks, inFlight := s.clusterTasks(ctx, spec.Name)
	t := s.b.Built(spec.Name)
	comps := byComponent(tasks)
	names := sortedKeys(comps)
	if t != nil { // components with no running task still show
		for _, c := range t.Components {
			if _, ok := comps[string(c.ID)]; !ok {
				names = append(names, string(c.ID))
			}
		}
		slices.Sort(names)
	}
	spouts, bolts := []map[string]any{}, []map[string]any{}
	for _, c := range names {
		kind, maxTasks, _ := describe(t, comps, c)
		row := componentRow(kind, comps[c], win.index, maxTasks)
		if cmd := command(t, c); cmd != nil {
			// What the component executes on every node it runs on: the
			// UI shows it, so an admin sees what a topology runs.
			row["squallCommand"] = cmd
		}
		if kind == "spout" {
			row["spoutId"] = c
			spouts = append(spouts, row)
		} else {
			row["boltId"] = c
			bolts = append(bolts, row)
		}
	}
	workers := map[string]bool{}
	for _, ti := range tasks {
		workers[ti.Node] = true
	}
	up := time.Since(time.UnixMilli(spec.SubmittedUnixMs))
	g := guaranteeOf(t, spec)
	conf := map[string]any{}
	msgTimeout := any(nil)
	if t != nil {
		for k, v := range t.Config {
			conf[k] = jsonValue(v)
		}
		msgTimeout = conf[topology.MessageTimeoutSecs]
	} else {
		for k, v := range spec.Conf {
			conf[k] = v
		}
	}
	return map[string]any{
		"id": TopologyID(spec), "name": spec.Name, "status": Status(spec), "kind": spec.Kind,
		"uptime": prettyDuration(up), "uptimeSeconds": int64(up / time.Second),
		"tasksTotal": len(tasks), "executorsTotal": len(tasks), "workersTotal": len(workers),
		"msgTimeout": msgTimeout, "window": win.String(), "windowHint": win.pretty(),
		"inFlight":      inFlight,
		"topologyStats": topologyStats(comps),
		"spouts":        spouts, "bolts": bolts, "failingComponents": failingComponents(tasks),
		"edges":             edges(t, tasks),
		"configuration":     conf,
		"squallGuarantee":   g,
		"squallCheckpoints": checkpointsOf(g, s.b.Checkpoints(), spec.Name, time.Now()),
	}, nil
}

// checkpointsOf is a topology page's squallCheckpoints: nil (JSON null)
// unless the topology's guarantee g is exactly-once; its checkpoints as
// this node runs them (only a Solo node runs exactly-once, so they are
// the topology's), or phase "not running" while this node does not run
// it. Times are Unix ms (0: never), durations ms, ageMs null until a
// checkpoint completed.
func checkpointsOf(g string, cps map[string]actors.CheckpointStatus, name string, now time.Time) map[string]any {
	st, ok := cps[name]
	if !ok && g != string(topology.ExactlyOnce) {
		return nil
	}
	if !ok {
		st = actors.CheckpointStatus{Phase: "not running"}
	}
	return map[string]any{
		"phase": st.Phase, "epoch": st.Epoch,
		"lastCompleted": st.LastCompleted, "completedAt": unixMs(st.CompletedAt), "ageMs": ageMs(st, now),
		"durationMs": msOf(st.Duration), "bytes": st.Bytes, "alignmentMs": msOf(st.Alignment),
		"completed": st.Completed, "failed": st.Failed, "restores": st.Restores,
		"lastFailure": st.LastFailure, "lastFailureAt": unixMs(st.LastFailureAt),
	}
}

// checkpointsBrief is a topology summary row's squallCheckpoints: the
// short form of checkpointsOf.
func checkpointsBrief(g string, cps map[string]actors.CheckpointStatus, name string, now time.Time) map[string]any {
	full := checkpointsOf(g, cps, name, now)
	if full == nil {
		return nil
	}
	brief := map[string]any{}
	for _, k := range []string{"phase", "lastCompleted", "ageMs", "completed", "failed", "lastFailure"} {
		brief[k] = full[k]
	}
	return brief
}

// ageMs is how long ago the last checkpoint completed, in ms; nil when
// none has.
func ageMs(st actors.CheckpointStatus, now time.Time) any {
	if st.LastCompleted == 0 || st.CompletedAt.IsZero() {
		return nil
	}
	return max(now.Sub(st.CompletedAt), 0).Milliseconds()
}

// unixMs is t in Unix ms, 0 for the zero time.
func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// msOf is d in milliseconds, to the microsecond.
func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// guaranteeOf is a topology's squall.guarantee: this node's build's, else
// the submitted configuration's (the default when it has none, the value
// as given when it is not one).
func guaranteeOf(t *topology.Topology, spec *messages.TopologySpec) string {
	if t != nil {
		return string(t.Runtime.Guarantee)
	}
	v, ok := spec.Conf[topology.GuaranteeKey]
	if !ok {
		return string(topology.AtLeastOnce)
	}
	if g, err := topology.ParseGuarantee(v); err == nil {
		return string(g)
	}
	return v
}

// jsonValue keeps a configuration value that JSON can carry, else its text.
func jsonValue(v any) any {
	switch v.(type) {
	case string, bool, int, int32, int64, float64, nil:
		return v
	}
	if _, err := json.Marshal(v); err == nil {
		return v
	}
	return fmt.Sprint(v)
}

// edge is a subscription with the tuples sent on it (all time, summed over
// the source's tasks): an edge of the UI's graph.
type edge struct {
	Source      string `json:"source"`
	Stream      string `json:"stream"`
	Target      string `json:"target"`
	Grouping    string `json:"grouping,omitempty"`
	Transferred int64  `json:"transferred"`
}

// edges are the topology's subscriptions, and what the tasks report
// sending elsewhere (a node that could not build the topology still shows
// what flows).
func edges(t *topology.Topology, tasks []TaskInfo) []edge {
	type key struct{ source, stream, target string }
	counts := map[key]int64{}
	for _, ti := range tasks {
		for _, e := range ti.Edges {
			counts[key{ti.Component, e.Stream, e.Target}] += e.Transferred
		}
	}
	out := []edge{}
	if t != nil {
		for _, c := range t.Components {
			for _, in := range c.Inputs {
				k := key{string(in.Source), string(in.Stream), string(c.ID)}
				out = append(out, edge{k.source, k.stream, k.target, groupingName(in.Grouping), counts[k]})
				delete(counts, k)
			}
		}
	}
	for k, v := range counts {
		out = append(out, edge{Source: k.source, Stream: k.stream, Target: k.target, Transferred: v})
	}
	slices.SortFunc(out, func(a, b edge) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Stream, b.Stream))
	})
	return out
}

func groupingName(g topology.Grouping) string {
	if len(g.Fields) > 0 {
		return g.Kind.String() + "(" + strings.Join(g.Fields, ",") + ")"
	}
	return g.Kind.String()
}

func (s server) componentPage(ctx context.Context, id, component string, win window) (map[string]any, error) {
	spec, err := s.specByID(id)
	if err != nil {
		return nil, err
	}
	tasks, _ := s.clusterTasks(ctx, spec.Name)
	comps := byComponent(tasks)
	kind, maxTasks, ok := describe(s.b.Built(spec.Name), comps, component)
	if !ok {
		return nil, fmt.Errorf("%w: topology %q has no component %q", ErrTopologyNotFound, spec.Name, component)
	}
	mine := comps[component]
	var execs, errs, gauges []map[string]any
	output, perTarget := map[string]int64{}, map[[2]string]int64{}
	for _, ti := range mine {
		c := ti.Windows[win.index]
		row := countFields(kind, c, c.Capacity())
		row["id"], row["task"], row["node"], row["host"], row["port"] = fmt.Sprintf("[%d-%d]", ti.Task, ti.Task), ti.Task, ti.Node, ti.Host, ti.Port
		row["restarts"], row["errors"], row["pending"], row["failing"] = ti.Restarts, ti.Errors, ti.Pending, ti.Failing
		row["lastError"], row["errorTime"], row["workerLogLink"] = ti.LastError, ti.LastErrorMs, ""
		row["uptime"], row["uptimeSeconds"] = "", 0
		if ti.StartedUnixMs > 0 {
			up := time.Since(time.UnixMilli(ti.StartedUnixMs))
			row["uptime"], row["uptimeSeconds"] = prettyDuration(up), int64(up/time.Second)
		}
		execs = append(execs, row)
		if ti.LastError != "" {
			errs = append(errs, map[string]any{
				"time": ti.LastErrorMs, "errorHost": ti.Host, "errorPort": ti.Port, "error": ti.LastError,
				"errorLapsedSecs": lapsed(ti.LastErrorMs), "task": ti.Task, "node": ti.Node,
			})
		}
		for _, g := range ti.Gauges {
			gauges = append(gauges, map[string]any{"name": g.Name, "labels": g.Labels, "value": g.Value, "task": ti.Task})
		}
		for _, e := range ti.Edges {
			output[e.Stream] += e.Transferred
			perTarget[[2]string{e.Stream, e.Target}] += e.Transferred
		}
	}
	// A stream's tuples as emitted: what its most-fed consumer component
	// got (each emitted tuple reaches one task of a consumer, except
	// through an all grouping; Storm counts emitted per stream, squall
	// counts per edge).
	emitted := map[string]int64{}
	for k, v := range perTarget {
		emitted[k[0]] = max(emitted[k[0]], v)
	}
	slices.SortFunc(errs, func(a, b map[string]any) int { return cmp.Compare(b["time"].(int64), a["time"].(int64)) })
	var outputStats []map[string]any
	for _, st := range sortedKeys(output) {
		outputStats = append(outputStats, map[string]any{"stream": st, "transferred": output[st], "emitted": emitted[st]})
	}
	page := map[string]any{
		"id": component, "name": spec.Name, "topologyId": TopologyID(spec), "topologyStatus": Status(spec),
		"componentType": kind, "executors": len(mine), "tasks": len(mine), "maxTasks": maxTasks,
		"window": win.String(), "windowHint": win.pretty(),
		"executorStats": orEmpty(execs), "componentErrors": orEmpty(errs), "gauges": orEmpty(gauges),
		"outputStats": orEmpty(outputStats),
	}
	if kind == "spout" {
		page["spoutSummary"] = windowRows(kind, mine)
	} else {
		page["boltStats"] = windowRows(kind, mine)
		page["inputStats"] = inputStats(tasks, component, mine, win)
	}
	return page, nil
}

// inputStats are Storm's inputStats of bolt component (mine are its
// tasks, tasks every task of the topology): one row for what it executed
// over window win, naming the components and streams that feed it (from
// their tasks' edges). squall counts a bolt's executions, not per input:
// a bolt fed by several inputs gets one row naming them all
// ("a,b" / "default,words"), never invented splits. `sparse stats -c`
// reads these rows.
func inputStats(tasks []TaskInfo, component string, mine []TaskInfo, win window) []map[string]any {
	sources, streams := map[string]bool{}, map[string]bool{}
	for _, t := range tasks {
		for _, e := range t.Edges {
			if e.Target == component {
				sources[t.Component], streams[e.Stream] = true, true
			}
		}
	}
	if len(sources) == 0 {
		return []map[string]any{}
	}
	total, _ := sum(mine, win.index)
	return []map[string]any{{
		"component": strings.Join(sortedKeys(sources), ","), "stream": strings.Join(sortedKeys(streams), ","),
		"executed": total.Executed, "acked": total.Acked, "failed": total.Failed,
		"executeLatency": millis(total.ExecuteLatency()), "processLatency": millis(total.ProcessLatency()),
	}}
}

func orEmpty(s []map[string]any) []map[string]any {
	if s == nil {
		return []map[string]any{}
	}
	return s
}
