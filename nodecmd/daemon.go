package nodecmd

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/flux"
	"github.com/squall-streams/squall/internal/certcmd"
	"github.com/squall-streams/squall/internal/certs"
	"github.com/squall-streams/squall/internal/gossipkey"
	"github.com/squall-streams/squall/internal/preflight"
	"github.com/squall-streams/squall/topology"
)

// daemonFlags are the flags of `node [flags]`, each with an environment
// variable that supplies its default.
type daemonFlags struct {
	name, bind, http, transport, logLevel, dataDir, adminToken string
	join                                                       listFlag

	keys        gossipkey.Keys // --gossip-key: the first sends, all receive
	certsDir    string         // --certs-dir: TLS between nodes, HTTPS
	capacity    int
	fastFailure bool
	insecure    bool // --insecure: a throwaway cluster, no key, no certs
	// publicMetrics: --public-metrics, /metrics without credentials
	publicMetrics bool
}

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// daemonCmd runs a cluster node in the foreground until SIGINT/SIGTERM,
// then leaves the cluster gracefully.
func daemonCmd(ctx context.Context, reg Registry, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f daemonFlags
	host, _ := os.Hostname()
	fs.StringVar(&f.name, "name", env("SQUALL_NAME", host), "unique node `name` in the cluster (env SQUALL_NAME; default: the host name)")
	fs.StringVar(&f.bind, "bind", env("SQUALL_BIND", "127.0.0.1:7946"), "gossip `host:port`, UDP and TCP (env SQUALL_BIND)")
	fs.Var(&f.join, "join", "gossip `host:port` of a node already in the cluster; repeatable or comma-separated (env SQUALL_JOIN); none: start a new cluster")
	fs.StringVar(&f.http, "http", env("SQUALL_HTTP", "127.0.0.1:8080"), "HTTP API `host:port` (env SQUALL_HTTP)")
	fs.StringVar(&f.adminToken, "admin-token", env("SQUALL_ADMIN_TOKEN", ""), "`token` every route of the HTTP API accepts as \"Authorization: Bearer <token>\", and the web UI signs in with (env SQUALL_ADMIN_TOKEN; default with --certs-dir: the one in DIR/admin-token, generated when missing; client certificates of the CA are accepted too)")
	fs.BoolVar(&f.insecure, "insecure", env("SQUALL_INSECURE", "") == "1", "run a throwaway cluster without a gossip key or certificates: gossip in clear, the transport and (without --admin-token) the HTTP API authenticate nobody (env SQUALL_INSECURE=1)")
	fs.StringVar(&f.transport, "transport", env("SQUALL_TRANSPORT", ""), "node-to-node tuple transport `host:port` (env SQUALL_TRANSPORT; default: the bind host, a free port)")
	fs.Var(&f.keys, "gossip-key", "base64 gossip encryption `key` of 16, 24 or 32 bytes, the same on every node (env SQUALL_GOSSIP_KEY; `node keygen` makes one); several, comma-separated or repeated, rotate it: the first sends, all receive")
	fs.StringVar(&f.certsDir, "certs-dir", env("SQUALL_CERTS_DIR", ""), "certs `dir`ectory (`node cert`): TLS 1.3 with mutual authentication between nodes, HTTPS for the API (env SQUALL_CERTS_DIR; default: none, plain TCP)")
	fs.StringVar(&f.dataDir, "data-dir", env("SQUALL_DATA_DIR", ""), "`dir`ectory for topologies' resources (env SQUALL_DATA_DIR; made 0700, its files 0600; default: a new temporary directory, removed on exit)")
	fs.BoolVar(&f.publicMetrics, "public-metrics", env("SQUALL_PUBLIC_METRICS", "") == "1", "serve GET /metrics without credentials, for a Prometheus that has none (env SQUALL_PUBLIC_METRICS=1)")
	capDefault, err := strconv.Atoi(env("SQUALL_CAPACITY", "1"))
	if err != nil {
		return fmt.Errorf("%w: SQUALL_CAPACITY=%q: want a whole number", errUsage, os.Getenv("SQUALL_CAPACITY"))
	}
	fs.IntVar(&f.capacity, "capacity", capDefault, "relative number of tasks this node takes (env SQUALL_CAPACITY)")
	fs.StringVar(&f.logLevel, "log-level", env("SQUALL_LOG_LEVEL", "info"), "log `level`: debug, info, warn, error (env SQUALL_LOG_LEVEL)")
	nimbusAddr := fs.String("nimbus", env("SQUALL_NIMBUS", ""), nimbusUsage)
	python := fs.String("python", env("SQUALL_PYTHON", "python3"), pythonUsage)
	fs.BoolVar(&f.fastFailure, "fast-failure-detection", env("SQUALL_FAST_FAILURE_DETECTION", "") == "1", "detect dead nodes in about a second instead of 5-7 s (for one machine; env SQUALL_FAST_FAILURE_DETECTION=1)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: node [flags]   start a node (first one) or join a cluster (--join)\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if len(f.join) == 0 {
		_ = f.join.Set(env("SQUALL_JOIN", ""))
	}
	if k := os.Getenv("SQUALL_GOSSIP_KEY"); len(f.keys) == 0 && k != "" {
		if err := f.keys.Set(k); err != nil {
			return fmt.Errorf("SQUALL_GOSSIP_KEY: %w", err)
		}
	}
	if err := (preflight.Security{GossipKeys: len(f.keys), CertsDir: f.certsDir, Insecure: f.insecure}).Check(); err != nil {
		return err
	}
	if f.insecure {
		fmt.Fprintln(stderr, "node: WARNING: "+preflight.InsecureWarning)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("%w: --log-level %q", errUsage, f.logLevel)
	}
	cfg := cluster.DefaultConfig()
	if f.fastFailure {
		cfg = cluster.LocalConfig()
	}
	cfg.Name, cfg.Bind, cfg.Join, cfg.HTTP, cfg.Remote = f.name, f.bind, f.join, f.http, f.transport
	explicit := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { explicit[fl.Name] = true })
	if _, set := os.LookupEnv("SQUALL_HTTP"); !set && !explicit["http"] {
		// When the default API port is taken (another node on this
		// machine), take a free one rather than fail; the address is
		// printed below and gossiped to every node.
		cfg.HTTPAnyPort = true
	}
	if f.certsDir != "" {
		if cfg.Certs, err = certs.LoadNode(f.certsDir); err != nil {
			return err
		}
	}
	cfg.GossipKeys, cfg.Capacity, cfg.DataDir, cfg.AdminToken = f.keys, f.capacity, f.dataDir, f.adminToken
	cfg.Insecure, cfg.PublicMetrics = f.insecure, f.publicMetrics
	if f.insecure && f.adminToken == "" && !isLoopback(cfg.HTTP) {
		fmt.Fprintf(stderr, "node: the HTTP API at %s is not on loopback and has no --admin-token: anyone who reaches it can submit and kill topologies\n", cfg.HTTP)
	}
	cfg.Nimbus = *nimbusAddr
	cfg.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Topologies = reg.Factories(stderr)
	// The Python of shell components, and the virtualenvs built from it
	// (streamparse.go).
	venvDir := ""
	if f.dataDir != "" {
		venvDir = filepath.Join(f.dataDir, "venvs")
	}
	py, err := newPythonRuntime(*python, venvDir, cfg.Logger.With("lib", "pyenv"))
	switch {
	case err != nil && (explicit["python"] || os.Getenv("SQUALL_PYTHON") != ""):
		return err
	case err != nil: // no python3 here: a node of Go topologies needs none
		fmt.Fprintf(stderr, "node: %v; shell components run their commands from PATH\n", err)
		py = nil
	default:
		defer py.close() // after the node's Shutdown below: its tasks no longer start
		cfg.Python = py.python
		cfg.Topologies[fluxKind] = py.fluxFactory()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := cluster.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "node %s: gossip %s, http %s\n", n.Name(), n.GossipAddr(), n.HTTPAddr())
	if f.certsDir != "" && f.adminToken == "" {
		fmt.Fprintf(stderr, "node %s: HTTPS API: client certificates of the CA, or the admin token in %s\n", n.Name(), filepath.Join(f.certsDir, certs.AdminTokenFile))
	}
	printNimbus(stderr, n)
	if py != nil {
		fmt.Fprintf(stderr, "node %s: %s\n", n.Name(), py.describe(ctx))
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return n.Shutdown(sctx)
}

// isLoopback reports whether addr (host:port) binds to a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fluxKind is the kind of topologies submitted as YAML files; their text
// travels in the spec's configuration under fluxYAMLKey.
const (
	fluxKind    = "flux"
	fluxYAMLKey = "squall.flux.yaml"
)

// buildFlux builds a submitted YAML topology on a cluster node, its shell
// components running in the node's own copy of the resources.
func buildFlux(conf topology.Config) (*topology.Topology, error) { return buildFluxOpts(conf) }

// buildFluxOpts is buildFlux with more options (the node's Python: streamparse.go).
func buildFluxOpts(conf topology.Config, extra ...flux.Option) (*topology.Topology, error) {
	text := conf.String(fluxYAMLKey, "")
	if text == "" {
		return nil, fmt.Errorf("config %s: empty: submit a .yaml file", fluxYAMLKey)
	}
	c := topology.Config{}
	for k, v := range conf {
		if k != fluxYAMLKey {
			c[k] = v
		}
	}
	opts := []flux.Option{flux.WithRegistry(fluxRegistry()), flux.WithConfig(c)}
	if dir := conf.String(cluster.ConfResourcesDir, ""); dir != "" {
		opts = append(opts, flux.WithResourcesDir(dir))
	}
	return flux.Load([]byte(text), append(opts, extra...)...)
}

// Factories are the cluster factories of a node running r's topologies
// (their cluster builds, Env.Local unset, with notes to log; nil:
// discarded) and of submitted YAML files: a node binary's
// Config.Topologies. A service that embeds a cluster node with these
// serves what `node submit` sends.
func (r Registry) Factories(log io.Writer) map[string]cluster.Factory {
	if log == nil {
		log = io.Discard
	}
	out := map[string]cluster.Factory{fluxKind: cluster.Simple(buildFlux)}
	for name, t := range r {
		out[name] = func(conf topology.Config) (*topology.Topology, func(), error) {
			j, err := t.build(name, conf, Env{Log: log})
			if err != nil {
				return nil, nil, err
			}
			return j.Topology, j.Close, nil
		}
	}
	return out
}

func keygenCmd(stdout io.Writer) error {
	_, err := fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(cluster.Keygen()))
	return err
}

// certCmd is `node cert …` (internal/certcmd); its usage errors exit 2.
func certCmd(args []string, stdout, stderr io.Writer) error {
	err := certcmd.Run(args, stdout, stderr)
	if errors.Is(err, certcmd.ErrUsage) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}
