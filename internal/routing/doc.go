// Package routing is squall's routing, as pure functions and plain types:
// where, in the flow
//
//	spout task -> (routing) -> bolt task -> tracker task -> spout task
//
// an emitted tuple goes. It holds the choosers of Storm's groupings
// (shuffle, fields, all, global, direct, local-or-shuffle, partial key,
// custom), the fields hash that decides which task gets a key, and the
// key-group math that maps keys to running tasks when a component runs
// fewer tasks than its maximum parallelism.
//
// Nothing here has a goroutine or a clock, nor a lock on the per-tuple
// path (KeyGroupOwners caches its tables under one). A stream's router actor
// (package actors) builds the stream's Table — every subscription's
// running tasks, key-group owners and near tasks, for an epoch — with
// NewTable on every assignment and rescale, and swaps it into an atomic
// pointer. Each emitting task owns one Route per output stream: on its own
// goroutine, for every tuple, it loads that pointer, rebuilds the choosers
// of the subscriptions whose Sub changed, and chooses. Multilang's
// need_task_ids replies come from the same choice, through the emitting
// task's collector.
//
// A new grouping goes here: a GroupingKind in package topology, a chooser
// in chooser.go with a case in NewChooser (and in newSub if the router can
// precompute what it needs), and a table test.
package routing
