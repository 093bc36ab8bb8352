package supervisor

import (
	"testing"

	"github.com/squall-streams/squall/topology"
)

func TestParseTaskActorID(t *testing.T) {
	for _, tc := range []struct {
		id         string
		topo, inst string
		task       topology.TaskID
		ok         bool
	}{
		{TaskActorID("wc", "0123abcd", 7), "wc", "0123abcd", 7, true},
		{TaskActorID("a/b", "x", 1), "a/b", "x", 1, true},
		{"no-such-actor", "", "", 0, false},
		{"/x/t1", "", "", 0, false},
		{"wc//t1", "", "", 0, false},
		{"wc/x/", "", "", 0, false},
		{"wc/x/tx", "", "", 0, false},
		{"wc/x/7", "", "", 0, false},
		{"wc/x/t-1", "", "", 0, false},
	} {
		topo, inst, task, ok := ParseTaskActorID(tc.id)
		if topo != tc.topo || inst != tc.inst || task != tc.task || ok != tc.ok {
			t.Errorf("ParseTaskActorID(%q) = %q, %q, %d, %v; want %q, %q, %d, %v", tc.id, topo, inst, task, ok, tc.topo, tc.inst, tc.task, tc.ok)
		}
	}
}
