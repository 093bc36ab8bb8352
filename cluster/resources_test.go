package cluster

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster/resources"
	"github.com/squall-streams/squall/messages"
)

// TestUnusedResources is the table of what a node deletes from its store.
func TestUnusedResources(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	young, old := now.Add(-time.Second), now.Add(-orphanAge-time.Second)
	d := func(c string) string { return strings.Repeat(c, 64) }
	A, B, C := d("a"), d("b"), d("c")
	spec := func(name, digest string, killed bool) *messages.TopologySpec {
		s := &messages.TopologySpec{Name: name, Killed: killed, Conf: map[string]string{"x": "1"}}
		if digest != "" {
			s.Conf[ConfResourcesDigest] = digest
		}
		return s
	}
	digest := func(dg string, mod time.Time) resources.Entry { return resources.Entry{Digest: dg, ModTime: mod} }
	partial := func(name string, mod time.Time) resources.Entry {
		return resources.Entry{Partial: name, ModTime: mod}
	}
	for _, tc := range []struct {
		name      string
		entries   []resources.Entry
		specs     []*messages.TopologySpec
		running   []string
		abandoned string
		want      []string // names removed
	}{
		{name: "nothing stored", specs: []*messages.TopologySpec{spec("t", A, false)}},
		{name: "a live topology's resources stay, however old",
			entries: []resources.Entry{digest(A, old)}, specs: []*messages.TopologySpec{spec("t", A, false)}},
		{name: "a killed topology's resources go at once",
			entries: []resources.Entry{digest(A, young)}, specs: []*messages.TopologySpec{spec("t", A, true)},
			want: []string{A}},
		{name: "killed, but its tasks still run here: they stay",
			entries: []resources.Entry{digest(A, young)}, specs: []*messages.TopologySpec{spec("t", A, true)},
			running: []string{A}},
		{name: "two topologies share a digest: it stays while one lives",
			entries: []resources.Entry{digest(A, young)}, specs: []*messages.TopologySpec{spec("t1", A, true), spec("t2", A, false)}},
		{name: "both killed: it goes",
			entries: []resources.Entry{digest(A, young)}, specs: []*messages.TopologySpec{spec("t1", A, true), spec("t2", A, true)},
			want: []string{A}},
		{name: "resubmitted with other resources: the old ones go",
			entries: []resources.Entry{digest(A, young), digest(B, young)},
			specs:   []*messages.TopologySpec{spec("t", B, false), spec("old", A, true)},
			want:    []string{A}},
		{name: "named by no spec: stays while young (a submit in another process), goes once old",
			entries: []resources.Entry{digest(A, young), digest(B, old)}, specs: []*messages.TopologySpec{spec("t", "", false)},
			want: []string{B}},
		{name: "named by no spec but running here: stays",
			entries: []resources.Entry{digest(A, old)}, running: []string{A}},
		{name: "a rejected submit's digest goes at once",
			entries: []resources.Entry{digest(A, young), digest(B, young)}, abandoned: A,
			want: []string{A}},
		{name: "a rejected submit's digest that a live topology shares stays",
			entries: []resources.Entry{digest(A, young)}, specs: []*messages.TopologySpec{spec("t", A, false)}, abandoned: A},
		{name: "a rejected submit's digest running here stays",
			entries: []resources.Entry{digest(A, young)}, running: []string{A}, abandoned: A},
		{name: "partial writes go once old",
			entries: []resources.Entry{partial(".unpack-1", young), partial(".remove-2", old), partial("."+C+".tar.gz.3.tmp", old)},
			want:    []string{".remove-2", "." + C + ".tar.gz.3.tmp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			running := map[string]bool{}
			for _, r := range tc.running {
				running[r] = true
			}
			var got []string
			for _, e := range unusedResources(tc.entries, tc.specs, running, tc.abandoned, now) {
				got = append(got, e.Name())
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("removed %v, want %v", short(got), short(want))
			}
		})
	}
}

func short(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n[:min(len(n), 12)]
	}
	return out
}
