package cluster

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/cluster/resources"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/supervisor"
	"github.com/squall-streams/squall/topology"
)

// newShell is a Node without gossip or HTTP: the reconcile shell, driven
// over a membership the test decides (reconcileWith), with its transport
// on loopback so directories can name peers.
func newShell(t *testing.T, name string, factories map[string]Factory) *Node {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	n := &Node{
		cfg: Config{Name: name, Topologies: factories}, dataDir: t.TempDir(), log: logger, boot: name + "-boot",
		state: NewState(), running: map[string]*placed{}, built: map[string]*built{}, buildErr: map[string]string{},
		stop: make(chan struct{}),
	}
	n.res = resources.NewStore(filepath.Join(n.dataDir, "resources"), nil)
	n.sup = supervisor.NewNode(logger)
	tr, err := n.listenTransport("127.0.0.1:0", logger)
	if err != nil {
		t.Fatal(err)
	}
	n.tr = tr
	// The shell's own membership lists itself, as memberlist's join event
	// for the local node does (members, planLocked).
	meta, err := proto.Marshal(n.asMember().meta)
	if err != nil {
		t.Fatal(err)
	}
	n.del = &delegate{changed: make(chan struct{}, 1), departed: map[string]*memberlist.Node{}}
	n.del.NotifyJoin(&memberlist.Node{Name: name, Meta: meta})
	t.Cleanup(func() {
		n.stopAll(context.Background())
		_ = n.sup.Shutdown(context.Background())
		n.tr.Close()
	})
	return n
}

// asMember is the shell as the others' membership lists it.
func (n *Node) asMember() member {
	return member{name: n.cfg.Name, meta: &messages.NodeMeta{RemoteAddr: n.tr.Addr(), BootId: n.boot, Capacity: 1}}
}

func membersOf(nodes ...*Node) func() []member {
	return func() []member {
		var out []member
		for _, n := range nodes {
			out = append(out, n.asMember())
		}
		return out
	}
}

// quiet is a topology whose tasks do nothing: bolt (hint 2, 4 tasks: ids
// 1-4), spout (2 tasks: 5-6) and a tracker (7). Its specs are inactive, so
// no spout emits.
func quiet(conf topology.Config) (*topology.Topology, error) {
	b := topology.NewBuilder("quiet")
	b.SetSpout("spout", func() topology.Spout { return &idleSpout{} }, 2).Output("x")
	b.SetBasicBolt("bolt", func() topology.BasicBolt {
		return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
	}, 2).NumTasks(4).ShuffleGrouping("spout")
	return b.Build(topology.Config{topology.AckerExecutors: 1}.Merge(conf))
}

type idleSpout struct{ topology.BaseSpout }

func (*idleSpout) NextTuple() {}

// local is what n runs of the topology called name: the tasks it reports
// (LocalTopologies) and its epoch. It checks the report against what the
// supervisor actually runs.
func local(t *testing.T, n *Node, name string) ([]int32, uint64) {
	t.Helper()
	for _, lt := range n.LocalTopologies() {
		if lt.Name != name {
			continue
		}
		n.mu.Lock()
		run := n.running[name].run
		n.mu.Unlock()
		var sup []int32
		for _, task := range run.Tasks() {
			sup = append(sup, int32(task))
		}
		if !slices.Equal(sup, lt.Tasks) {
			t.Fatalf("%s reports tasks %v of %s, its supervisor runs %v", n.cfg.Name, lt.Tasks, name, sup)
		}
		return lt.Tasks, lt.Epoch
	}
	return nil, 0
}

// TestReconcileRunsItsShareWithoutGossip drives two node shells through a
// history (both up, one leaves, a rebalance, a kill) by handing them the
// membership and the topology set directly.
func TestReconcileRunsItsShareWithoutGossip(t *testing.T) {
	ctx := context.Background()
	fs := map[string]Factory{"quiet": Simple(quiet)}
	n1, n2 := newShell(t, "n1", fs), newShell(t, "n2", fs)
	// publish is a topology change every node learns, as gossip would bring it.
	publish := func(s *messages.TopologySpec) {
		stored, err := n1.state.Put(s)
		if err != nil {
			t.Fatal(err)
		}
		n2.state.Merge([]*messages.TopologySpec{stored})
	}
	spec := &messages.TopologySpec{Name: "q", Kind: "quiet"}
	publish(spec)

	both := membersOf(n1, n2)
	n1.reconcileWith(ctx, both)
	n2.reconcileWith(ctx, both)
	t1, e1 := local(t, n1, "q")
	t2, e2 := local(t, n2, "q")
	if len(t1) == 0 || len(t2) == 0 {
		t.Fatalf("two nodes, tasks %v and %v: one runs nothing", t1, t2)
	}
	if got := slices.Sorted(slices.Values(append(slices.Clone(t1), t2...))); !slices.Equal(got, []int32{1, 2, 5, 6, 7}) {
		t.Fatalf("n1 runs %v, n2 %v: together %v, want every running task once: [1 2 5 6 7]", t1, t2, got)
	}
	if e1 == 0 || e1 != e2 {
		t.Fatalf("epochs %x and %x: the nodes disagree on the plan", e1, e2)
	}
	// Nothing changed: a second reconcile keeps everything.
	n1.reconcileWith(ctx, both)
	if again, e := local(t, n1, "q"); !slices.Equal(again, t1) || e != e1 {
		t.Fatalf("an idle reconcile changed %v@%x to %v@%x", t1, e1, again, e)
	}

	// n2 leaves: n1 takes every task, n2 (which sees itself gone) stops.
	alone := membersOf(n1)
	n1.reconcileWith(ctx, alone)
	n2.reconcileWith(ctx, alone)
	if got, e := local(t, n1, "q"); !slices.Equal(got, []int32{1, 2, 5, 6, 7}) || e == e1 {
		t.Fatalf("alone, n1 runs %v at epoch %x (was %x)", got, e, e1)
	}
	if got, _ := local(t, n2, "q"); got != nil {
		t.Fatalf("n2 still runs %v", got)
	}

	// A rebalance raises the bolt to its 4 tasks.
	spec.Parallelism = map[string]int32{"bolt": 4}
	publish(spec)
	n1.reconcileWith(ctx, alone)
	if got, _ := local(t, n1, "q"); !slices.Equal(got, []int32{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("after the rebalance n1 runs %v", got)
	}

	// A kill stops it everywhere.
	spec.Killed = true
	publish(spec)
	n1.reconcileWith(ctx, alone)
	if got, _ := local(t, n1, "q"); got != nil {
		t.Fatalf("killed, n1 still runs %v", got)
	}
	if rs := n1.sup.Running(); len(rs) != 0 {
		t.Fatalf("killed, the supervisor still runs %d topologies", len(rs))
	}
}

// TestReadersDoNotWaitForABuild: while reconcile is inside a factory build
// (or a resources download), the node's readers answer.
func TestReadersDoNotWaitForABuild(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := func(conf topology.Config) (*topology.Topology, error) {
		close(entered)
		<-release
		return quiet(conf)
	}
	n := newShell(t, "n1", map[string]Factory{"slow": Simple(slow)})
	n.state.Put(&messages.TopologySpec{Name: "s", Kind: "slow"})
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.reconcile(context.Background())
	}()
	deadline := time.After(10 * time.Second)
	select {
	case <-entered:
	case <-deadline:
		t.Fatal("reconcile never built the topology")
	}
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		_ = n.LocalTopologies()
		_ = n.compiled("s")
		_ = n.placementCounts() // Members' task counts
	}()
	select {
	case <-answered:
	case <-deadline:
		close(release)
		<-done
		t.Fatal("LocalTopologies waited behind a build")
	}
	close(release)
	<-done
	if got, _ := local(t, n, "s"); !slices.Equal(got, []int32{1, 2, 5, 6, 7}) {
		t.Fatalf("after the build the node runs %v", got)
	}
	if got := n.placementCounts(); got["n1"] != 5 || len(got) != 1 {
		t.Fatalf("placement counts %v, want n1=5", got)
	}
}

// TestReconcileLogsABuildErrorOnceAndRetries: a topology that does not
// build does not run, its error is kept once, and it runs once it builds.
func TestReconcileLogsABuildErrorOnceAndRetries(t *testing.T) {
	fail := true
	flaky := func(conf topology.Config) (*topology.Topology, error) {
		if fail {
			return nil, errors.New("broker unreachable")
		}
		return quiet(conf)
	}
	n := newShell(t, "n1", map[string]Factory{"flaky": Simple(flaky)})
	n.state.Put(&messages.TopologySpec{Name: "f", Kind: "flaky"})
	n.reconcileWith(context.Background(), membersOf(n))
	if got, _ := local(t, n, "f"); got != nil {
		t.Fatalf("a topology that does not build runs %v", got)
	}
	if n.buildErr["f"] != "broker unreachable" {
		t.Fatalf("build errors %v", n.buildErr)
	}
	fail = false
	n.reconcileWith(context.Background(), membersOf(n))
	if got, _ := local(t, n, "f"); !slices.Equal(got, []int32{1, 2, 5, 6, 7}) {
		t.Fatalf("once it builds the node runs %v", got)
	}
	if _, ok := n.buildErr["f"]; ok {
		t.Fatal("the build error outlived a good build")
	}
}

// TestResubmitSeenAsOneChangeRunsTheNewBuild: a node that learns of a
// kill and the resubmit of the same name in one change (gossip carries
// only the newest spec) must not keep the old deployment's tasks: it stops
// them and starts the new build's.
func TestResubmitSeenAsOneChangeRunsTheNewBuild(t *testing.T) {
	ctx := context.Background()
	var builds atomic.Int64
	fs := map[string]Factory{"quiet": Simple(func(conf topology.Config) (*topology.Topology, error) {
		builds.Add(1)
		return quiet(conf)
	})}
	n := newShell(t, "n1", fs)
	if _, err := n.state.Put(&messages.TopologySpec{Name: "q", Kind: "quiet", SubmittedUnixMs: 1000}); err != nil {
		t.Fatal(err)
	}
	n.reconcileWith(ctx, membersOf(n))
	n.mu.Lock()
	first := n.running["q"].run
	n.mu.Unlock()
	// The kill and the new submission (same kind and config, a new
	// deployment) arrive together.
	if _, err := n.state.Put(&messages.TopologySpec{Name: "q", Kind: "quiet", SubmittedUnixMs: 2000}); err != nil {
		t.Fatal(err)
	}
	n.reconcileWith(ctx, membersOf(n))
	n.mu.Lock()
	p := n.running["q"]
	n.mu.Unlock()
	if p == nil || p.run == first {
		t.Fatal("the old deployment's tasks still run after the resubmit")
	}
	if builds.Load() != 2 {
		t.Fatalf("%d builds, want 2: the new deployment must be built anew", builds.Load())
	}
	if got, want := p.run.Topology.ID, "q-2000"; got != want {
		t.Fatalf("running deployment %q, want %q", got, want)
	}
	if got, _ := local(t, n, "q"); !slices.Equal(got, []int32{1, 2, 5, 6, 7}) {
		t.Fatalf("after the resubmit n1 runs %v", got)
	}
}
