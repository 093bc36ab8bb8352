package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/squall-streams/squall/cluster/resources"
	"github.com/squall-streams/squall/messages"
)

// Topologies can come with a resources directory (the Python code of shell
// components), distributed by package resources: the node it is submitted
// to stores it under <data dir>/resources and serves it at
// /api/v1/resources/{digest} (on the public API, and to other nodes over
// the transport: see peers.go); every other node fetches it from a live
// member that has it before building the topology.
//
// Every node deletes the resources no topology needs any more (issue 11,
// item 8): at the end of each reconcile, once the tasks of killed
// topologies stopped, it sweeps its store with unusedResources over the
// gossiped specs and what still runs here. A tombstone's digest goes at
// once; a digest no spec names (its topology was resubmitted with other
// resources while this node was down, the cluster restarted, a crash
// mid-submit) after orphanAge, since another process sharing the data
// dir may be submitting it. A rejected submit deletes what it stored
// before it returns (dropResources).

// Config keys the cluster sets on a topology's configuration.
const (
	// ConfResourcesDigest is the SHA-256 of the topology's resources tarball.
	ConfResourcesDigest = "squall.resources.digest"
	// ConfResourcesDir is where this node unpacked them (multilang runs
	// shell components there).
	ConfResourcesDir = "squall.resources.dir"
)

// MaxResources bounds a resources tarball.
const MaxResources = resources.MaxSize

// TarGz packs dir (regular files and directories only) into a gzipped tar,
// for SubmitWithResources.
func TarGz(dir string) ([]byte, error) { return resources.TarGz(dir) }

// fetchResources fetches a tarball from a peer with a node-to-node call
// over the transport (peerURL, resourcesTimeout).
func (n *Node) fetchResources(ctx context.Context, p resources.Peer, digest string) ([]byte, error) {
	return resources.HTTPFetch(n.peerClient(resourcesTimeout))(ctx, p, digest)
}

func (n *Node) resourcesPath(digest string) (tarball, dir string) { return n.res.Paths(digest) }

// storeResources keeps a tarball and unpacks it; it returns its digest.
func (n *Node) storeResources(tgz []byte) (string, error) { return n.res.Put(tgz) }

// holdResources stores tgz, held (Store.Hold) until release: what a
// submit stores stays, whatever a reconcile sweeps meanwhile, until its
// spec is published (or the submit deletes it, rejected).
func (n *Node) holdResources(tgz []byte) (digest string, release func(), err error) {
	digest = resources.Digest(tgz)
	release = n.res.Hold(digest)
	if _, err := n.res.Put(tgz); err != nil { // a tarball Put refuses leaves nothing behind
		release()
		return "", nil, err
	}
	return digest, release, nil
}

// orphanAge is how long a stored digest that no spec names, and a partial
// write, may stay: long enough for any submit or Put in progress (of
// another process sharing the data dir: this one's are held).
const orphanAge = 10 * time.Minute

// unusedResources picks the entries of a node's store to delete, given
// every spec the node knows (tombstones included), the digests of the
// topologies with tasks on this node (running; their subprocesses may
// work in the directory), a digest a rejected submit abandoned ("" for
// none) and the time now:
//
//   - a digest a live spec names, or one running here, stays;
//   - a digest a tombstone names goes (its topology was killed), and so
//     does the abandoned one;
//   - a digest no spec names, and a partial write, go once older than
//     orphanAge.
//
// It is pure.
func unusedResources(entries []resources.Entry, specs []*messages.TopologySpec, running map[string]bool, abandoned string, now time.Time) []resources.Entry {
	live, killed := map[string]bool{}, map[string]bool{}
	for _, s := range specs {
		if d := s.Conf[ConfResourcesDigest]; d != "" {
			if s.Killed {
				killed[d] = true
			} else {
				live[d] = true
			}
		}
	}
	var out []resources.Entry
	for _, e := range entries {
		old := now.Sub(e.ModTime) > orphanAge
		switch {
		case e.Digest == "":
			if old {
				out = append(out, e)
			}
		case live[e.Digest] || running[e.Digest]:
		case killed[e.Digest] || e.Digest == abandoned || old:
			out = append(out, e)
		}
	}
	return out
}

// collectResources deletes the resources nothing needs any more
// (unusedResources). Called by reconcile after its steps, with n.applyMu
// and n.buildMu held: no task starts or stops and no build fetches
// meanwhile. The specs are read under the store's lock (Store.Sweep), so
// a submit's Hold released after publishing is never overtaken.
func (n *Node) collectResources() {
	n.sweepResources("", nil)
}

// dropResources deletes digest, stored by a submit that was rejected,
// unless something else needs it (a live topology with the same
// resources, tasks running here, another submit holding it).
func (n *Node) dropResources(digest string) {
	n.sweepResources(digest, func(e resources.Entry) bool { return e.Digest == digest })
}

// sweepResources sweeps the store with unusedResources over the entries
// only selects (nil: all).
func (n *Node) sweepResources(abandoned string, only func(resources.Entry) bool) {
	removed, err := n.res.Sweep(func(entries []resources.Entry) []resources.Entry {
		if only != nil {
			var sel []resources.Entry
			for _, e := range entries {
				if only(e) {
					sel = append(sel, e)
				}
			}
			entries = sel
		}
		if len(entries) == 0 {
			return nil // most nodes, most of the time: no specs to copy
		}
		return unusedResources(entries, n.state.All(), n.runningResources(), abandoned, time.Now())
	})
	for _, e := range removed {
		if e.Digest != "" {
			n.log.Info("deleted resources no topology uses", "digest", e.Digest)
		}
	}
	if err != nil {
		n.log.Warn("cannot delete resources", "err", err)
	}
}

// runningResources is the set of digests of the topologies with tasks
// on this node.
func (n *Node) runningResources() map[string]bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]bool{}
	for _, p := range n.running {
		if p.resources != "" {
			out[p.resources] = true
		}
	}
	return out
}

// ensureResources returns the local directory of digest, fetching it from
// a live member that has it when this node does not.
func (n *Node) ensureResources(ctx context.Context, digest string) (string, error) {
	var peers []resources.Peer
	for _, m := range n.members() {
		if m.name != n.cfg.Name {
			peers = append(peers, resources.Peer{Name: m.name, Addr: m.meta.RemoteAddr})
		}
	}
	return n.res.Ensure(ctx, digest, peers)
}

func (n *Node) serveResources(w http.ResponseWriter, r *http.Request) {
	digest := r.PathValue("digest")
	b, err := n.res.Tarball(digest)
	switch {
	case errors.Is(err, resources.ErrBadDigest):
		writeErr(w, http.StatusBadRequest, fmt.Errorf("bad digest %q", digest))
		return
	case err != nil:
		writeErr(w, http.StatusNotFound, fmt.Errorf("no resources %s here", digest))
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(b)
}
