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
)
