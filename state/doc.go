// Package state is squall's keyed state for exactly-once topologies: typed
// handles (Value[T], Map[K,V], Timers) scoped to the key of the tuple being
// processed and to its key group, the snapshot a task takes at each
// checkpoint barrier, the changelog records that make it durable, Storm's
// IStatefulBolt/KeyValueState shape for ported code, and Dir, the local
// store of squall.state.dir that applies only completed checkpoints.
//
// Where it sits in spout -> router -> bolt -> tracker -> spout: the router
// sends a keyed tuple to the task serving its key group (a fields grouping;
// the key group is the routing hash of the grouping values mod the
// component's number of tasks). Before it calls the bolt's Execute, the
// bolt's executor calls [Backend.SetCurrentKey] with that key group and the
// canonical bytes of the grouping values, so every handle reads and writes
// the current key's entries. When the task's [checkpoint.Aligner] says
// Snapshot, the executor calls [Backend.Snapshot], which swaps the dirty
// set out in one step and returns what the task's store needs:
//
//   - [Changes], the changelog records written since the last snapshot, for
//     the Kafka participant to produce into the checkpoint's transaction
//     (one compacted topic per stateful component, records made by
//     [EncodeChangelog]);
//   - [Groups], the whole state of every key group that changed, for a
//     directory store ([Dir.Stage]) in local mode.
//
// The executor acks the checkpoint only when that write is durable. When the
// coordinator's Commit command runs in local mode, [Dir.Commit] makes the
// checkpoint the directory's current one in a single rename. After a failure,
// the executor restores what [checkpoint.PlanRecovery] assigns it: [Dir.Load]
// or a changelog replay through [Backend.Apply], then [Backend.Restore].
//
// A Backend belongs to one task and is used from its goroutine only; the
// handles share that contract. Dir is safe for concurrent use.
package state
