package cluster

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/squall-streams/squall/cluster/resources"
	"github.com/squall-streams/squall/messages"
)

// TestWaitDrainedWaitsForEveryNode: a drain ends only once every node
// answered and none has anything in flight; a node that does not answer
// keeps it waiting until the wait expires.
func TestWaitDrainedWaitsForEveryNode(t *testing.T) {
	type report struct {
		inFlight int64
		answered bool
	}
	for _, c := range []struct {
		name    string
		reports []report // then the last one forever
		calls   int      // calls until the drain ends (0: it runs to the deadline)
	}{
		{"drained at once", []report{{0, true}}, 1},
		{"in flight, then drained", []report{{3, true}, {1, true}, {0, true}}, 3},
		{"a silent node is not a drained one", []report{{0, false}, {0, false}, {0, true}}, 3},
		{"silent, in flight, silent, drained", []report{{0, false}, {2, true}, {0, false}, {0, true}}, 4},
		{"a node that never answers", []report{{0, false}}, 0},
		{"trees that never complete", []report{{7, true}}, 0},
	} {
		synctest.Test(t, func(t *testing.T) {
			const wait = 10 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			calls := 0
			start := time.Now()
			waitDrained(ctx, func(context.Context) (int64, bool) {
				r := c.reports[min(calls, len(c.reports)-1)]
				calls++
				return r.inFlight, r.answered
			})
			took := time.Since(start)
			if c.calls == 0 {
				if took < wait {
					t.Errorf("%s: the drain ended after %v, before the wait of %v expired", c.name, took, wait)
				}
				return
			}
			if calls != c.calls || took >= wait {
				t.Errorf("%s: the drain ended after %d calls and %v, want %d calls", c.name, calls, took, c.calls)
			}
		})
	}
}

// TestCallsHandlerServesWhatPeersAsk: every path nodes ask each other
// for (fromPeers, ensureResources) is served on the transport.
func TestCallsHandlerServesWhatPeersAsk(t *testing.T) {
	cfg := LocalConfig()
	cfg.Insecure = true // a throwaway node
	cfg.Name, cfg.Bind, cfg.HTTP = "solo", "127.0.0.1:0", ""
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	tgz, err := TarGz(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	digest, err := n.storeResources(tgz)
	if err != nil {
		t.Fatal(err)
	}
	me := member{name: "solo", meta: &messages.NodeMeta{RemoteAddr: n.tr.Addr()}}
	client := n.peerClient(10 * time.Second)
	var lts []LocalTopology
	if err := getJSON(context.Background(), client, peerURL(me, "/api/v1/local/topologies"), &lts); err != nil {
		t.Errorf("local topologies: %v", err)
	}
	var info NodeInfo
	if err := getJSON(context.Background(), client, peerURL(me, "/api/v1/local/node"), &info); err != nil || info.StartedUnixMs == 0 {
		t.Errorf("local node: %+v, %v", info, err)
	}
	peer := resources.Peer{Name: me.name, Addr: me.meta.RemoteAddr}
	b, err := n.fetchResources(context.Background(), peer, digest)
	if err != nil || resources.Digest(b) != digest {
		t.Errorf("resources: %d bytes, %v", len(b), err)
	}
	if _, err := n.fetchResources(context.Background(), peer, resources.Digest([]byte("other"))); err == nil {
		t.Error("resources this node does not have were served")
	}
	// The public API's other routes are not on the transport.
	if err := getJSON(context.Background(), client, peerURL(me, "/api/v1/members"), new(any)); err == nil {
		t.Error("the transport serves the public API's /api/v1/members")
	}
}
