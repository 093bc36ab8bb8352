package specguard

import (
	"errors"
	"math"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/messages"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func spec(edit func(*messages.TopologySpec)) *messages.TopologySpec {
	s := &messages.TopologySpec{
		Name: "wc", Kind: "wordcount", Version: 3, Active: true, SubmittedUnixMs: 1,
		Conf:        map[string]string{"topology.workers": "2"},
		Parallelism: map[string]int32{"split": 4},
		Routing:     map[string]int32{"split": 2},
	}
	if edit != nil {
		edit(s)
	}
	return s
}

func TestCheckSubmit(t *testing.T) {
	if err := CheckSubmit(spec(nil)); err != nil {
		t.Fatal(err)
	}
	big := spec(func(s *messages.TopologySpec) { s.Conf["blob"] = strings.Repeat("x", 25<<20) }) // the 25 MiB config
	err := CheckSubmit(big)
	if !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "1 MiB") || !strings.Contains(err.Error(), "resources") {
		t.Fatalf("25 MiB config: %v; want ErrSpec naming the limit and resources", err)
	}
	justUnder := spec(func(s *messages.TopologySpec) { s.Conf["blob"] = strings.Repeat("x", MaxSpecBytes-200) })
	if err := CheckSubmit(justUnder); err != nil {
		t.Errorf("a spec just under the limit: %v", err)
	}
}

func TestCheckRemote(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *messages.TopologySpec
		ok   bool
	}{
		{"a good spec", spec(nil), true},
		{"a tombstone", spec(func(s *messages.TopologySpec) { s.Killed, s.Active = true, false }), true},
		{"version at the limit", spec(func(s *messages.TopologySpec) { s.Version = MaxVersion }), true},
		{"version 2^64-1", spec(func(s *messages.TopologySpec) { s.Version = math.MaxUint64 }), false},
		{"version over the limit", spec(func(s *messages.TopologySpec) { s.Version = MaxVersion + 1 }), false},
		{"version 0", spec(func(s *messages.TopologySpec) { s.Version = 0 }), false},
		{"no name", spec(func(s *messages.TopologySpec) { s.Name = "" }), false},
		{"a name not UTF-8", spec(func(s *messages.TopologySpec) { s.Name = "\xff" }), false},
		{"no kind", spec(func(s *messages.TopologySpec) { s.Kind = "" }), false},
		{"parallelism 0", spec(func(s *messages.TopologySpec) { s.Parallelism["split"] = 0 }), false},
		{"negative parallelism", spec(func(s *messages.TopologySpec) { s.Parallelism["count"] = -5 }), false},
		{"routing above parallelism", spec(func(s *messages.TopologySpec) { s.Routing["split"] = 5 }), false},
		{"negative routing", spec(func(s *messages.TopologySpec) { s.Routing["split"] = -1 }), false},
		{"negative time", spec(func(s *messages.TopologySpec) { s.SubmittedUnixMs = -1 }), false},
		{"too big", spec(func(s *messages.TopologySpec) { s.Conf["blob"] = strings.Repeat("x", 2<<20) }), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRemote(tc.s)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrSpec)) {
				t.Fatalf("CheckRemote = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestCheckState(t *testing.T) {
	half := func(name string) *messages.TopologySpec {
		return spec(func(s *messages.TopologySpec) { s.Name, s.Conf["blob"] = name, strings.Repeat("x", 900<<10) })
	}
	var specs []*messages.TopologySpec
	for i := range 19 {
		specs = append(specs, half(string(rune('a'+i))))
	}
	if err := CheckState(specs[:18]); err != nil {
		t.Errorf("18 specs of 900 KiB: %v", err)
	}
	if err := CheckState(specs); !errors.Is(err, ErrSpec) {
		t.Errorf("19 specs of 900 KiB: %v, want over the state limit", err)
	}
}

func TestNextVersion(t *testing.T) {
	for _, tc := range []struct {
		clock, want uint64
		ok          bool
	}{
		{0, 1, true},
		{41, 42, true},
		{MaxVersion - 1, MaxVersion, true},
		{MaxVersion, 0, false},
		{math.MaxUint64, 0, false}, // would wrap to 0
	} {
		got, err := NextVersion(tc.clock)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NextVersion(%d) = %d, %v; want %d, ok %v", tc.clock, got, err, tc.want, tc.ok)
		}
	}
}
