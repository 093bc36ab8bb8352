package multilang

import "fmt"

// maxStraySyncs is how many syncs a subprocess may send in a row that
// answer nothing before it is killed for a protocol error. A spout answers
// each command with exactly one sync, and a bolt syncs only to answer a
// heartbeat tuple; pystorm's raise_exception adds one sync of its own (to
// report an error without dying), so a few extra are let through. More
// without an intervening command is a flood: Storm stalled on it without an
// error (issue 11).
const maxStraySyncs = 8

// syncCheck is the reader's account of a subprocess's syncs. A spout's sync
// answers the oldest command it was handed and has not answered; one when
// every command handed was answered (it cannot answer a command not yet
// written to its stdin) answers nothing. A bolt's sync answers the pending
// heartbeat, if any. Syncs that answer nothing are strays; more than
// maxStraySyncs strays while no command is handed to the subprocess is a
// protocol error. It is plain data, used by the reader goroutine only.
type syncCheck struct {
	bolt     bool
	answered int64 // spout: commands answered
	mark     int64 // the handed count when the current run of strays began
	strays   int
}

// sync classifies one sync. handed is how many commands (a spout's
// commands; a bolt's tuples and heartbeats) were handed to its stdin so
// far; heartbeat whether it answers a bolt's pending heartbeat. It reports
// whether the sync answers something, and a protocol error when the
// subprocess floods syncs.
func (c *syncCheck) sync(handed int64, heartbeat bool) (answers bool, violation string) {
	switch {
	case c.bolt && heartbeat:
		return true, ""
	case !c.bolt && c.answered < handed:
		c.answered++
		return true, ""
	}
	if handed != c.mark {
		c.mark, c.strays = handed, 0
	}
	c.strays++
	if c.strays <= maxStraySyncs {
		return false, ""
	}
	if c.bolt {
		return false, fmt.Sprintf("protocol error: %d syncs in a row without a heartbeat to answer "+
			"(a bolt syncs only to answer a heartbeat tuple; %d extra are let through)", c.strays, maxStraySyncs)
	}
	return false, fmt.Sprintf("protocol error: %d syncs in a row without a command to answer "+
		"(a spout answers each command with exactly one sync; %d extra are let through)", c.strays, maxStraySyncs)
}
