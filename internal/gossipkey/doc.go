// Package gossipkey is the gossip encryption keyring of a node: `node
// keygen` makes a key, `--gossip-key` takes one or several (comma-separated
// or the flag repeated), the first one encrypts what this node sends and
// every one of them decrypts what it receives — memberlist's keyring, so a
// cluster rotates its key without a restart of all nodes at once (issue 11
// item 1):
//
//  1. every node: --gossip-key OLD,NEW (still sends with OLD)
//  2. every node: --gossip-key NEW,OLD (sends with NEW, still reads OLD)
//  3. every node: --gossip-key NEW
//
// # Where it sits
//
// Beside the gossip layer (memberlist under cluster/): the node's flags
// parse into Keys, and Keys.Keyring goes into memberlist.Config.Keyring.
// Outside the spout -> router -> bolt -> tracker -> spout flow.
package gossipkey
