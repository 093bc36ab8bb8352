// Command node is squall's one binary: a cluster node (node --help), the
// cluster's client (submit, list, kill, rebalance...), and a local runner
// (node run TOPOLOGY), with squall's own topologies registered. It is
// package nodecmd with package topologies' Registry; a node binary of your
// own with your own Go topologies is the same few lines (see nodecmd).
package main

import (
	"context"
	"os"

	"github.com/squall-streams/squall/nodecmd"
	"github.com/squall-streams/squall/topologies"
)

func main() {
	os.Exit(nodecmd.Main(context.Background(), os.Args[1:], topologies.Registry()))
}
