package flux_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/squall-streams/squall/flux"
	"github.com/squall-streams/squall/topology"
)

// TestGuaranteeFromConfig: a Flux file sets squall.guarantee under config:
// (node run's --set overrides it), a bad value names its line, and
// exactly-once is refused with the reason.
func TestGuaranteeFromConfig(t *testing.T) {
	file := func(g string) []byte {
		return []byte("name: g\nconfig:\n  squall.guarantee: " + g + "\nspouts:\n  - {id: s, command: x, outputs: {default: [n]}}\n" +
			"bolts:\n  - {id: b, command: y}\nstreams:\n  - {from: s, to: b, grouping: {type: SHUFFLE}}\n")
	}
	topo, err := flux.Load(file("at-most-once"))
	if err != nil {
		t.Fatal(err)
	}
	if topo.Runtime.Guarantee != topology.AtMostOnce || len(topo.Trackers) != 0 || topo.Config[topology.GuaranteeKey] != "at-most-once" {
		t.Errorf("guarantee %q, %d trackers, config %v", topo.Runtime.Guarantee, len(topo.Trackers), topo.Config[topology.GuaranteeKey])
	}
	topo, err = flux.Load(file("at-most-once"), flux.WithConfig(topology.Config{topology.GuaranteeKey: "at-least-once"}))
	if err != nil || topo.Runtime.Guarantee != topology.AtLeastOnce || len(topo.Trackers) != 1 {
		t.Errorf("--set at-least-once over the file: %v, %+v", err, topo)
	}

	_, err = flux.Load(file("sometimes"))
	if err == nil || !strings.Contains(err.Error(), "line 3: config.squall.guarantee:") {
		t.Errorf("bad value: %v, want it on line 3", err)
	}

	_, err = flux.Load(file("exactly-once"))
	if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), `spout "s" cannot snapshot its position`) {
		t.Errorf("exactly-once: %v, want refused, naming the shell spout", err)
	}
}
