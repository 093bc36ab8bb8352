package api

import (
	"context"
	"errors"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// Errors a Backend returns that the API answers with their own status
// codes (404, 409 and 403); the cluster package's sentinels of the same
// names are these. Every other error is the caller's mistake, a 400,
// except context.DeadlineExceeded, a 504.
var (
	ErrTopologyNotFound = errors.New("no such topology in the cluster")
	ErrTopologyExists   = errors.New("a topology of that name is running")
	ErrNotAdmin         = errors.New("only an authenticated admin may submit a topology that runs commands")
)

// Backend is the node the API serves: *cluster.Node, through its adapter.
//
// Concurrency: every method is called from the HTTP server's goroutines,
// concurrently with each other and with the node's own work, so an
// implementation must be safe for concurrent use. What a method returns
// belongs to the caller (copies, never the node's own maps or specs),
// except LocalTask.Stats, which are the tasks' live counters. The reads
// answer from this node's memory and should return promptly (a scrape or
// a page poll calls them every few seconds); only the Cluster* reads go to
// other nodes, each bounded by ctx and a short per-node timeout, in
// parallel. The mutations publish a change to the cluster and return; only
// Kill and Rebalance wait, at most their wait.
type Backend interface {
	// NodeInfo describes this node.
	NodeInfo() NodeInfo
	// Members lists the members this node knows, dead ones included, by
	// name.
	Members() []MemberInfo
	// Specs are the cluster's topologies as this node knows them, killed
	// ones (tombstones) included, by name.
	Specs() []*messages.TopologySpec
	// Built is this node's build of the topology called name, or nil
	// when it has none: read only, never run.
	Built(name string) *topology.Topology
	// LocalTopologies reports what this node runs, by topology name.
	LocalTopologies() []LocalTopology
	// LocalTasks are this node's tasks, for /metrics.
	LocalTasks() []LocalTask
	// Checkpoints are the checkpoint statuses of the exactly-once
	// topologies this node runs, by name (actors.Env.Checkpoints). Only a
	// node that can never have peers runs exactly-once (cluster.Config.Solo),
	// so a node's own are all there are.
	Checkpoints() map[string]actors.CheckpointStatus
	// Transport counts the frames between this node and the others.
	Transport() TransportStats
	// ClusterLocalTopologies is every live member's LocalTopologies, by
	// member name, this node's included: a member that serves no API
	// maps to nil, one that does not answer in time is left out.
	ClusterLocalTopologies(ctx context.Context) map[string][]LocalTopology
	// ClusterNodeInfo is every live member's NodeInfo, by member name,
	// with the same rules as ClusterLocalTopologies (zero for a member
	// that serves no API).
	ClusterNodeInfo(ctx context.Context) map[string]NodeInfo
	// Logs is the recent lines of the subprocesses of the topology
	// called name that this node keeps (logs.go), selected by q; an
	// empty page for a topology it has none of.
	Logs(name string, q LogQuery) LogPage
	// ClusterLogs is every live member's Logs of name, by member name,
	// each after its own since (absent: 0) and with the same rules as
	// ClusterLocalTopologies.
	ClusterLogs(ctx context.Context, name string, q LogQuery, since map[string]uint64) map[string]LogPage

	// Submit adds a topology to the cluster (ErrTopologyExists when a
	// live one has its name).
	Submit(req SubmitRequest) error
	// Activate lets the topology's spouts emit, Deactivate stops them
	// (ErrTopologyNotFound for no live topology of that name).
	Activate(name string) error
	Deactivate(name string) error
	// Kill deactivates the topology, waits up to wait for its trees in
	// flight, then removes it from the cluster.
	Kill(ctx context.Context, name string, wait time.Duration) error
	// Rebalance sets components' numbers of running tasks (none: only
	// re-spread them) and waits up to wait until every node applied it.
	// The report is answered as JSON, under "squall".
	Rebalance(ctx context.Context, name string, parallelism map[string]int, wait time.Duration) (report any, err error)
}

// LocalTask is one task this node runs.
type LocalTask struct {
	Topology string
	// Kind is ComponentKind's: "spout", "bolt" or "tracker".
	Kind string
	// Stats are the task's live counters: read them, never write.
	Stats *actors.TaskStats
}

// TransportStats are the counters of the transport between nodes.
type TransportStats struct {
	// Peers is the number of nodes this node holds a tuple connection to.
	Peers int
	// Dropped counts frames to other nodes dropped (queue full, node
	// unreachable or gone); Rejected malformed frames received.
	Dropped, Rejected int64
	// Parked is the number of batches from other nodes waiting for their
	// task to start here; Unroutable counts those dropped instead.
	Parked     int
	Unroutable int64
	// Refused counts inbound connections closed at the connection caps;
	// Oversized items above the frame limit (dropped); Gaps frames found
	// missing by their sequence numbers; Late frames that arrived after
	// a later one; OverBudget frames refused by a sender's memory budget;
	// Unreported drops whose trees could not be failed at once.
	Refused, Oversized, Gaps, Late, OverBudget, Unreported int64
	// Inbound is the number of inbound connections open; HeldBytes the
	// bytes of inbound frames held now (read, parked, being delivered).
	Inbound   int
	HeldBytes int64
}
