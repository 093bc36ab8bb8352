package nodecmd

import (
	"fmt"
	"io"

	"github.com/squall-streams/squall/cluster"
)

// nimbusUsage is the help of `node --nimbus`.
const nimbusUsage = "Nimbus Thrift API `host:port` (Storm's is 127.0.0.1:6627), which streamparse's sparse submit, list and kill speak " +
	"(env SQUALL_NIMBUS; default: off). Loopback only: it has no authentication, so every local user of this host can submit topologies"

// printNimbus tells where the Nimbus API listens, when it is on.
func printNimbus(stderr io.Writer, n *cluster.Node) {
	if addr := n.NimbusAddr(); addr != "" {
		fmt.Fprintf(stderr, "node %s: nimbus %s (config.json: \"nimbus\": %q, \"use_ssh_for_nimbus\": false)\n", n.Name(), addr, addr)
	}
}
