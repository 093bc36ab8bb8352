// Package transport carries batches between squall nodes: the hop in the
// middle of a tuple's trip from an emitting task on one node to the task it
// is routed to on another (and of tracker updates and spout completions on
// their way back).
//
//	task -> directory -> Transport.Send -> peer queue -> writer -> TCP -> reader -> Config.Deliver -> task
//
// One listener per node serves two kinds of connection, told apart by
// their first byte: tuple connections (PrefaceTuples) carry frames of
// internal/wire, one connection per destination node; call connections
// (PrefaceCalls) carry HTTP/1.1 for the node-to-node calls (Config.Calls,
// Transport.Client): resource downloads and the in-flight and placement
// reports other nodes poll, which must not depend on whether a node
// serves the public HTTP API.
//
// A tuple connection opens with a handshake: the preface, Version, the
// sender's session (new for every Transport) and the address it listens
// on; the receiver answers with its Version and session. Another version
// is closed and counted (Rejected) at either end. Frames carry a
// sequence number, from 1 per sender session and receiver session, so the
// receiver finds frames lost in a connection that broke as gaps (Gaps,
// Config.OnGap) — the per-channel numbers issue 12's barriers build on.
//
// Every limit is local and cheap: a frame larger than MaxFrame closes its
// connection before its body is allocated (the buffer grows as bytes
// arrive), a frame, preface or handshake that does not arrive within
// FrameTimeout and a connection idle for IdleTimeout are closed, and at
// most MaxInbound inbound connections are open at once, MaxInboundPerHost
// from one host (Refused). What is held for one source — the frames being
// read from it and what Deliver keeps (the node's parked batches, through
// Source.Reserve) — comes from its PeerBudget, and over every source from
// InboundBudget: over budget, frames are read and dropped (OverBudget).
// Every destination has a queue bounded in frames and bytes; a message
// larger than MaxFrame is sent split by its items (wire.Split), and a
// single item larger is dropped. Whatever the transport drops on its way
// out (queue full, peer unreachable or forgotten, a failed write, an
// oversized item) goes to Config.OnDrop, from one goroutine of its own:
// the node fails the trees of a dropped tuple batch at once there
// (cluster/dropped.go) instead of waiting for their message timeout.
// Liveness is memberlist's business, not the transport's.
package transport
