// Package local runs a topology inside the calling process, like Storm's
// LocalCluster: for tests, for `node run`, and for services that embed a
// topology. Everything runs on one protoactor system; nothing listens on the
// network.
//
//	err := local.Run(ctx, topo) // until ctx is done, then drain and stop
package local

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/supervisor"
	"github.com/squall-streams/squall/topology"
)

// Option configures a Cluster.
type Option func(*options)

type options struct {
	logger *slog.Logger
	drain  time.Duration
	store  state.Opener
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithDrainTimeout bounds how long Stop and Run wait for trees in flight
// (default: the topology's message timeout).
func WithDrainTimeout(d time.Duration) Option { return func(o *options) { o.drain = d } }

// WithCheckpointStore keeps an exactly-once topology's checkpoints in the
// store open returns (default: squall.state.dir if set, else memory), for
// example kafka.CheckpointStore.
func WithCheckpointStore(open state.Opener) Option { return func(o *options) { o.store = open } }

// Cluster is one topology running in this process.
type Cluster struct {
	node *supervisor.Node
	run  *supervisor.Running
	opts options
}

// Start runs t and returns once every task has been spawned and the spouts
// activated.
func Start(ctx context.Context, t *topology.Topology, opts ...Option) (*Cluster, error) {
	o := options{drain: t.Runtime.MessageTimeout}
	if o.drain <= 0 {
		o.drain = 30 * time.Second
	}
	for _, opt := range opts {
		opt(&o)
	}
	node := supervisor.NewNode(o.logger)
	r, err := node.StartLocal(ctx, t, o.store)
	if err != nil {
		return nil, errors.Join(err, node.Shutdown(ctx))
	}
	return &Cluster{node: node, run: r, opts: o}, nil
}

// Topology returns the running topology: statistics, activation, drain.
func (c *Cluster) Topology() *supervisor.Running { return c.run }

// Stop deactivates the spouts, waits for the trees in flight (up to the
// drain timeout or ctx), stops every task and the actor system. It leaves
// no goroutine behind and is safe to call twice.
func (c *Cluster) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.drain)
	defer cancel()
	return c.node.Shutdown(ctx)
}

// Run starts t, runs it until ctx is done, then stops it gracefully.
func Run(ctx context.Context, t *topology.Topology, opts ...Option) error {
	c, err := Start(ctx, t, opts...)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return c.Stop(context.WithoutCancel(ctx))
}
