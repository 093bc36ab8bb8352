package nimbus

import (
	"context"
	"errors"
	"time"
)

// Errors a Backend returns (wrapped) for what the server answers with
// Storm's declared exceptions; anything else is an internal error.
var (
	// ErrNotAlive: no topology of that name (NotAliveException).
	ErrNotAlive = errors.New("not alive")
	// ErrAlreadyAlive: a topology of that name runs, or is being killed
	// (AlreadyAliveException).
	ErrAlreadyAlive = errors.New("already alive")
)

// Backend is the node behind the Nimbus API. Its methods are called from
// several connections at once, so they must be safe for concurrent use,
// and they must return within the ctx given (a few seconds: streamparse's
// socket timeout is 7 s): they start work, they do not wait for it.
type Backend interface {
	// Submit starts a topology (ErrAlreadyAlive if its name is alive;
	// ErrInvalidTopology when the node cannot build it).
	Submit(ctx context.Context, s *Submission) error
	// Kill deactivates the topology, shows it KILLED, and removes it after
	// wait; wait < 0 means the topology's topology.message.timeout.secs,
	// as in Storm. It returns at once; the name stays alive until removed.
	Kill(ctx context.Context, name string, wait time.Duration) error
	Activate(ctx context.Context, name string) error
	Deactivate(ctx context.Context, name string) error
	// Rebalance changes components' parallelism (ErrInvalidTopology when
	// nothing asked can be applied).
	Rebalance(ctx context.Context, name string, r Rebalance) error
	// Cluster describes the live nodes and the topologies.
	Cluster(ctx context.Context) (*Cluster, error)
}

// Rebalance is what RebalanceOptions ask for.
type Rebalance struct {
	// Wait before rebalancing; < 0 when not given.
	Wait time.Duration
	// Workers is num_workers (0 when not given): squall has no workers to
	// change, so a Backend reports it as not applied.
	Workers int
	// Parallelism is num_executors: component → parallelism.
	Parallelism map[string]int
}

// Cluster is the state getClusterInfo and getTopologyInfo report.
type Cluster struct {
	Nodes      []Node
	Topologies []Topology
}

// Node is one live squall node, a Storm supervisor (and nimbus).
type Node struct {
	ID   string // supervisor_id
	Host string // the advertised host name
	// Self is the node serving this API (the leader it reports).
	Self      bool
	Uptime    time.Duration
	Slots     int // num_workers: task capacity
	UsedSlots int
}

// Topology is one topology of the cluster.
type Topology struct {
	ID   string // Storm's topology id: no "/"
	Name string
	// Status is ACTIVE, INACTIVE, KILLED or REBALANCING.
	Status                  string
	Uptime                  time.Duration
	Tasks, Executors, Nodes int
	// Conf is the topology's configuration (getTopologyConf).
	Conf map[string]any
	// Executors and Errors are for getTopologyInfo; nil is fine.
	ExecutorList []Executor
	Errors       map[string][]ComponentError // by component id
}

// Executor is one running task of a component.
type Executor struct {
	Component string
	Task      int
	Host      string
	Port      int
	Uptime    time.Duration
}

// ComponentError is a component's reported error.
type ComponentError struct {
	Error string
	Time  time.Time
	Host  string
}
