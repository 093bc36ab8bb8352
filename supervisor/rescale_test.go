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

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/topology"
)

// keyed is a replayable source of n ids, each with the key id%50, shared by
// spout instances; the sink records which task executed each key in which
// window (the window is read by the spout before it emits).
type keyed struct {
	n      int
	window atomic.Int64
	mu     sync.Mutex
	acked  map[int]bool
	byWin  map[int64]map[string]map[topology.TaskID]bool
}

type keyedSpout struct {
	topology.BaseSpout
	k      *keyed
	out    topology.SpoutCollector
	next   int
	replay []int
}

func (s *keyedSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *keyedSpout) NextTuple() {
	var id int
	if len(s.replay) > 0 {
		id, s.replay = s.replay[0], s.replay[1:]
	} else {
		s.k.mu.Lock()
		for s.next < s.k.n && s.k.acked[s.next] {
			s.next++
		}
		s.k.mu.Unlock()
		if s.next >= s.k.n {
			return
		}
		id = s.next
		s.next++
	}
	s.out.Emit(topology.Values{fmt.Sprintf("k%d", id%50), s.k.window.Load()}, id)
}

func (s *keyedSpout) Ack(m any) {
	s.k.mu.Lock()
	s.k.acked[m.(int)] = true
	s.k.mu.Unlock()
}

func (s *keyedSpout) Fail(m any) { s.replay = append(s.replay, m.(int)) }

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
// the task their key group maps to under that window's K.
func TestRescaleInLocalMode(t *testing.T) {
	const n = 20000
	k := &keyed{n: n, acked: map[int]bool{}, byWin: map[int64]map[string]map[topology.TaskID]bool{}}
	b := topology.NewBuilder("rescale")
	b.SetSpout("src", func() topology.Spout { return &keyedSpout{k: k} }, 1).Output("key", "window")
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
	acked := func() int {
		k.mu.Lock()
		defer k.mu.Unlock()
		return len(k.acked)
	}
	if err := r.Rescale(ctx, map[topology.ComponentID]int{"sink": 7}); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("Rescale(sink=7) = %v, want ErrInvalid (NumTasks is 6)", err)
	}
	ks := map[int64]int{0: 2}
	for i, want := range []int{5, 1, 6} {
		win := int64(i + 1)
		poll.Until(t, 30*time.Second, "progress", func() bool { return acked() > (i+1)*n/5 })
		k.window.Store(-1)
		if err := r.Rescale(ctx, map[topology.ComponentID]int{"sink": want}); err != nil {
			t.Fatal(err)
		}
		ks[win] = want
		k.window.Store(win)
		// Stopped sink tasks linger briefly to execute what was routed to them.
		wantTasks := r.Topology.RunningTasksWith(map[topology.ComponentID]int{"sink": want})
		poll.Until(t, 10*time.Second, fmt.Sprintf("running %v", wantTasks), func() bool { return slices.Equal(r.Tasks(), wantTasks) })
	}
	poll.Until(t, 60*time.Second, "every id acked", func() bool { return acked() == n })
	k.mu.Lock()
	defer k.mu.Unlock()
	for win := int64(0); win <= 3; win++ {
		owners := topology.KeyGroupOwners(ks[win], 6)
		for key, tasks := range k.byWin[win] {
			want := sink[owners[topology.KeyGroup(actors.FieldsHash(topology.Values{key}, []int{0}), 6)]]
			if len(tasks) != 1 || !tasks[want] {
				t.Errorf("window %d (sink=%d): key %s executed by %v, want only task %d", win, ks[win], key, tasks, want)
			}
		}
		if len(k.byWin[win]) == 0 {
			t.Errorf("window %d: nothing executed", win)
		}
	}
}
