// Package certs makes and loads a squall cluster's certificates, laid out
// as CockroachDB lays out its certs directory:
//
//	D/ca.crt            the cluster's certificate authority (0644)
//	D/ca.key            its private key (0600; may be moved off the nodes
//	                    once the node and client certificates are made)
//	D/node.crt          the node certificate: server and client auth, the
//	D/node.key          IP and DNS names of --host (nodes on one machine may
//	                    share it)
//	D/client.NAME.crt   a client certificate for user NAME (client auth
//	D/client.NAME.key   only); the client commands use client.admin.*
//	D/admin-token       the HTTP API's admin token when --admin-token is not
//	                    given (0600)
//
// The directory is created 0700; keys are written 0600 and certificates
// 0644, and nothing existing is overwritten unless Options.Overwrite says so.
// Keys are ECDSA P-256 (cheap TLS handshakes), everything is crypto/x509:
// no openssl.
//
// # Where it sits
//
// Outside the spout -> router -> bolt -> tracker -> spout flow: it secures
// the wires that flow runs over. `node cert create-ca|create-node|
// create-client` call CreateCA, CreateNode and CreateClient; a node started
// with --certs-dir calls LoadNode and hands
//
//   - TransportServerConfig / TransportClientConfig to the tuple transport
//     (TLS 1.3, both sides present the node certificate and verify the
//     other's against the CA: mutual authentication, node certificates only);
//   - HTTPServerConfig to the HTTP API (HTTPS; a client certificate of the
//     CA is asked for but optional: the admin token is the other way in,
//     see internal/httpauth);
//   - HTTPClientConfig to node-to-node HTTP calls.
//
// The client commands call LoadClient. PeerUser names who is on the other
// end of a verified connection.
package certs
