// Package api is a squall node's public HTTP API: Storm UI's REST routes
// (stormapi.go), squall's own /api/v1 routes (http.go), Prometheus'
// /metrics (metrics.go) and the web UI's pages at / (package ui). It sits
// beside the spout -> router -> bolt -> tracker flow and only watches it:
// it reads the tasks' counters, and activates, deactivates, kills,
// rebalances and submits through the node.
//
// The node is a Backend: package cluster implements it and mounts the
// routes on the node's HTTP server (Register); this package never imports
// cluster. Every node answers for the whole cluster: a Backend reads the
// other nodes' /api/v1/local/topologies and the API sums them.
//
// A new REST route goes here, reading the node through Backend (add a
// method there when it needs something the node does not tell yet).
package api
