package api

import (
	"errors"
	"testing"
	"time"

	"github.com/squall-streams/squall/actors"
)

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in, want, pretty string
	}{
		{"", ":all-time", "All time"},
		{":all-time", ":all-time", "All time"},
		{"all-time", ":all-time", "All time"},
		{"0", ":all-time", "All time"},
		{"600", "600", "10m 0s"},
		{"10800", "10800", "3h 0m 0s"},
		{"86400", "86400", "1d 0h 0m 0s"},
	} {
		w, err := parseWindow(tc.in)
		if err != nil || w.String() != tc.want || w.pretty() != tc.pretty {
			t.Errorf("parseWindow(%q) = %v %q %v, want %q %q", tc.in, w, w.pretty(), err, tc.want, tc.pretty)
		}
	}
	for _, in := range []string{"7", "601", "-600", "10m", "all"} {
		if _, err := parseWindow(in); !errors.Is(err, errBadRequest) {
			t.Errorf("parseWindow(%q): %v, want a bad request", in, err)
		}
	}
}

func TestPrettyDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0s",
		59*time.Second + 999*time.Millisecond: "59s",
		90 * time.Second:                      "1m 30s",
		3*time.Hour + 5*time.Second:           "3h 0m 5s",
		49*time.Hour + 61*time.Second:         "2d 1h 1m 1s",
	} {
		if got := prettyDuration(d); got != want {
			t.Errorf("prettyDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPrometheusNames(t *testing.T) {
	for in, want := range map[string]string{"kafka_lag": "kafka_lag", "queue.depth": "queue_depth", "a:b-c d": "a:b_c_d"} {
		if got := promName(in); got != want {
			t.Errorf("promName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"partition": "partition", "a:b": "a_b", "task": "label_task", "topology": "label_topology",
		"component": "label_component", "0p": "label_0p", "__x": "label___x", "": "label_",
	} {
		if got := gaugeLabel(in); got != want {
			t.Errorf("gaugeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestComponentTotalsSkipsShortReports: a task report with fewer windows
// than this version's (a peer of another version) must not crash the
// totals of GET /api/v1/topologies; it adds nothing to them.
func TestComponentTotalsSkipsShortReports(t *testing.T) {
	full := make([]actors.Counts, len(actors.Windows))
	full[len(full)-1] = actors.Counts{Executed: 7}
	got := ComponentTotals([]TaskInfo{
		{Task: 1, Component: "sink", Kind: "bolt", Windows: full},
		{Task: 2, Component: "sink", Kind: "bolt", Windows: []actors.Counts{{Executed: 1}}},
		{Task: 3, Component: "sink", Kind: "bolt"},
	})
	if len(got) != 1 || got[0].Tasks != 3 || got[0].Executed != 7 {
		t.Fatalf("ComponentTotals = %+v, want one component of 3 tasks with 7 executed", got)
	}
}
