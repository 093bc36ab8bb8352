// Package multilang runs spouts and bolts written in other languages —
// unchanged pystorm and streamparse components, Storm's storm.py, anything
// that speaks Apache Storm's multilang protocol — as squall tasks.
//
// # Where it sits
//
// A ShellSpout or ShellBolt is an ordinary topology.Spout / topology.Bolt in
// the spout -> router -> bolt -> tracker -> spout flow; only its user code
// lives in a subprocess, one per task:
//
//	task goroutine --frames--> outbox --writer--> stdin  --> subprocess
//	task goroutine <--Submit-- inbox  <--reader-- stdout <--
//	                                              stderr --> linelimit --> task's slog logger
//
// The runtime calls the component from one goroutine and it never blocks
// there: tuples and commands are encoded and queued for a writer goroutine,
// and what the subprocess writes is decoded by a reader goroutine and handed
// back with topology.Context.Submit, so emits, acks and fails run on the
// task's goroutine like a Go bolt's. The wire format is
// internal/multilang's; this package owns the processes.
//
// # Compatibility
//
// The command is an argv list: streamparse's two entries
// [execution_command, script] (e.g. ["streamparse_run", "-s msgpack
// words.SplitBolt"], which streamparse_run splits itself) or Flux's list of
// any length (["python3", "splitsentence.py"]). It runs in the topology's
// resources directory (ResourcesDirKey or WithDir), with the node's
// environment minus the node's secrets (SQUALL_ADMIN_TOKEN,
// SQUALL_GOSSIP_KEY, ...) plus topology.environment (EnvironmentKey). The handshake carries
// pidDir, the topology config and the eight context keys; the subprocess
// writes its pid file and replies with its pid. Spouts get
// next/ack/fail/activate/deactivate and answer with sync; bolts get tuples,
// heartbeat tuples (stream "__heartbeat", task -1, comp null) and tick
// tuples, and answer with emit/ack/fail/log/error/metrics/sync. Emits that
// ask for task ids (Storm's default) get a reply. JSON framing and
// pystorm's msgpack framing are chosen by SerializerKey; pystorm needs
// msgpack>=1.0 for the latter (see scripts/pyenv.sh).
//
// # Better than Storm
//
// A subprocess that exits, makes no progress past SubprocessTimeoutKey
// (its own timeout, not the worker's; its start-up has StartupTimeoutKey;
// log, error and metrics commands are no progress), writes malformed or
// oversized output, or breaks the protocol (acks an id it was never given,
// anchors to an acked tuple, emits on an undeclared stream, floods syncs:
// a spout answers each command with one sync, a bolt syncs to answer a
// heartbeat, and more than a few extra in a row is an error) is killed
// together with its process group. The tuples it held fail at once, so their spouts replay them now
// rather than after the message timeout, and a new subprocess starts after
// a backoff (RestartBackoffKey). The restart happens inside the task: the
// task keeps running and buffers its input meanwhile, and the node never
// exits (Storm exits the worker with code 11). Its stderr and its log and
// error commands reach the node log through internal/linelimit: whole
// lines cut at 4 KiB, about 100 a second per subprocess (stderr) and per
// task (commands), with a count of what was dropped, so a flood never
// fills the node's disk. A tuple that was being
// processed when DefaultDeadLetterAfter subprocesses died is emitted on
// DeadLetterStream instead of killing another one. Writes to the pipe are
// bounded (MaxPendingKey) without ever blocking the task. Subprocesses
// start in their own process group and with a parent-death signal, so none
// outlives its task or the node.
//
// # What it takes from the runtime
//
// The compiled topology comes from topology.Context.Compiled (WithTopology
// overrides it), so the handshake's context keys are complete. Replies to
// need_task_ids come from the runtime collector's EmitStreamTasks. A spout
// task that emitted from a submitted function is called again at once;
// ShellSpout still keeps several "next" commands in flight by default
// (WithNextInFlight) to overlap the pipe's round trips.
package multilang
