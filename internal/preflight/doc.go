// Package preflight decides whether a cluster node may start as
// configured (issue 11 item 2, "secure unless told otherwise"): a node
// needs a gossip key and a certs directory, or --insecure for a throwaway
// cluster with neither, and says what to run when it has not got them.
//
// # Where it sits
//
// At the top of `node` (cmd/node's daemon), before anything listens;
// `node run` (local mode, no gossip) does not call it. Outside the spout
// -> router -> bolt -> tracker -> spout flow.
package preflight
