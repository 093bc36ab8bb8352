// Package resources distributes a topology's resources directory (the
// Python code of its shell components) to every node that runs it.
//
// The node a topology is submitted to packs nothing itself: the client
// packs the directory with TarGz, the node stores the tarball in its Store
// under its SHA-256 (Digest) and unpacks it, and the topology's spec
// carries the digest. Every other node, before it builds the topology,
// calls Store.Ensure: when it does not have the digest it fetches the
// tarball from a live peer that does, checks the digest and unpacks it
// into its own store, and the factory finds the directory at Store.Dir.
// Every node that has a tarball serves it (cluster answers
// GET /api/v1/resources/{digest} from Store.Tarball), so nodes that join
// later find it even after the submitting node is gone.
//
// The store decides nothing about what to keep: its owner calls
// Store.Sweep with the entries to delete (cluster deletes the resources
// of killed and rejected topologies once nothing runs from them) and
// Store.Hold for what must stay before anything names it (a submit whose
// spec is not published yet). A digest's directory is renamed away before
// it is deleted, so <root>/<digest> is always complete.
//
// How a tarball travels between nodes is a Fetch function the node
// injects: cluster uses HTTPFetch with the transport's client, so the
// download is a node-to-node call that works whether or not a peer serves
// the public HTTP API, and the path can change without touching the store. Unpack is the only decoder of bytes
// from outside: it accepts regular files and directories under the
// destination and nothing else (no absolute paths, no .., no links, no
// devices), with a bound on the unpacked size.
package resources
