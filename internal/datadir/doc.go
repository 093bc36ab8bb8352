// Package datadir is a node's data directory kept private and tidy (issue
// 11 item 8: --data-dir was 0755, tarballs 0644, and the default directory
// under /tmp was left behind after every exit): the directory is 0700,
// files written through it 0600, and the default one — a new temporary
// directory, when --data-dir is not given — is removed when the node
// stops.
//
// # Where it sits
//
// Under the node (cluster/), which keeps topologies' resources tarballs
// and their unpacked trees there for shell components to run from;
// outside the spout -> router -> bolt -> tracker -> spout flow.
package datadir
