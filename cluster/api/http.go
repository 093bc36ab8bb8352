package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/internal/httpauth"
	"github.com/squall-streams/squall/ui"
)

// ComponentStats are a component's counts summed over its tasks (all
// time), as `node list` shows them.
type ComponentStats struct {
	Component string `json:"component"`
	Kind      string `json:"kind"`
	Tasks     int    `json:"tasks"`
	Emitted   int64  `json:"emitted"`
	Acked     int64  `json:"acked"`
	Failed    int64  `json:"failed"`
	Executed  int64  `json:"executed"`
	Errors    int64  `json:"errors"`
	Restarts  int64  `json:"restarts"`
	LastError string `json:"last_error,omitempty"`
	// Failing: one of its tasks keeps restarting (TaskInfo.Failing).
	Failing bool `json:"failing,omitempty"`
	// Complete latency quantiles of spouts' trees: the worst task's.
	CompleteP50Ms float64 `json:"complete_latency_p50_ms,omitempty"`
	CompleteP99Ms float64 `json:"complete_latency_p99_ms,omitempty"`
}

// LocalTopology is what one node runs of a topology.
type LocalTopology struct {
	Name     string  `json:"name"`
	Node     string  `json:"node"`
	Tasks    []int32 `json:"tasks"`
	InFlight int64   `json:"in_flight"`
	// TaskStats are every task's statistics, windowed (Storm's REST API
	// sums them over the nodes).
	TaskStats []TaskInfo `json:"task_stats"`
	// Epoch numbers the placement the node applied (every node computes
	// the same epoch for the same placement): Rebalance waits for it.
	Epoch uint64 `json:"epoch"`
}

// TopologyInfo is a topology as `node list --json` shows it: its status and
// its components' counts summed over the nodes that answered.
type TopologyInfo struct {
	Name            string            `json:"name"`
	Kind            string            `json:"kind"`
	Status          string            `json:"status"` // ACTIVE, INACTIVE, KILLED
	Version         uint64            `json:"version"`
	SubmittedUnixMs int64             `json:"submitted_unix_ms"`
	Conf            map[string]string `json:"conf,omitempty"`
	InFlight        int64             `json:"in_flight"`
	Spouts          []ComponentStats  `json:"spouts"`
	Bolts           []ComponentStats  `json:"bolts"`
	// Failing names the components that keep crashing (the status stays
	// Storm's: see failing.go).
	Failing []string `json:"failing,omitempty"`
}

// SubmitRequest is the body of POST /api/v1/topologies.
type SubmitRequest struct {
	Name string            `json:"name"`
	Kind string            `json:"kind"`
	Conf map[string]string `json:"conf,omitempty"`
	// Resources is a gzipped tar of the topology's resources directory
	// (see TarGz), shipped to every node that runs it.
	Resources []byte `json:"resources,omitempty"`
	// Admin says that an authenticated admin submits (the route sets it
	// from the Guard's Principal; a request body cannot): only an admin
	// may submit a topology whose components run commands.
	Admin bool `json:"-"`
}

// MemberInfo describes a cluster member.
type MemberInfo struct {
	Name       string `json:"name"`
	GossipAddr string `json:"gossip_addr"`
	RemoteAddr string `json:"remote_addr"`
	HTTPAddr   string `json:"http_addr"`
	Status     string `json:"status"` // alive or dead
	Tasks      int    `json:"tasks"`
	BootID     string `json:"boot_id"`
}

// Config configures the API.
type Config struct {
	// Auth configures the Guard Protect puts in front of the routes
	// (internal/httpauth): credentials on every route, the Host, origin
	// and content-type checks, the web UI's sign-in. Its zero MaxBody,
	// SessionTTL, CookieName are httpauth.DefaultConfig's; "localhost" is
	// always one of its Hosts.
	Auth httpauth.Config
	// MaxSubmitBytes bounds the body of a submit, which carries the
	// resources tarball; 0 means 128 MiB.
	MaxSubmitBytes int64
	// Warning, when set, is shown on every page of the web UI and in the
	// cluster summary (squallWarning): the --insecure warning.
	Warning string
}

func (c Config) maxSubmit() int64 {
	if c.MaxSubmitBytes <= 0 {
		return 128 << 20
	}
	return c.MaxSubmitBytes
}

// Handler is Register's routes on a ServeMux, behind Protect.
func Handler(b Backend, cfg Config) (http.Handler, error) {
	mux := http.NewServeMux()
	Register(mux, b, cfg)
	return Protect(mux, cfg)
}

// Protect puts h behind cfg.Auth's Guard, with a submit's body bounded
// by MaxSubmitBytes and every other body by Auth.MaxBody.
func Protect(h http.Handler, cfg Config) (http.Handler, error) {
	auth, def := cfg.Auth, httpauth.DefaultConfig()
	if auth.MaxBody <= 0 {
		auth.MaxBody = def.MaxBody
	}
	if auth.SessionTTL <= 0 {
		auth.SessionTTL = def.SessionTTL
	}
	if auth.CookieName == "" {
		auth.CookieName = def.CookieName
	}
	auth.Hosts = append(slices.Clone(auth.Hosts), def.Hosts...)
	maxBody, maxSubmit := auth.MaxBody, cfg.maxSubmit()
	auth.BodyLimit = func(r *http.Request) int64 {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/topologies" {
			return maxSubmit
		}
		return maxBody
	}
	g, err := httpauth.New(auth)
	if err != nil {
		return nil, err
	}
	return g.Handler(h), nil
}

// Register adds to mux the node's web UI at /, Storm UI's REST API (see
// stormapi.go: cluster/summary, supervisor/summary, topology/summary,
// topology/{id}, topology/{id}/component/{c}, and POST activate,
// deactivate, kill/{wait}, rebalance/{wait}) and squall's own routes:
//
//	GET  /api/v1/members                       cluster members (any node)
//	GET  /api/v1/topologies                    topologies with counts over all nodes
//	POST /api/v1/topologies                    submit {name, kind, conf}
//	GET  /api/v1/local/topologies              what this node runs
//	GET  /api/v1/topology/{id}/logs            its subprocesses' lines (logs.go)
//	GET  /metrics                              Prometheus: this node's tasks, Go runtime
//
// The routes authenticate nobody: serve mux behind Protect.
func Register(mux *http.ServeMux, b Backend, cfg Config) {
	s := server{b: b, cfg: cfg}
	maxSubmit := cfg.maxSubmit()
	s.stormRoutes(mux)
	s.logRoutes(mux)
	mux.HandleFunc("GET /api/v1/members", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, b.Members())
	})
	mux.HandleFunc("GET /api/v1/local/topologies", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, b.LocalTopologies())
	})
	mux.HandleFunc("GET /api/v1/topologies", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, Topologies(r.Context(), b))
	})
	mux.Handle("GET /metrics", metricsHandler(b))
	mux.Handle("GET /", ui.Handler())
	mux.HandleFunc("POST /api/v1/topologies", func(w http.ResponseWriter, r *http.Request) {
		var req SubmitRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSubmit))
		if err := dec.Decode(&req); err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("bad request body: %w", err))
			return
		}
		if dec.More() {
			writeErr(w, http.StatusBadRequest, errors.New("bad request body: more than one JSON value"))
			return
		}
		p, _ := httpauth.FromContext(r.Context())
		req.Admin = p.Admin()
		if err := b.Submit(req); err != nil {
			writeErr(w, statusOf(err), err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "submitted", "name": req.Name})
	})
}

// server holds what the routes' handlers share.
type server struct {
	b   Backend
	cfg Config
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrTopologyNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrTopologyExists):
		return http.StatusConflict
	case errors.Is(err, ErrNotAdmin):
		return http.StatusForbidden
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadRequest
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// Error answers with code and the API's error body, {"error": err}: for
// routes served beside the API.
func Error(w http.ResponseWriter, code int, err error) { writeErr(w, code, err) }

// Topologies lists the cluster's topologies with counts summed over nodes.
func Topologies(ctx context.Context, b Backend) []TopologyInfo {
	local := b.ClusterLocalTopologies(ctx)
	var out []TopologyInfo
	for _, s := range b.Specs() {
		ti := TopologyInfo{Name: s.Name, Kind: s.Kind, Version: s.Version, SubmittedUnixMs: s.SubmittedUnixMs, Conf: s.Conf, Status: Status(s)}
		var tasks []TaskInfo
		for _, lts := range local {
			for _, lt := range lts {
				if lt.Name == s.Name {
					ti.InFlight += lt.InFlight
					tasks = append(tasks, lt.TaskStats...)
				}
			}
		}
		for _, c := range ComponentTotals(tasks) {
			if c.Failing {
				ti.Failing = append(ti.Failing, c.Component)
			}
			if c.Kind == "spout" {
				ti.Spouts = append(ti.Spouts, c)
			} else {
				ti.Bolts = append(ti.Bolts, c)
			}
		}
		out = append(out, ti)
	}
	return out
}

// ComponentTotals sums tasks' all-time counts per spout and bolt
// component, in component order.
func ComponentTotals(tasks []TaskInfo) []ComponentStats {
	comps := byComponent(tasks)
	out := make([]ComponentStats, 0, len(comps))
	for _, name := range sortedKeys(comps) {
		ts := comps[name]
		all, _ := sum(ts, len(actors.Windows)-1) // actors.Windows ends with all time
		c := ComponentStats{Component: name, Kind: ts[0].Kind, Tasks: len(ts),
			Emitted: all.Emitted, Acked: all.Acked, Failed: all.Failed, Executed: all.Executed}
		var lastErrMs int64
		for _, t := range ts {
			c.Errors += t.Errors
			c.Restarts += t.Restarts
			if t.LastError != "" && (c.LastError == "" || t.LastErrorMs > lastErrMs) {
				c.LastError, lastErrMs = t.LastError, t.LastErrorMs // the latest task's
			}
			c.Failing = c.Failing || t.Failing
			c.CompleteP50Ms = max(c.CompleteP50Ms, t.CompleteP50Ms)
			c.CompleteP99Ms = max(c.CompleteP99Ms, t.CompleteP99Ms)
		}
		out = append(out, c)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// JSON answers with code and v as the API encodes it: for routes served
// beside the API (the node-to-node calls).
func JSON(w http.ResponseWriter, code int, v any) { writeJSON(w, code, v) }
