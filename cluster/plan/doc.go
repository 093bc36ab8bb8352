// Package plan is the cluster's planner: a pure, deterministic function
// from what every node sees alike — the live members (name, boot id,
// capacity) and the live topologies (their tasks and the parallelism and
// routing of their spec) — to the node that runs every task, and the
// epochs that number the result.
//
// It sits before everything a tuple meets: the planner decides on which
// node each spout, bolt and tracker task runs; package cluster then starts
// those tasks through package supervisor and resolves the others through
// its directory, and the routing of every stream follows the Routing
// counts a Plan reports. Nothing here does I/O, takes a lock or reads a
// clock: every node computes the same Plan from the same view, so nobody
// decides for anybody, and tests replay any history as a script
// (testdata/*.txt, checked against testdata/*.golden).
//
// The pieces, in the order a node uses them:
//
//   - Place is the placement itself: rendezvous hashing bounded by every
//     member's capacity-weighted share (see Place). It is the algorithm a
//     running cluster depends on at upgrade time: testdata/placement.golden
//     pins it.
//   - Compute turns members and Topology values into a Plan: each
//     topology's running tasks (its Parallelism, its spec's overrides
//     applied), in placement priority, placed by Place; the Routing
//     emitters use; each topology's Epoch, which changes whenever a task
//     moves, starts or stops, its node restarts, or its routing changes;
//     and the Wire epoch, a hash of the members' incarnations that batches
//     between nodes carry.
//   - Plan.Steps compares a node's share of a Plan with what the node runs
//     and returns what to do: start, apply (a new epoch, task set or
//     activation) or stop a topology. The node (cluster.Node) computes the
//     Plan and the steps under its lock and carries them out outside it.
//
// The shell around it is cluster.Node's reconcile loop (node.go, reconcile.go),
// in the way etcd's raft splits RawNode from Node.
package plan
