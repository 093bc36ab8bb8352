// Package cluster will turn the in-process runtime into a cluster of peer
// nodes: membership by gossip (hashicorp/memberlist), topologies
// disseminated through versioned gossip state, the assignment of tasks to
// nodes, the task -> PID directory across nodes, and the remote transport.
//
// What exists so far is its pure core: Place, the deterministic placement of
// tasks on nodes that every node computes alike from the same membership
// view and topology set, so no node has to decide for the others.
package cluster
