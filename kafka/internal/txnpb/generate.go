// Package txnpb holds the generated protobuf code of the transactional
// Kafka bolt's committable: what a checkpoint stores about the Kafka
// transactions it must commit, and hands back to the bolt's Recover after
// a crash. Regenerate with go generate (buf and protoc-gen-go come from
// tools/go.mod).
package txnpb

//go:generate go tool -modfile=../../../tools/go.mod buf lint
//go:generate go tool -modfile=../../../tools/go.mod buf generate
