package cluster

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/squall-streams/squall/internal/certs"
	"github.com/squall-streams/squall/internal/gossipkey"
	"github.com/squall-streams/squall/internal/httpauth"
	"github.com/squall-streams/squall/internal/preflight"
	"github.com/squall-streams/squall/state"
	"github.com/squall-streams/squall/topology"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid node config")

// Factory builds a registered topology from its configuration. What the
// build starts that must not outlive it (a client, an embedded broker, a
// goroutine) it hands back as release, or nil when it started nothing; a
// build that fails releases what it started itself. The node calls release
// once, when it no longer needs the topology: at once after the build with
// which Submit validates a topology, and for the builds that run its tasks
// when the node shuts down, after every task stopped. A Factory may be
// called from several goroutines at once.
type Factory func(conf topology.Config) (t *topology.Topology, release func(), err error)

// Simple adapts a build that starts nothing — its topology is values and
// component factories only — to a Factory.
func Simple(build func(conf topology.Config) (*topology.Topology, error)) Factory {
	return func(conf topology.Config) (*topology.Topology, func(), error) {
		t, err := build(conf)
		return t, nil, err
	}
}

// Config configures a Node. Start from DefaultConfig (LAN timers) or
// LocalConfig (fast failure detection, for tests on one machine).
type Config struct {
	// Name is the node's unique name in the cluster.
	Name string
	// Bind is the gossip address host:port (UDP and TCP).
	Bind string
	// Join lists gossip addresses of nodes already in the cluster; empty
	// starts a new cluster.
	Join []string
	// Solo makes a node that never has peers: no other node may join it.
	// Start refuses Join addresses with it; its gossip carries a label of
	// its own, so memberlist drops what any other node sends it (a join
	// fails at the joiner); and any other member that reached it anyway
	// (an alive message, a push/pull) is ignored (memberlist's Alive and
	// Merge delegates refuse it), so it plans every task onto itself. What runs only within one
	// process is then safe on it: squall.guarantee=exactly-once, whose
	// barriers do not cross nodes yet, is accepted only by a Solo node.
	// `node run --http` runs one.
	Solo bool
	// CheckpointStore opens the checkpoint store of each exactly-once
	// topology this node runs (nil: the topology's squall.state.dir, else
	// memory), for example kafka.CheckpointStore.
	CheckpointStore state.Opener
	// HTTP is the address of the HTTP API; empty: no HTTP server.
	HTTP string
	// HTTPAnyPort, when HTTP's port is taken, listens on a free port of
	// HTTP's host instead of failing (HTTPAddr tells which): the node
	// command does this for its default address, so a second node on one
	// machine starts without flags.
	HTTPAnyPort bool
	// Remote is the actor transport address; port 0 picks a free port.
	// Default: Bind's host, port 0.
	Remote string
	// GossipKey encrypts and authenticates gossip (16, 24 or 32 bytes).
	// Without one, gossip is plain text on the network; every packet still
	// carries squall's label, so stray bytes at the gossip port are dropped
	// rather than added as phantom members.
	GossipKey []byte
	// GossipKeys, instead of GossipKey, is a keyring (internal/gossipkey):
	// the first key encrypts what this node sends, every key decrypts what
	// it receives, so a cluster changes its key one node at a time.
	GossipKeys gossipkey.Keys
	// Certs, when set (--certs-dir, LoadCerts), makes the tuple
	// transport and every node-to-node call TLS 1.3 with mutual
	// authentication (a peer must present a node certificate of Certs'
	// CA), and the HTTP API HTTPS. Nil: both are plain TCP.
	Certs *Certs
	// Capacity weighs how many tasks the node takes (default 1).
	Capacity int
	// DataDir is where the node keeps topologies' resources, made 0700,
	// its files 0600 (internal/datadir). Default: a new temporary
	// directory, removed when the node stops; a DataDir given stays.
	DataDir string
	// Topologies are the topologies this node can build, by name.
	Topologies map[string]Factory
	// AdminToken is the admin token every route of the HTTP API accepts
	// as "Authorization: Bearer <token>" and the web UI signs in with
	// (internal/httpauth). With Certs and no AdminToken, the token is
	// Certs' directory's admin-token, generated there (0600) when missing.
	// Client certificates of the CA are accepted too.
	AdminToken string
	// Insecure runs a throwaway node: no gossip key and no certificates
	// are needed (the node command's --insecure also refuses them; an
	// embedder may still set either). Without an AdminToken or Certs the
	// HTTP API authenticates nobody and so refuses topologies that run
	// commands; the web UI shows a warning. A node that is not Insecure
	// needs a gossip key and Certs: Start refuses it otherwise, saying
	// what to run.
	Insecure bool
	// PublicMetrics serves GET /metrics without credentials (the one route
	// that may be public).
	PublicMetrics bool
	// Nimbus is the address of the Nimbus Thrift API streamparse's `sparse
	// submit` speaks (internal/nimbus); empty: off. It has no
	// authentication, so only a loopback address is accepted (any address
	// when Insecure): whoever can reach it (the local users of the host)
	// can submit topologies.
	Nimbus string
	// Python is the interpreter shell components run with (node --python;
	// the node binary resolves bare streamparse_run next to it and builds
	// virtualenvs from it). The node reports it in the Nimbus API's
	// configuration (squall.python); empty: not said.
	Python string
	// HTTPTimeouts bound every phase of an HTTP API connection (idle
	// keep-alive connections and slow clients are closed); a zero field
	// is httpauth.DefaultTimeouts'. The kill and rebalance routes extend their
	// own deadlines by their wait.
	HTTPTimeouts httpauth.Timeouts
	// Logger is the node's logger (default: discard).
	Logger *slog.Logger

	// Failure detection (memberlist): how often a peer is probed, how long
	// a probe may take, and the suspicion multiplier before a silent peer
	// is declared dead.
	ProbeInterval time.Duration
	ProbeTimeout  time.Duration
	SuspicionMult int
	// GossipInterval and PushPullInterval pace state dissemination.
	GossipInterval   time.Duration
	PushPullInterval time.Duration
}

// DefaultConfig has memberlist's LAN timers: a killed node is declared
// dead in about 5-7 s.
func DefaultConfig() Config {
	return Config{
		Bind: "127.0.0.1:7946", HTTP: "127.0.0.1:8080", Capacity: 1, HTTPTimeouts: httpauth.DefaultTimeouts(),
		ProbeInterval: time.Second, ProbeTimeout: 500 * time.Millisecond, SuspicionMult: 4,
		GossipInterval: 200 * time.Millisecond, PushPullInterval: 30 * time.Second,
	}
}

// LocalConfig has short timers for nodes on one machine (tests): a killed
// node is declared dead in about a second. Its HTTP timeouts stay
// DefaultConfig's: `node run --http` serves people with this config (tests
// that want short ones set httpauth.LocalTimeouts).
func LocalConfig() Config {
	c := DefaultConfig()
	c.ProbeInterval, c.ProbeTimeout, c.SuspicionMult = 200*time.Millisecond, 100*time.Millisecond, 2
	c.GossipInterval, c.PushPullInterval = 50*time.Millisecond, 2*time.Second
	return c
}

// Certs are a node's certificates: the cluster's CA, the node certificate
// and its key, as `node cert` writes them into a directory.
type Certs = certs.Node

// LoadCerts loads the certificates a node started with --certs-dir dir
// uses (`node cert create-ca` and `create-node` wrote them): for
// Config.Certs, so a service that embeds a node runs it secured.
func LoadCerts(dir string) (*Certs, error) { return certs.LoadNode(dir) }

// ParseGossipKey decodes a base64 key of 16, 24 or 32 bytes.
func ParseGossipKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: gossip key: not base64: %v", ErrConfig, err)
	}
	if n := len(k); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("%w: gossip key: %d bytes, want 16, 24 or 32", ErrConfig, n)
	}
	return k, nil
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if c.Name == "" {
		bad("name is empty (set --name)")
	}
	if _, _, err := splitHostPort(c.Bind); err != nil {
		bad("bind %q: %v", c.Bind, err)
	}
	if c.Solo && len(c.Join) > 0 {
		bad("join %v: a Solo node has no peers (drop Join, or Solo to run in a cluster)", c.Join)
	}
	if c.Remote != "" {
		if _, _, err := splitHostPort(c.Remote); err != nil {
			bad("remote %q: %v", c.Remote, err)
		}
	}
	if len(c.GossipKey) != 0 && len(c.GossipKeys) != 0 {
		bad("set GossipKey or GossipKeys, not both")
	}
	for _, k := range append([][]byte{c.GossipKey}, c.GossipKeys...) {
		if n := len(k); n != 0 && n != 16 && n != 24 && n != 32 {
			bad("gossip key is %d bytes, want 16, 24 or 32 (generate one with `node keygen`)", n)
		}
	}
	if c.Nimbus != "" {
		if h, _, err := splitHostPort(c.Nimbus); err != nil {
			bad("nimbus %q: want HOST:PORT: %v", c.Nimbus, err)
		} else if ip := net.ParseIP(h); !c.Insecure && h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			bad("nimbus %q is not a loopback address: the Nimbus API has no authentication, so anyone who reaches it "+
				"could submit topologies; listen on 127.0.0.1 (streamparse reaches it from this host, or through its SSH tunnel), or run --insecure", c.Nimbus)
		}
	}
	keys := len(c.GossipKeys)
	if len(c.GossipKey) != 0 {
		keys++
	}
	certsDir := ""
	if c.Certs != nil {
		certsDir = c.Certs.Dir()
	}
	if !c.Insecure {
		// Insecure lifts the requirement only: an embedder may still set a
		// key (the node command refuses --insecure with one, preflight).
		if err := (preflight.Security{GossipKeys: keys, CertsDir: certsDir}).Check(); err != nil {
			errs = append(errs, fmt.Errorf("%w: set GossipKeys and Certs (LoadCerts), or Insecure: %w", ErrConfig, err))
		}
	}
	if c.Capacity < 0 {
		bad("capacity %d < 0", c.Capacity)
	}
	if c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.SuspicionMult < 1 || c.GossipInterval <= 0 || c.PushPullInterval <= 0 {
		bad("failure-detection timers must be positive (start from DefaultConfig)")
	}
	if t := c.HTTPTimeouts; t.ReadHeader < 0 || t.Read < 0 || t.Write < 0 || t.Idle < 0 || t.MaxHeaderBytes < 0 {
		bad("HTTP timeouts must not be negative (start from DefaultConfig)")
	}
	return errors.Join(errs...)
}

// httpHosts are the host names a request's Host header may name besides
// IP literals (httpauth.Config.Hosts): localhost, the HTTP address's host,
// the node certificate's DNS names and the machine's host name.
func (c *Config) httpHosts() []string {
	hosts := []string{"localhost"}
	if h, _, err := net.SplitHostPort(c.HTTP); err == nil && h != "" && net.ParseIP(h) == nil {
		hosts = append(hosts, h)
	}
	if c.Certs != nil {
		hosts = append(hosts, c.Certs.DNSNames()...)
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	return hosts
}

// httpServer is the HTTP API's server for h, with HTTPTimeouts (a zero
// field: httpauth.DefaultTimeouts'), so that no phase goes unbounded.
func (c *Config) httpServer(h http.Handler) *http.Server {
	t, d := c.HTTPTimeouts, httpauth.DefaultTimeouts()
	t.ReadHeader = cmp.Or(t.ReadHeader, d.ReadHeader)
	t.Read = cmp.Or(t.Read, d.Read)
	t.Write = cmp.Or(t.Write, d.Write)
	t.Idle = cmp.Or(t.Idle, d.Idle)
	t.MaxHeaderBytes = cmp.Or(t.MaxHeaderBytes, d.MaxHeaderBytes)
	return t.Server(h)
}

// gossipKeys is the node's gossip keyring, the sending key first (nil: no
// encryption).
func (c *Config) gossipKeys() gossipkey.Keys {
	if len(c.GossipKey) != 0 {
		return gossipkey.Keys{c.GossipKey}
	}
	return c.GossipKeys
}

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return h, port, nil
}
