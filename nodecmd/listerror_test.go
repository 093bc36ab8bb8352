package nodecmd

import (
	"strings"
	"testing"

	"github.com/squall-streams/squall/cluster"
)

// TestListError: node list's LAST ERROR column names the components that
// keep crashing and the first line of a last error (a traceback's first
// line), bounded; "-" when all is well.
func TestListError(t *testing.T) {
	tb := "Traceback (most recent call last):\n  File \"bolt.py\", line 3\nZeroDivisionError: division by zero"
	for _, tc := range []struct {
		name string
		in   cluster.TopologyInfo
		want string
	}{
		{"healthy", cluster.TopologyInfo{Bolts: []cluster.ComponentStats{{Component: "count"}}}, "-"},
		{"a traceback", cluster.TopologyInfo{Bolts: []cluster.ComponentStats{{Component: "split", LastError: tb}}},
			"split: Traceback (most recent call last):"},
		{"failing", cluster.TopologyInfo{Failing: []string{"split"}, Bolts: []cluster.ComponentStats{{Component: "split", LastError: "died"}}},
			"failing: split; split: died"},
		{"long", cluster.TopologyInfo{Spouts: []cluster.ComponentStats{{Component: "s", LastError: strings.Repeat("x", 200)}}},
			"s: " + strings.Repeat("x", 76) + "…"},
	} {
		if got := listError(tc.in); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
