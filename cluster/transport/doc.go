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
// Every limit is local and cheap: a frame larger than MaxFrame closes its
// connection before its body is allocated (the buffer grows as bytes
// arrive), a frame or preface that does not arrive within FrameTimeout
// and a connection idle for IdleTimeout are closed, at most MaxInbound
// inbound connections are open at once, and every destination has a
// bounded queue: a full queue drops the batch (its trees time out and
// replay). Liveness is memberlist's business, not the transport's.
package transport
