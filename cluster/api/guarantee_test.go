package api_test

import (
	"fmt"
	"testing"

	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/topology"
)

// TestPagesShowTheGuarantee: the topology page and the topology summary
// carry squallGuarantee, from this node's build when it has one (and
// squall.guarantee is then in the configuration), else from the submitted
// configuration, else the default.
func TestPagesShowTheGuarantee(t *testing.T) {
	amo := func(t *testing.T) *topology.Topology {
		b := topology.NewBuilder("ids")
		b.SetSpout("ids", func() topology.Spout { return nil }, 1).Output("id", "key")
		b.SetBolt("sink", func() topology.Bolt { return nil }, 2).FieldsGrouping("ids", "key")
		top, err := b.Build(topology.Config{topology.GuaranteeKey: "at-most-once"})
		if err != nil {
			t.Fatal(err)
		}
		return top
	}
	for _, tc := range []struct {
		name  string
		built func(t *testing.T) *topology.Topology // nil: this node has no build
		conf  map[string]string                     // submitted
		want  string
	}{
		{"built at-most-once", amo, map[string]string{topology.GuaranteeKey: "at-most-once"}, "at-most-once"},
		{"built by default", idsTopology, nil, "at-least-once"},
		{"not built, submitted", nil, map[string]string{topology.GuaranteeKey: "At_Most_Once"}, "at-most-once"},
		{"not built, none submitted", nil, nil, "at-least-once"},
		{"not built, not a guarantee", nil, map[string]string{topology.GuaranteeKey: "twice"}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.specs[1].Conf = tc.conf
			delete(f.built, "ids")
			if tc.built != nil {
				f.built["ids"] = tc.built(t)
			}
			call := serve(t, f, api.Config{})

			var tp obj
			call("GET", fmt.Sprintf("/api/v1/topology/ids-%d", submitted), "", "", &tp)
			if tp["squallGuarantee"] != tc.want {
				t.Errorf("topology page squallGuarantee = %#v, want %q", tp["squallGuarantee"], tc.want)
			}
			conf, _ := tp["configuration"].(obj)
			if tc.built != nil && conf[topology.GuaranteeKey] != tc.want {
				t.Errorf("configuration %s = %#v, want %q", topology.GuaranteeKey, conf[topology.GuaranteeKey], tc.want)
			}
			if tc.want == "at-most-once" && tc.built != nil && conf[topology.AckerExecutors] != 0.0 {
				t.Errorf("configuration %s = %#v, want 0 (at-most-once runs no tracker)", topology.AckerExecutors, conf[topology.AckerExecutors])
			}

			var ts struct{ Topologies []obj }
			call("GET", "/api/v1/topology/summary", "", "", &ts)
			if len(ts.Topologies) != 1 || ts.Topologies[0]["squallGuarantee"] != tc.want {
				t.Errorf("topology summary = %v, want squallGuarantee %q", ts.Topologies, tc.want)
			}
		})
	}
}
