package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/replay"
	"github.com/squall-streams/squall/internal/routing"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// keyed is a replayable source of n ids, each with the key id%50; the sink
// records which task executed each key in which window (the window is
// read by the spout before it emits).
type keyed struct {
	*replay.Source
	window atomic.Int64
	mu     sync.Mutex
	byWin  map[int64]map[string]map[topology.TaskID]bool
}

func (k *keyed) spout() topology.Spout {
	return k.Spout(func(id int) topology.Values { return topology.Values{fmt.Sprintf("k%d", id%50), k.window.Load()} })
}

type keyedSink struct {
	k    *keyed
	task topology.TaskID
	out  topology.OutputCollector
}

func (b *keyedSink) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	b.out, b.task = c, tc.Task
	return nil
}

func (b *keyedSink) Execute(t topology.Tuple) {
	key, win := t.Values()[0].(string), t.Values()[1].(int64)
	// Record only tuples emitted and executed in the same window: they
	// were routed under that window's parallelism and no other.
	if win < 0 || b.k.window.Load() != win {
		b.out.Ack(t)
		return
	}
	b.k.mu.Lock()
	if b.k.byWin[win] == nil {
		b.k.byWin[win] = map[string]map[topology.TaskID]bool{}
	}
	if b.k.byWin[win][key] == nil {
		b.k.byWin[win][key] = map[topology.TaskID]bool{}
	}
	b.k.byWin[win][key][b.task] = true
	b.k.mu.Unlock()
	b.out.Ack(t)
}

func (b *keyedSink) Cleanup() error { return nil }

// TestRescaleInLocalMode scales a fields-grouped bolt of 6 key groups from
// 2 to 5 to 1 running tasks while the topology runs: the running tasks are
// the first K, every id is acked, and tuples emitted in a window reach only
// the task their key group maps to under that window's K. Each window gets
// a quarter of the ids of its own, released once the window has begun, so
// none is empty however slow a rescale is.
func TestRescaleInLocalMode(t *testing.T) {
	const n, chunk = 20000, 5000
	k := &keyed{Source: replay.NewSource(n), byWin: map[int64]map[string]map[topology.TaskID]bool{}}
	k.Release(chunk)
	b := topology.NewBuilder("rescale")
	b.SetSpout("src", func() topology.Spout { return k.spout() }, 1).Output("key", "window")
	b.SetBolt("sink", func() topology.Bolt { return &keyedSink{k: k} }, 2).NumTasks(6).FieldsGrouping("src", "key")
	topo, err := b.Build(topology.Config{topology.MessageTimeoutSecs: 2, topology.MaxSpoutPending: 100})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	node := NewNode(nil)
	defer node.Shutdown(ctx)
	r, err := node.Start(ctx, topo)
	if err != nil {
		t.Fatal(err)
	}
	sink := r.Topology.Component("sink").Tasks
	if err := r.Rescale(ctx, map[topology.ComponentID]int{"sink": 7}); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("Rescale(sink=7) = %v, want ErrInvalid (NumTasks is 6)", err)
	}
	ks := map[int64]int{0: 2}
	for i, want := range []int{5, 1, 6} {
		win := int64(i + 1)
		// Most of the last window's ids acked; the rest cross the rescale.
		poll.Until(t, 30*time.Second, "progress", func() bool { return k.Acked() > int(win)*chunk-chunk/10 })
		k.window.Store(-1)
		if err := r.Rescale(ctx, map[topology.ComponentID]int{"sink": want}); err != nil {
			t.Fatal(err)
		}
		ks[win] = want
		k.window.Store(win)
		k.Release(int(win+1) * chunk)
		// Stopped sink tasks linger briefly to execute what was routed to them.
		wantTasks := topoaccess.RunningTasksWith(r.Topology, map[topology.ComponentID]int{"sink": want})
		poll.Until(t, 10*time.Second, fmt.Sprintf("running %v", wantTasks), func() bool { return slices.Equal(r.Tasks(), wantTasks) })
	}
	poll.Until(t, 60*time.Second, "every id acked", func() bool { return k.Acked() == n })
	k.mu.Lock()
	defer k.mu.Unlock()
	for win := int64(0); win <= 3; win++ {
		owners := routing.KeyGroupOwners(ks[win], 6)
		for key, tasks := range k.byWin[win] {
			want := sink[owners[routing.KeyGroup(routing.FieldsHash(topology.Values{key}, []int{0}), 6)]]
			if len(tasks) != 1 || !tasks[want] {
				t.Errorf("window %d (sink=%d): key %s executed by %v, want only task %d", win, ks[win], key, tasks, want)
			}
		}
		if len(k.byWin[win]) == 0 {
			t.Errorf("window %d: nothing executed", win)
		}
	}
}
