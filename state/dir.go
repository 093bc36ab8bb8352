package state

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/state/internal/statepb"
	"github.com/squall-streams/squall/topology"
)

// Dir is the checkpoint store of a state directory (squall.state.dir), for
// local mode and tests: the durable truth when there is no Kafka.
//
// Tasks Stage the key groups that changed at a checkpoint (each a file of
// its own, named by the checkpoint, written to a temporary name, fsynced
// and renamed) before they ack it. The coordinator's Commit then writes the
// manifest of the checkpoint the same way: its rename is the commit point,
// and the manifest names, for every key group, the file of the latest
// checkpoint at or below it in which the group changed (so a group staged
// for an aborted checkpoint is carried by the next completed one).
// Nothing staged is ever visible before its checkpoint completes, and
// nothing completed is ever rewritten, so a SIGKILL at any point leaves the
// last completed checkpoint whole: no wipe, no repair. Files that are
// corrupt are reported with their path (ErrCorrupt), never skipped.
//
// Dir is safe for concurrent use: tasks stage from their own goroutines
// while the coordinator commits.
type Dir struct {
	path string

	mu       sync.Mutex
	current  *statepb.Manifest // nil: nothing completed
	previous *statepb.Manifest // kept on disk for an operator's fallback
	staged   map[part][]uint64 // versions above current, per part
}

// part is one file's identity: a key group of a component, or a task's
// task-scoped state (group TaskScope).
type part struct {
	component string
	group     uint32
	task      int32
}

// Completed is the last completed checkpoint of a Dir.
type Completed struct {
	ID    checkpoint.ID
	Epoch checkpoint.Epoch
	Meta  []byte // the coordinator's record, as given to Commit
}

const manifestPrefix = "MANIFEST-"

// OpenDir opens (creating it if need be) the state directory at path, on
// its last completed checkpoint. What a crash left behind (temporary files,
// groups staged for checkpoints that never completed) is removed; the
// restore that follows an open starts from the last completed checkpoint.
func OpenDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	d := &Dir{path: path, staged: map[part][]uint64{}}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			if err := os.Remove(filepath.Join(path, name)); err != nil {
				return nil, fmt.Errorf("state dir: removing a torn write: %w", err)
			}
			continue
		}
		if id, ok := strings.CutPrefix(name, manifestPrefix); ok {
			n, err := strconv.ParseUint(id, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w state dir %s: file %s is not a manifest name", ErrCorrupt, path, name)
			}
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	if len(ids) > 0 {
		newest := ids[len(ids)-1]
		m, err := d.readManifest(newest)
		if err != nil {
			hint := "no earlier completed checkpoint is kept"
			if len(ids) > 1 {
				hint = fmt.Sprintf("the previous completed checkpoint is %s: moving the corrupt manifest away restores from it, which may repeat output checkpoint %d committed", d.manifestPath(ids[len(ids)-2]), newest)
			}
			return nil, fmt.Errorf("%w (%s)", err, hint)
		}
		d.current = m
		if len(ids) > 1 {
			if prev, err := d.readManifest(ids[len(ids)-2]); err == nil {
				d.previous = prev
			}
		}
		for _, p := range m.GetParts() {
			if _, err := os.Stat(d.groupPath(partOf(p), p.GetCheckpoint())); err != nil {
				return nil, fmt.Errorf("%w state dir %s: checkpoint %d names %s, which cannot be read: %w", ErrCorrupt, path, m.GetCheckpoint(), d.groupPath(partOf(p), p.GetCheckpoint()), err)
			}
		}
	}
	if err := d.collect(true); err != nil {
		return nil, err
	}
	return d, nil
}

// Last returns the last completed checkpoint, if any.
func (d *Dir) Last() (Completed, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current == nil {
		return Completed{}, false
	}
	return Completed{ID: checkpoint.ID(d.current.GetCheckpoint()), Epoch: checkpoint.Epoch(d.current.GetEpoch()), Meta: slices.Clone(d.current.GetMeta())}, true
}

// Stage durably writes the key groups that changed in snap for component
// (task-scoped state as task's), as candidates for checkpoint snap.ID. Ack
// the checkpoint only after Stage returned nil. It returns the bytes
// written (the checkpoint's size at this task). A task stages its
// checkpoints in order, one at a time.
//
// If Stage fails, the changes the snapshot swapped out are durable nowhere:
// the task must report itself failed (a restore), not just decline, or the
// next completed checkpoint would miss them.
func (d *Dir) Stage(component topology.ComponentID, task topology.TaskID, snap *Snapshot) (int64, error) {
	d.mu.Lock()
	if d.current != nil && uint64(snap.ID) <= d.current.GetCheckpoint() {
		d.mu.Unlock()
		return 0, fmt.Errorf("state dir %s: stage of checkpoint %d, but %d already completed", d.path, snap.ID, d.current.GetCheckpoint())
	}
	d.mu.Unlock()
	var written int64
	var parts []part
	for _, g := range slices.Sorted(maps.Keys(snap.Groups)) {
		p := part{component: string(component), group: g}
		if g == TaskScope {
			p.task = int32(task)
		}
		msg := &statepb.Group{Component: p.component, KeyGroup: g, Checkpoint: uint64(snap.ID), Task: p.task}
		for _, r := range snap.Groups[g] {
			msg.Entries = append(msg.Entries, &statepb.Record{KeyGroup: r.KeyGroup, State: r.State, Key: r.Key, SubKey: r.SubKey, Value: r.Value})
		}
		if err := os.MkdirAll(d.componentDir(p.component), 0o755); err != nil {
			return written, fmt.Errorf("state dir: %w", err)
		}
		n, err := writeFramed(d.groupPath(p, uint64(snap.ID)), msg)
		written += n
		if err != nil {
			return written, fmt.Errorf("state dir: checkpoint %d, component %q, key group %d: %w", snap.ID, component, g, err)
		}
		parts = append(parts, p)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current != nil && uint64(snap.ID) <= d.current.GetCheckpoint() {
		// A later checkpoint completed while this one was written: it was
		// aborted, and what it staged can never be part of a manifest now.
		for _, p := range parts {
			os.Remove(d.groupPath(p, uint64(snap.ID)))
		}
		return written, fmt.Errorf("state dir %s: stage of checkpoint %d finished after checkpoint %d completed", d.path, snap.ID, d.current.GetCheckpoint())
	}
	for _, p := range parts {
		if !slices.Contains(d.staged[p], uint64(snap.ID)) {
			d.staged[p] = append(d.staged[p], uint64(snap.ID))
		}
	}
	return written, nil
}

// Commit makes checkpoint id the directory's completed checkpoint, with
// the coordinator's record meta: one manifest, renamed into place. An error
// wrapping checkpoint.ErrIndefinite means the manifest was renamed but the
// directory could not be synced: it may or may not survive a crash.
func (d *Dir) Commit(id checkpoint.ID, epoch checkpoint.Epoch, meta []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current != nil && uint64(id) <= d.current.GetCheckpoint() {
		return fmt.Errorf("state dir %s: commit of checkpoint %d, but %d already completed", d.path, id, d.current.GetCheckpoint())
	}
	latest := map[part]uint64{}
	if d.current != nil {
		for _, p := range d.current.GetParts() {
			latest[partOf(p)] = p.GetCheckpoint()
		}
	}
	for p, versions := range d.staged {
		for _, v := range versions {
			if v <= uint64(id) && v > latest[p] {
				latest[p] = v
			}
		}
	}
	m := &statepb.Manifest{Checkpoint: uint64(id), Epoch: uint64(epoch), Meta: meta}
	for _, p := range slices.SortedFunc(maps.Keys(latest), compareParts) {
		m.Parts = append(m.Parts, &statepb.Part{Component: p.component, KeyGroup: p.group, Task: p.task, Checkpoint: latest[p]})
	}
	if _, err := writeFramed(d.manifestPath(uint64(id)), m); err != nil {
		if errors.Is(err, errDirSync) {
			d.advance(m)
			return fmt.Errorf("state dir %s: checkpoint %d: %w: %w", d.path, id, checkpoint.ErrIndefinite, err)
		}
		return fmt.Errorf("state dir %s: checkpoint %d: %w", d.path, id, err)
	}
	d.advance(m)
	return d.collect(false)
}

func (d *Dir) advance(m *statepb.Manifest) {
	d.previous, d.current = d.current, m
	for p, versions := range d.staged {
		versions = slices.DeleteFunc(versions, func(v uint64) bool { return v <= m.GetCheckpoint() })
		if len(versions) == 0 {
			delete(d.staged, p)
		} else {
			d.staged[p] = versions
		}
	}
}

// Abandon drops everything staged for checkpoints that did not complete:
// the topology restores to the last completed one, and what was staged
// after it describes a history that is being rolled back.
func (d *Dir) Abandon() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.staged)
	return d.collect(true)
}

// Load reads the state that the last completed checkpoint holds for
// component's key groups keyGroups, and task's task-scoped state, for
// Backend.Restore. A key group the checkpoint has no file for is empty.
func (d *Dir) Load(component topology.ComponentID, task topology.TaskID, keyGroups []int) (map[uint32][]Record, error) {
	d.mu.Lock()
	m := d.current
	d.mu.Unlock()
	out := make(map[uint32][]Record, len(keyGroups)+1)
	want := map[part]bool{{component: string(component), group: TaskScope, task: int32(task)}: true}
	for _, g := range keyGroups {
		out[uint32(g)] = nil
		want[part{component: string(component), group: uint32(g)}] = true
	}
	for _, mp := range m.GetParts() {
		p := partOf(mp)
		if !want[p] {
			continue
		}
		path := d.groupPath(p, mp.GetCheckpoint())
		var g statepb.Group
		if err := readFramed(path, &g); err != nil {
			return nil, err
		}
		if g.GetComponent() != p.component || g.GetKeyGroup() != p.group || g.GetTask() != p.task || g.GetCheckpoint() != mp.GetCheckpoint() {
			return nil, fmt.Errorf("%w state file %s: holds component %q key group %d task %d of checkpoint %d", ErrCorrupt, path, g.GetComponent(), g.GetKeyGroup(), g.GetTask(), g.GetCheckpoint())
		}
		recs := make([]Record, 0, len(g.GetEntries()))
		for _, e := range g.GetEntries() {
			if e.GetKeyGroup() != p.group {
				return nil, fmt.Errorf("%w state file %s: entry of key group %d", ErrCorrupt, path, e.GetKeyGroup())
			}
			recs = append(recs, Record{KeyGroup: e.GetKeyGroup(), State: e.GetState(), Key: e.GetKey(), SubKey: e.GetSubKey(), Value: e.GetValue()})
		}
		out[p.group] = recs
	}
	return out, nil
}

// collect removes files no manifest kept on disk references: superseded
// group versions, manifests older than the previous one, and (when
// abandon) every staged group above the current checkpoint and every
// temporary file.
func (d *Dir) collect(abandon bool) error {
	keep := map[string]bool{}
	var cur, prev uint64
	for _, m := range []*statepb.Manifest{d.current, d.previous} {
		if m == nil {
			continue
		}
		keep[d.manifestPath(m.GetCheckpoint())] = true
		for _, p := range m.GetParts() {
			keep[d.groupPath(partOf(p), p.GetCheckpoint())] = true
		}
	}
	if d.current != nil {
		cur = d.current.GetCheckpoint()
	}
	if d.previous != nil {
		prev = d.previous.GetCheckpoint()
	}
	var errs []error
	remove := func(path string) {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	err := filepath.WalkDir(d.path, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || keep[path] {
			return err
		}
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			if abandon { // a torn write; never while tasks may be staging
				remove(path)
			}
			return nil
		}
		if id, ok := strings.CutPrefix(name, manifestPrefix); ok {
			if n, err := strconv.ParseUint(id, 10, 64); err == nil && n < max(prev, cur) && n != prev {
				remove(path)
			}
			return nil
		}
		if v, ok := groupVersion(name); ok && (v <= cur || abandon) {
			remove(path)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("state dir %s: removing unreferenced files: %w", d.path, err)
	}
	return nil
}

func (d *Dir) readManifest(id uint64) (*statepb.Manifest, error) {
	var m statepb.Manifest
	path := d.manifestPath(id)
	if err := readFramed(path, &m); err != nil {
		return nil, err
	}
	if m.GetCheckpoint() != id {
		return nil, fmt.Errorf("%w state file %s: holds checkpoint %d", ErrCorrupt, path, m.GetCheckpoint())
	}
	return &m, nil
}

func (d *Dir) manifestPath(id uint64) string {
	return filepath.Join(d.path, fmt.Sprintf("%s%020d", manifestPrefix, id))
}

func (d *Dir) componentDir(component string) string {
	return filepath.Join(d.path, "c-"+url.PathEscape(component))
}

func (d *Dir) groupPath(p part, version uint64) string {
	if p.group == TaskScope {
		return filepath.Join(d.componentDir(p.component), fmt.Sprintf("task-%010d-%020d.group", p.task, version))
	}
	return filepath.Join(d.componentDir(p.component), fmt.Sprintf("kg-%010d-%020d.group", p.group, version))
}

// groupVersion is the checkpoint in a group file's name.
func groupVersion(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ".group")
	if !ok {
		return 0, false
	}
	i := strings.LastIndexByte(base, '-')
	if i < 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(base[i+1:], 10, 64)
	return v, err == nil
}

func partOf(p *statepb.Part) part {
	return part{component: p.GetComponent(), group: p.GetKeyGroup(), task: p.GetTask()}
}

func compareParts(a, b part) int {
	if c := strings.Compare(a.component, b.component); c != 0 {
		return c
	}
	if a.group != b.group {
		if a.group < b.group {
			return -1
		}
		return 1
	}
	return int(a.task) - int(b.task)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDirSync: the rename happened, the directory sync did not.
var errDirSync = errors.New("syncing the directory after the rename")

// writeFramed writes msg, framed with its CRC-32C, to path atomically:
// a temporary file, fsync, rename, fsync of the directory.
func writeFramed(path string, msg proto.Message) (int64, error) {
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		return 0, err
	}
	b, err := proto.Marshal(&statepb.Frame{Payload: payload, Crc32C: crc32.Checksum(payload, castagnoli)})
	if err != nil {
		return 0, err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err == nil {
		err = dir.Sync()
		dir.Close()
	}
	if err != nil {
		return int64(len(b)), fmt.Errorf("%w: %w", errDirSync, err)
	}
	return int64(len(b)), nil
}

// readFramed reads a file writeFramed wrote into msg, checking its CRC.
func readFramed(path string, msg proto.Message) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w state file %s: %w", ErrCorrupt, path, err)
	}
	var f statepb.Frame
	if err := proto.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w state file %s (%d bytes): %w", ErrCorrupt, path, len(b), err)
	}
	if got := crc32.Checksum(f.GetPayload(), castagnoli); got != f.GetCrc32C() || len(f.GetPayload()) == 0 && f.GetCrc32C() == 0 {
		return fmt.Errorf("%w state file %s (%d bytes): CRC-32C %08x, the frame says %08x", ErrCorrupt, path, len(b), got, f.GetCrc32C())
	}
	if err := proto.Unmarshal(f.GetPayload(), msg); err != nil {
		return fmt.Errorf("%w state file %s: %w", ErrCorrupt, path, err)
	}
	return nil
}
