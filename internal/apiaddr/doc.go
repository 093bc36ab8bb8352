// Package apiaddr reads the client commands' --addr (issue 11 item 1):
// "HOST:PORT", "http://HOST:PORT" or "https://HOST:PORT", into the base
// URL requests go to. With --certs-dir the API is HTTPS: a bare HOST:PORT
// means https, and http:// is refused rather than sending the admin's
// credentials in clear.
//
// # Where it sits
//
// In the client commands (cmd/node: submit, list, members, kill,
// rebalance, …), before any request; outside the spout -> router -> bolt
// -> tracker -> spout flow.
package apiaddr
