package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/internal/datadir"
	"github.com/squall-streams/squall/internal/nimbus"
)

// The node's Nimbus Thrift API (Config.Nimbus): package nimbus decodes
// what streamparse's `sparse submit`, `list` and `kill` send and calls the
// node through nimbusBackend. The node owns the server and the goroutines
// that carry out kills, and stops both before it leaves the cluster.

// nimbusService is the running Nimbus API: the server and the kills it
// started.
type nimbusService struct {
	srv     *nimbus.Server
	backend *nimbusBackend
}

// startNimbus serves the Nimbus API on n.cfg.Nimbus (validated loopback).
func (n *Node) startNimbus() (*nimbusService, error) {
	cfg := nimbus.DefaultConfig()
	cfg.Addr, cfg.Insecure = n.cfg.Nimbus, n.cfg.Insecure
	cfg.UploadDir = filepath.Join(n.dataDir, "nimbus-inbox")
	cfg.Logger = n.log.With("lib", "nimbus")
	logDir := filepath.Join(n.dataDir, "logs")
	if err := datadir.MkdirAll(logDir); err != nil {
		return nil, fmt.Errorf("nimbus: log directory: %w", err)
	}
	cfg.NimbusConf = map[string]any{"storm.log.dir": logDir}
	if n.cfg.Python != "" {
		cfg.NimbusConf["squall.python"] = n.cfg.Python
	}
	if _, port, err := net.SplitHostPort(n.HTTPAddr()); err == nil {
		if p, err := strconv.Atoi(port); err == nil {
			cfg.NimbusConf["ui.port"] = p // sparse stats asks the UI on the nimbus host
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &nimbusBackend{n: n, ctx: ctx, cancel: cancel, killing: map[string]bool{}}
	srv, err := nimbus.Start(cfg, b)
	if err != nil {
		cancel()
		return nil, err
	}
	return &nimbusService{srv: srv, backend: b}, nil
}

// NimbusAddr is the address the Nimbus API listens on ("" when off).
func (n *Node) NimbusAddr() string {
	if n.nimbus == nil {
		return ""
	}
	return n.nimbus.srv.Addr().String()
}

// stopNimbus closes the Nimbus API and ends the kills in progress at once
// (their drains cut short, the topologies removed). Safe to call twice.
func (n *Node) stopNimbus(ctx context.Context) error {
	if n.nimbus == nil {
		return nil
	}
	err := n.nimbus.srv.Stop(ctx)
	b := n.nimbus.backend
	b.mu.Lock() // no kill starts after this
	b.cancel()
	b.mu.Unlock()
	b.wg.Wait()
	return err
}

// nimbusBackend is the node as the Nimbus API sees it.
type nimbusBackend struct {
	n *Node
	// ctx bounds the kills' drains: cancelled when the node stops.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	killing map[string]bool // names whose kill waits for trees in flight
}

var _ nimbus.Backend = (*nimbusBackend)(nil)

func (b *nimbusBackend) isKilling(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.killing[name]
}

// alive is ErrNotAlive unless name is a topology of the cluster.
func (b *nimbusBackend) alive(name string) error {
	if s, ok := b.n.state.Get(name); !ok || s.Killed {
		return fmt.Errorf("%w: %q", nimbus.ErrNotAlive, name)
	}
	return nil
}

// Submit submits s like `node submit FILE.yaml --resources DIR`.
func (b *nimbusBackend) Submit(_ context.Context, s *nimbus.Submission) error {
	err := b.n.SubmitWithResources(s.Name, s.Kind, s.Conf, s.Resources)
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, ErrTopologyExists):
		return fmt.Errorf("%w: %w", nimbus.ErrAlreadyAlive, err)
	case errors.Is(err, ErrUnknownTopology), errors.As(err, &pathErr):
		return err // the node's fault, not the topology's
	case err != nil:
		return fmt.Errorf("%w: %w", nimbus.ErrInvalidTopology, err)
	}
	if s.Inactive {
		return b.n.Deactivate(s.Name)
	}
	return nil
}

// Kill deactivates the topology at once; it shows KILLED and stays alive
// while a goroutine of the node waits up to wait for its trees in flight,
// then it is removed. wait < 0 is the topology's message timeout.
func (b *nimbusBackend) Kill(_ context.Context, name string, wait time.Duration) error {
	if err := b.alive(name); err != nil {
		return err
	}
	if wait < 0 {
		wait = 30 * time.Second
		if t := b.n.compiled(name); t != nil {
			wait = t.Runtime.MessageTimeout
		}
	}
	// mu is a leaf: it is never held while calling the node.
	b.mu.Lock()
	switch {
	case b.killing[name]:
		b.mu.Unlock()
		return nil // already on its way out
	case b.ctx.Err() != nil:
		b.mu.Unlock()
		return errors.New("the node is shutting down")
	}
	b.killing[name] = true
	b.wg.Add(1)
	b.mu.Unlock()
	done := func() {
		b.mu.Lock()
		delete(b.killing, name)
		b.mu.Unlock()
		b.wg.Done()
	}
	if err := b.n.Deactivate(name); err != nil {
		done()
		return notAlive(err)
	}
	go func() {
		defer done()
		if err := b.n.Kill(b.ctx, name, wait); err != nil {
			b.n.log.Warn("nimbus: kill", "topology", name, "err", err)
		}
	}()
	return nil
}

func (b *nimbusBackend) notKilling(name string) error {
	if err := b.alive(name); err != nil {
		return err
	}
	if b.isKilling(name) {
		return fmt.Errorf("topology %s is being killed", name)
	}
	return nil
}

func (b *nimbusBackend) Activate(_ context.Context, name string) error {
	if err := b.notKilling(name); err != nil {
		return err
	}
	return notAlive(b.n.Activate(name))
}

func (b *nimbusBackend) Deactivate(_ context.Context, name string) error {
	if err := b.notKilling(name); err != nil {
		return err
	}
	return notAlive(b.n.Deactivate(name))
}

func notAlive(err error) error {
	if errors.Is(err, ErrTopologyNotFound) {
		return fmt.Errorf("%w: %w", nimbus.ErrNotAlive, err)
	}
	return err
}

// Rebalance sets components' parallelism. squall has no workers: a
// rebalance that only changes num_workers changes nothing and says so.
// Storm's wait (spouts paused before rebalancing) is not needed: squall
// rebalances live.
func (b *nimbusBackend) Rebalance(ctx context.Context, name string, r nimbus.Rebalance) error {
	if err := b.notKilling(name); err != nil {
		return err
	}
	if len(r.Parallelism) == 0 {
		ignored := "nothing"
		if r.Workers > 0 {
			ignored = fmt.Sprintf("num_workers %d (squall runs no workers)", r.Workers)
		}
		return fmt.Errorf("%w: rebalance %s: nothing squall can apply: %s ignored; give components' executors (storm rebalance -e COMPONENT=N)",
			nimbus.ErrInvalidTopology, name, ignored)
	}
	// Wait for the nodes to start new tasks before routing to them, within
	// the call's time.
	wait := 2 * time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d)/2)
	}
	_, err := b.n.Rebalance(ctx, name, RebalanceOptions{Parallelism: r.Parallelism, Wait: max(wait, 0)})
	switch {
	case errors.Is(err, ErrRebalance):
		return fmt.Errorf("%w: %w", nimbus.ErrInvalidTopology, err)
	case errors.Is(err, ErrTopologyNotFound):
		return fmt.Errorf("%w: %w", nimbus.ErrNotAlive, err)
	}
	return err
}

// Cluster reports the live nodes and the topologies not yet removed; one
// being killed shows KILLED until it is gone.
func (b *nimbusBackend) Cluster(ctx context.Context) (*nimbus.Cluster, error) {
	n := b.n
	infos := backend{n}.ClusterNodeInfo(ctx)
	local := n.peerLocal(ctx)
	out := &nimbus.Cluster{}
	now := time.Now()
	for _, m := range n.Members() {
		if m.Status == "dead" {
			continue
		}
		host, _, err := net.SplitHostPort(m.GossipAddr)
		if err != nil {
			host = m.GossipAddr
		}
		// One slot per node, as the Storm UI REST API reports it.
		node := nimbus.Node{ID: m.Name, Host: host, Self: m.Name == n.cfg.Name, Slots: 1, UsedSlots: min(m.Tasks, 1)}
		if info := infos[m.Name]; info.StartedUnixMs > 0 {
			node.Uptime = now.Sub(time.UnixMilli(info.StartedUnixMs))
		}
		out.Nodes = append(out.Nodes, node)
	}
	for _, spec := range n.state.All() {
		if spec.Killed {
			continue
		}
		t := nimbus.Topology{ID: topologyID(spec), Name: spec.Name, Status: api.Status(spec),
			Uptime: now.Sub(time.UnixMilli(spec.SubmittedUnixMs)), Errors: map[string][]nimbus.ComponentError{}}
		if b.isKilling(spec.Name) {
			t.Status = "KILLED"
		}
		if c := n.compiled(spec.Name); c != nil {
			t.Conf = c.Config
		}
		for _, lts := range local {
			for _, lt := range lts {
				if lt.Name != spec.Name || len(lt.Tasks) == 0 {
					continue
				}
				t.Nodes++
				t.Tasks += len(lt.Tasks) // as the REST API counts them
				for _, ti := range lt.TaskStats {
					e := nimbus.Executor{Component: ti.Component, Task: int(ti.Task), Host: ti.Host, Port: ti.Port}
					if ti.StartedUnixMs > 0 {
						e.Uptime = now.Sub(time.UnixMilli(ti.StartedUnixMs))
					}
					t.ExecutorList = append(t.ExecutorList, e)
					if ti.LastError != "" {
						t.Errors[ti.Component] = append(t.Errors[ti.Component],
							nimbus.ComponentError{Error: ti.LastError, Time: time.UnixMilli(ti.LastErrorMs), Host: ti.Host})
					}
				}
			}
		}
		t.Executors = t.Tasks
		out.Topologies = append(out.Topologies, t)
	}
	return out, nil
}
