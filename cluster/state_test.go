package cluster

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/internal/specguard"
	"github.com/squall-streams/squall/messages"
)

func spec(name string, v uint64, killed bool) *messages.TopologySpec {
	return &messages.TopologySpec{Name: name, Kind: "wordcount", Version: v, Killed: killed}
}

func TestStateMergeHigherVersionWins(t *testing.T) {
	cases := []struct {
		name      string
		have, got *messages.TopologySpec
		changed   bool
		want      uint64
		killed    bool
	}{
		{"new name", nil, spec("a", 1, false), true, 1, false},
		{"newer", spec("a", 1, false), spec("a", 2, true), true, 2, true},
		{"older ignored", spec("a", 3, false), spec("a", 2, true), false, 3, false},
		{"same version: killed wins", spec("a", 2, false), spec("a", 2, true), true, 2, true},
		{"same version: live loses to tombstone", spec("a", 2, true), spec("a", 2, false), false, 2, true},
		{"identical", spec("a", 2, false), spec("a", 2, false), false, 2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewState()
			if c.have != nil {
				s.Merge([]*messages.TopologySpec{c.have})
			}
			if got := s.Merge([]*messages.TopologySpec{c.got}); got != c.changed {
				t.Errorf("changed = %v, want %v", got, c.changed)
			}
			sp, _ := s.Get("a")
			if sp.Version != c.want || sp.Killed != c.killed {
				t.Errorf("got v%d killed=%v, want v%d killed=%v", sp.Version, sp.Killed, c.want, c.killed)
			}
		})
	}
}

func TestStatePutGoesAboveEverythingSeen(t *testing.T) {
	s := NewState()
	s.Merge([]*messages.TopologySpec{spec("a", 41, false)})
	p, err := s.Put(spec("b", 0, false))
	if err != nil || p.Version != 42 {
		t.Fatalf("version %d (%v), want 42", p.Version, err)
	}
	k, err := s.Put(spec("a", 0, true))
	if err != nil || k.Version != 43 || !k.Killed {
		t.Fatalf("kill got %+v", k)
	}
}

// Nodes that receive the same updates in any order end in the same state.
func TestStateConvergesInAnyOrder(t *testing.T) {
	var updates []*messages.TopologySpec
	for i := range 40 {
		updates = append(updates, spec(string(rune('a'+i%5)), uint64(1+i%7), i%3 == 0))
	}
	ref := NewState()
	ref.Merge(updates)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(updates), func(i, j int) { updates[i], updates[j] = updates[j], updates[i] })
		s := NewState()
		for _, u := range updates {
			s.Merge([]*messages.TopologySpec{u})
		}
		if string(s.Encode()) != string(ref.Encode()) {
			t.Fatal("states diverged")
		}
	}
}

func TestDecodeStateRejectsGarbage(t *testing.T) {
	if _, err := DecodeState([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Fatal("garbage decoded")
	}
	s := NewState()
	s.Put(&messages.TopologySpec{Name: "x", Conf: map[string]string{"k": "v"}})
	got, err := DecodeState(s.Encode())
	if err != nil || len(got) != 1 || !proto.Equal(got[0], s.All()[0]) {
		t.Fatalf("round trip: %v %v", got, err)
	}
}

func FuzzDecodeState(f *testing.F) {
	s := NewState()
	s.Put(&messages.TopologySpec{Name: "x", Kind: "wordcount", Conf: map[string]string{"k": "v"}})
	f.Add(s.Encode())
	wrap := NewState()
	wrap.specs["w"] = spec("w", math.MaxUint64, false) // a spec that wrapped the clock
	f.Add(wrap.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		specs, err := DecodeState(b)
		if err != nil {
			return
		}
		s := NewState()
		s.Merge(specs) // must not panic on any decoded input
		for _, sp := range s.All() {
			if err := specguard.CheckRemote(sp); err != nil {
				t.Fatalf("merged a spec CheckRemote refuses: %v", err)
			}
		}
		// The clock never passes MaxVersion, and a local change goes just
		// above it unless it is at the limit: versions never wrap.
		before := s.clock
		switch p, err := s.Put(spec("local", 0, false)); {
		case before > specguard.MaxVersion:
			t.Fatalf("the clock reached %d, past the limit", before)
		case err == nil && p.Version != before+1:
			t.Fatalf("a local change after clock %d got version %d", before, p.Version)
		case err != nil && before < specguard.MaxVersion:
			t.Fatalf("a local change after clock %d: %v", before, err)
		}
	})
}

// TestStateMergeValidatesRemoteSpecs: a spec from gossip that fails
// specguard.CheckRemote never reaches the state nor the version clock: a
// version of 2^64-1 wrapped the clock and wedged every node's state, and
// a spec over the size limit split the cluster.
func TestStateMergeValidatesRemoteSpecs(t *testing.T) {
	huge := spec("big", 1, false)
	huge.Conf = map[string]string{"blob": strings.Repeat("x", specguard.MaxSpecBytes+1)}
	for _, bad := range []*messages.TopologySpec{
		nil,
		spec("", 1, false),
		spec("a", math.MaxUint64, false),
		spec("a", specguard.MaxVersion+1, false),
		spec("a", 0, false),
		{Name: "a", Version: 1}, // no kind
		huge,
		{Name: "a", Kind: "k", Version: 1, Parallelism: map[string]int32{"c": 0}},
	} {
		s := NewState()
		if s.Merge([]*messages.TopologySpec{bad}) {
			t.Errorf("merged %v", bad)
		}
		if all := s.All(); len(all) != 0 {
			t.Errorf("state holds %v after merging %v", all, bad)
		}
		if p, err := s.Put(spec("b", 0, false)); err != nil || p.Version != 1 {
			t.Errorf("after merging %v the next local version is %v (%v), want 1", bad, p, err)
		}
	}
	// Beside a spec it refuses, a good one in the same message still merges.
	s := NewState()
	if !s.Merge([]*messages.TopologySpec{spec("a", math.MaxUint64, false), spec("b", 7, false)}) {
		t.Fatal("the good spec was not merged")
	}
	if got := s.All(); len(got) != 1 || got[0].Name != "b" || got[0].Version != 7 {
		t.Fatalf("state %v, want b v7 only", got)
	}
}

// TestStatePutNeverWraps: at specguard.MaxVersion a local change is
// refused instead of wrapping the version to 0, and changes nothing.
func TestStatePutNeverWraps(t *testing.T) {
	s := NewState()
	s.Merge([]*messages.TopologySpec{spec("a", specguard.MaxVersion, false)})
	if p, err := s.Put(spec("a", 0, true)); !errors.Is(err, specguard.ErrSpec) {
		t.Fatalf("Put at the version limit: %v, %v; want specguard.ErrSpec", p, err)
	}
	if got, _ := s.Get("a"); got.Version != specguard.MaxVersion || got.Killed {
		t.Fatalf("a refused Put changed the state: %v", got)
	}
}

// TestStatePutAndCheckSubmitBoundTheSpec: a spec over
// specguard.MaxSpecBytes is refused by CheckSubmit (before a submit stores
// anything) and by Put (nothing stored, nothing to gossip), naming the
// limit; one that fits is not.
func TestStatePutAndCheckSubmitBoundTheSpec(t *testing.T) {
	s := NewState()
	over := map[string]string{"blob": strings.Repeat("x", specguard.MaxSpecBytes)}
	under := map[string]string{"blob": strings.Repeat("x", specguard.MaxSpecBytes-1024)}
	for _, withResources := range []bool{false, true} {
		if err := s.CheckSubmit("big", "k", over, withResources); !errors.Is(err, specguard.ErrSpec) || !strings.Contains(err.Error(), "over the limit of 1048576") {
			t.Errorf("CheckSubmit of %d bytes of config: %v", len(over["blob"]), err)
		}
		if err := s.CheckSubmit("ok", "k", under, withResources); err != nil {
			t.Errorf("CheckSubmit of %d bytes of config: %v", len(under["blob"]), err)
		}
	}
	if _, err := s.Put(&messages.TopologySpec{Name: "big", Kind: "k", Conf: over}); !errors.Is(err, specguard.ErrSpec) {
		t.Errorf("Put of an oversized spec: %v", err)
	}
	if all := s.All(); len(all) != 0 {
		t.Errorf("state holds %d specs after a refused Put", len(all))
	}
	// Sixteen specs that fit alone do not fit together.
	for i := range 16 {
		if _, err := s.Put(&messages.TopologySpec{Name: fmt.Sprint("t", i), Kind: "k", Conf: under}); err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	if err := s.CheckSubmit("one-more", "k", under, false); !errors.Is(err, specguard.ErrSpec) || !strings.Contains(err.Error(), "16 MiB") {
		t.Errorf("CheckSubmit over the state limit: %v", err)
	}
	if err := s.CheckSubmit("t3", "k", under, false); err != nil {
		t.Errorf("CheckSubmit replacing a spec of the same name: %v", err)
	}
}
