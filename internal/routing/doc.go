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
// Nothing here has a goroutine, a lock on the per-tuple path or a clock.
// An emitting task (package actors) owns its choosers and calls them on its
// own goroutine for every tuple; the live parallelism it routes over is one
// immutable Table, swapped atomically in a Live when the topology is
// rescaled. Multilang's need_task_ids replies come from the same choosers,
// through the emitting task's collector.
//
// A new grouping goes here: a GroupingKind in package topology, a chooser
// in chooser.go, a case in NewChooser, and a table test.
package routing
