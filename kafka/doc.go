// Package kafka connects squall topologies to Apache Kafka with at-least-once
// processing: a [Spout] that reads topics as a consumer group and commits a
// record's offset only after its whole tuple tree is acked, and a [Bolt]
// that writes tuples to Kafka and acks them only after the broker confirmed
// the write. Both are built on IBM/sarama.
//
// A record flows like this:
//
//	claim goroutine (sarama) -> buffered channel -> NextTuple: Offsets.Emit, translate, emit with a MessageID
//	     -> router -> bolts -> tracker (XOR acker)
//	     -> spout: Ack / Fail -> Offsets.Ack, or a retry (backoff), or a dead letter
//	     -> every CommitPeriod (and on Deactivate, revocation, Close, the cap): Offsets.NextCommit
//	     -> committer goroutine: OffsetCommit of the acked prefix -> Offsets.Committed
//
//	bolt: Execute -> queue -> feeder goroutine -> AsyncProducer -> broker confirms
//	     -> Context.Submit -> Ack (or Fail, and the tree replays from the spout)
//
// Kafka I/O never runs on a task's goroutine: the spout and bolt own their
// goroutines, start them in Open/Prepare and stop them in Close/Cleanup, and
// hand results back with topology.Context.Submit.
//
// # The spout
//
// Build it with [NewSpout] from a [SpoutConfig] (start from
// [DefaultSpoutConfig], or [SpoutConfigFrom] the kafka.* keys of a topology
// config). Every task is one member of the consumer group (by default
// "squall.<topology>.<component>"); the group protocol spreads partitions
// over the tasks and moves them when a task or node goes away. The protocol
// is eager: every rebalance is a new assignment generation.
//
// Tuples carry Storm's fields topic, partition, offset, key, value on the
// default stream ([DefaultTranslator]); a [RecordTranslator] can map a record
// to other fields and streams, or skip it. Each tuple's message id is a
// [MessageID]: topic, partition, offset and the assignment generation.
//
// Commits: per partition, only the position below which every record was
// acked or dead-lettered is committed ([Offsets]), every CommitPeriod
// (default 5 s, not Storm's 30 s: see [DefaultCommitPeriod]), on Deactivate,
// on Close, as soon as a partition reaches its uncommitted-offset cap, and
// on revocation: when a rebalance takes partitions away, the task stops
// emitting, waits up to RevokeDrainTimeout for its tuples in flight, commits
// the acked prefix while its generation is still valid (sarama drops marked
// offsets on revocation; squall commits through its own OffsetCommit
// requests and never lets sarama commit), and then drops every ack or fail
// of that generation: the partition's new owner reads those records again.
// Every commit carries storm-kafka-client's metadata JSON, with the
// topology id.
//
// First poll: [FirstPollStrategy] has Storm's four strategies; Earliest and
// Latest ignore commits not written by this topology id, so a redeployment
// (a new NewSpout) starts over while restarts of one deployment resume.
// Without a usable commit a partition starts at the earliest offset (Storm's
// auto.offset.reset under at-least-once).
//
// Failures: a failed or timed-out tuple is retried with Storm's exponential
// backoff (0, then 2 ms × 2^(n−1), capped at 10 s). Records that fail more
// than MaxRetries times, and records the translator rejects (an error or a
// panic: an undecodable value never crashes the task), go to the dead-letter
// destination — a topic ([SpoutConfig.DeadLetterTopic], with headers naming
// the source and the error) or the [DeadLetterStream] — and are counted.
// Their offset is committed only once the dead letter was written. A record
// is never acked silently.
//
// Back-pressure: a partition with MaxUncommitted offsets emitted but not
// committed is paused (sarama stops fetching it; what it had buffered waits)
// and a commit is made at once; retries of its offsets keep flowing, so a
// failing record cannot wedge it (STORM-2343). Failed records are kept in
// memory until they succeed, instead of seeking back and reading them again;
// the cap bounds that memory too (see [DefaultMaxUncommitted]).
//
// sarama's defaults are unsafe for at-least-once; the spout sets auto-commit
// off, the initial offset, read_committed isolation, the eager round-robin
// assignor and the group timeouts explicitly (SessionTimeout 10 s,
// HeartbeatInterval 1 s, RebalanceTimeout 30 s), after any Tune hook.
//
// # The bolt
//
// Build it with [NewBolt] from a [BoltConfig]. It maps a tuple to a record
// ([MapFields]: Storm's fields key and message, the topic from a field or
// the config; or a [TupleMapper]) and writes it through an idempotent
// producer with acks=all and one open request per connection, as idempotence
// requires. The tuple is acked when the broker confirms the record, failed
// when the producer gives up (so its tree replays), and acked and skipped
// when it has no topic. Note that Kafka fails a whole batch when it refuses
// one record of it: records batched with a too-large one fail and replay too.
//
// # Offset bookkeeping
//
// The pure core is [Offsets]: [PartitionOffsets] tracks one topic-partition
// for one assignment generation. It records the offsets the spout actually
// emitted: offsets have gaps (compaction, transaction markers and aborted
// records give sequences such as 0 1 6 7), so nothing assumes that the next
// offset is the last one plus one. Its commit position follows Kafka: it is
// the next offset to read, one past the highest offset such that every
// emitted offset from the committed position up to it is done (acked or
// dead-lettered); gaps that were never emitted are skipped.
//
// [Offsets] holds one PartitionOffsets per owned partition and the assignment
// generation. An ack or fail that carries an older generation, or names a
// partition this task no longer owns, is dropped and counted, never applied:
// applying it could commit an offset that the new owner, or this task in its
// new session, has not processed (the STORM-2087, STORM-2666 and STORM-3301
// traps). A failed offset is retried with [RetryConfig]'s backoff; when its
// retries run out, [PartitionOffsets.Fail] answers [FailDeadLetter], and
// [PartitionOffsets.DeadLetter] does the same at once for a record that can
// never succeed. Until DeadLettered confirms the write, the offset holds back
// the commit position. Nothing in the core reads the clock or is safe for
// concurrent use: the spout task owns it.
//
// # Trying it out and testing
//
// Package kafka/embedded runs an in-memory Kafka-protocol broker (franz-go's
// kfake) for trying topologies out and for unit tests; package
// kafka/kafkatest has test helpers, including the real broker's address
// from KAFKA_BROKERS (scripts/kafka.sh starts one). Outside a topology,
// [Produce] (or a [Producer]) seeds a topic with the bolt's producer
// settings and [ReadTopic] reads one to its end: the demos, the examples
// and kafkatest use them.
//
// # Known limits
//
// The default topology id is the runtime's deployment id
// (topology.Context.TopologyID), the same on every node of a cluster; set
// SpoutConfig.TopologyID (kafka.topology.id) to keep one id across
// redeployments.
package kafka
