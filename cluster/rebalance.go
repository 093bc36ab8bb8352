package cluster

import (
	"context"
	"errors"
	"time"
)

// RebalanceOptions are the options of a live rebalance.
type RebalanceOptions struct {
	// Parallelism sets components' numbers of running tasks, each at most
	// the component's NumTasks (its maximum, fixed at submit).
	Parallelism map[string]int
	// Wait bounds how long Rebalance waits for every node to apply the new
	// placement.
	Wait time.Duration
}

// RebalanceResult reports a rebalance.
type RebalanceResult struct {
	Topology string `json:"topology"`
	// Moved is the number of tasks that changed node, started or stopped.
	Moved int `json:"moved"`
	// Took is how long the nodes took to apply the new placement.
	TookMs float64 `json:"took_ms"`
}

// Rebalance re-spreads a running topology's tasks over the current nodes
// and applies Parallelism, without stopping it.
// TODO(rebalance): implement.
func (n *Node) Rebalance(ctx context.Context, name string, opts RebalanceOptions) (*RebalanceResult, error) {
	return nil, errors.New("rebalance: not implemented")
}
