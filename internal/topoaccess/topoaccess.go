// Package topoaccess is the runtime's typed access to the parts of package
// topology that users do not program against: making a task's Context and
// wiring it to the runtime, and making tuple data. Package actors (the
// runtime) and the tests of squall's own packages call it; users cannot,
// so the user API stays what users need.
package topoaccess

import (
	"log/slog"

	"github.com/squall-streams/squall/internal/topohook"
	"github.com/squall-streams/squall/topology"
)

var (
	// NewContext returns the context of task of topology t.
	NewContext = topohook.NewContext.(func(t *topology.Topology, task topology.TaskID, logger *slog.Logger) *topology.Context)
	// SetSubmit makes c.Submit call submit, which reports false once the
	// task is stopping.
	SetSubmit = topohook.SetSubmit.(func(c *topology.Context, submit func(fn func()) bool))
	// SetGauges makes g the task's gauges, before the component's Open or
	// Prepare, where the task's metrics read them.
	SetGauges = topohook.SetGauges.(func(c *topology.Context, g *topology.Gauges))
	// SetParallelism makes c.RunningTasks follow the live parallelism.
	SetParallelism = topohook.SetParallelism.(func(c *topology.Context, parallelism func(topology.ComponentID) int))
	// MakeTupleData returns tuple data with header h and values; h must not
	// be modified afterwards.
	MakeTupleData = topohook.MakeTupleData.(func(h *topology.TupleHeader, values topology.Values) topology.TupleData)
	// Deployed returns a copy of t running under another name and
	// deployment id (the cluster names each submitted instance of a
	// registered topology, and gives every node the same id for it).
	Deployed = topohook.Deployed.(func(t *topology.Topology, name, id string) *topology.Topology)
	// CheckParallelism reports whether every component named in
	// parallelism exists and may run that many tasks (1..NumTasks); errors
	// wrap topology.ErrInvalid.
	CheckParallelism = topohook.CheckParallelism.(func(t *topology.Topology, parallelism map[topology.ComponentID]int) error)
	// RunningTasksWith returns the tasks that run when the components named
	// in parallelism run that many tasks (clamped to 1..NumTasks) and the
	// others their parallelism hint, then the trackers, in task order.
	RunningTasksWith = topohook.RunningTasksWith.(func(t *topology.Topology, parallelism map[topology.ComponentID]int) []topology.TaskID)
	// SetState gives a task its keyed state (a *state.Backend) before the
	// bolt's Prepare; package state's Of reads it back with StateOf.
	SetState = topohook.SetState.(func(c *topology.Context, s any))
	// StateOf is what SetState set (nil: none).
	StateOf = topohook.StateOf.(func(c *topology.Context) any)
	// Inner is the user's object behind a bolt: a BasicBolt's, behind the
	// wrapper SetBasicBolt makes, else the bolt itself. The runtime asks
	// it for the interfaces of the guarantees (topology.TwoPhaseSink).
	Inner = topohook.Inner.(func(b topology.Bolt) any)
)
