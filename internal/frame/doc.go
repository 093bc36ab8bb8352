// Package frame is the byte layer of the node-to-node tuple transport,
// hardened against the peer on the other end (issue 11 item 6): a version
// handshake (Hello), length-prefixed frames whose buffer grows with the
// bytes actually received — never from the 4-byte header alone — within a
// per-peer memory Budget, read deadlines for idle connections and for
// half-sent frames, and per-channel sequence numbers that turn a lost
// batch into an immediate failure instead of a message timeout.
//
// # Where it sits
//
// Under the transport that carries batches between nodes:
//
//	router/tracker actor -> transport.Send -> Writer (Hello, frames) --TLS-->
//	    Reader (Hello, frames, Budget, deadlines) -> SeqReceiver -> deliver
//
// The transport (today cluster/transport.go) owns connections, queues and
// goroutines; this package owns what a frame is and what reading one may
// cost, and holds no goroutines, so it is tested with in-memory readers.
//
// # Wire format
//
//	hello:  "SQWL" | version uint16 BE | reserved uint16 (0)   (8 bytes, each side once)
//	frame:  length uint32 BE (1..MaxFrame) | payload (length bytes)
//
// The payload is the transport's (a protobuf messages.Envelope).
package frame
