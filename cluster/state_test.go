package cluster

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

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
	p := s.Put(spec("b", 0, false))
	if p.Version != 42 {
		t.Fatalf("version %d, want 42", p.Version)
	}
	k := s.Put(spec("a", 0, true))
	if k.Version != 43 || !k.Killed {
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
	f.Fuzz(func(t *testing.T, b []byte) {
		specs, err := DecodeState(b)
		if err != nil {
			return
		}
		NewState().Merge(specs) // must not panic on any decoded input
	})
}
