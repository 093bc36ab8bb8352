// Package wire is the one codec at a node's boundary. A batch that a task
// on one node emits for a task on another (tuples, tracker updates, spout
// completions) leaves the sending node's directory as a Message addressed
// by a TaskAddr, becomes frame bytes here, crosses the transport
// (cluster/transport), and is decoded here again on the receiving node,
// which hands it to the task through the supervisor.
//
//	spout/bolt -> directory -> wire.AppendFrame -> transport ... transport -> wire.Decode -> supervisor.Deliver -> task
//
// A frame is a header — a 4-byte big-endian body length and an 8-byte
// big-endian sequence number the transport numbers frames with (per
// sender session and receiver: a gap is a lost frame) — and a protobuf
// messages.Envelope, encoded by the generated codec of package messages
// (vtprotobuf's MarshalToSizedBufferVT) and decoded by decode.go's
// hand-written decoder, which reads what proto.Unmarshal reads but bounds
// nesting and allocates per batch. Split cuts a batch too large for one
// frame.
// Decode is the only place that reads bytes from another process on this
// path: whatever they hold, it returns a well-formed Message or
// ErrMalformed, never panics.
package wire
