// Package certcmd is `node cert`, the command line of internal/certs
// (CockroachDB's `cockroach cert`):
//
//	node cert create-ca     --certs-dir D [--lifetime 87600h] [--overwrite]
//	node cert create-node   --host H [--host H2]… --certs-dir D [--lifetime 43800h] [--overwrite]
//	node cert create-client NAME --certs-dir D [--lifetime 43800h] [--overwrite]
//	node cert list          --certs-dir D
//
// --certs-dir defaults to $SQUALL_CERTS_DIR; --host takes one host or
// several comma-separated, and repeats.
//
// # Where it sits
//
// cmd/node dispatches `node cert …` to Run; nothing of it runs in a node.
// Outside the spout -> router -> bolt -> tracker -> spout flow.
package certcmd
