// Command node is squall's one binary: a cluster node (node --help), the
// cluster's client (submit, list, kill, rebalance...), and a local runner:
//
//	node run TOPOLOGY [--set key=value]... [--http HOST:PORT] [--for D]
//	node run topology.yaml [--resources DIR] [--set key=value]...
//
// runs TOPOLOGY in this process, in the foreground, like `storm local`.
// A TOPOLOGY ending in .yaml or .yml is loaded with package flux; its shell
// (Python) components run in DIR (default: the file's directory).
// Ctrl-C or SIGTERM deactivates its spouts, drains the trees in flight and
// stops. A finite topology (the word count over a file) stops by itself when
// its input is done. With --http it runs on a one-node cluster in the
// process and serves the web UI and REST API at HOST:PORT.
package main

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

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `usage: node [flags]                 start a cluster node (node --help for its flags)
       node COMMAND [flags]

commands:
  run TOPOLOGY [--set key=value]...   run a registered topology in local mode
  run FILE.yaml [--resources DIR] [--set key=value]...
                                      run a Flux-shaped YAML topology in local mode;
                                      shell components run in DIR (default: FILE's directory)
  run ... --http HOST:PORT [--for D]  also serve the web UI and REST API, with a live status line
  topologies                          list the registered topologies
  submit TOPOLOGY [--name N] [--set key=value]...
                                      submit a registered topology to the cluster
  submit FILE.yaml [--resources DIR] [--name N] [--set key=value]...
                                      submit a YAML topology; DIR (default: FILE's
                                      directory) is shipped to every node running it
  list [--json]                       the cluster's topologies with spout counts
  members [--json]                    the cluster's nodes
  kill NAME [--wait 30s]              deactivate, wait for trees in flight, remove
  rebalance NAME [--parallelism component=K]... [--wait 30s]
                                      re-spread NAME's tasks over the current nodes and
                                      set components' running tasks (up to their NumTasks)
                                      while it runs; prints the tasks moved and the time
  activate NAME / deactivate NAME     start / pause a topology's spouts
  keygen                              print a new gossip key
Client commands take --addr HOST:PORT (a node's HTTP API; default 127.0.0.1:8080)
and --admin-token TOKEN (env SQUALL_ADMIN_TOKEN) when the nodes have one.

registered topologies:
`)
	for _, name := range registeredNames() {
		fmt.Fprintf(w, "  %-16s %s\n", name, registry[name].description)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "run":
		if err := runCmd(ctx, args[1:], stdout, stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "node run:", err)
			if errors.Is(err, errUsage) {
				return 2
			}
			return 1
		}
		return 0
	case "submit", "list", "members", "kill", "activate", "deactivate", "rebalance":
		return exit(clientCmd(ctx, args[0], args[1:], stdout, stderr), "node "+args[0], stderr)
	case "keygen":
		return exit(keygenCmd(stdout), "node keygen", stderr)
	case "topologies":
		for _, name := range registeredNames() {
			fmt.Fprintf(stdout, "%s\t%s\n", name, registry[name].description)
		}
		return 0
	case "-h", "--help", "help":
		usage(stdout)
		fmt.Fprintln(stdout)
		_ = daemonCmd(ctx, []string{"--help"}, stdout)
		return 0
	default:
		if strings.HasPrefix(args[0], "-") {
			return exit(daemonCmd(ctx, args, stderr), "node", stderr)
		}
		fmt.Fprintf(stderr, "node: unknown command %q\n", args[0])
		usage(stderr)
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

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("node run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := topology.Config{}
	fs.Var(setFlags(conf), "set", "topology config `key=value` (repeatable)")
	verbose := fs.Bool("v", false, "log lifecycle events to stderr")
	drain := fs.Duration("drain", 30*time.Second, "how long to wait for trees in flight when stopping")
	resources := fs.String("resources", "", "working `dir`ectory of a YAML topology's shell components")
	httpAddr := fs.String("http", "", "serve the web UI and REST API at `host:port` while the topology runs, with a live status line on stderr")
	adminToken := fs.String("admin-token", env("SQUALL_ADMIN_TOKEN", ""), "with --http: `token` the API's mutating routes require (env SQUALL_ADMIN_TOKEN)")
	stopAfter := fs.Duration("for", 0, "stop the topology after this `duration` (0: when its input ends, or on Ctrl-C)")
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
		return fmt.Errorf("%w: name a topology file (.yaml) or a registered topology: one of %s", errUsage, strings.Join(registeredNames(), ", "))
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	var job *job
	var err error
	if isTopologyFile(name) {
		job, err = buildFluxJob(name, conf, *resources)
	} else {
		reg, ok := registry[name]
		if !ok {
			return fmt.Errorf("%w: no topology %q registered: one of %s (or a .yaml file)", errUsage, name, strings.Join(registeredNames(), ", "))
		}
		if *resources != "" {
			return fmt.Errorf("%w: --resources is for YAML topologies", errUsage)
		}
		job, err = reg.build(conf)
	}
	if err != nil {
		return err
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
		}, stderr)
	} else {
		elapsed, err = runLocal(ctx, job, logger, *drain, timeout, stderr)
	}
	if err != nil {
		return err
	}
	if job.report != nil {
		return job.report(stdout, elapsed)
	}
	return nil
}

// runLocal runs job in local mode until ctx is done, the job is done or
// timeout fires, and drains it; it returns how long it ran.
func runLocal(ctx context.Context, job *job, logger *slog.Logger, drain time.Duration, timeout <-chan time.Time, stderr io.Writer) (time.Duration, error) {
	start := time.Now()
	c, err := local.Start(ctx, job.topology, local.WithLogger(logger), local.WithDrainTimeout(drain))
	if err != nil {
		return 0, err
	}
	logger.Info("topology running", "topology", job.topology.Name, "tasks", job.topology.NumTasks())
	select {
	case <-ctx.Done():
		fmt.Fprintln(stderr, "node run: stopping: draining trees in flight")
	case <-job.done:
	case <-timeout:
	}
	elapsed := time.Since(start)
	return elapsed, c.Stop(context.WithoutCancel(ctx))
}

// registration is a topology the binary can run.
type registration struct {
	description string
	build       func(conf topology.Config) (*job, error)
}

// job is a built topology with its hooks.
type job struct {
	topology *topology.Topology
	done     <-chan struct{} // closed when a finite topology is done; nil otherwise
	// report runs after the topology stopped.
	report func(w io.Writer, elapsed time.Duration) error
}

func registeredNames() []string { return slices.Sorted(maps.Keys(registry)) }
