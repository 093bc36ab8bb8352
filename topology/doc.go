// Package topology is the API squall users program against, in Apache Storm's
// vocabulary: spouts emit tuples, bolts process them, streams carry them and
// groupings split a stream among the tasks of the bolt that consumes it.
//
// It sits at the start and end of the tuple flow
//
//	spout -> router -> bolt -> tracker -> spout
//
// as the code the user writes: [Spout] and [Bolt] (or [BasicBolt]) implement
// the components, a [Builder] wires them into a [Topology] with [Grouping]s,
// and [Config] carries Storm's settings. Nothing in this package runs tuples:
// the runtime (package actors, driven by package supervisor or package local)
// compiles a Topology into tasks and calls into the components. A Topology
// is immutable once built; what changes while it runs (the live
// parallelism, the routing tables) is the runtime's. The few entry points
// only the runtime calls (making a task's Context, tuple data) are not part
// of this API: the runtime reaches them through internal/topoaccess.
//
// Guaranteed processing works as in Storm. A spout that emits with a message
// id starts a tuple tree; every tuple a bolt emits anchored to an input joins
// that input's trees; when every tuple of a tree is acked the spout's Ack is
// called with the message id, and when any is failed — or the tree does not
// complete within topology.message.timeout.secs — its Fail is called and the
// spout may replay. That is at-least-once processing.
//
// squall.guarantee ([GuaranteeKey]) chooses a topology's [Guarantee] at
// submit: [AtLeastOnce] (the default, as above), [AtMostOnce] (no tracking:
// message ids are dropped, Ack and Fail are never called, nothing replays)
// or [ExactlyOnce] (checkpointed state, issue 12). Build checks an
// exactly-once topology ([CheckExactlyOnce]: [CheckpointedSpout] spouts,
// keyed state ([StateDeclarer]) behind fields groupings only, no cycle;
// [TwoPhaseSink] sinks, or a warning) and, until that runtime exists,
// refuses it ([ErrExactlyOnceUnavailable]).
//
// Topologies are validated when they are built: errors name the component,
// the stream and the field that is wrong.
package topology
