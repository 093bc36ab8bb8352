package cluster

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/cluster/resources"
	"github.com/squall-streams/squall/cluster/transport"
	"github.com/squall-streams/squall/internal/certs"
	"github.com/squall-streams/squall/internal/datadir"
	"github.com/squall-streams/squall/internal/wire"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/supervisor"
	"github.com/squall-streams/squall/topology"
)

// Errors callers branch on.
var (
	ErrNameInUse       = errors.New("node name in use by a live node")
	ErrUnknownTopology = errors.New("no such registered topology")
)

// Node is one squall node: a member of the gossip cluster that runs the
// tasks the placement gives it. Safe for concurrent use.
type Node struct {
	cfg     Config
	dir     *datadir.Dir // removed at close when temporary (no DataDir)
	dataDir string
	res     *resources.Store // resources tarballs, under dataDir
	log     *slog.Logger
	boot    string
	started time.Time
	sup     *supervisor.Node
	subLogs *subprocessLogs // what the tasks' subprocesses said (logs.go)
	tr      *transport.Transport
	park    parking // batches for tasks not started yet
	ml      *memberlist.Memberlist
	del     *delegate
	state   *State
	http    *http.Server
	handler http.Handler // behind the Guard: Handler
	token   string       // the admin token; "" only when Insecure
	httpLn  net.Listener
	nimbus  *nimbusService // nil: Config.Nimbus off; set once by Start

	// Lock order: applyMu, buildMu, mu. Only mu guards what readers
	// (Members, LocalTopologies, metrics, the REST API) need, and it is
	// never held across a build, a download or a task start or stop.
	applyMu  sync.Mutex        // serialises reconcile (reconcile.go)
	buildErr map[string]string // last build error per topology name; applyMu
	buildMu  sync.Mutex        // serialises builds (see build)
	mu       sync.Mutex
	running  map[string]*placed
	built    map[string]*built
	releases []func() // of replaced builds, called when the node closes

	conflict chan string // name conflicts seen while joining
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

// placed is a topology with tasks on this node. run and dir are set once;
// reconcile writes the rest under n.mu.
type placed struct {
	run    *supervisor.Running
	dir    *directory
	epoch  uint64 // of the placement applied (plan.Layout.Epoch)
	wire   uint64 // the wire epoch applied (plan.Plan.Wire)
	active bool
	tasks  []topology.TaskID
	// resources is the digest of the resources its tasks run in ("":
	// none); they stay while it runs (collectResources).
	resources string
}

type built struct {
	digest  string // "" once released: the next build builds anew
	topo    *topology.Topology
	release func() // what the build started; nil once released
}

// Start starts a node: the actor transport, the HTTP API, gossip, and
// joins the cluster at cfg.Join.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node", cfg.Name)
	var bootBytes [8]byte
	_, _ = rand.Read(bootBytes[:])
	n := &Node{
		cfg: cfg, log: logger, boot: hex.EncodeToString(bootBytes[:]), started: time.Now(),
		state: NewState(), running: map[string]*placed{}, built: map[string]*built{}, buildErr: map[string]string{},
		conflict: make(chan string, 4), stop: make(chan struct{}),
	}
	if n.dir, err = datadir.Open(cfg.DataDir, cfg.Name); err != nil {
		return nil, err
	}
	n.dataDir = n.dir.Path()
	defer func() {
		if err != nil {
			_ = n.dir.Remove() // a Start that failed leaves no temporary directory behind
		}
	}()
	n.res = resources.NewStore(filepath.Join(n.dataDir, "resources"), n.fetchResources)
	n.token = cfg.AdminToken
	if n.token == "" && cfg.Certs != nil {
		if n.token, _, err = certs.AdminToken(cfg.Certs.Dir()); err != nil {
			return nil, err
		}
	}
	if n.handler, err = n.newHandler(); err != nil {
		return nil, err
	}
	bindHost, bindPort, _ := splitHostPort(cfg.Bind)
	remoteAddr := cfg.Remote
	if remoteAddr == "" {
		remoteAddr = net.JoinHostPort(bindHost, "0")
	}
	n.subLogs = newSubprocessLogs()
	n.sup = supervisor.NewNode(slog.New(newCaptureHandler(logger.Handler(), n.subLogs)))
	tr, err := n.listenTransport(remoteAddr, logger.With("lib", "transport"))
	if err != nil {
		_ = n.sup.Shutdown(ctx)
		return nil, err
	}
	n.tr = tr
	httpAddr := ""
	if cfg.HTTP != "" {
		ln, err := net.Listen("tcp", cfg.HTTP)
		if err != nil && cfg.HTTPAnyPort && errors.Is(err, syscall.EADDRINUSE) {
			host, _, _ := net.SplitHostPort(cfg.HTTP)
			ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
		}
		if err != nil {
			n.closeTransport()
			return nil, fmt.Errorf("http api on %s: %w", cfg.HTTP, err)
		}
		n.httpLn = ln
		httpAddr = ln.Addr().String()
		n.http = cfg.httpServer(n.Handler())
	}
	meta, _ := proto.Marshal(&messages.NodeMeta{
		RemoteAddr: tr.Addr(), HttpAddr: httpAddr,
		Capacity: int32(max(cfg.Capacity, 1)), BootId: n.boot,
	})
	n.del = &delegate{meta: meta, state: n.state, changed: make(chan struct{}, 1), departed: map[string]*memberlist.Node{}}
	// The broadcast queue exists before memberlist starts gossiping (its
	// goroutines call GetBroadcasts from Create on); it counts the members
	// once there is a memberlist to ask.
	var created atomic.Pointer[memberlist.Memberlist]
	n.del.queue = &memberlist.TransmitLimitedQueue{RetransmitMult: 4, NumNodes: func() int {
		if ml := created.Load(); ml != nil {
			return ml.NumMembers()
		}
		return 1
	}}

	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.Name
	mc.BindAddr, mc.BindPort = bindHost, bindPort
	mc.AdvertiseAddr, mc.AdvertisePort = bindHost, bindPort
	if mc.Keyring, err = cfg.gossipKeys().Keyring(); err != nil {
		n.closeTransport()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	// The label is authenticated data with a key, and without one the
	// filter that drops packets that are not squall's gossip.
	mc.Label = "squall/1"
	if mc.Keyring == nil {
		logger.Warn("gossip is not encrypted: set a gossip key (node keygen) unless every node is on loopback or a private network")
	}
	mc.ProbeInterval, mc.ProbeTimeout, mc.SuspicionMult = cfg.ProbeInterval, cfg.ProbeTimeout, cfg.SuspicionMult
	mc.GossipInterval, mc.PushPullInterval = cfg.GossipInterval, cfg.PushPullInterval
	// A node restarted under the name of a dead one may rejoin from a new
	// address at once (memberlist refuses that by default).
	mc.DeadNodeReclaimTime = time.Nanosecond
	mc.Delegate, mc.Events, mc.Conflict = n.del, n.del, conflictDelegate{n: n}
	if cfg.Solo {
		// A label of its own (its boot id): memberlist drops every packet
		// and stream of any other node, so a join fails at the joiner; and
		// should one get through, the delegates ignore its members.
		mc.Label = "squall/1/solo/" + n.boot
		solo := soloDelegate{name: cfg.Name, meta: meta}
		mc.Alive, mc.Merge = solo, solo
	}
	mc.Logger = log.New(slogWriter{logger.With("lib", "memberlist")}, "", 0)
	ml, err := memberlist.Create(mc)
	if err != nil {
		n.closeTransport()
		return nil, fmt.Errorf("gossip on %s: %w", cfg.Bind, err)
	}
	n.ml = ml
	created.Store(ml)
	if bindPort == 0 {
		// Port 0 asks the kernel for a free one: keep the one gossip got,
		// so GossipAddr is an address others can join.
		n.cfg.Bind = net.JoinHostPort(bindHost, strconv.Itoa(int(ml.LocalNode().Port)))
	}
	if len(cfg.Join) > 0 {
		if _, err := ml.Join(cfg.Join); err != nil {
			n.abort()
			return nil, fmt.Errorf("join %v: %w (is the cluster up, and is --gossip-key the cluster's?)", cfg.Join, err)
		}
		select {
		case other := <-n.conflict:
			n.abort()
			return nil, fmt.Errorf("%w: %q is alive at %s; pick another --name", ErrNameInUse, cfg.Name, other)
		default:
		}
	}
	if n.http != nil {
		// Served only now: its handlers read n.ml. Until then the
		// listener queues connections.
		if cfg.Certs != nil {
			n.http.TLSConfig = cfg.Certs.HTTPServerConfig()
			n.wg.Go(func() { _ = n.http.ServeTLS(n.httpLn, "", "") })
		} else {
			n.wg.Go(func() { _ = n.http.Serve(n.httpLn) })
		}
	}
	n.wg.Go(n.loop)
	n.del.signal()
	if cfg.Nimbus != "" {
		if n.nimbus, err = n.startNimbus(); err != nil {
			_ = n.Shutdown(ctx)
			return nil, err
		}
	}
	logger.Info("node started", "gossip", n.cfg.Bind, "transport", tr.Addr(), "http", httpAddr, "boot", n.boot)
	return n, nil
}

type conflictDelegate struct{ n *Node }

func (c conflictDelegate) NotifyConflict(existing, other *memberlist.Node) {
	if existing.Name == c.n.cfg.Name {
		select {
		case c.n.conflict <- other.Address():
		default:
		}
	}
}

// slogWriter adapts memberlist's log.Logger output to slog.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug(string(bytes.TrimRight(p, "\r\n")))
	return len(p), nil
}

// Name is the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// HTTPAddr is the address the HTTP API listens on ("" when disabled).
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return ""
	}
	return n.httpLn.Addr().String()
}

// GossipAddr is the gossip address (with the port the kernel chose when
// Config.Bind asked for port 0).
func (n *Node) GossipAddr() string { return n.cfg.Bind }

// loop reconciles what runs here with membership and the topology set
// whenever either changes, and at least every second (timeouts of a
// broadcast that was missed are repaired by push/pull).
func (n *Node) loop() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-n.del.changed:
		case <-tick.C:
		}
		n.reconcile(context.Background())
	}
}

type member struct {
	name string
	meta *messages.NodeMeta
	node memberlist.Node
}

// members returns the live members (alive or suspect) with valid metadata.
func (n *Node) members() []member {
	var out []member
	for _, m := range n.del.liveNodes() {
		var meta messages.NodeMeta
		if proto.Unmarshal(m.Meta, &meta) != nil || meta.RemoteAddr == "" {
			continue // no metadata (yet): not a squall node we can place on
		}
		out = append(out, member{name: m.Name, meta: &meta, node: m})
	}
	slices.SortFunc(out, func(a, b member) int { return cmp.Compare(a.name, b.name) })
	return out
}

// Submit adds a topology to the cluster: every node builds kind with conf
// and runs its share of the tasks.
func (n *Node) Submit(name, kind string, conf map[string]string) error {
	return n.SubmitWithResources(name, kind, conf, nil)
}

// SubmitWithResources is Submit with a resources directory packed by
// TarGz: every node that runs the topology unpacks its own copy, and the
// factory finds it at ConfResourcesDir. A submit that is rejected leaves
// no resources on disk: everything that needs no unpacked directory is
// checked first, and what it stored for the factory's check is deleted
// when that check or the publish fails.
func (n *Node) SubmitWithResources(name, kind string, conf map[string]string, resources []byte) error {
	return n.submit(name, kind, conf, resources, true)
}

// submit is SubmitWithResources for a submitter who is an authenticated
// admin or not (the HTTP API's caller; in-process callers are).
func (n *Node) submit(name, kind string, conf map[string]string, resources []byte, admin bool) (err error) {
	if name == "" {
		return fmt.Errorf("%w: empty topology name", ErrConfig)
	}
	if err := n.state.CheckSubmit(name, kind, conf, len(resources) > 0); err != nil {
		return err // before resources are stored or anything gossiped
	}
	if len(resources) > MaxResources {
		return fmt.Errorf("%w: resources of %d bytes, more than %d", ErrConfig, len(resources), MaxResources)
	}
	f := n.cfg.Topologies[kind]
	if f == nil {
		return fmt.Errorf("%w: %q (registered: %v)", ErrUnknownTopology, kind, slices.Sorted(maps.Keys(n.cfg.Topologies)))
	}
	if s, ok := n.state.Get(name); ok && !s.Killed {
		return fmt.Errorf("%w: %q", ErrTopologyExists, name)
	}
	if len(resources) > 0 {
		digest, release, perr := n.holdResources(resources)
		if perr != nil {
			return perr
		}
		defer func() {
			release() // published, the spec names it; or rejected, and dropped now
			if err != nil {
				n.dropResources(digest)
			}
		}()
		c := make(map[string]string, len(conf)+1)
		for k, v := range conf {
			c[k] = v
		}
		c[ConfResourcesDigest] = digest
		conf = c
	}
	c := topology.Config{}
	for k, v := range conf {
		c[k] = v
	}
	if d := conf[ConfResourcesDigest]; d != "" {
		_, c[ConfResourcesDir] = n.resourcesPath(d)
	}
	t, release, err := f(c) // validate before gossiping it
	if err != nil {
		return err
	}
	if release != nil {
		release()
	}
	if t.Runtime.Guarantee == topology.ExactlyOnce && !n.cfg.Solo {
		// Barriers do not cross nodes yet: only a node that can never
		// have peers (Config.Solo) runs exactly-once.
		return fmt.Errorf("%w: topology %q: %s=%s: %w", ErrConfig, name, topology.GuaranteeKey, topology.ExactlyOnce, topology.ErrExactlyOnceUnavailable)
	}
	if cmds := t.Commands(); len(cmds) > 0 && !admin {
		id := slices.Sorted(maps.Keys(cmds))[0]
		return fmt.Errorf("%w: topology %q: component %q runs %q; submit it with the admin token or a client certificate "+
			"(a node started with --insecure and no --admin-token authenticates nobody)", ErrNotAdmin, name, id, cmds[id])
	}
	return n.publish(&messages.TopologySpec{Name: name, Kind: kind, Conf: conf, Active: true, SubmittedUnixMs: time.Now().UnixMilli()})
}

func (n *Node) publish(s *messages.TopologySpec) error {
	stored, err := n.state.Put(s)
	if err != nil {
		return err
	}
	n.del.broadcast([]*messages.TopologySpec{stored})
	n.del.signal()
	return nil
}

func (n *Node) update(name string, fn func(*messages.TopologySpec)) error {
	s, ok := n.state.Get(name)
	if !ok || s.Killed {
		return fmt.Errorf("%w: %q", ErrTopologyNotFound, name)
	}
	fn(s)
	return n.publish(s)
}

// Activate lets the topology's spouts emit.
func (n *Node) Activate(name string) error {
	return n.update(name, func(s *messages.TopologySpec) { s.Active = true })
}

// Deactivate stops the topology's spouts; trees in flight still complete.
func (n *Node) Deactivate(name string) error {
	return n.update(name, func(s *messages.TopologySpec) { s.Active = false })
}

// Kill deactivates the topology, waits up to wait for the trees in flight
// on every node to complete, then removes it: every node stops its tasks.
func (n *Node) Kill(ctx context.Context, name string, wait time.Duration) error {
	if err := n.Deactivate(name); err != nil {
		return err
	}
	if wait > 0 {
		n.drain(ctx, name, wait)
	}
	return n.update(name, func(s *messages.TopologySpec) { s.Killed = true; s.Active = false })
}

// drain waits up to wait until no node has trees of name in flight (a
// node that does not answer may have some).
func (n *Node) drain(ctx context.Context, name string, wait time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	waitDrained(ctx, func(ctx context.Context) (int64, bool) { return n.inFlightEverywhere(ctx, name) })
}

// Members lists the members this node knows, dead ones included.
func (n *Node) Members() []MemberInfo {
	var out []MemberInfo
	seen := map[string]bool{}
	// The delegate's copies, not memberlist's Members(): memberlist
	// rewrites the nodes that returns in place (hashicorp/memberlist#306).
	// (Members()' Node.State never said "suspect" either: memberlist keeps
	// a node's state in its own nodeState.)
	for _, m := range n.del.liveNodes() {
		var meta messages.NodeMeta
		_ = proto.Unmarshal(m.Meta, &meta)
		seen[m.Name] = true
		out = append(out, MemberInfo{Name: m.Name, GossipAddr: m.Address(), RemoteAddr: meta.RemoteAddr, HTTPAddr: meta.HttpAddr, Status: "alive", BootID: meta.BootId})
	}
	for _, m := range n.del.departedNodes() {
		if seen[m.Name] {
			continue
		}
		var meta messages.NodeMeta
		_ = proto.Unmarshal(m.Meta, &meta)
		out = append(out, MemberInfo{Name: m.Name, GossipAddr: m.Address(), RemoteAddr: meta.RemoteAddr, HTTPAddr: meta.HttpAddr, Status: "dead", BootID: meta.BootId})
	}
	// Task counts come from the placement every node computes alike.
	counts := n.placementCounts()
	for i := range out {
		out[i].Tasks = counts[out[i].Name]
	}
	slices.SortFunc(out, func(a, b MemberInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (n *Node) placementCounts() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]int{}
	for _, node := range n.planLocked().Placement {
		out[node]++
	}
	return out
}

// Shutdown leaves the cluster gracefully: its tasks stop (their trees
// replay elsewhere), gossip announces the departure, the transport and the
// HTTP API close. Safe to call twice.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.once.Do(func() {
		_ = n.stopNimbus(ctx) // its kills are published before the node leaves
		_ = n.ml.Leave(2 * time.Second)
		err = n.close(ctx)
	})
	return err
}

// KillAbruptly stops the node without telling the cluster (like SIGKILL,
// for tests): peers find out through failure detection.
func (n *Node) KillAbruptly(ctx context.Context) error {
	var err error
	n.once.Do(func() { err = n.close(ctx) })
	return err
}

func (n *Node) close(ctx context.Context) error {
	errs := []error{n.stopNimbus(ctx)}
	close(n.stop)
	n.applyMu.Lock()
	n.applyMu.Unlock() // wait for a reconcile in progress; none starts after stop
	errs = append(errs, n.ml.Shutdown())
	if n.http != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		errs = append(errs, n.http.Shutdown(sctx))
		cancel()
	}
	n.wg.Wait()
	n.stopAll(ctx)
	errs = append(errs, n.sup.Shutdown(ctx))
	n.tr.Close()
	n.mu.Lock()
	releases := n.releases
	n.releases = nil
	for name, b := range n.built {
		if b.release != nil {
			releases = append(releases, b.release)
			n.built[name] = &built{topo: b.topo}
		}
	}
	n.mu.Unlock()
	for _, release := range releases { // every task that used them stopped
		release()
	}
	errs = append(errs, n.dir.Remove()) // nothing runs from it any more
	return errors.Join(errs...)
}

// abort undoes a Start that failed after gossip was created.
func (n *Node) abort() {
	_ = n.ml.Shutdown()
	n.closeTransport()
}

func (n *Node) closeTransport() {
	if n.http != nil {
		_ = n.http.Close()
	}
	if n.httpLn != nil {
		_ = n.httpLn.Close() // not yet served when Start fails before the end
	}
	n.wg.Wait()
	n.tr.Close()
	_ = n.sup.Shutdown(context.Background())
}

// deliver hands a batch from another node to the local task it is for.
// Batches for tasks that do not run here (a task that moved, a previous
// incarnation) are parked while the task may still start, else dropped:
// their trees replay. A parked batch's bytes come from the budget of from,
// the node that sent it.
func (n *Node) deliver(m wire.Message, from *transport.Source) {
	if n.park.Len() == 0 && n.sendLocal(m.To, m.Payload) {
		return
	}
	// Something is parked: this batch goes straight on unless its own task
	// has batches parked before it, or does not run here yet.
	if n.park.sendIfClear(m.To, m.Payload, n.sendLocal) {
		return
	}
	if !n.mayStart(m.To) {
		n.park.Dropped.Add(1) // an earlier boot's task, a killed topology
		return
	}
	if !n.park.hold(m.To, m.Payload, m.Size(), time.Now(), from, n.sendLocal) {
		n.log.Debug("batch for a task not running here dropped: parking full or its sender over budget", "task", m.To, "from", from.Addr())
	}
}

// mayStart reports whether a is a task of this boot of a topology not
// killed: one that may start here, so batches for it are worth parking.
// The topology may be unknown still: the sender can learn of it first.
func (n *Node) mayStart(a wire.TaskAddr) bool {
	return a.Valid() && a.Boot == n.boot && !n.state.Killed(a.Topology)
}

// sendLocal sends payload to the task at a on this node; it reports false
// when the task does not run here (yet).
func (n *Node) sendLocal(a wire.TaskAddr, payload any) bool {
	return n.sup.Deliver(a, payload)
}

// Keygen returns a new random 32-byte gossip key.
func Keygen() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}
