package state

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/squall-streams/squall/checkpoint"
)

// TaskScope is the key group of task-scoped state (Storm's KeyValueState):
// it belongs to one task, not to a key, and cannot move to another task.
const TaskScope = math.MaxUint32

// Errors callers branch on. Match with errors.Is.
var (
	// ErrNoCurrentKey: keyed state was used outside a keyed tuple (in
	// Prepare, or for a tuple that came through no fields grouping).
	ErrNoCurrentKey = errors.New("state: keyed state used with no current key (is the bolt fed by a fields grouping?)")
	// ErrNotOwned: the key group is not served by this task; routing and
	// state disagree.
	ErrNotOwned = errors.New("state: key group not served by this task")
	// ErrDuplicateName: two handles registered under one name.
	ErrDuplicateName = errors.New("state: state name registered twice")
)

// Record is one changelog record: the new value of one entry of one key
// group, or its deletion (Tombstone).
type Record struct {
	KeyGroup  uint32
	State     string // the handle's registered name
	Key       []byte // the current key; empty for task-scoped state
	SubKey    []byte // a Map's encoded key, a timer's time; empty for a Value
	Value     []byte
	Tombstone bool
}

// entry identifies one entry inside a key group.
type entry struct{ state, key, sub string }

func compareEntries(a, b entry) int {
	return cmp.Or(strings.Compare(a.state, b.state), strings.Compare(a.key, b.key), strings.Compare(a.sub, b.sub))
}

// group is one key group's entries.
type group map[entry][]byte

// Snapshot is what a task's state is at one checkpoint barrier.
type Snapshot struct {
	ID checkpoint.ID
	// Changes are the records written since the previous snapshot, by key
	// group, state, key and sub key: what the changelog needs.
	Changes []Record
	// Groups is the whole state of every key group that changed since the
	// previous snapshot, each sorted like Changes, without tombstones: what
	// a directory store writes.
	Groups map[uint32][]Record
}

// Backend is one task's keyed state in memory: the key groups it serves,
// what changed since the last snapshot, and the current key. Handles
// (Value, Map, Timers, KeyValueState) are registered on it by name.
type Backend struct {
	groups map[uint32]group
	dirty  map[uint32]map[entry]struct{}
	names  map[string]bool
	timers []*Timers

	cur    uint32
	curKey string
	keyed  bool
}

// NewBackend makes the state of a task serving keyGroups (and its own
// task-scoped state), empty.
func NewBackend(keyGroups []int) *Backend {
	b := &Backend{groups: map[uint32]group{TaskScope: {}}, dirty: map[uint32]map[entry]struct{}{}, names: map[string]bool{}}
	for _, g := range keyGroups {
		b.groups[uint32(g)] = group{}
	}
	return b
}

// register claims name for a handle. Users' names are not empty and do not
// start with "__", which squall's own handles use.
func (b *Backend) register(name string, internal bool) error {
	if name == "" || (!internal && strings.HasPrefix(name, "__")) {
		return fmt.Errorf("state: name %q: names are non-empty and the prefix \"__\" is reserved", name)
	}
	if b.names[name] {
		return fmt.Errorf("%w: %q", ErrDuplicateName, name)
	}
	b.names[name] = true
	return nil
}

// KeyGroups returns the key groups this task serves, ascending.
func (b *Backend) KeyGroups() []int {
	var out []int
	for g := range b.groups {
		if g != TaskScope {
			out = append(out, int(g))
		}
	}
	slices.Sort(out)
	return out
}

// SetCurrentKey makes key (the canonical bytes of the grouping values) of
// key group keyGroup the key that keyed handles read and write, until the
// next call. The executor calls it before Execute for every keyed tuple.
func (b *Backend) SetCurrentKey(keyGroup int, key []byte) error {
	g := uint32(keyGroup)
	if _, ok := b.groups[g]; !ok || g == TaskScope {
		b.keyed = false
		return fmt.Errorf("%w: key group %d (this task serves %v)", ErrNotOwned, keyGroup, b.KeyGroups())
	}
	b.cur, b.curKey, b.keyed = g, string(key), true
	return nil
}

// ClearCurrentKey leaves keyed scope: keyed handles fail with
// ErrNoCurrentKey until the next SetCurrentKey.
func (b *Backend) ClearCurrentKey() { b.keyed = false }

func (b *Backend) current() (uint32, string, error) {
	if !b.keyed {
		return 0, "", ErrNoCurrentKey
	}
	return b.cur, b.curKey, nil
}

func (b *Backend) get(g uint32, e entry) ([]byte, bool) {
	v, ok := b.groups[g][e]
	return v, ok
}

func (b *Backend) put(g uint32, e entry, v []byte) {
	b.groups[g][e] = v
	b.markDirty(g, e)
}

func (b *Backend) del(g uint32, e entry) {
	if _, ok := b.groups[g][e]; !ok {
		return
	}
	delete(b.groups[g], e)
	b.markDirty(g, e)
}

func (b *Backend) markDirty(g uint32, e entry) {
	d := b.dirty[g]
	if d == nil {
		d = map[entry]struct{}{}
		b.dirty[g] = d
	}
	d[e] = struct{}{}
}

// Contents says what a Snapshot carries: the changelog's records, the
// directory store's whole groups, or both.
type Contents int

// What a Snapshot may carry.
const (
	// Changes: the records written since the previous snapshot (Kafka's
	// changelog).
	Changes Contents = 1 << iota
	// Groups: the whole state of every key group that changed (Dir).
	Groups
)

// Snapshot swaps out what changed since the previous snapshot as the state
// of checkpoint id, with the contents asked for. The returned records share
// no memory with the backend: the task goes on processing while they are
// written.
func (b *Backend) Snapshot(id checkpoint.ID, contents Contents) *Snapshot {
	s := &Snapshot{ID: id}
	var a arena
	if contents&Groups != 0 {
		s.Groups = make(map[uint32][]Record, len(b.dirty))
	}
	if contents&Changes != 0 {
		n := 0
		for _, d := range b.dirty {
			n += len(d)
		}
		s.Changes = make([]Record, 0, n)
	}
	for _, g := range slices.Sorted(mapKeys(b.dirty)) {
		gr := b.groups[g]
		if contents&Changes != 0 {
			for _, e := range sortedEntries(b.dirty[g]) {
				v, ok := gr[e]
				s.Changes = append(s.Changes, a.record(g, e, v, !ok))
			}
		}
		if contents&Groups != 0 {
			all := make([]Record, 0, len(gr))
			for _, e := range sortedEntries(gr) {
				all = append(all, a.record(g, e, gr[e], false))
			}
			s.Groups[g] = all
		}
	}
	clear(b.dirty)
	return s
}

// arena copies the bytes of many records into a few large buffers, so a
// snapshot of a million entries is a few allocations, not millions.
type arena struct{ buf []byte }

func arenaCopy[S ~string | ~[]byte](a *arena, s S) []byte {
	if len(s) > cap(a.buf)-len(a.buf) {
		a.buf = make([]byte, 0, max(1<<20, len(s)))
	}
	n := len(a.buf)
	a.buf = append(a.buf, s...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

func (a *arena) record(g uint32, e entry, v []byte, tombstone bool) Record {
	r := Record{KeyGroup: g, State: e.state, Key: arenaCopy(a, e.key), SubKey: arenaCopy(a, e.sub), Tombstone: tombstone}
	if !tombstone && v != nil {
		r.Value = arenaCopy(a, v)
	}
	return r
}

// Restore replaces the state of the key groups in groups (as Snapshot or
// Dir.Load return them) and forgets what changed since the last snapshot:
// the task rolls back to a checkpoint. Key groups not in groups are
// emptied; the task serves exactly the key groups of groups, plus its task
// scope.
func (b *Backend) Restore(groups map[uint32][]Record) error {
	next := map[uint32]group{TaskScope: {}}
	for g, recs := range groups {
		gr := group{}
		for _, r := range recs {
			if r.KeyGroup != g {
				return fmt.Errorf("state: restore of key group %d: record of key group %d", g, r.KeyGroup)
			}
			if !r.Tombstone {
				gr[entry{r.State, string(r.Key), string(r.SubKey)}] = slices.Clone(r.Value)
			}
		}
		next[g] = gr
	}
	b.groups = next
	clear(b.dirty)
	b.keyed = false
	b.rebuildTimers()
	return nil
}

// Apply replays one changelog record onto a key group this task serves
// (restoring from Kafka: records up to the checkpoint's end offsets, in
// order). Applied records are not dirty.
func (b *Backend) Apply(r Record) error {
	gr, ok := b.groups[r.KeyGroup]
	if !ok {
		return fmt.Errorf("%w: changelog record of key group %d (this task serves %v)", ErrNotOwned, r.KeyGroup, b.KeyGroups())
	}
	e := entry{r.State, string(r.Key), string(r.SubKey)}
	if r.Tombstone {
		delete(gr, e)
	} else {
		gr[e] = slices.Clone(r.Value)
	}
	b.addTimer(r.KeyGroup, e, r.Tombstone)
	return nil
}

// Release hands key group g off (a live rebalance moved it to another
// task, at a checkpoint boundary): it returns the group's whole state and
// stops serving it. The group must have no changes since the last snapshot,
// or they would be lost.
func (b *Backend) Release(g int) ([]Record, error) {
	gr, ok := b.groups[uint32(g)]
	if !ok || uint32(g) == TaskScope {
		return nil, fmt.Errorf("%w: release of key group %d", ErrNotOwned, g)
	}
	if len(b.dirty[uint32(g)]) > 0 {
		return nil, fmt.Errorf("state: release of key group %d: %d changes since the last snapshot; release only at a checkpoint boundary", g, len(b.dirty[uint32(g)]))
	}
	out := make([]Record, 0, len(gr))
	var a arena
	for _, e := range sortedEntries(gr) {
		out = append(out, a.record(uint32(g), e, gr[e], false))
	}
	delete(b.groups, uint32(g))
	if b.keyed && b.cur == uint32(g) {
		b.keyed = false
	}
	b.rebuildTimers()
	return out, nil
}

// Acquire starts serving key group g with the state another task released.
// The acquired state counts as changed, so the next snapshot carries the
// group whole (its new owner's first checkpoint of it).
func (b *Backend) Acquire(g int, recs []Record) error {
	if _, ok := b.groups[uint32(g)]; ok {
		return fmt.Errorf("state: acquire of key group %d: already served here", g)
	}
	gr := group{}
	for _, r := range recs {
		if r.KeyGroup != uint32(g) {
			return fmt.Errorf("state: acquire of key group %d: record of key group %d", g, r.KeyGroup)
		}
		e := entry{r.State, string(r.Key), string(r.SubKey)}
		gr[e] = slices.Clone(r.Value)
	}
	b.groups[uint32(g)] = gr
	for e := range gr {
		b.markDirty(uint32(g), e)
	}
	b.rebuildTimers()
	return nil
}

// sortedEntries returns m's entries in order (snapshots and files are
// deterministic).
func sortedEntries[V any](m map[entry]V) []entry {
	es := make([]entry, 0, len(m))
	for e := range m {
		es = append(es, e)
	}
	slices.SortFunc(es, compareEntries)
	return es
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
