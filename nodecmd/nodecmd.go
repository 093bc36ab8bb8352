package nodecmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topology"
)

// Main runs the node command line args (os.Args[1:]) with the topologies
// of reg, writing to os.Stdout and os.Stderr, and returns the exit code: 0,
// 1 when the command failed, 2 for a usage error. A node binary's main is
//
//	func main() { os.Exit(nodecmd.Main(context.Background(), os.Args[1:], reg)) }
func Main(ctx context.Context, args []string, reg Registry) int {
	return Run(ctx, args, reg, os.Stdout, os.Stderr)
}

// Run is Main writing to stdout and stderr.
func Run(ctx context.Context, args []string, reg Registry, stdout, stderr io.Writer) int {
	return run(ctx, reg, args, stdout, stderr)
}

func usage(w io.Writer, reg Registry) {
	fmt.Fprintf(w, `usage: node [flags]                 start a cluster node (node --help for its flags)
       node COMMAND [flags]

commands:
  run TOPOLOGY [--set key=value]...   run a registered topology in local mode
  run FILE.yaml [--resources DIR] [--set key=value]...
                                      run a Flux-shaped YAML topology in local mode;
                                      shell components run in DIR (default: FILE's directory)
  run ... --http HOST:PORT [--for D]  also serve the web UI and REST API
  run ... [-v | -q]                   a live status line on stderr (every 10 s when not a terminal), a
                                      summary at the end; warnings and errors logged (-v more, -q none)
  topologies                          list the registered topologies
  submit TOPOLOGY [--name N] [--set key=value]...
                                      submit a registered topology to the cluster
  submit FILE.yaml [--resources DIR] [--name N] [--set key=value]...
                                      submit a YAML topology; DIR (default: FILE's
                                      directory) is shipped to every node running it
  list [--json]                       the cluster's topologies with spout counts (killed ones leave it)
  members [--json]                    the cluster's nodes
  kill NAME [--wait 30s]              deactivate, wait for trees in flight, remove
  rebalance NAME [--parallelism component=K]... [--wait 30s]
                                      re-spread NAME's tasks over the current nodes and
                                      set components' running tasks (up to their NumTasks)
                                      while it runs; prints the tasks moved and the time
                                      Storm's spellings work too: -w SECS for --wait, -e C=K for
                                      --parallelism; -n N (workers) is ignored beside -e, refused alone
  activate NAME / deactivate NAME     start / pause a topology's spouts
  logs NAME [--component C] [-f]      what NAME's shell (Python) components logged and wrote
                                      on stderr, from every node; -f follows (sparse tail)
  keygen                              print a new gossip key
  cert create-ca|create-node|create-client|list --certs-dir D
                                      make the cluster's certificates (node cert for more)
Client commands take --addr HOST:PORT or https://HOST:PORT (a node's HTTP API;
default 127.0.0.1:8080), --admin-token TOKEN (env SQUALL_ADMIN_TOKEN) when the
nodes have one, and --certs-dir D [--user NAME] when they serve HTTPS.

registered topologies:
`)
	for _, name := range reg.names() {
		fmt.Fprintf(w, "  %-16s %s\n", name, reg[name].Description)
	}
}

func run(ctx context.Context, reg Registry, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr, reg)
		return 2
	}
	switch args[0] {
	case "run":
		if err := runCmd(ctx, reg, args[1:], stdout, stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "node run:", err)
			if errors.Is(err, errUsage) {
				return 2
			}
			return 1
		}
		return 0
	case "submit", "list", "members", "kill", "activate", "deactivate", "rebalance":
		return exit(clientCmd(ctx, args[0], args[1:], stdout, stderr), "node "+args[0], stderr)
	case "logs":
		return exit(logsCmd(ctx, args[1:], stdout, stderr), "node logs", stderr)
	case "keygen":
		return exit(keygenCmd(stdout), "node keygen", stderr)
	case "cert":
		return exit(certCmd(args[1:], stdout, stderr), "node cert", stderr)
	case "topologies":
		for _, name := range reg.names() {
			fmt.Fprintf(stdout, "%s\t%s\n", name, reg[name].Description)
		}
		return 0
	case "-h", "--help", "help":
		usage(stdout, reg)
		fmt.Fprintln(stdout)
		_ = daemonCmd(ctx, reg, []string{"--help"}, stdout)
		return 0
	default:
		if strings.HasPrefix(args[0], "-") {
			return exit(daemonCmd(ctx, reg, args, stderr), "node", stderr)
		}
		fmt.Fprintf(stderr, "node: unknown command %q\n", args[0])
		usage(stderr, reg)
		return 2
	}
}

var errUsage = errors.New("usage")

// exit turns a command's error into an exit code: 2 for usage errors, 1
// for the rest.
func exit(err error, what string, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) { // the flags' usage is printed
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", what, err)
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// setFlags collects repeated --set key=value flags.
type setFlags topology.Config

func (s setFlags) String() string { return "" }
func (s setFlags) Set(v string) error {
	return topology.Config(s).Set(v)
}

func runCmd(ctx context.Context, reg Registry, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("node run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := topology.Config{}
	fs.Var(setFlags(conf), "set", "topology config `key=value` (repeatable)")
	verbose := fs.Bool("v", false, "log more to stderr: lifecycle events besides warnings and errors")
	quiet := fs.Bool("q", false, "log nothing to stderr (not even warnings and errors); the live line and the summary stay")
	drain := fs.Duration("drain", 30*time.Second, "how long to wait for trees in flight when stopping")
	resources := fs.String("resources", "", "working `dir`ectory of a YAML topology's shell components")
	httpAddr := fs.String("http", "", "serve the web UI and REST API at `host:port` while the topology runs")
	adminToken := fs.String("admin-token", env("SQUALL_ADMIN_TOKEN", ""), "with --http: `token` the API's mutating routes require (env SQUALL_ADMIN_TOKEN)")
	stopAfter := fs.Duration("for", 0, "stop the topology after this `duration` (0: when its input ends, or on Ctrl-C)")
	python := fs.String("python", env("SQUALL_PYTHON", "python3"), pythonUsage)
	// Flags may come before or after the topology name.
	var name string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		if name != "" {
			return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
		}
		name, rest = rest[0], rest[1:]
	}
	if name == "" {
		return fmt.Errorf("%w: name a topology file (.yaml) or a registered topology: one of %s", errUsage, strings.Join(reg.names(), ", "))
	}
	if *verbose && *quiet {
		return fmt.Errorf("%w: -v and -q together", errUsage)
	}
	con := newConsole(stderr)
	logger := runLogger(con, *verbose, *quiet)
	var job *Job
	var err error
	if file, ok := streamparseTopology(name); ok { // streamparse.go
		job, err = runStreamparse(ctx, file, conf, *python, stderr)
	} else if isTopologyFile(name) {
		job, err = buildFluxJob(name, conf, *resources)
	} else {
		t, ok := reg[name]
		if !ok {
			return fmt.Errorf("%w: no topology %q registered: one of %s (or a .yaml file)", errUsage, name, strings.Join(reg.names(), ", "))
		}
		if *resources != "" {
			return fmt.Errorf("%w: --resources is for YAML topologies", errUsage)
		}
		job, err = t.build(name, conf, Env{Local: true, Log: con})
		if errors.Is(err, ErrUnknownKey) {
			err = fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	if err != nil {
		return err
	}
	if job.Close != nil {
		defer job.Close() // after the report, which may read what it holds
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var timeout <-chan time.Time // --for
	if *stopAfter > 0 {
		timer := time.NewTimer(*stopAfter)
		defer timer.Stop()
		timeout = timer.C
	}
	var elapsed time.Duration
	if *httpAddr != "" {
		elapsed, err = runWithUI(ctx, job, runOptions{
			http: *httpAddr, adminToken: *adminToken, drain: *drain, logger: logger, timeout: timeout,
		}, con)
	} else {
		elapsed, err = runLocal(ctx, job, logger, *drain, timeout, con)
	}
	if err != nil {
		return err
	}
	if job.Report != nil {
		return job.Report(stdout, elapsed)
	}
	return nil
}

// runLogger is node run's log on stderr: warnings and errors, more with
// verbose, nothing when quiet.
func runLogger(stderr io.Writer, verbose, quiet bool) *slog.Logger {
	switch {
	case quiet:
		return slog.New(slog.DiscardHandler)
	case verbose:
		return slog.New(slog.NewTextHandler(stderr, nil))
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// runLocal runs job in local mode until ctx is done, the job is done or
// timeout fires, and drains it, keeping the live line on stderr (its last
// one, after the drain, is the run's summary); it returns how long it ran.
func runLocal(ctx context.Context, job *Job, logger *slog.Logger, drain time.Duration, timeout <-chan time.Time, stderr *console) (time.Duration, error) {
	start := time.Now()
	c, err := local.Start(ctx, job.Topology, local.WithLogger(logger), local.WithDrainTimeout(drain))
	if err != nil {
		return 0, err
	}
	logger.Info("topology running", "topology", job.Topology.Name, "tasks", job.Topology.NumTasks())
	live := newLiveLine(stderr, job.Topology.Name)
	counts := runningCounts(c.Topology())
	live.follow(ctx, job.Done, timeout, counts)
	elapsed := time.Since(start)
	err = c.Stop(context.WithoutCancel(ctx))
	live.update(counts, true)
	live.end()
	return elapsed, err
}

// Registry holds the Go topologies a node binary runs (node run NAME) and
// its cluster builds (node submit NAME), by name.
type Registry map[string]Topology

// Topology is a registered topology.
type Topology struct {
	// Description is its line in the usage and in `node topologies`: what
	// it does and its configuration keys.
	Description string
	// Build builds it from its configuration (--set key=value). It may be
	// called from several goroutines at once.
	Build func(conf topology.Config, env Env) (*Job, error)
	// Keys are the configuration keys Build reads besides Storm's
	// topology.* and squall's squall.* keys, which every topology takes.
	// When set, `node run` and a node's submit refuse any other key with
	// ErrUnknownKey, naming these (a misspelt --set would otherwise be
	// ignored); nil leaves the keys unchecked.
	Keys []string
}

// Env is where a Topology is built.
type Env struct {
	// Local is set for `node run`: the topology runs in this process
	// only, so it may bring what it reads along (an embedded broker, a
	// producer). Without it the build is a cluster node's, or Submit's
	// validation: every node builds the topology and runs its share of the
	// tasks, so whatever the tasks read must be the same for every node.
	Local bool
	// Log receives notes for the operator (stderr); never nil.
	Log io.Writer
}

// Job is a built topology with its hooks.
type Job struct {
	Topology *topology.Topology
	// Done is closed when a finite topology is done (node run stops it);
	// nil for one that runs until stopped.
	Done <-chan struct{}
	// Report, when set, runs after `node run` stopped the topology and
	// writes its summary to stdout.
	Report func(w io.Writer, elapsed time.Duration) error
	// Close, when set, releases what Build started. It is called once:
	// under node run after the topology stopped and Report returned; on a
	// cluster node when the node no longer needs the build (at once for
	// Submit's validation, else at shutdown: see cluster.Factory). A
	// cluster node ignores Done and Report.
	Close func()
}

func (r Registry) names() []string { return slices.Sorted(maps.Keys(r)) }
