package state

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"slices"
)

// Value is one value of type T per key: a count, a last-seen time.
type Value[T any] struct {
	b     *Backend
	name  string
	codec Codec[T]
}

// NewValue registers a Value under name (unique per task, stable across
// versions: it is stored).
func NewValue[T any](b *Backend, name string, codec Codec[T]) (*Value[T], error) {
	if err := b.register(name, false); err != nil {
		return nil, err
	}
	return &Value[T]{b: b, name: name, codec: codec}, nil
}

// Get returns the current key's value and whether it has one.
func (v *Value[T]) Get() (T, bool, error) {
	var zero T
	g, k, err := v.b.current()
	if err != nil {
		return zero, false, fmt.Errorf("value %q: %w", v.name, err)
	}
	raw, ok := v.b.get(g, entry{v.name, k, ""})
	if !ok {
		return zero, false, nil
	}
	x, err := v.codec.Decode(raw)
	if err != nil {
		return zero, false, fmt.Errorf("value %q, key group %d: %w", v.name, g, err)
	}
	return x, true, nil
}

// Set makes x the current key's value.
func (v *Value[T]) Set(x T) error {
	g, k, err := v.b.current()
	if err != nil {
		return fmt.Errorf("value %q: %w", v.name, err)
	}
	raw, err := v.codec.Append(nil, x)
	if err != nil {
		return fmt.Errorf("value %q: %w", v.name, err)
	}
	v.b.put(g, entry{v.name, k, ""}, raw)
	return nil
}

// Clear removes the current key's value.
func (v *Value[T]) Clear() error {
	g, k, err := v.b.current()
	if err != nil {
		return fmt.Errorf("value %q: %w", v.name, err)
	}
	v.b.del(g, entry{v.name, k, ""})
	return nil
}

// Map is a map from K to V per key: per-user counters under a region key,
// window contents under a key.
type Map[K, V any] struct {
	b      *Backend
	name   string
	keys   Codec[K]
	values Codec[V]
}

// NewMap registers a Map under name.
func NewMap[K, V any](b *Backend, name string, keys Codec[K], values Codec[V]) (*Map[K, V], error) {
	if err := b.register(name, false); err != nil {
		return nil, err
	}
	return &Map[K, V]{b: b, name: name, keys: keys, values: values}, nil
}

func (m *Map[K, V]) at(k K) (uint32, entry, error) {
	g, cur, err := m.b.current()
	if err != nil {
		return 0, entry{}, fmt.Errorf("map %q: %w", m.name, err)
	}
	sub, err := m.keys.Append(nil, k)
	if err != nil {
		return 0, entry{}, fmt.Errorf("map %q: key: %w", m.name, err)
	}
	return g, entry{m.name, cur, string(sub)}, nil
}

// Get returns the value of k under the current key and whether there is one.
func (m *Map[K, V]) Get(k K) (V, bool, error) {
	var zero V
	g, e, err := m.at(k)
	if err != nil {
		return zero, false, err
	}
	raw, ok := m.b.get(g, e)
	if !ok {
		return zero, false, nil
	}
	v, err := m.values.Decode(raw)
	if err != nil {
		return zero, false, fmt.Errorf("map %q, key group %d: %w", m.name, g, err)
	}
	return v, true, nil
}

// Put sets k to v under the current key.
func (m *Map[K, V]) Put(k K, v V) error {
	g, e, err := m.at(k)
	if err != nil {
		return err
	}
	raw, err := m.values.Append(nil, v)
	if err != nil {
		return fmt.Errorf("map %q: %w", m.name, err)
	}
	m.b.put(g, e, raw)
	return nil
}

// Delete removes k under the current key.
func (m *Map[K, V]) Delete(k K) error {
	g, e, err := m.at(k)
	if err != nil {
		return err
	}
	m.b.del(g, e)
	return nil
}

// Range calls fn for every entry under the current key, in the order of
// the encoded keys, until fn returns false. fn must not change the Map.
func (m *Map[K, V]) Range(fn func(K, V) bool) error {
	g, cur, err := m.b.current()
	if err != nil {
		return fmt.Errorf("map %q: %w", m.name, err)
	}
	var subs []string
	for e := range m.b.groups[g] {
		if e.state == m.name && e.key == cur {
			subs = append(subs, e.sub)
		}
	}
	slices.Sort(subs)
	for _, sub := range subs {
		k, err := m.keys.Decode([]byte(sub))
		if err != nil {
			return fmt.Errorf("map %q, key group %d: key: %w", m.name, g, err)
		}
		v, err := m.values.Decode(m.b.groups[g][entry{m.name, cur, sub}])
		if err != nil {
			return fmt.Errorf("map %q, key group %d: %w", m.name, g, err)
		}
		if !fn(k, v) {
			return nil
		}
	}
	return nil
}

const timerPrefix = "__timer:"

// Timer is a timer that fired: the shell makes its key current and calls
// the bolt's timer callback.
type Timer struct {
	Time     int64 // event time, in the unit the bolt registered (ms by convention)
	KeyGroup int
	Key      []byte
}

// Timers are per-key event-time timers (what windows fire on), stored as
// state so they are in every snapshot and restore with it. Registering the
// same time twice for a key is one timer.
type Timers struct {
	b    *Backend
	name string
	q    timerHeap
}

// NewTimers registers a timer service under name.
func NewTimers(b *Backend, name string) (*Timers, error) {
	if err := b.register(name, false); err != nil {
		return nil, err
	}
	if err := b.register(timerPrefix+name, true); err != nil {
		return nil, err
	}
	t := &Timers{b: b, name: timerPrefix + name}
	b.timers = append(b.timers, t)
	return t, nil
}

func timeKey(ts int64) string {
	// Big endian with the sign bit flipped, so that times sort as bytes.
	return string(binary.BigEndian.AppendUint64(nil, uint64(ts)^(1<<63)))
}

func keyTime(s string) (int64, bool) {
	if len(s) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64([]byte(s)) ^ (1 << 63)), true
}

// Register sets a timer at time ts for the current key.
func (t *Timers) Register(ts int64) error {
	g, k, err := t.b.current()
	if err != nil {
		return fmt.Errorf("timers %q: %w", t.name[len(timerPrefix):], err)
	}
	e := entry{t.name, k, timeKey(ts)}
	if _, ok := t.b.get(g, e); ok {
		return nil
	}
	t.b.put(g, e, nil)
	heap.Push(&t.q, timerItem{ts: ts, group: g, key: k})
	return nil
}

// Delete removes the current key's timer at ts, if there is one.
func (t *Timers) Delete(ts int64) error {
	g, k, err := t.b.current()
	if err != nil {
		return fmt.Errorf("timers %q: %w", t.name[len(timerPrefix):], err)
	}
	t.b.del(g, entry{t.name, k, timeKey(ts)})
	return nil
}

// Advance removes and returns every timer at or before watermark, by time,
// then key group, then key.
func (t *Timers) Advance(watermark int64) []Timer {
	var fired []Timer
	for t.q.Len() > 0 && t.q[0].ts <= watermark {
		it := heap.Pop(&t.q).(timerItem)
		e := entry{t.name, it.key, timeKey(it.ts)}
		if _, ok := t.b.get(it.group, e); !ok {
			continue // deleted, or its key group moved away
		}
		t.b.del(it.group, e)
		fired = append(fired, Timer{Time: it.ts, KeyGroup: int(it.group), Key: []byte(it.key)})
	}
	return fired
}

// Len is the number of timers set.
func (t *Timers) Len() int {
	n := 0
	for g, gr := range t.b.groups {
		if g == TaskScope {
			continue
		}
		for e := range gr {
			if e.state == t.name {
				n++
			}
		}
	}
	return n
}

func (b *Backend) rebuildTimers() {
	for _, t := range b.timers {
		t.q = t.q[:0]
		for g, gr := range b.groups {
			for e := range gr {
				if e.state == t.name {
					if ts, ok := keyTime(e.sub); ok {
						t.q = append(t.q, timerItem{ts: ts, group: g, key: e.key})
					}
				}
			}
		}
		heap.Init(&t.q)
	}
}

func (b *Backend) addTimer(g uint32, e entry, tombstone bool) {
	if tombstone {
		return // the heap skips timers whose entry is gone
	}
	for _, t := range b.timers {
		if t.name == e.state {
			if ts, ok := keyTime(e.sub); ok {
				heap.Push(&t.q, timerItem{ts: ts, group: g, key: e.key})
			}
		}
	}
}

type timerItem struct {
	ts    int64
	group uint32
	key   string
}

type timerHeap []timerItem

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].ts != h[j].ts {
		return h[i].ts < h[j].ts
	}
	if h[i].group != h[j].group {
		return h[i].group < h[j].group
	}
	return h[i].key < h[j].key
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerItem)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
