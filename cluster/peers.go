package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// The nodes read each other's reports through their HTTP API: what each
// runs (Rebalance waits for it, Kill drains by it, the API sums it) and
// what each is.

// peerLocal is every live member's LocalTopologies, by member name.
func (n *Node) peerLocal(ctx context.Context) map[string][]LocalTopology {
	return fromPeers(ctx, n, "/api/v1/local/topologies", n.LocalTopologies)
}

// fromPeers GETs path from every live member's API, in parallel, each
// bounded by a short timeout; this node answers with local(). A member
// without an API address maps to the zero T; one that does not answer is
// left out.
func fromPeers[T any](ctx context.Context, n *Node, path string, local func() T) map[string]T {
	out := map[string]T{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range n.members() {
		switch {
		case m.name == n.cfg.Name:
			v := local()
			mu.Lock()
			out[m.name] = v
			mu.Unlock()
		case m.meta.HttpAddr == "":
			mu.Lock()
			var zero T
			out[m.name] = zero
			mu.Unlock()
		default:
			wg.Go(func() {
				var v T
				if err := getJSON(ctx, "http://"+m.meta.HttpAddr+path, &v); err != nil {
					n.log.Debug("peer API unavailable", "peer", m.name, "path", path, "err", err)
					return
				}
				mu.Lock()
				out[m.name] = v
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return out
}

var apiClient = &http.Client{Timeout: 2 * time.Second}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// clusterInFlight sums the topology's in-flight count over the live nodes.
func (n *Node) clusterInFlight(ctx context.Context, name string) int64 {
	var inFlight int64
	for _, lts := range n.peerLocal(ctx) {
		for _, lt := range lts {
			if lt.Name == name {
				inFlight += lt.InFlight
			}
		}
	}
	return inFlight
}
