package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/cluster/transport"
)

// Node-to-node calls. A node asks its peers for what they run (in-flight
// counts for `kill --wait`, the placement a rebalance waits for, the counts
// the API sums) and for topologies' resources. These calls travel over the
// transport port, on call connections (see package cluster/transport), so
// they work whether or not a node serves the public HTTP API; they use the
// public API's paths, served by callsHandler:
//
//	GET /api/v1/local/topologies    what this node runs (LocalTopologies)
//	GET /api/v1/local/node          this node's start time and version (NodeInfo)
//	GET /api/v1/local/topology/{name}/logs  its subprocesses' recent lines (logs.go)
//	GET /api/v1/resources/{digest}  a resources tarball this node has

const (
	// peerCallTimeout bounds a call for a peer's report.
	peerCallTimeout = 2 * time.Second
	// resourcesTimeout bounds a resources download.
	resourcesTimeout = 30 * time.Second
)

// listenTransport starts the node's end of the node-to-node transport at
// addr: batches for this node's tasks go to deliver, calls to
// callsHandler.
func (n *Node) listenTransport(addr string, logger *slog.Logger) (*transport.Transport, error) {
	cfg := transport.DefaultConfig()
	cfg.Addr, cfg.Logger, cfg.Deliver, cfg.Calls = addr, logger, n.deliver, n.callsHandler()
	cfg.OnDrop = n.failDropped // dropped.go: a dropped batch's trees fail at once
	if c := n.cfg.Certs; c != nil {
		cfg.ServerTLS, cfg.ClientTLS = c.TransportServerConfig(), c.TransportClientConfig()
	}
	return transport.Listen(cfg)
}

// callsHandler serves the calls other nodes make to this one.
func (n *Node) callsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/local/topologies", func(w http.ResponseWriter, r *http.Request) {
		api.JSON(w, http.StatusOK, n.LocalTopologies())
	})
	mux.HandleFunc("GET /api/v1/local/node", func(w http.ResponseWriter, r *http.Request) {
		api.JSON(w, http.StatusOK, n.nodeInfo())
	})
	mux.HandleFunc("GET /api/v1/local/topology/{name}/logs", api.LocalLogsHandler(backend{n}.Logs))
	mux.HandleFunc("GET /api/v1/resources/{digest}", n.serveResources)
	return mux
}

// peerURL is the URL of path on member m's calls server; fetch it with
// n.peerClient.
func peerURL(m member, path string) string { return "http://" + m.meta.RemoteAddr + path }

// peerClient is the HTTP client for calls to other nodes (peerURL), each
// bounded by timeout.
func (n *Node) peerClient(timeout time.Duration) *http.Client { return n.tr.Client(timeout) }

// getJSON GETs url with client and decodes its JSON body into v.
func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// inFlightEverywhere sums the topology's in-flight count over the live
// members; answered is false when one of them did not report (it may hold
// trees in flight).
func (n *Node) inFlightEverywhere(ctx context.Context, name string) (inFlight int64, answered bool) {
	reports := n.peerLocal(ctx)
	for _, m := range n.members() {
		lts, ok := reports[m.name]
		if !ok {
			return 0, false
		}
		for _, lt := range lts {
			if lt.Name == name {
				inFlight += lt.InFlight
			}
		}
	}
	return inFlight, true
}

// drainPoll is how often a drain asks the nodes what is in flight.
const drainPoll = 20 * time.Millisecond

// waitDrained polls inFlight until it reports nothing in flight and every
// node answered, or ctx is done. A node that does not answer may hold
// trees: the wait goes on.
func waitDrained(ctx context.Context, inFlight func(context.Context) (int64, bool)) {
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for ctx.Err() == nil {
		if k, answered := inFlight(ctx); answered && k == 0 {
			return
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// peerLocal is every live member's LocalTopologies, by member name.
func (n *Node) peerLocal(ctx context.Context) map[string][]LocalTopology {
	return fromPeers(ctx, n, "/api/v1/local/topologies", n.LocalTopologies)
}

// fromPeers GETs path from every live member (a node-to-node call over
// the transport), in parallel, each bounded by a short timeout; this node
// answers with local(). One that does not answer is left out. Every path
// asked here must be served by callsHandler.
func fromPeers[T any](ctx context.Context, n *Node, path string, local func() T) map[string]T {
	return fromPeersEach(ctx, n, func(string) string { return path }, local)
}

// fromPeersEach is fromPeers asking each member its own path(member name).
func fromPeersEach[T any](ctx context.Context, n *Node, path func(member string) string, local func() T) map[string]T {
	out := map[string]T{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := n.peerClient(peerCallTimeout)
	for _, m := range n.members() {
		if m.name == n.cfg.Name {
			v := local()
			mu.Lock()
			out[m.name] = v
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			var v T
			p := path(m.name)
			if err := getJSON(ctx, client, peerURL(m, p), &v); err != nil {
				n.log.Debug("peer unavailable", "peer", m.name, "path", p, "err", err)
				return
			}
			mu.Lock()
			out[m.name] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
