package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/squall-streams/squall/actors"
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
}

// SubmitRequest is the body of POST /api/v1/topologies.
type SubmitRequest struct {
	Name string            `json:"name"`
	Kind string            `json:"kind"`
	Conf map[string]string `json:"conf,omitempty"`
	// Resources is a gzipped tar of the topology's resources directory
	// (see TarGz), shipped to every node that runs it.
	Resources []byte `json:"resources,omitempty"`
}

// Handler serves the node's web UI at /, Storm UI's REST API (see
// stormapi.go: cluster/summary, supervisor/summary, topology/summary,
// topology/{id}, topology/{id}/component/{c}, and POST activate,
// deactivate, kill/{wait}, rebalance/{wait}) and squall's own routes:
//
//	GET  /api/v1/members                       cluster members (any node)
//	GET  /api/v1/topologies                    topologies with counts over all nodes
//	POST /api/v1/topologies                    submit {name, kind, conf}
//	GET  /api/v1/local/topologies              what this node runs
//	GET  /metrics                              Prometheus: this node's tasks, Go runtime
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	admin := requireToken(n.cfg.AdminToken)
	n.stormRoutes(mux, admin)
	mux.HandleFunc("GET /api/v1/members", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, n.Members())
	})
	mux.HandleFunc("GET /api/v1/local/topologies", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, n.LocalTopologies())
	})
	mux.HandleFunc("GET /api/v1/topologies", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, n.Topologies(r.Context()))
	})
	mux.HandleFunc("GET /api/v1/resources/{digest}", n.serveResources)
	mux.Handle("GET /metrics", n.metricsHandler())
	mux.Handle("GET /", ui.Handler())
	mux.HandleFunc("POST /api/v1/topologies", admin(func(w http.ResponseWriter, r *http.Request) {
		var req SubmitRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2*MaxResources)).Decode(&req); err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("bad request body: %w", err))
			return
		}
		if err := n.SubmitWithResources(req.Name, req.Kind, req.Conf, req.Resources); err != nil {
			writeErr(w, statusOf(err), err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "submitted", "name": req.Name})
	}))
	return mux
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrTopologyNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrTopologyExists):
		return http.StatusConflict
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

// LocalTopologies reports what this node runs.
func (n *Node) LocalTopologies() []LocalTopology {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []LocalTopology
	host, port := n.hostPort()
	for name, p := range n.running {
		lt := LocalTopology{Name: name, Node: n.cfg.Name, Epoch: p.epoch, InFlight: p.run.InFlight()}
		for _, t := range p.tasks {
			lt.Tasks = append(lt.Tasks, int32(t))
		}
		for _, task := range p.tasks {
			lt.TaskStats = append(lt.TaskStats, n.taskInfo(p.run.Topology, p.run.Env().Stats(task), host, port))
		}
		out = append(out, lt)
	}
	slices.SortFunc(out, func(a, b LocalTopology) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// peerLocal is every live member's LocalTopologies, by member name.
func (n *Node) peerLocal(ctx context.Context) map[string][]LocalTopology {
	return fromPeers(ctx, n, "/api/v1/local/topologies", n.LocalTopologies)
}

// fromPeers GETs path from every live member (a node-to-node call over
// the transport, see peers.go), in parallel, each bounded by a short
// timeout; this node answers with local(). One that does not answer is
// left out.
func fromPeers[T any](ctx context.Context, n *Node, path string, local func() T) map[string]T {
	out := map[string]T{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := n.peerClient(peerCallTimeout)
	for _, m := range n.members() {
		if m.name == n.cfg.Name {
			v := local()
			mu.Lock()
			out[m.name] = v
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			var v T
			if err := getJSON(ctx, client, peerURL(m, path), &v); err != nil {
				n.log.Debug("peer unavailable", "peer", m.name, "path", path, "err", err)
				return
			}
			mu.Lock()
			out[m.name] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// Topologies lists the cluster's topologies with counts summed over nodes.
func (n *Node) Topologies(ctx context.Context) []TopologyInfo {
	local := n.peerLocal(ctx)
	var out []TopologyInfo
	for _, s := range n.state.All() {
		ti := TopologyInfo{Name: s.Name, Kind: s.Kind, Version: s.Version, SubmittedUnixMs: s.SubmittedUnixMs, Conf: s.Conf, Status: status(s)}
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
		for _, t := range ts {
			c.Errors += t.Errors
			c.Restarts += t.Restarts
			if t.LastError != "" {
				c.LastError = t.LastError
			}
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
