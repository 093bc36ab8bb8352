package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// lifecycle is one node's factory of the "life" topology: it counts the
// builds it made and released, and the spout tasks open, and records a
// release that came while a task of this node was still open.
type lifecycle struct {
	open atomic.Int64 // spout tasks opened and not yet closed

	mu       sync.Mutex
	builds   int
	released map[int]int // build number -> releases
	early    []string
}

func (l *lifecycle) factory(conf topology.Config) (*topology.Topology, func(), error) {
	l.mu.Lock()
	l.builds++
	id := l.builds
	l.mu.Unlock()
	b := topology.NewBuilder("life")
	b.SetSpout("s", func() topology.Spout { return &openSpout{open: &l.open} }, 2).Output("n")
	t, err := b.Build(conf)
	return t, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.released[id]++
		if n := l.open.Load(); n != 0 {
			l.early = append(l.early, fmt.Sprintf("build %d released with %d spout tasks open", id, n))
		}
	}, err
}

// snapshot returns the builds made and how often each was released.
func (l *lifecycle) snapshot() (builds int, released map[int]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]int, len(l.released))
	for k, v := range l.released {
		out[k] = v
	}
	return l.builds, out
}

// openSpout counts itself open between Open and Close and emits nothing.
type openSpout struct {
	topology.BaseSpout
	open *atomic.Int64
}

func (s *openSpout) Open(context.Context, *topology.Context, topology.SpoutCollector) error {
	s.open.Add(1)
	return nil
}

func (s *openSpout) NextTuple() {}

func (s *openSpout) Close() error {
	s.open.Add(-1)
	return nil
}

// TestFactoryBuildsAreReleased: Submit releases its validation build before
// it returns; every build a node made is released exactly once when the
// node shuts down, after its tasks stopped.
func TestFactoryBuildsAreReleased(t *testing.T) {
	lives := []*lifecycle{{released: map[int]int{}}, {released: map[int]int{}}}
	c := clustertest.NewWithConfig(t, 2, nil, func(i int, cfg *cluster.Config) {
		cfg.Topologies = map[string]cluster.Factory{"life": lives[i].factory}
	})
	if err := c.Node(0).Submit("life", "life", nil); err != nil {
		t.Fatal(err)
	}
	// Node 0's first build is the validation: nothing could build the
	// topology before Submit gossiped it.
	if _, released := lives[0].snapshot(); released[1] != 1 {
		t.Fatalf("validation build released %d times when Submit returned, want 1", released[1])
	}
	poll.Until(t, 30*time.Second, "both spout tasks open, and both nodes built the topology", func() bool {
		b1, _ := lives[1].snapshot()
		return lives[0].open.Load()+lives[1].open.Load() == 2 && b1 > 0
	})
	for i := range lives {
		builds, released := lives[i].snapshot()
		if i == 1 && len(released) != 0 {
			t.Errorf("node 1 released %v while running", released)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := c.Node(i).Shutdown(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		builds, released = lives[i].snapshot()
		if want := []int{2, 1}[i]; builds < want { // node 0: the validation build and its own
			t.Errorf("node %d made %d builds, want at least %d", i, builds, want)
		}
		for b := 1; b <= builds; b++ {
			if released[b] != 1 {
				t.Errorf("node %d: build %d released %d times, want once", i, b, released[b])
			}
		}
	}
	for _, l := range lives {
		for _, e := range l.early {
			t.Error(e)
		}
	}
}

// TestKilledTopologysBuildsAreReleased: once a topology is killed and its
// tasks stopped, every node releases its build at once, not only when the
// node shuts down; a new submission of the name builds anew.
func TestKilledTopologysBuildsAreReleased(t *testing.T) {
	lives := []*lifecycle{{released: map[int]int{}}, {released: map[int]int{}}}
	c := clustertest.NewWithConfig(t, 2, nil, func(i int, cfg *cluster.Config) {
		cfg.Topologies = map[string]cluster.Factory{"life": lives[i].factory}
	})
	if err := c.Node(0).Submit("life", "life", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "both spout tasks open", func() bool {
		return lives[0].open.Load()+lives[1].open.Load() == 2
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Node(0).Kill(ctx, "life", 0); err != nil {
		t.Fatal(err)
	}
	allReleased := func(l *lifecycle) bool {
		builds, released := l.snapshot()
		for b := 1; b <= builds; b++ {
			if released[b] != 1 {
				return false
			}
		}
		return true
	}
	poll.Until(t, 30*time.Second, "every build of both nodes released once, with the nodes running", func() bool {
		return allReleased(lives[0]) && allReleased(lives[1])
	})
	before, _ := lives[1].snapshot()
	if err := c.Node(0).Submit("life", "life", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "node 1 builds the new submission anew", func() bool {
		b, _ := lives[1].snapshot()
		return b > before && lives[0].open.Load()+lives[1].open.Load() == 2
	})
	for _, l := range lives {
		for _, e := range l.early {
			t.Error(e)
		}
	}
}
