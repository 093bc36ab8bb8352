package nodecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/internal/apiaddr"
	"github.com/squall-streams/squall/internal/certs"
	"github.com/squall-streams/squall/internal/waittime"
	"github.com/squall-streams/squall/topology"
)

// clientArgs are a client command's flags and arguments.
type clientArgs struct {
	pos                                          []string
	addr, certsDir, user, token, name, resources string
	asJSON                                       bool
	wait                                         time.Duration
	parallelism                                  parallelismFlags
	numWorkers                                   int  // rebalance -n
	numWorkersSet                                bool // -n was given
	conf                                         topology.Config
}

// parseClientArgs reads a client command's flags, before, between and
// after its arguments. Storm's CLI spellings are aliases: -w S (--wait, in
// seconds), -e C=K (--parallelism), and rebalance's -n N (numWorkers,
// which squall has no use for: see clientCmd).
func parseClientArgs(cmd string, args []string, stderr io.Writer) (*clientArgs, error) {
	a := &clientArgs{wait: 30 * time.Second, parallelism: parallelismFlags{}, conf: topology.Config{}}
	fs := flag.NewFlagSet("node "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.addr, "addr", env("SQUALL_ADDR", "127.0.0.1:8080"), "a node's HTTP API, `host:port` or https://host:port (env SQUALL_ADDR)")
	fs.StringVar(&a.certsDir, "certs-dir", env("SQUALL_CERTS_DIR", ""), "certs `dir`ectory of an HTTPS cluster: its CA verifies the node, client.USER.crt/.key authenticate (env SQUALL_CERTS_DIR)")
	fs.StringVar(&a.user, "user", certs.AdminUser, "with --certs-dir: the client certificate's `user`")
	fs.BoolVar(&a.asJSON, "json", false, "machine-readable output")
	fs.StringVar(&a.name, "name", "", "submit: the running topology's `name` (default: the registered name)")
	fs.Var(waitFlag{&a.wait}, "wait", "kill: how long to wait for trees in flight; rebalance: for every node to apply the new placement (a `duration` such as 30s, or whole seconds)")
	fs.Var(waitFlag{&a.wait}, "w", "Storm's spelling of --wait, in `seconds`")
	fs.StringVar(&a.token, "admin-token", env("SQUALL_ADMIN_TOKEN", ""), "the nodes' admin `token`, sent as Authorization: Bearer on every request (env SQUALL_ADMIN_TOKEN)")
	fs.Var(a.parallelism, "parallelism", "rebalance: a component's number of running tasks, `component=K` (repeatable; K at most its NumTasks)")
	fs.Var(a.parallelism, "e", "Storm's spelling of --parallelism, `component=K` (repeatable)")
	fs.IntVar(&a.numWorkers, "n", 0, "rebalance: Storm's number of workers, `N`: squall has none (every node runs a share of each topology), so it is ignored beside -e and refused alone")
	fs.StringVar(&a.resources, "resources", "", "submit FILE.yaml: the `dir`ectory of its shell components, shipped to every node (default: the file's directory)")
	fs.Var(setFlags(a.conf), "set", "submit: topology config `key=value` (repeatable)")
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		a.pos = append(a.pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	fs.Visit(func(f *flag.Flag) { a.numWorkersSet = a.numWorkersSet || f.Name == "n" })
	return a, nil
}

// waitFlag is --wait and -w: a duration, or whole seconds as Storm's -w.
type waitFlag struct{ d *time.Duration }

func (w waitFlag) String() string {
	if w.d == nil {
		return ""
	}
	return w.d.String()
}

func (w waitFlag) Set(v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > int64(waittime.Max/time.Second) || n < -int64(waittime.Max/time.Second) {
			return fmt.Errorf("%s seconds: more than %v", v, waittime.Max)
		}
		*w.d = time.Duration(n) * time.Second
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q: want a duration such as 30s, or whole seconds", v)
	}
	*w.d = d
	return nil
}

// clientCmd runs the client subcommands against a node's HTTP API.
func clientCmd(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	a, err := parseClientArgs(cmd, args, stderr)
	if err != nil {
		return err
	}
	pos, parallelism := a.pos, a.parallelism
	if cmd == "kill" || cmd == "rebalance" {
		if err := checkWait(a.wait); err != nil {
			return err
		}
	}
	c, err := newAPIClient(a.addr, a.certsDir, a.user, a.token, clientTimeout(a.wait))
	if err != nil {
		return err
	}
	defer c.http.CloseIdleConnections()
	need := func(n int, what string) error {
		if len(pos) != n {
			return fmt.Errorf("%w: node %s %s", errUsage, cmd, what)
		}
		return nil
	}
	switch cmd {
	case "members":
		if err := need(0, "[--json]"); err != nil {
			return err
		}
		var ms []cluster.MemberInfo
		if err := c.do(ctx, http.MethodGet, "/api/v1/members", nil, &ms); err != nil {
			return err
		}
		if a.asJSON {
			return json.NewEncoder(stdout).Encode(ms)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tSTATUS\tTASKS\tGOSSIP\tHTTP")
		for _, m := range ms {
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", m.Name, m.Status, m.Tasks, m.GossipAddr, m.HTTPAddr)
		}
		return w.Flush()
	case "list":
		if err := need(0, "[--json]"); err != nil {
			return err
		}
		var ts []cluster.TopologyInfo
		if err := c.do(ctx, http.MethodGet, "/api/v1/topologies", nil, &ts); err != nil {
			return err
		}
		// A killed topology is gone: the node keeps its spec as a
		// tombstone (KILLED), which Storm's REST summary leaves out too.
		ts = slices.DeleteFunc(ts, func(t cluster.TopologyInfo) bool { return t.Status == "KILLED" })
		if ts == nil {
			ts = []cluster.TopologyInfo{} // --json: [], not null
		}
		if a.asJSON {
			return json.NewEncoder(stdout).Encode(ts)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tKIND\tSTATUS\tEMITTED\tACKED\tFAILED\tLAST ERROR")
		for _, t := range ts {
			var e, a, f int64
			for _, s := range t.Spouts {
				e, a, f = e+s.Emitted, a+s.Acked, f+s.Failed
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", t.Name, t.Kind, t.Status, e, a, f, listError(t))
		}
		return w.Flush()
	case "submit":
		if err := need(1, "TOPOLOGY|FILE.yaml [--name N] [--resources DIR] [--set key=value]..."); err != nil {
			return err
		}
		req := cluster.SubmitRequest{Name: a.name, Kind: pos[0], Conf: map[string]string{}}
		if req.Name == "" {
			req.Name = pos[0]
		}
		for k, v := range a.conf {
			req.Conf[k] = fmt.Sprint(v)
		}
		if isTopologyFile(pos[0]) {
			text, err := os.ReadFile(pos[0])
			if err != nil {
				return err
			}
			if a.name == "" {
				req.Name = strings.TrimSuffix(filepath.Base(pos[0]), filepath.Ext(pos[0]))
			}
			req.Kind, req.Conf[fluxYAMLKey] = fluxKind, string(text)
			dir := a.resources
			if dir == "" {
				dir = filepath.Dir(pos[0])
			}
			if req.Resources, err = cluster.TarGz(dir); err != nil {
				return err
			}
		} else if a.resources != "" {
			return fmt.Errorf("%w: --resources is for YAML topologies", errUsage)
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/topologies", req, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "submitted %s (%s)\n", req.Name, pos[0])
		return nil
	case "rebalance":
		if err := need(1, "NAME [--parallelism component=K]... [--wait 30s]"); err != nil {
			return err
		}
		if a.numWorkersSet {
			// Storm's -n sets the workers a topology runs in; squall has
			// none. Beside -e it is noted and ignored; alone there is
			// nothing to do, and a re-spread nobody asked for would look
			// like success (the REST route refuses it the same way).
			if len(parallelism) == 0 {
				return fmt.Errorf("%w: -n %d: squall has no workers (every node runs a share of each topology): set components' running tasks with -e component=K, or leave -n out to re-spread the tasks over the nodes", errUsage, a.numWorkers)
			}
			fmt.Fprintf(stderr, "node rebalance: -n %d ignored: squall has no workers (every node runs a share of each topology)\n", a.numWorkers)
		}
		return rebalanceCmd(ctx, c, pos[0], parallelism, a.wait, a.asJSON, stdout)
	case "kill", "activate", "deactivate":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		path := topologyAction(pos[0], cmd)
		if cmd == "kill" {
			path = topologyAction(pos[0], cmd, a.wait)
		}
		if err := c.do(ctx, http.MethodPost, path, nil, nil); err != nil {
			return err
		}
		done := map[string]string{"kill": "killed", "activate": "activated", "deactivate": "deactivated"}
		fmt.Fprintf(stdout, "%s: %s\n", pos[0], done[cmd])
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

type apiClient struct {
	base  string
	token string // sent as a bearer token when set
	http  *http.Client
}

// newAPIClient is the client of the node API at addr (apiaddr.Base), over
// HTTPS with user's client certificate when certsDir is set.
func newAPIClient(addr, certsDir, user, token string, timeout time.Duration) (*apiClient, error) {
	base, err := apiaddr.Base(addr, certsDir != "")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	c := &apiClient{base: base, token: token, http: &http.Client{Timeout: timeout}}
	if certsDir != "" {
		tc, err := certs.LoadClient(certsDir, user)
		switch {
		case err == nil:
		case token != "":
			tc, err = certs.LoadCA(certsDir) // --admin-token authenticates
		case user == certs.AdminUser:
			// No admin client certificate: the admin token the nodes
			// generated into the certs dir authenticates instead.
			if tok, terr := certs.ReadAdminToken(certsDir); terr == nil {
				c.token = tok
				tc, err = certs.LoadCA(certsDir)
			}
		}
		if err != nil {
			return nil, err
		}
		c.http.Transport = &http.Transport{TLSClientConfig: tc}
	}
	return c, nil
}

func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w (is a node serving its API there? see --addr)", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return errors.New(e.Error)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// parallelismFlags collects repeated --parallelism component=K flags.
type parallelismFlags map[string]int

func (p parallelismFlags) String() string { return "" }
func (p parallelismFlags) Set(v string) error {
	c, k, ok := strings.Cut(v, "=")
	n, err := strconv.Atoi(k)
	if !ok || c == "" || err != nil {
		return fmt.Errorf("--parallelism %q: want component=K, K a number", v)
	}
	p[c] = n
	return nil
}

// rebalanceResponse is the answer of Storm's rebalance route; squall's
// report is under "squall".
type rebalanceResponse struct {
	Status string                  `json:"status"`
	Squall cluster.RebalanceResult `json:"squall"`
}

// checkWait refuses a --wait the kill and rebalance routes cannot carry,
// before anything is sent (waittime.Check: below zero, or over
// waittime.Max; such a wait used to overflow on the node into an instant
// "success").
func checkWait(d time.Duration) error { return waittime.Check(d) }

// clientTimeout bounds a request: the wait plus 30 s for the node to
// answer, or no bound for a wait too long to add 30 s to (the sum
// overflowed).
func clientTimeout(wait time.Duration) time.Duration {
	const answer = 30 * time.Second
	if wait > math.MaxInt64-answer {
		return 0 // http.Client: no timeout
	}
	return wait + answer
}

// topologyAction is Storm's route for action on topology name, with the
// wait (kill, rebalance) in whole seconds, rounded up, when one is given.
func topologyAction(name, action string, wait ...time.Duration) string {
	path := "/api/v1/topology/" + url.PathEscape(name) + "/" + action
	for _, w := range wait {
		path += "/" + strconv.FormatInt(waittime.Seconds(w), 10)
	}
	return path
}

// rebalanceCmd asks a node to rebalance name through Storm's REST route
// (executors are components' parallelism; the wait is in whole seconds)
// and prints what moved and how long the nodes took to apply it.
func rebalanceCmd(ctx context.Context, c *apiClient, name string, parallelism map[string]int, wait time.Duration, asJSON bool, stdout io.Writer) error {
	body := map[string]any{"rebalanceOptions": map[string]any{"executors": parallelism}}
	var resp rebalanceResponse
	if err := c.do(ctx, http.MethodPost, topologyAction(name, "rebalance", wait), body, &resp); err != nil {
		return err
	}
	r := resp.Squall
	if asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "%s: rebalanced: %d tasks moved (%d started, %d stopped)", name, r.Moved, r.Started, r.Stopped)
	if r.Applied {
		fmt.Fprintf(stdout, ", every node applied it in %.0f ms\n", r.TookMs)
	} else {
		fmt.Fprintf(stdout, "; after %.0f ms still waiting for %s to apply it\n", r.TookMs, strings.Join(r.Waiting, ", "))
	}
	for _, c := range slices.Sorted(maps.Keys(r.Parallelism)) {
		fmt.Fprintf(stdout, "  %-16s %d running\n", c, r.Parallelism[c])
	}
	if !r.Applied && wait > 0 {
		return fmt.Errorf("not every node applied the rebalance within %v (waiting for %s)", wait, strings.Join(r.Waiting, ", "))
	}
	return nil
}

// listError is `node list`'s LAST ERROR column: which components keep
// crashing, then a component's last error, its first line (the whole error,
// a Python traceback, is in --json and the UI), at most 80 characters.
func listError(t cluster.TopologyInfo) string {
	var last, from string
	for _, c := range append(slices.Clone(t.Spouts), t.Bolts...) {
		if c.LastError != "" {
			last, from = c.LastError, c.Component
		}
	}
	out := ""
	if len(t.Failing) > 0 {
		out = "failing: " + strings.Join(t.Failing, ",")
	}
	if last != "" {
		line, _, _ := strings.Cut(last, "\n")
		if out != "" {
			out += "; "
		}
		out += from + ": " + line
	}
	if r := []rune(out); len(r) > 80 {
		out = string(r[:79]) + "…"
	}
	if out == "" {
		return "-"
	}
	return out
}
