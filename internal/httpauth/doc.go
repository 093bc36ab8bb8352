// Package httpauth guards a squall node's HTTP API and web UI: who may call
// it, from where, with what, and for how long.
//
// # Where it sits
//
// Outside the spout -> router -> bolt -> tracker -> spout flow: it wraps the
// node's http.Handler (the web UI, Storm UI's REST API, /api/v1, /metrics)
// before it is served, as the control plane's front door (issue 11 item 3):
//
//	http.Server (Timeouts) -> Guard -> the node's ServeMux
//
// # What it checks, in order
//
//  1. The Host header must name this node (Config.Hosts, or any IP
//     literal): a DNS-rebinding page's host is refused with 403.
//  2. The body is bounded (Config.MaxBody, or Config.BodyLimit per route):
//     a larger Content-Length gets 413 at once, a longer body fails the
//     handler's read.
//  3. A mutating request (not GET, HEAD, OPTIONS) must be same-origin when
//     it comes from a browser (net/http's CrossOriginProtection: Sec-Fetch-Site,
//     then Origin against Host; clients that send neither, like `node
//     submit`, pass) and must carry a JSON body (Content-Type
//     application/json) or none: a text/plain form post from another site
//     gets 403, a non-JSON body 415.
//  4. Credentials, any of: a client certificate the TLS layer verified
//     against the cluster's CA (internal/certs); "Authorization: Bearer
//     TOKEN" with the admin token (compared in constant time); the
//     browser's signed session cookie (HttpOnly, SameSite=Strict, Secure
//     over HTTPS), which on a mutating request also needs the session's
//     CSRF token in the X-CSRF-Token header. None: 401 on /api/ routes, a
//     redirect to the sign-in page for a browser's GET of a page. A wrong
//     token: 403.
//
// Only /metrics may be public (Config.PublicMetrics). Config.Open, for
// `--insecure`, skips step 4 only.
//
// # Signing in (the web UI)
//
// The Guard serves three routes of its own: GET /login (a sign-in form),
// POST /login (form field "token": sets the cookie, redirects to /), POST
// /logout, and GET /api/v1/session ({"user","via","csrf_token"}: how the UI
// learns its CSRF token). As Jupyter does, GET /any/page?token=TOKEN signs
// in and redirects to the same page without the token in the URL. The
// cookie is signed with a key derived from the admin token (HKDF), so
// every node of a cluster accepts it and changing the token signs
// everyone out.
//
// The handler behind the Guard finds who called with FromContext.
package httpauth
