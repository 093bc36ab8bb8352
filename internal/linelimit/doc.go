// Package linelimit bounds what a component's subprocess can put into the
// node's log: its stderr and its multilang `log` messages reach the log as
// whole lines, each cut at a length limit, at most so many lines per second
// (a token bucket), with a count of what was dropped (issue 11 item 7: a
// flood wrote 3.6 GB of node log in 24 s).
//
// # Where it sits
//
// Beside a shell spout or bolt task (multilang/, actors/): the task's
// subprocess writes stderr into a Writer (exec.Cmd.Stderr), and the task
// hands each decoded multilang log message to Writer.WriteLine. Nothing
// in here blocks but the Sink, so a flood costs the producer a bounded
// buffer and some counting, never the node's log. It is pure and driven by
// an injected clock, so it is tested without sleeping.
package linelimit
