// Package actors is squall's runtime: one protoactor-go actor per task.
//
// It is the whole tuple flow
//
//		spout task -> (routing in the spout) -> bolt task -> tracker task -> spout task
//
//	  - A spout task (spout.go) calls NextTuple while it has credit: fewer
//	    pending trees than topology.max.spout.pending, and fewer untracked
//	    tuples queued in the topology than topology.executor.receive.buffer.size.
//	    It sends itself a next message per round of calls, so acks, fails and
//	    control messages interleave with emission in one mailbox. An emit with
//	    a message id draws a random root id and one random edge id per
//	    destination task, and tells the tracker shard of the root (Mix64(root)
//	    mod #trackers) the XOR of those edges.
//	  - Routing (routing.go, over the pure choosers of internal/routing) runs inside the
//	    emitting task: hash(fields) to a key group with xxhash over a canonical
//	    encoding, round robin, broadcast, lowest task, the emitter's choice,
//	    local first, two-choice partial key, or the user's custom grouping.
//	    Each stream's router actor (router.go) owns the stream's routing
//	    table (live parallelism, key-group owners, directory snapshot,
//	    epoch) and swaps in a new immutable one on every assignment and
//	    rescale (Env.Reroute); emitting tasks pick it up at their next emit,
//	    so no tuple passes through a router's mailbox.
//	  - output.go buffers tuples per destination task and tracker updates per
//	    tracker task, and sends a batch when it is full or when the task's
//	    mailbox has drained what was queued before it (a flush message the task
//	    sends itself): big batches under load, no added delay when idle.
//	  - A bolt task (bolt.go) executes tuples, remembers the ones the bolt holds
//	    in O(1), and turns Ack into one tracker update per tree: the input's
//	    edge XOR every edge created from it; Fail fails the trees.
//	  - A tracker task (tracker.go) keeps the Ledger (ledger.go) and tells spout
//	    tasks which trees completed or failed, in batches. The spout owns the
//	    timeout (expiring.go: FIFO over the pending map, exact to a tick).
//	  - Every task counts what it does in its TaskStats (stats.go), every
//	    tuple, without sampling: counters, edges per (stream, consumer),
//	    execute and process time (timing.go: no clock read per tuple for
//	    bolts that ack inside Execute), complete latency, gauges its
//	    component sets. The clock samples them for Storm UI's 10 minute,
//	    3 hour and 1 day windows (windows.go).
//
// User code runs only on its task's goroutine; panics in it are caught,
// counted and fail the tuple, and a task past its panic budget crashes on
// purpose so its supervisor (package supervisor) restarts it. Tasks find each
// other through a Directory; the local one is a slice, the cluster's
// resolves remote tasks. Nothing here knows about gossip or the network.
package actors
