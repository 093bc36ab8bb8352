// Package multilang is the wire layer of squall's shell spouts and bolts:
// tasks whose code runs in a subprocess (pystorm, streamparse, Storm's own
// storm.py, any multilang client) and talks to squall over its stdin and
// stdout with Apache Storm's multilang protocol (the project's
// specs/multilang.md has the facts, byte for byte; testdata/ has real
// pystorm 3.1.4 transcripts).
//
// # Where it sits
//
// In the spout -> router -> bolt -> tracker -> spout flow, a shell task is a
// spout or bolt task actor like any other; only its user code lives in
// another process:
//
//	shell task actor (actors/)  --Encoder--> stdin   --> subprocess
//	                            <--Decoder-- stdout  <--
//
// The actor turns Next, Ack, Fail and input tuples into Messages and writes
// them with an Encoder; a goroutine the actor owns reads the subprocess's
// Emit, Ack, Fail, Log, ReportError, Metrics and Sync with a Decoder and
// hands them back to the actor as mailbox messages. This package is that
// vocabulary and its framing, over any io.Reader / io.Writer pair, so it is
// pure and single-threaded and can be tested without a process.
//
// # What it does
//
//   - One Go type per message (Handshake with its eight-key Context,
//     PIDReply, Next, Activate, Deactivate, Ack, Fail, Tuple with its
//     heartbeat and tick forms, TaskIDs, Emit, Log, ReportError, Metrics,
//     Sync), written with the spec's key names and value types.
//   - Both framings pystorm speaks: JSON documents each followed by an "end"
//     line (Storm's default), and pystorm's `-s msgpack` stream of
//     self-delimiting msgpack objects. ParseSerializer and
//     SerializerFromConf pick one from topology.multilang.serializer.
//   - A Decoder with a hard per-message size limit and typed errors (see
//     errors.go) that never panics on any input; it tells task-id lists from
//     command objects, and Inbox keeps them in two queues as pystorm does.
//   - The mapping of tuple values to Go values (values.go): integers stay
//     int64, numbers that are not integers are float64.
//
// # What it does not do
//
// It starts no process and owns no goroutine. Everything that needs time,
// a process or state across messages belongs to the shell tasks of the
// public package multilang (ShellSpout, ShellBolt):
// launching the `[execution_command, script]` argv in the code dir,
// checking the pid file in pidDir, the order of the session (handshake and
// pid reply first, Activate before the first Next, a Sync after each spout
// command), heartbeats and the subprocess timeout, the bounded queue of
// pending tuples (topology.shellbolt.max.pending), remembering which tuple
// ids are pending so unknown acks and late anchors are caught, replying
// with TaskIDs, forwarding Log to slog and Metrics to registered metrics,
// and restarting a dead subprocess with backoff while failing its tuples.
//
// A PIDReply is only what the subprocess claims; kill the process through
// its exec.Cmd, never through the pid it sent.
package multilang
