// Package ui is squall's web UI: static pages embedded in the binary and
// served at / of every node's HTTP server (and of `node run … --http`),
// beside the Storm-style REST API they read. Nothing is fetched from a
// CDN or the net; it sits outside the spout -> router -> bolt -> tracker
// flow and only watches it (and activates, deactivates, kills or
// rebalances through the API).
//
// The pages, plain HTML with vanilla JS modules in static/:
//
//	/ (index.html)                               the cluster: nodes, status, task counts, topologies
//	/topology.html?id=ID                         a topology: live component graph, spouts, bolts, actions
//	/component.html?topology=ID&component=NAME   a component's tasks: node, uptime, counts, latencies, errors
//
// Each page polls the API every 2 s. Counts are the selected window's;
// rates (tuples/s) are computed in the page from the all-time counts'
// growth between polls. Bolts are coloured by capacity as in Storm (green
// below 0.5, amber below 0.8, red above). A POST answered 401 or 403 asks
// for the node's admin token and retries with it (kept in sessionStorage).
//
// Tests: ui_test.go checks that every file is served with its content
// type and names no external URL, and runs the JS unit tests in e2e/unit
// under `node --test`; ui_e2e_test.go drives e2e/topology.test.mjs in
// Debian's headless Chromium (scripts/uideps.sh installs it) against a
// node running the word count.
package ui
