package storm

// The Go code is generated from nimbus.thrift by Debian's thrift-compiler
// 0.17.0 (apt-get install thrift-compiler) and committed; it builds against
// github.com/apache/thrift v0.25.0.
//go:generate thrift --gen go:package_prefix=github.com/squall-streams/squall/internal/nimbus/,skip_remote -out .. nimbus.thrift
//go:generate gofmt -w nimbus.go nimbus-consts.go GoUnusedProtection__.go
