// Package spawnlock holds the one lock every actor spawn in the process
// takes. The race detector once flagged protoactor's spawn racing with
// another actor system's in an in-process multi-node test (clustertest);
// spawns are rare (a task, a topology supervisor, a stream's router), so
// serialising them across packages (supervisor, actors) costs nothing and
// rules that out.
package spawnlock

import "sync"

// Mu is held around every Spawn and SpawnNamed of squall's actors.
var Mu sync.Mutex
