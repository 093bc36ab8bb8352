package cluster_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/cluster/resources"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// dirWatch records what the spouts of the "res" topology found in their
// resources directory when they closed: a task stops before its
// resources may be deleted.
type dirWatch struct {
	mu      sync.Mutex
	closed  int
	missing []string
}

func (w *dirWatch) closedWith(dir string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed++
	if err != nil {
		w.missing = append(w.missing, fmt.Sprintf("%s: %v", dir, err))
	}
}

func (w *dirWatch) report() (closed int, missing []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed, slices.Clone(w.missing)
}

// dirSpout emits nothing; when it closes it reads the marker of its
// resources directory.
type dirSpout struct {
	topology.BaseSpout
	dir   string
	watch *dirWatch
}

func (*dirSpout) NextTuple() {}

func (s *dirSpout) Close() error {
	_, err := os.ReadFile(filepath.Join(s.dir, "marker"))
	s.watch.closedWith(s.dir, err)
	return nil
}

// resFactory builds the "res" topology (four dirSpout tasks, so every
// node of two runs some) only from resources holding a marker, and
// refuses a configuration with fail=1.
func resFactory(w *dirWatch) cluster.Factory {
	return cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		if conf.String("fail", "") == "1" {
			return nil, errors.New("fail=1: refused")
		}
		dir := conf.String(cluster.ConfResourcesDir, "")
		if _, err := os.ReadFile(filepath.Join(dir, "marker")); err != nil {
			return nil, fmt.Errorf("no resources: %w", err)
		}
		b := topology.NewBuilder("res")
		b.SetSpout("s", func() topology.Spout { return &dirSpout{dir: dir, watch: w} }, 4).Output("x")
		return b.Build(topology.Config{topology.AckerExecutors: 1}.Merge(conf))
	})
}

// packMarker packs a resources directory whose marker holds body.
func packMarker(t *testing.T, body string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tgz, err := cluster.TarGz(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tgz
}

// storedIn lists what a node's store holds under its data dir: every
// name in <data dir>/resources.
func storedIn(t *testing.T, dataDir string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(dataDir, "resources"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// hasDigest reports whether a node holds digest whole: the tarball, and
// the directory with its marker.
func hasDigest(dataDir, digest string) bool {
	root := filepath.Join(dataDir, "resources")
	_, terr := os.Stat(filepath.Join(root, digest+".tar.gz"))
	_, merr := os.Stat(filepath.Join(root, digest, "marker"))
	return terr == nil && merr == nil
}

// emptied reports whether a node's store holds nothing: no tarball, no
// directory, no partial write (a directory being deleted is renamed
// away first).
func emptied(t *testing.T, dataDir string) bool { return len(storedIn(t, dataDir)) == 0 }

func runsTasksOf(n *cluster.Node, name string) bool {
	for _, lt := range n.LocalTopologies() {
		if lt.Name == name && len(lt.Tasks) > 0 {
			return true
		}
	}
	return false
}

// TestResourcesOfKilledTopologiesAreDeletedOnEveryNode: two topologies
// share resources on two nodes. Killing one deletes nothing; killing the
// other, every node deletes the tarball and the directory once its tasks
// stopped — the node that was down during the kill when it comes back —
// and the same resources can be submitted again.
func TestResourcesOfKilledTopologiesAreDeletedOnEveryNode(t *testing.T) {
	w := &dirWatch{}
	base := t.TempDir()
	dataDir := func(i int) string { return filepath.Join(base, fmt.Sprintf("node-%d", i)) }
	c := clustertest.NewWithConfig(t, 2, map[string]cluster.Factory{"res": resFactory(w)}, func(i int, cfg *cluster.Config) {
		cfg.Insecure, cfg.GossipKey = true, nil
		cfg.HTTP = "" // resources travel node to node
		cfg.DataDir = dataDir(i)
	})
	tgz := packMarker(t, "shipped")
	digest := resources.Digest(tgz)
	for _, name := range []string{"a", "b"} {
		if err := c.Node(0).SubmitWithResources(name, "res", nil, tgz); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 60*time.Second, "both nodes run a and b from their own copy of the resources", func() bool {
		for i := range 2 {
			if !runsTasksOf(c.Node(i), "a") || !runsTasksOf(c.Node(i), "b") || !hasDigest(dataDir(i), digest) {
				return false
			}
		}
		return true
	})

	// a is killed: b still runs from the same resources.
	if err := c.Node(0).Kill(context.Background(), "a", 0); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "no node runs a", func() bool { return !runsTasksOf(c.Node(0), "a") && !runsTasksOf(c.Node(1), "a") })
	// The reconcile that stopped a swept the store before any later one
	// starts: b's kill below happens after it.
	for i := range 2 {
		if !hasDigest(dataDir(i), digest) {
			t.Fatalf("node %d deleted the resources b runs from when a was killed: it has %v", i, storedIn(t, dataDir(i)))
		}
	}

	// Node 1 is down while b is killed.
	c.Kill(1)
	if err := c.Node(0).Kill(context.Background(), "b", 0); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "node 0 deletes b's resources (and holds nothing else)", func() bool { return emptied(t, dataDir(0)) })
	if !hasDigest(dataDir(1), digest) {
		t.Fatalf("node 1 was down, yet its resources changed: %v", storedIn(t, dataDir(1)))
	}
	c.Restart(1)
	c.WaitMembers(2)
	poll.Until(t, 30*time.Second, "node 1 deletes them when it reconciles after its restart", func() bool { return emptied(t, dataDir(1)) })
	if closed, missing := w.report(); closed == 0 || len(missing) != 0 {
		t.Fatalf("%d spout tasks closed; their resources were deleted under them: %v", closed, missing)
	}

	// The same resources again, under a killed name, through the node
	// that came back: every node fetches and runs them again.
	if err := c.Node(1).SubmitWithResources("a", "res", nil, tgz); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "both nodes run a again from the resources", func() bool {
		for i := range 2 {
			if !runsTasksOf(c.Node(i), "a") || !hasDigest(dataDir(i), digest) {
				return false
			}
		}
		return true
	})
	if err := c.Node(0).Kill(context.Background(), "a", 0); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "every node deletes them again", func() bool {
		return emptied(t, dataDir(0)) && emptied(t, dataDir(1))
	})
	if _, missing := w.report(); len(missing) != 0 {
		t.Fatalf("resources deleted under running tasks: %v", missing)
	}
}

// TestARejectedSubmitLeavesNoResources: whatever rejects a submit with
// resources (the topology's own check, an unknown kind, a name in use, a
// spec too big to gossip, a tarball that escapes its directory), neither
// the tarball nor an unpacked directory is left in the data dir; unless
// a live topology has the same resources, whose stay.
func TestARejectedSubmitLeavesNoResources(t *testing.T) {
	w := &dirWatch{}
	cfg := cluster.LocalConfig()
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.Insecure = "rej", "127.0.0.1:0", "", true
	cfg.DataDir = t.TempDir()
	cfg.Topologies = map[string]cluster.Factory{"res": resFactory(w)}
	n, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	if err := n.SubmitWithResources("taken", "res", nil, packMarker(t, "taken")); err != nil {
		t.Fatal(err)
	}
	kept := resources.Digest(packMarker(t, "taken"))
	// A tarball with an entry that leaves its directory.
	var escaping bytes.Buffer
	gz := gzip.NewWriter(&escaping)
	tw := tar.NewWriter(gz)
	_ = tw.WriteHeader(&tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	_ = gz.Close()

	tgz := packMarker(t, "rejected")
	for _, tc := range []struct {
		what    string
		name    string
		kind    string
		conf    map[string]string
		tgz     []byte
		wantErr error
	}{
		{what: "the factory refuses it", name: "f", kind: "res", conf: map[string]string{"fail": "1"}, tgz: tgz},
		{what: "an unknown kind", name: "k", kind: "nope", tgz: tgz, wantErr: cluster.ErrUnknownTopology},
		{what: "a name in use", name: "taken", kind: "res", tgz: tgz, wantErr: cluster.ErrTopologyExists},
		{what: "a spec too big to gossip", name: "big", kind: "res", conf: map[string]string{"big": strings.Repeat("x", 2<<20)}, tgz: tgz},
		{what: "a tarball that escapes", name: "e", kind: "res", tgz: escaping.Bytes()},
		{what: "a live topology's resources, refused", name: "shared", kind: "res", conf: map[string]string{"fail": "1"}, tgz: packMarker(t, "taken")},
	} {
		err := n.SubmitWithResources(tc.name, tc.kind, tc.conf, tc.tgz)
		if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("%s: submit returned %v, want an error (%v)", tc.what, err, tc.wantErr)
		}
		// Checked at once: the submit deletes what it stored before it
		// returns.
		if got, want := storedIn(t, cfg.DataDir), []string{kept, kept + ".tar.gz"}; !slices.Equal(got, want) {
			t.Errorf("%s: the store holds %v, want only the live topology's %v", tc.what, got, want)
		}
	}
	if !hasDigest(cfg.DataDir, kept) {
		t.Fatal("the live topology's resources are gone")
	}
}
