// Package checkpoint is the pure core of squall's exactly-once mode:
// Flink's asynchronous barrier snapshots, as plain single-threaded types
// driven by the events and the time they are given. Nothing here does I/O,
// starts a goroutine or reads a clock; the actor shell feeds events in and
// executes what comes back.
//
// Where it sits in spout -> router -> bolt -> tracker -> spout:
//
//   - The [Coordinator] replaces the tracker's role in exactly-once mode. One
//     per topology (the shell elects it through Kafka), it is ticked with the
//     time and answers with [Command]s: Trigger a checkpoint at the spouts,
//     Commit a checkpoint whose acks are all in (the shell writes the
//     completed record to the checkpoint store), Notify the tasks that it
//     completed (two-phase sinks commit), Abort one, or Restore everything to
//     the last completed checkpoint.
//   - Spouts snapshot their position on Trigger and emit a barrier on every
//     output channel, after their last tuple. Each channel (one upstream task
//     to one downstream task, whatever the stream) numbers what it carries
//     with a [Sender]; the router leaves barriers in-band with the tuples.
//   - Every bolt task checks each input channel with a [Receiver] (a gap, a
//     duplicate or a dead peer is a [ChannelError] that aborts the checkpoint
//     and restores, never a silent hole) and runs an [Aligner]: barrier n
//     blocks the channel it came on, the channel's later tuples are parked
//     up to a byte budget, and when n arrived on every input the task
//     snapshots, forwards n, acks it to the coordinator and drains the parked
//     tuples. A task with one input has nothing to align.
//   - A two-phase participant (the transactional Kafka bolt, a changelog
//     writer) keeps a [Ring] of transactional ids: at the barrier it
//     pre-commits the open transaction, on Complete it commits every pending
//     one the checkpoint covers, oldest first; a slot is never reused while
//     its transaction is pending.
//   - After a failure [PlanRecovery] picks the checkpoint to restore and what
//     every task restores; [PlanRescale] says which key groups' state moves
//     to which running task when a stateful component's parallelism changes
//     at a checkpoint boundary.
//
// The shell drives each type from the one goroutine that owns it: the task's
// actor for a Receiver and an Aligner, the coordinator's actor for the
// Coordinator. None of them is safe for concurrent use.
package checkpoint
