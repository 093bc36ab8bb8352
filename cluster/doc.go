// Package cluster is the node as a library: it turns the in-process runtime
// into a cluster of peer nodes with no master.
//
//   - Membership is hashicorp/memberlist gossip, encrypted with a shared
//     key. Each node's metadata carries its transport address, HTTP address,
//     capacity and a boot id that is new for every process start.
//   - The submitted topologies are a State every node gossips and merges
//     (versioned specs, tombstones for kills): a topology survives the node
//     it was submitted to, and nodes that join later learn it by push/pull.
//   - Package plan computes, from the live members and the topologies,
//     which node runs each task, and the epochs that number the result.
//     Every node computes the same plan from the same view, so nobody
//     decides for anybody; views differ only for a moment, and
//     at-least-once replay covers that moment.
//   - Each node's reconcile loop (reconcile.go) is the thin shell around
//     the planner: it builds the topologies, plans under the node's lock,
//     and starts, re-assigns and stops its tasks outside it, so readers of
//     the node (members, local topologies, metrics) never wait behind a
//     build or a resources download (package resources).
//   - Each node runs its share through package supervisor and resolves the
//     other tasks through a directory: local tasks get Go values, remote
//     ones protobuf batches (internal/wire) over the transport (package
//     cluster/transport), one TCP connection per peer. Task addresses
//     carry the boot id, and batches the assignment epoch, so nothing
//     meant for a dead process or an old assignment is executed: it is
//     dropped and its trees replay.
//   - When memberlist declares a node dead the survivors place its tasks on
//     themselves; the trees it held time out at their spouts and replay.
//
// Nodes ask each other for what they run (in-flight counts, the applied
// placement) and for topologies' resources over the transport port
// (peers.go), so a node without the public HTTP API takes part fully.
//
// The HTTP API (package api, mounted by Handler through the Backend in
// backend.go) serves members, topologies and their counts summed over the
// nodes, and submit/kill/activate/deactivate; cmd/node's client commands
// speak it. clustertest starts in-process clusters for tests.
package cluster
