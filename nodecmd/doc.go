// Package nodecmd is squall's node command as a library: a team builds its
// own node binary with its own Go topologies and gets every subcommand,
// flag and the web UI of cmd/node:
//
//	func main() {
//		reg := topologies.Registry() // squall's own, or none
//		reg["orders"] = nodecmd.Topology{Description: "...", Build: buildOrders}
//		os.Exit(nodecmd.Main(context.Background(), os.Args[1:], reg))
//	}
//
// The command is a cluster node (node --help), the cluster's client
// (submit, list, members, kill, activate, deactivate, rebalance, keygen;
// with --certs-dir over HTTPS with a client certificate), the maker of the
// cluster's certificates (node cert, package internal/certcmd) and a local
// runner:
//
//	node run TOPOLOGY [--set key=value]... [--http HOST:PORT] [--for D]
//	node run topology.yaml [--resources DIR] [--set key=value]...
//
// runs TOPOLOGY in this process, in the foreground, like `storm local`.
// A TOPOLOGY ending in .yaml or .yml is loaded with package flux; its shell
// (Python) components run in DIR (default: the file's directory).
// Ctrl-C or SIGTERM deactivates its spouts, drains the trees in flight and
// stops. A finite topology (the word count over a file) stops by itself when
// its input is done. With --http it runs on a one-node cluster in the
// process and serves the web UI and REST API at HOST:PORT.
//
// Where it sits: it wires package local (node run), package cluster (a
// node, and the client of its HTTP API) and package flux (YAML files) to a
// Registry; the topologies themselves are the team's (squall's own are in
// package topologies).
package nodecmd
