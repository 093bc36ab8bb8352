// Package specguard bounds and checks the topology specs the cluster
// gossips (issue 11 item 5): a spec — its config, everything in it — is
// at most MaxSpecBytes, refused at submit with an error naming the limit
// (a 25 MiB config passed the HTTP body limit but not memberlist's push/pull
// limit, and split the cluster); the whole state stays under
// MaxStateBytes; versions stop at MaxVersion instead of wrapping (a spec of
// version 2^64-1 wedged every node's state); and a spec from gossip is
// checked before it is merged.
//
// # Where it sits
//
// Beside the cluster state (cluster/state.go): CheckSubmit where a submit
// or rebalance makes a spec, NextVersion where State.Put numbers it,
// CheckRemote on every spec DecodeState returns, before State.Merge.
// Outside the spout -> router -> bolt -> tracker -> spout flow. Pure.
package specguard
