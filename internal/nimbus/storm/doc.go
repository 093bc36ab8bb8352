// Package storm is the wire form of squall's Nimbus service: the subset of
// Apache Storm's Thrift structs and methods that streamparse 5.0.1 (and
// Storm's own CLI) use, generated from nimbus.thrift (squall's own IDL, with
// Storm's field ids) by the Thrift compiler onto github.com/apache/thrift.
//
// # Where it sits
//
// It is the codec only. Package nimbus serves the Nimbus interface over a
// framed, binary-protocol listener and turns a submitted StormTopology into a
// squall topology; nothing here runs tuples.
//
// Fields a client sends that the IDL does not declare (Storm 2's
// StormTopology fields 4-10, say) are skipped when decoding.
package storm
