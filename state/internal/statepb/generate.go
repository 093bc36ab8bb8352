// Package statepb holds the generated protobuf code of state's durable
// formats. Regenerate with go generate (buf and protoc-gen-go come from
// tools/go.mod).
package statepb

//go:generate go tool -modfile=../../../tools/go.mod buf lint
//go:generate go tool -modfile=../../../tools/go.mod buf generate
