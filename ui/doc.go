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
// below 0.5, amber below 0.8, red above). The topology page lists the
// command lines its shell components run ("Runs commands", the API's
// squallCommand), so an admin sees what a topology executes, and, for an
// exactly-once topology (the API's squallCheckpoints), a Checkpoints card:
// the last completed checkpoint's id and age, duration, size and
// alignment, the failed checkpoints and restores, and the last failure
// folded as the tables' errors are; every page
// shows the node's --insecure warning (the cluster summary's
// squallWarning) as a banner.
//
// What the pages show for people, not for programs (format.js, pure and
// unit-tested): times as local dates ("2026-12-03 14:05:09", the epoch ms
// in the title; an uptime's title says when it started), a task's node by
// its name (its host:port in the title; the topology page names an
// error's node from the supervisor summary's remoteAddr, as its rows give
// only errorHost and errorPort), "–" for a latency never measured (the
// API's "0.000" over no acked or executed tuples; "< 0.001 ms" when
// measured and under a microsecond), and a long or multi-line error (a
// Python traceback) as its headline — a traceback's exception — in a
// <details> that opens on the whole text, its lines kept and wrapped
// within the error's column, which takes only the room the other columns
// leave.
//
// # Signing in
//
// The pages hold no credential of their own: the node's Guard
// (internal/httpauth) sits in front of them and of the API. A browser
// without a session is sent to its sign-in form (/login), which trades the
// admin token for an HttpOnly, SameSite=Strict session cookie; opening any
// page as ?token=TOKEN does the same and drops the token from the URL. The
// pages then send the cookie on every request, and on every POST the
// session's CSRF token (X-CSRF-Token, from GET /api/v1/session, fetched
// once per page); an API answer 401 sends the browser back to /login, and
// Sign out in the header posts /logout. A node run with --insecure and no
// admin token asks for nothing (its session says "open").
//
// Tests: ui_test.go checks that every file is served with its content
// type and names no external URL, that every module parses, that every
// page has the shared frame (session, warning and error banners), and
// runs the JS unit tests in e2e/unit under `node --test`; ui_auth_test.go checks, with net/http
// against a node with an admin token, the redirects to /login, the 401s,
// both ways of signing in, the CSRF token and the refusal of cross-origin
// POSTs, and, against an open node, the warning and the commands;
// ui_e2e_test.go drives e2e/topology.test.mjs in Debian's headless
// Chromium (scripts/uideps.sh installs it) against a node running the word
// count, once with a token (signing in through the form) and once open:
// among the rest, the submit time as a date, "–" for a bolt that never
// executes, and a bolt's multi-line traceback with its node's name,
// opened and wrapped within its cell; checkpoints_e2e_test.go drives
// e2e/checkpoints.test.mjs in Chromium against a Solo node running an
// exactly-once topology: the Checkpoints card with checkpoints completing.
package ui
