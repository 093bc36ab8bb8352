// Package connlimit caps a listener's connections per peer and in total
// (issue 11 item 6: 2,000 idle connections to the tuple transport were all
// still open after 40 s; 1,000 connections of random bytes took 380 MB).
//
// # Where it sits
//
// Under the node's listeners — the tuple transport's first of all, the
// HTTP API's too — before the TLS handshake, so an unauthenticated flood
// costs a refused accept and nothing more:
//
//	net.Listen -> connlimit.Listener -> tls.NewListener -> transport / http.Server
//
// A peer is its IP address (its ports change per connection). Limiter is
// the pure count, Listener the wrapper that applies it.
package connlimit
