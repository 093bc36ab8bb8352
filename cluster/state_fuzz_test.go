package cluster

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/internal/specguard"
	"github.com/squall-streams/squall/messages"
)

// encodeSpecs is the push/pull payload of specs as a node would send it,
// without the checks Put makes: remote nodes may send anything.
func encodeSpecs(specs ...*messages.TopologySpec) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&messages.ClusterState{Topologies: specs})
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzMergeState merges a remote node's push/pull state, decoded from
// outside bytes, into a local state that already holds specs (itself any
// state a node could reach by merging). Whatever the bytes:
//   - nothing panics;
//   - no spec's version decreases, a killed spec is not revived at its
//     version, and the version clock never decreases nor passes
//     specguard.MaxVersion;
//   - every spec held passes specguard.CheckRemote (size, version, counts);
//   - Merge reports a change exactly when the state changed, merging the
//     same bytes again changes nothing, and two nodes that merge each
//     other's states in either order hold the same state (gossip converges);
//   - a local change after the merge gets the next version, or is refused
//     at the limit, never wrapping.
func FuzzMergeState(f *testing.F) {
	wc := func(name string, v uint64, killed bool) *messages.TopologySpec {
		return &messages.TopologySpec{Name: name, Kind: "wordcount", Version: v, Killed: killed, Active: !killed,
			Conf: map[string]string{"topology.workers": "2"}, Parallelism: map[string]int32{"split": 4}, Routing: map[string]int32{"split": 2}}
	}
	local := encodeSpecs(wc("a", 3, false), wc("b", 5, true), wc("c", 9, false))
	for _, remote := range [][]byte{
		nil,
		local,
		encodeSpecs(wc("a", 4, false), wc("b", 5, false), wc("c", 2, true), wc("d", 1, false)), // newer, a tie, older, new
		encodeSpecs(wc("a", 3, true), wc("c", 9, false)),                                       // ties at the same versions
		encodeSpecs(wc("a", math.MaxUint64, false), wc("e", specguard.MaxVersion, false)),      // a wrapping version, the limit
		encodeSpecs(wc("a", specguard.MaxVersion+1, true), wc("", 7, false), wc("f", 0, false)),
		encodeSpecs(&messages.TopologySpec{Name: "g", Kind: "k", Version: 8, Parallelism: map[string]int32{"x": 0}}),
		encodeSpecs(&messages.TopologySpec{Name: "h", Kind: "k", Version: 8, Parallelism: map[string]int32{"x": 2}, Routing: map[string]int32{"x": 3}}),
		encodeSpecs(&messages.TopologySpec{Name: "i", Kind: "k", Version: 8, SubmittedUnixMs: -1}),
		{0x0a, 0x80}, // a truncated spec
	} {
		f.Add(local, remote)
	}
	f.Add([]byte(nil), encodeSpecs(wc("a", 1, false)))

	f.Fuzz(func(t *testing.T, localBytes, remoteBytes []byte) {
		localSpecs, err := DecodeState(localBytes)
		if err != nil {
			return
		}
		remote, err := DecodeState(remoteBytes)
		if err != nil {
			return
		}
		s := NewState()
		s.Merge(localSpecs)
		before := map[string]*messages.TopologySpec{}
		for _, sp := range s.All() {
			before[sp.Name] = sp
		}
		clock, enc := s.clock, string(s.Encode())

		changed := s.Merge(remote)

		if changed != (string(s.Encode()) != enc) {
			t.Fatalf("Merge reported changed=%v, but the state changed: %v", changed, !changed)
		}
		if s.clock < clock || s.clock > specguard.MaxVersion {
			t.Fatalf("the clock went from %d to %d (limit %d)", clock, s.clock, uint64(specguard.MaxVersion))
		}
		for _, sp := range s.All() {
			if err := specguard.CheckRemote(sp); err != nil {
				t.Fatalf("the state holds a spec CheckRemote refuses: %v", err)
			}
			if sp.Version > s.clock {
				t.Fatalf("spec %q has version %d above the clock %d", sp.Name, sp.Version, s.clock)
			}
			old := before[sp.Name]
			if old == nil {
				continue
			}
			if sp.Version < old.Version {
				t.Fatalf("spec %q went from version %d down to %d", sp.Name, old.Version, sp.Version)
			}
			if sp.Version == old.Version && old.Killed && !sp.Killed {
				t.Fatalf("spec %q was revived at version %d", sp.Name, sp.Version)
			}
			delete(before, sp.Name)
		}
		if len(before) > 0 {
			t.Fatalf("a merge lost specs: %v", before)
		}

		// Merging the same state again is a no-op.
		again := string(s.Encode())
		if s.Merge(remote) || string(s.Encode()) != again {
			t.Fatal("merging the same remote state twice changed the state")
		}
		// The remote node, merging our state the other way, ends the same.
		other := NewState()
		other.Merge(remote)
		other.Merge(localSpecs)
		if string(other.Encode()) != again {
			t.Fatal("the two nodes diverged: merging in the other order gave another state")
		}

		clock = s.clock
		switch p, err := s.Put(spec("local-change", 0, false)); {
		case err == nil && p.Version != clock+1:
			t.Fatalf("a local change after clock %d got version %d", clock, p.Version)
		case err != nil && clock < specguard.MaxVersion:
			t.Fatalf("a local change after clock %d: %v", clock, err)
		}
	})
}
