package kafka

import "sync/atomic"

// SpoutMetrics counts what the tasks of one Kafka spout did. Pass the same
// value to every spout whose counts should add up (SpoutConfig.Metrics);
// it is safe for concurrent use.
type SpoutMetrics struct {
	// Emitted counts records emitted for the first time; Retried counts
	// emits of failed records.
	Emitted, Retried atomic.Int64
	// Acked and Failed count tuple trees of this generation completing.
	Acked, Failed atomic.Int64
	// Skipped counts records the translator mapped to nothing (acked at once).
	Skipped atomic.Int64
	// DeadLetters counts records sent to the dead-letter destination (retries
	// used up, or undecodable); DeadLettered counts those confirmed written.
	DeadLetters, DeadLettered atomic.Int64
	// Dropped counts acks and fails that arrived for a partition no longer
	// owned or an older generation, and records buffered for a revoked one.
	Dropped atomic.Int64
	// Commits and CommitErrors count offset commits.
	Commits, CommitErrors atomic.Int64
	// Assignments counts partition assignments (one per rebalance per task).
	Assignments atomic.Int64
	// Pauses counts partitions paused at the uncommitted-offset cap.
	Pauses atomic.Int64
}

// SpoutCounts is a snapshot of SpoutMetrics.
type SpoutCounts struct {
	Emitted, Retried, Acked, Failed, Skipped   int64
	DeadLetters, DeadLettered, Dropped         int64
	Commits, CommitErrors, Assignments, Pauses int64
}

// Snapshot reads every counter.
func (m *SpoutMetrics) Snapshot() SpoutCounts {
	return SpoutCounts{
		Emitted: m.Emitted.Load(), Retried: m.Retried.Load(),
		Acked: m.Acked.Load(), Failed: m.Failed.Load(), Skipped: m.Skipped.Load(),
		DeadLetters: m.DeadLetters.Load(), DeadLettered: m.DeadLettered.Load(),
		Dropped: m.Dropped.Load(), Commits: m.Commits.Load(), CommitErrors: m.CommitErrors.Load(),
		Assignments: m.Assignments.Load(), Pauses: m.Pauses.Load(),
	}
}

// BoltMetrics counts what the tasks of one Kafka bolt did; safe for
// concurrent use.
type BoltMetrics struct {
	// Written counts records the broker confirmed (their tuples are acked).
	Written atomic.Int64
	// Failed counts tuples failed: mapping errors and write errors.
	Failed atomic.Int64
	// Skipped counts tuples without a topic (acked, nothing written).
	Skipped atomic.Int64
}

// BoltCounts is a snapshot of BoltMetrics.
type BoltCounts struct {
	Written, Failed, Skipped int64
}

// Snapshot reads every counter.
func (m *BoltMetrics) Snapshot() BoltCounts {
	return BoltCounts{Written: m.Written.Load(), Failed: m.Failed.Load(), Skipped: m.Skipped.Load()}
}
