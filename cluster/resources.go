package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/squall-streams/squall/cluster/resources"
)

// Topologies can come with a resources directory (the Python code of shell
// components), distributed by package resources: the node it is submitted
// to stores it under <data dir>/resources and serves it at
// /api/v1/resources/{digest} (on the public API, and to other nodes over
// the transport: see peers.go); every other node fetches it from a live
// member that has it before building the topology.

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
