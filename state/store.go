package state

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/internal/topoaccess"
	"github.com/squall-streams/squall/topology"
)

// Store is where a topology's checkpoints are durable: tasks Stage the key
// groups that changed at a checkpoint before they ack it, the coordinator
// Commits the checkpoint once every task acked (the commit point), and a
// restore Loads what the last completed checkpoint holds. Dir (a
// directory, squall.state.dir) and Mem (the process's memory) implement it
// with the same semantics; see Dir for them. Implementations are safe for
// concurrent use.
type Store interface {
	Last() (Completed, bool)
	Stage(component topology.ComponentID, task topology.TaskID, snap *Snapshot) (int64, error)
	Commit(id checkpoint.ID, epoch checkpoint.Epoch, meta []byte) error
	Abandon() error
	Load(component topology.ComponentID, task topology.TaskID, keyGroups []int) (map[uint32][]Record, error)
}

// Opener opens the Store of topology t when an exactly-once
// topology starts; a Store that is also an io.Closer is closed when the
// topology stops. It is how a deployment puts checkpoints somewhere other
// than the topology's settings say (squall.state.dir, else memory): a
// Kafka-backed store, or one store shared by the nodes of a test cluster.
type Opener func(t *topology.Topology) (Store, error)

// OpenDefault is the store of t's settings: a Dir at squall.state.dir if it
// is set, else a new Mem. An Opener falls back to it for topologies it
// leaves alone.
func OpenDefault(t *topology.Topology) (Store, error) {
	dir := t.Runtime.Checkpoints.StateDir
	if dir == "" {
		return NewMem(), nil
	}
	d, err := OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", topology.StateDir, err)
	}
	return d, nil
}

var (
	_ Store = (*Dir)(nil)
	_ Store = (*Mem)(nil)
)

// Mem is a Store in memory: checkpoints survive the failure of tasks, not
// of the process. It is the default of a topology without
// squall.state.dir.
type Mem struct {
	mu      sync.Mutex
	last    *Completed
	current map[part][]Record // the parts of the last completed checkpoint
	staged  map[part]map[checkpoint.ID][]Record
}

// NewMem returns an empty in-memory store.
func NewMem() *Mem {
	return &Mem{current: map[part][]Record{}, staged: map[part]map[checkpoint.ID][]Record{}}
}

// Last is the last completed checkpoint.
func (m *Mem) Last() (Completed, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		return Completed{}, false
	}
	c := *m.last
	c.Meta = slices.Clone(c.Meta)
	return c, true
}

// Stage keeps snap's changed key groups as candidates for snap.ID.
func (m *Mem) Stage(component topology.ComponentID, task topology.TaskID, snap *Snapshot) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last != nil && snap.ID <= m.last.ID {
		return 0, fmt.Errorf("state: stage of checkpoint %d, but %d already completed", snap.ID, m.last.ID)
	}
	var size int64
	for g, recs := range snap.Groups {
		p := part{component: string(component), group: g}
		if g == TaskScope {
			p.task = int32(task)
		}
		if m.staged[p] == nil {
			m.staged[p] = map[checkpoint.ID][]Record{}
		}
		m.staged[p][snap.ID] = recs
		for _, r := range recs {
			size += int64(len(r.State) + len(r.Key) + len(r.SubKey) + len(r.Value))
		}
	}
	return size, nil
}

// Commit makes checkpoint id the completed one: every part takes its
// latest version staged at or below id.
func (m *Mem) Commit(id checkpoint.ID, epoch checkpoint.Epoch, meta []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last != nil && id <= m.last.ID {
		return fmt.Errorf("state: commit of checkpoint %d, but %d already completed", id, m.last.ID)
	}
	for p, versions := range m.staged {
		if v, ok := latestAtOrBelow(versions, id); ok {
			m.current[p] = versions[v]
		}
		maps.DeleteFunc(versions, func(v checkpoint.ID, _ []Record) bool { return v <= id })
		if len(versions) == 0 {
			delete(m.staged, p)
		}
	}
	m.last = &Completed{ID: id, Epoch: epoch, Meta: slices.Clone(meta)}
	return nil
}

func latestAtOrBelow(versions map[checkpoint.ID][]Record, id checkpoint.ID) (checkpoint.ID, bool) {
	var best checkpoint.ID
	for v := range versions {
		if v <= id && v > best {
			best = v
		}
	}
	return best, best != 0
}

// Abandon drops everything staged above the last completed checkpoint.
func (m *Mem) Abandon() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.staged)
	return nil
}

// Load returns the last completed checkpoint's state of component's
// keyGroups and task's task scope.
func (m *Mem) Load(component topology.ComponentID, task topology.TaskID, keyGroups []int) (map[uint32][]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[uint32][]Record, len(keyGroups)+1)
	for _, g := range keyGroups {
		out[uint32(g)] = m.current[part{component: string(component), group: uint32(g)}]
	}
	if recs, ok := m.current[part{component: string(component), group: TaskScope, task: int32(task)}]; ok {
		out[TaskScope] = recs
	}
	return out, nil
}

// ErrNoState: Of was called in a task that has no keyed state (a bolt that
// does not declare any, or a spout).
var ErrNoState = errors.New("state: this task keeps no state: the bolt must implement topology.StateDeclarer")

// Of returns the state of the task tc belongs to: call it in the Prepare of
// a bolt that declares state (topology.StateDeclarer) and register its
// handles there (NewValue, NewMap, NewKeyValueState). The runtime sets the
// current key before every Execute; in squall.guarantee=exactly-once it
// snapshots the state at each checkpoint and restores it after a failure,
// and in the other modes the state lives as long as the task.
func Of(tc *topology.Context) (*Backend, error) {
	if b, ok := topoaccess.StateOf(tc).(*Backend); ok && b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("%w (component %q, task %d)", ErrNoState, tc.Component, tc.Task)
}
