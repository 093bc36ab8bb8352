// Package topohook holds the entry points into package topology that only
// squall's runtime calls, so they stay out of the user API (grpc's
// internal-package pattern). Package topology fills these variables in its
// init; they are untyped here because this package cannot import topology.
// Do not use them directly: internal/topoaccess gives them their types.
package topohook

var (
	// NewContext is func(t *topology.Topology, task topology.TaskID, logger *slog.Logger) *topology.Context.
	NewContext any
	// SetSubmit is func(c *topology.Context, submit func(fn func()) bool).
	SetSubmit any
	// SetGauges is func(c *topology.Context, g *topology.Gauges).
	SetGauges any
	// SetParallelism is func(c *topology.Context, parallelism func(topology.ComponentID) int).
	SetParallelism any
	// MakeTupleData is func(h *topology.TupleHeader, values topology.Values) topology.TupleData.
	MakeTupleData any
	// Deployed is func(t *topology.Topology, name, id string) *topology.Topology.
	Deployed any
	// CheckParallelism is func(t *topology.Topology, parallelism map[topology.ComponentID]int) error.
	CheckParallelism any
	// RunningTasksWith is func(t *topology.Topology, parallelism map[topology.ComponentID]int) []topology.TaskID.
	RunningTasksWith any
	// SetState is func(c *topology.Context, s any): the task's keyed state
	// (a *state.Backend), read back by StateOf.
	SetState any
	// StateOf is func(c *topology.Context) any.
	StateOf any
	// Inner is func(b topology.Bolt) any: the user's BasicBolt behind a
	// Basic wrapper, else b.
	Inner any
)
