package cluster

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

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
// the stored copy.
func (s *State) Put(spec *messages.TopologySpec) *messages.TopologySpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := proto.Clone(spec).(*messages.TopologySpec)
	s.clock++
	c.Version = s.clock
	s.specs[c.Name] = c
	return proto.Clone(c).(*messages.TopologySpec)
}

// Merge folds remote specs in and reports whether anything changed.
func (s *State) Merge(specs []*messages.TopologySpec) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, r := range specs {
		if r == nil || r.Name == "" {
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
