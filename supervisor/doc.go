// Package supervisor runs topologies on a node: it is the supervision tree
//
//	Node -> topology supervisor -> task actors (spouts, bolts, trackers)
//
// A Node owns the actor system. Starting a topology spawns one supervisor
// actor for it, which spawns a task actor per task assigned to the node and
// restarts a crashed task after a capped exponential backoff (Backoff):
// protoactor's own "exponential" strategy is linear and unbounded. A task
// catches panics of user code itself, fails the tuple and counts the error;
// it crashes on purpose only when Open or Prepare fails or user code keeps
// panicking, and a crashed task fails the tuples it held at once so their
// spouts replay them.
//
// Stopping is two-tier like Storm's kill: Drain deactivates the spouts and
// waits for the trees in flight to complete, then Stop stops every task and
// waits for them. Recovery of a dead node's tasks is not done here: the
// cluster drives it from membership and tells the Node which tasks to run.
package supervisor
