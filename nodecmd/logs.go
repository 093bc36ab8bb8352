package nodecmd

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/internal/certs"
)

// logsCmd runs `node logs NAME [--component C] [-f]`: the recent lines of
// a topology's subprocesses from every node (GET
// /api/v1/topology/{id}/logs), oldest first; with -f it keeps asking each
// node for the lines after the last it printed, until ctx ends.
func logsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("node logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", env("SQUALL_ADDR", "127.0.0.1:8080"), "a node's HTTP API, `host:port` or https://host:port (env SQUALL_ADDR)")
	certsDir := fs.String("certs-dir", env("SQUALL_CERTS_DIR", ""), "certs `dir`ectory of an HTTPS cluster (env SQUALL_CERTS_DIR)")
	user := fs.String("user", certs.AdminUser, "with --certs-dir: the client certificate's `user`")
	token := fs.String("admin-token", env("SQUALL_ADMIN_TOKEN", ""), "the nodes' admin `token` (env SQUALL_ADMIN_TOKEN)")
	component := fs.String("component", "", "only the lines of `component`")
	follow := fs.Bool("f", false, "follow: print new lines as the nodes keep them, until interrupted")
	interval := fs.Duration("interval", time.Second, "with -f: how often to ask the nodes for new lines")
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: node logs NAME [--component C] [-f]", errUsage)
	}
	if *interval <= 0 {
		return fmt.Errorf("%w: --interval %v: want a positive duration", errUsage, *interval)
	}
	c, err := newAPIClient(*addr, *certsDir, *user, *token, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.http.CloseIdleConnections()
	t := logTail{c: c, name: pos[0], component: *component, since: map[string]uint64{}, stdout: stdout, stderr: stderr}
	for {
		more, err := t.once(ctx)
		switch {
		case err != nil && ctx.Err() != nil && *follow:
			return nil // interrupted while asking
		case err != nil:
			return err
		case more:
			continue // a page was cut at its bound: the rest at once
		case !*follow:
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

// logTail prints a topology's lines, remembering each node's last.
type logTail struct {
	c              *apiClient
	name           string
	component      string
	since          map[string]uint64 // by node
	stdout, stderr io.Writer
}

// once asks every node for the lines after its last and prints them,
// oldest first; more reports that a node has more to give at once.
func (t *logTail) once(ctx context.Context) (more bool, err error) {
	q := url.Values{}
	if t.component != "" {
		q.Set("component", t.component)
	}
	q["since"] = api.LogSince(t.since)
	path := "/api/v1/topology/" + url.PathEscape(t.name) + "/logs?" + q.Encode()
	var resp api.ClusterLogs
	if err := t.c.do(ctx, http.MethodGet, path, nil, &resp); err != nil {
		return false, err
	}
	type nodeLine struct {
		node string
		api.LogLine
	}
	var lines []nodeLine
	for _, p := range resp.Nodes {
		if p.Missed > 0 {
			fmt.Fprintf(t.stderr, "node logs: %s: %d lines missed (a node keeps only its recent lines)\n", p.Node, p.Missed)
		}
		for _, l := range p.Lines {
			lines = append(lines, nodeLine{p.Node, l})
		}
		t.since[p.Node] = p.Next
		more = more || p.More
	}
	slices.SortStableFunc(lines, func(a, b nodeLine) int {
		return cmp.Or(cmp.Compare(a.TimeUnixMs, b.TimeUnixMs), cmp.Compare(a.node, b.node), cmp.Compare(a.Seq, b.Seq))
	})
	for _, l := range lines {
		fmt.Fprintln(t.stdout, formatLogLine(l.node, l.LogLine))
	}
	return more, nil
}

// formatLogLine is a line as `node logs` prints it: time, node,
// component:task, level, source when not a log command, text (its next
// lines indented: a traceback).
func formatLogLine(node string, l api.LogLine) string {
	src := ""
	if l.Source != "log" {
		src = " " + l.Source
	}
	ts := time.UnixMilli(l.TimeUnixMs).Format("2006-01-02 15:04:05.000")
	text := strings.ReplaceAll(strings.TrimRight(l.Text, "\n"), "\n", "\n\t")
	return fmt.Sprintf("%s %s %s:%d %s%s %s", ts, node, l.Component, l.Task, l.Level, src, text)
}
