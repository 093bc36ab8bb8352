// Package nimbus serves the subset of Apache Storm's Nimbus Thrift API that
// streamparse 5.0.1's `sparse submit`, `list` and `kill` use, so a
// streamparse project submits to squall unchanged.
//
// # Where it sits
//
// It is a front door, beside the node's HTTP API: it decodes Thrift calls
// (package storm, framed transport, binary protocol), keeps jar uploads,
// turns a submitted StormTopology into a Flux definition (Convert) and the
// jar's resources/ into the resources tarball (Resources), and hands the
// result to a Backend — the node — which submits it like any Flux
// topology. Nothing here runs tuples.
package nimbus
