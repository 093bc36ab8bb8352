// Package messages holds the protobuf types of everything that crosses a
// process boundary in squall (tuple batches, tracker updates, completions,
// control), generated from squall.proto with `go tool task generate`, and the
// conversion of tuple values between Go and the wire.
//
// In-process hops never use these types: tasks exchange Go values. A node
// converts at its boundary, in batches.
package messages
