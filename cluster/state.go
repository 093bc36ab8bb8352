package cluster

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/internal/specguard"
	"github.com/squall-streams/squall/messages"
)

// State is the set of submitted topologies a node knows, replicated by
// gossip: every node merges what it receives, and for each name the spec
// with the higher version wins (ties: killed wins, then the larger
// encoding), so every node converges to the same set whatever the order of
// delivery. Killed topologies stay as tombstones so a late message cannot
// resurrect them. Safe for concurrent use.
type State struct {
	mu    sync.Mutex
	specs map[string]*messages.TopologySpec
	clock uint64 // the highest version seen: new versions go above it
}

// NewState returns an empty state.
func NewState() *State { return &State{specs: map[string]*messages.TopologySpec{}} }

// Put records a local change to spec (a submit, kill, activate or
// deactivate), giving it a version above every version seen, and returns
// the stored copy. A spec too big to gossip, alone or with the rest of
// the state, and a version that would pass specguard.MaxVersion are
// refused (specguard.ErrSpec) and change nothing.
func (s *State) Put(spec *messages.TopologySpec) (*messages.TopologySpec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := proto.Clone(spec).(*messages.TopologySpec)
	v, err := specguard.NextVersion(s.clock)
	if err != nil {
		return nil, err
	}
	c.Version = v
	if err := s.fits(c); err != nil {
		return nil, err
	}
	s.clock = v
	s.specs[c.Name] = c
	return proto.Clone(c).(*messages.TopologySpec), nil
}

// CheckSubmit refuses, before anything is stored or gossiped, a submit
// whose spec would be too big to gossip (specguard.MaxSpecBytes alone,
// MaxStateBytes with the rest of the state). withResources counts the
// resources digest the submit adds to conf.
func (s *State) CheckSubmit(name, kind string, conf map[string]string, withResources bool) error {
	c := make(map[string]string, len(conf)+1)
	maps.Copy(c, conf)
	if withResources {
		c[ConfResourcesDigest] = strings.Repeat("0", 64) // a SHA-256 in hex
	}
	// The largest version and times a spec can carry: the check holds
	// for the spec Put will store.
	spec := &messages.TopologySpec{Name: name, Kind: kind, Conf: c, Active: true,
		Version: specguard.MaxVersion, SubmittedUnixMs: math.MaxInt64}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fits(spec)
}

// fits checks spec alone and the state with spec in it (in place of the
// spec of its name). s.mu is held.
func (s *State) fits(spec *messages.TopologySpec) error {
	if err := specguard.CheckSubmit(spec); err != nil {
		return err
	}
	all := make([]*messages.TopologySpec, 0, len(s.specs)+1)
	for name, sp := range s.specs {
		if name != spec.Name {
			all = append(all, sp)
		}
	}
	return specguard.CheckState(append(all, spec))
}

// Merge folds remote specs in and reports whether anything changed. A
// spec that fails specguard.CheckRemote (too big, a version past
// specguard.MaxVersion, counts out of range) is left out: it never
// reaches the state or the version clock.
func (s *State) Merge(specs []*messages.TopologySpec) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, r := range specs {
		if specguard.CheckRemote(r) != nil {
			continue
		}
		s.clock = max(s.clock, r.Version)
		if l := s.specs[r.Name]; l == nil || newer(r, l) {
			s.specs[r.Name] = proto.Clone(r).(*messages.TopologySpec)
			changed = true
		}
	}
	return changed
}

func newer(a, b *messages.TopologySpec) bool {
	if a.Version != b.Version {
		return a.Version > b.Version
	}
	if a.Killed != b.Killed {
		return a.Killed
	}
	ea, _ := proto.MarshalOptions{Deterministic: true}.Marshal(a)
	eb, _ := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	return string(ea) > string(eb)
}

// Killed reports whether the topology called name is known and killed.
func (s *State) Killed(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.specs[name]
	return ok && sp.Killed
}

// Get returns a copy of the spec called name.
func (s *State) Get(name string) (*messages.TopologySpec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.specs[name]
	if !ok {
		return nil, false
	}
	return proto.Clone(sp).(*messages.TopologySpec), true
}

// All returns copies of every spec (tombstones included), sorted by name.
func (s *State) All() []*messages.TopologySpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*messages.TopologySpec, 0, len(s.specs))
	for _, k := range slices.Sorted(maps.Keys(s.specs)) {
		out = append(out, proto.Clone(s.specs[k]).(*messages.TopologySpec))
	}
	return out
}

// Encode returns the state for memberlist's push/pull.
func (s *State) Encode() []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(&messages.ClusterState{Topologies: s.All()})
	return b
}

// DecodeState parses what Encode produced. Malformed bytes are an error.
func DecodeState(b []byte) ([]*messages.TopologySpec, error) {
	var cs messages.ClusterState
	if err := proto.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("cluster: malformed state (%d bytes): %w", len(b), err)
	}
	return cs.Topologies, nil
}
