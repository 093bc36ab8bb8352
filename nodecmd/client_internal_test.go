package nodecmd

import (
	"errors"
	"io"
	"maps"
	"slices"
	"testing"
	"time"
)

// TestParseClientArgsTakesStormsSpellings: Storm's CLI spellings are
// aliases of squall's flags, before or after the topology's name.
func TestParseClientArgsTakesStormsSpellings(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		args []string
		pos  []string
		wait time.Duration
		par  map[string]int
		n    int // -n given; -1 not given
	}{
		{"rebalance", []string{"wc", "-e", "count=4", "-w", "10", "-n", "3"}, []string{"wc"}, 10 * time.Second, map[string]int{"count": 4}, 3},
		{"rebalance", []string{"-e", "split=2", "wc", "-e", "count=6"}, []string{"wc"}, 30 * time.Second, map[string]int{"split": 2, "count": 6}, -1},
		{"rebalance", []string{"wc", "--parallelism", "count=4", "--wait", "1m"}, []string{"wc"}, time.Minute, map[string]int{"count": 4}, -1},
		{"rebalance", []string{"wc", "-n", "0"}, []string{"wc"}, 30 * time.Second, map[string]int{}, 0},
		{"kill", []string{"wc", "-w", "5"}, []string{"wc"}, 5 * time.Second, map[string]int{}, -1},
		{"kill", []string{"wc", "-w", "0"}, []string{"wc"}, 0, map[string]int{}, -1},
		{"kill", []string{"wc", "--wait", "45"}, []string{"wc"}, 45 * time.Second, map[string]int{}, -1}, // seconds, as Storm's REST route
		{"kill", []string{"wc", "--wait", "1500ms"}, []string{"wc"}, 1500 * time.Millisecond, map[string]int{}, -1},
		{"kill", []string{"wc"}, []string{"wc"}, 30 * time.Second, map[string]int{}, -1},
		{"activate", []string{"wc"}, []string{"wc"}, 30 * time.Second, map[string]int{}, -1},
		{"deactivate", []string{"wc"}, []string{"wc"}, 30 * time.Second, map[string]int{}, -1},
		{"list", nil, nil, 30 * time.Second, map[string]int{}, -1},
	} {
		a, err := parseClientArgs(tc.cmd, tc.args, io.Discard)
		if err != nil {
			t.Errorf("%s %v: %v", tc.cmd, tc.args, err)
			continue
		}
		n := -1
		if a.numWorkersSet {
			n = a.numWorkers
		}
		if !slices.Equal(a.pos, tc.pos) || a.wait != tc.wait || !maps.Equal(a.parallelism, tc.par) || n != tc.n {
			t.Errorf("%s %v: pos %v wait %v parallelism %v n %d; want %v %v %v %d", tc.cmd, tc.args, a.pos, a.wait, a.parallelism, n, tc.pos, tc.wait, tc.par, tc.n)
		}
	}
	for _, args := range [][]string{
		{"wc", "-w", "soon"},
		{"wc", "-w", "99999999999999999999"},
		{"wc", "-w", "9223372037"}, // past waittime.Max
		{"wc", "-e", "count"},
		{"wc", "-n", "many"},
	} {
		if _, err := parseClientArgs("rebalance", args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("rebalance %v: %v, want a usage error", args, err)
		}
	}
}
