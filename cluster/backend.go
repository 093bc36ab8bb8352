package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/internal/httpauth"
	"github.com/squall-streams/squall/internal/preflight"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// The node's public HTTP API is package api; this file is the node's side
// of it: the API's reports under the names cluster has always given them,
// the handler the node serves, and the adapter through which the API reads
// and changes the node (api.Backend).

// Errors callers branch on, which the API answers with 404 and 409.
var (
	ErrTopologyNotFound = api.ErrTopologyNotFound
	ErrTopologyExists   = api.ErrTopologyExists
	// ErrNotAdmin (403): a topology that runs commands, submitted by
	// someone who is not an authenticated admin.
	ErrNotAdmin = api.ErrNotAdmin
)

// The API's reports, as cluster's users and cmd/node name them.
type (
	MemberInfo     = api.MemberInfo
	NodeInfo       = api.NodeInfo
	LocalTopology  = api.LocalTopology
	TopologyInfo   = api.TopologyInfo
	ComponentStats = api.ComponentStats
	TaskInfo       = api.TaskInfo
	EdgeInfo       = api.EdgeInfo
	GaugeInfo      = api.GaugeInfo
	SubmitRequest  = api.SubmitRequest
)

// ComponentTotals sums tasks' all-time counts per spout and bolt
// component, in component order.
func ComponentTotals(tasks []TaskInfo) []ComponentStats { return api.ComponentTotals(tasks) }

// Version is squall's version: the module version the binary was built
// from, or "devel".
func Version() string { return api.Version() }

// Handler serves the node's public HTTP API (package api: the web UI,
// Storm UI's REST API, squall's routes and /metrics) and the resources of
// the topologies submitted here:
//
//	GET  /api/v1/resources/{digest}            a resources tarball
//
// behind the node's Guard (internal/httpauth): every route needs a client
// certificate of the cluster's CA or the admin token, unless the node is
// Insecure without a token (then nobody is an admin, and topologies that
// run commands are refused).
func (n *Node) Handler() http.Handler { return n.handler }

// newHandler builds Handler's handler.
func (n *Node) newHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/resources/{digest}", n.serveResources)
	cfg := api.Config{MaxSubmitBytes: 2 * MaxResources, Auth: httpauth.DefaultConfig()}
	cfg.Auth.Token, cfg.Auth.Open, cfg.Auth.PublicMetrics = n.token, n.token == "", n.cfg.PublicMetrics
	cfg.Auth.Hosts = n.cfg.httpHosts()
	if n.token != "" {
		// Clusters on one host share a browser's cookies: one name per token.
		sum := sha256.Sum256([]byte(n.token))
		cfg.Auth.CookieName = "squall_session_" + hex.EncodeToString(sum[:4])
	}
	if n.cfg.Insecure && n.cfg.Certs == nil {
		cfg.Warning = preflight.InsecureWarning
	}
	api.Register(mux, backend{n}, cfg)
	return api.Protect(mux, cfg)
}

// Topologies lists the cluster's topologies with counts summed over nodes.
func (n *Node) Topologies(ctx context.Context) []TopologyInfo {
	return api.Topologies(ctx, backend{n})
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
			lt.TaskStats = append(lt.TaskStats, api.NewTaskInfo(p.run.Topology, p.run.Env().Stats(task), n.cfg.Name, host, port))
		}
		out = append(out, lt)
	}
	slices.SortFunc(out, func(a, b LocalTopology) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// hostPort is where this node's tasks run, as Storm's host and port: the
// transport's address.
func (n *Node) hostPort() (string, int) {
	host, port, err := net.SplitHostPort(n.tr.Addr())
	if err != nil {
		return n.tr.Addr(), 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

func (n *Node) nodeInfo() NodeInfo {
	return NodeInfo{Name: n.cfg.Name, StartedUnixMs: n.started.UnixMilli(), Version: Version()}
}

// topologyID is a deployment's id, as the REST API shows it.
func topologyID(s *messages.TopologySpec) string { return api.TopologyID(s) }

// writeErr answers with the API's error body.
func writeErr(w http.ResponseWriter, code int, err error) { api.Error(w, code, err) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// backend is the node as the API sees it.
type backend struct{ n *Node }

var _ api.Backend = backend{}

func (b backend) NodeInfo() NodeInfo                   { return b.n.nodeInfo() }
func (b backend) Members() []MemberInfo                { return b.n.Members() }
func (b backend) Specs() []*messages.TopologySpec      { return b.n.state.All() }
func (b backend) LocalTopologies() []LocalTopology     { return b.n.LocalTopologies() }
func (b backend) Built(name string) *topology.Topology { return b.n.compiled(name) }

func (b backend) LocalTasks() []api.LocalTask {
	n := b.n
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []api.LocalTask
	for name, p := range n.running {
		for _, task := range p.tasks {
			s := p.run.Env().Stats(task)
			out = append(out, api.LocalTask{Topology: name, Kind: api.ComponentKind(p.run.Topology, s.Component), Stats: s})
		}
	}
	return out
}

func (b backend) Checkpoints() map[string]actors.CheckpointStatus {
	n := b.n
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]actors.CheckpointStatus{}
	for name, p := range n.running {
		if st, ok := p.run.Env().Checkpoints(); ok {
			out[name] = st
		}
	}
	return out
}

func (b backend) Transport() api.TransportStats {
	n := b.n
	return api.TransportStats{
		Peers: n.tr.PeerCount(), Dropped: n.tr.Dropped.Load(), Rejected: n.tr.Rejected.Load(),
		Parked: n.park.Len(), Unroutable: n.park.Dropped.Load(),
		Refused: n.tr.Refused.Load(), Oversized: n.tr.Oversized.Load(), Gaps: n.tr.Gaps.Load(), Late: n.tr.Late.Load(),
		OverBudget: n.tr.OverBudget.Load(), Unreported: n.tr.Unreported.Load(),
		Inbound: n.tr.Inbound(), HeldBytes: n.tr.Held(),
	}
}

func (b backend) ClusterLocalTopologies(ctx context.Context) map[string][]LocalTopology {
	return b.n.peerLocal(ctx)
}

func (b backend) ClusterNodeInfo(ctx context.Context) map[string]NodeInfo {
	return fromPeers(ctx, b.n, "/api/v1/local/node", b.n.nodeInfo)
}

func (b backend) Submit(req SubmitRequest) error {
	return b.n.submit(req.Name, req.Kind, req.Conf, req.Resources, req.Admin)
}

func (b backend) Activate(name string) error   { return b.n.Activate(name) }
func (b backend) Deactivate(name string) error { return b.n.Deactivate(name) }

func (b backend) Kill(ctx context.Context, name string, wait time.Duration) error {
	return b.n.Kill(ctx, name, wait)
}

func (b backend) Rebalance(ctx context.Context, name string, parallelism map[string]int, wait time.Duration) (any, error) {
	return b.n.Rebalance(ctx, name, RebalanceOptions{Parallelism: parallelism, Wait: wait})
}

// compiled returns this node's build of the topology, or nil.
func (n *Node) compiled(name string) *topology.Topology {
	n.mu.Lock()
	defer n.mu.Unlock()
	if b := n.built[name]; b != nil {
		return b.topo
	}
	return nil
}
