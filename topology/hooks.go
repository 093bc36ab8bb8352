package topology

import "github.com/squall-streams/squall/internal/topohook"

// The runtime's entry points, reached through internal/topoaccess.
func init() {
	topohook.NewContext = newContext
	topohook.SetSubmit = func(c *Context, submit func(fn func()) bool) { c.submit = submit }
	topohook.SetGauges = func(c *Context, g *Gauges) { c.gauges = g }
	topohook.SetParallelism = func(c *Context, parallelism func(ComponentID) int) { c.parallelism = parallelism }
	topohook.MakeTupleData = makeTupleData
	topohook.Deployed = (*Topology).deployed
	topohook.CheckParallelism = (*Topology).checkParallelism
	topohook.RunningTasksWith = (*Topology).runningTasksWith
	topohook.SetState = func(c *Context, s any) { c.state = s }
	topohook.StateOf = func(c *Context) any { return c.state }
	topohook.Inner = func(b Bolt) any {
		if bb, ok := b.(*basicBolt); ok {
			return bb.inner
		}
		return b
	}
}
