// Package kafka holds the pieces of squall's at-least-once Kafka spout.
//
// So far it holds only the pure offset bookkeeping, which a spout task actor
// wraps. A record flows through the topology like this:
//
//	poll -> Offsets.Emit -> spout emits the tuple with a MessageID
//	     -> router -> bolts -> tracker (XOR acker)
//	     -> spout: Offsets.Ack or Offsets.Fail
//	     -> every commit period: Offsets.NextCommit -> commit to Kafka -> Offsets.Committed
//
// # Offsets and commits
//
// [PartitionOffsets] tracks one topic-partition for one assignment generation.
// It records the offsets the spout actually emitted: offsets have gaps
// (compaction, transaction markers and aborted records give sequences such as
// 0 1 6 7), so nothing assumes that the next offset is the last one plus one.
// Its commit position follows Kafka: it is the next offset to read. The new
// position is one past the highest offset such that every emitted offset from
// the committed position up to it is done; gaps that were never emitted are
// skipped. An offset is done when it was acked or when it was written to the
// dead-letter destination.
//
// [Offsets] holds one PartitionOffsets per owned partition and the assignment
// generation. Every [MessageID] carries the generation it was emitted under.
// An ack or fail that carries an older generation, or names a partition this
// task no longer owns, is dropped and counted, never applied: applying it could
// commit an offset that the new owner, or this task in its new session, has not
// processed (the STORM-2087, STORM-2666 and STORM-3301 traps).
//
// # Retries and dead letters
//
// A failed offset is retried with Storm's exponential backoff ([RetryConfig],
// KafkaSpoutRetryExponentialBackoff's defaults). When its retries run out,
// [PartitionOffsets.Fail] answers [FailDeadLetter]: the spout must write the
// record to its dead-letter destination and then confirm with DeadLettered.
// Until then the offset holds back the commit position, so a record is never
// lost silently, unlike Storm, which acks it.
//
// # Back-pressure
//
// Each partition has a soft cap of uncommitted offsets (Config.MaxUncommitted,
// Storm's maxUncommittedOffsets). A partition at the cap should be paused
// ([PartitionOffsets.Pollable] is false), except when a retry is due for an
// offset within the cap: retries must keep flowing or the partition wedges
// (STORM-2343, STORM-2549). As in Storm, the cap may be exceeded by what one
// poll returns after such a seek.
//
// # Concurrency
//
// Nothing in this package is safe for concurrent use. Each tracker is owned by
// one spout task actor, which calls it from its mailbox; commits and
// dead-letter writes run off the actor, and their results come back to it as
// messages. Nothing here reads the clock: callers pass now explicitly, which
// keeps the types deterministic under test.
package kafka
