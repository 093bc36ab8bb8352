package apiaddr

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrAddr is wrapped by every error of Base.
var ErrAddr = errors.New("--addr")

// Base is the base URL ("https://127.0.0.1:8080", no trailing slash) of
// the node API that addr names. secure says the client has certificates
// (--certs-dir): HOST:PORT then means https and http:// is an error.
func Base(addr string, secure bool) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrAddr, addr, why)
	}
	scheme, hostport := "http", addr
	if secure {
		scheme = "https"
	}
	if i := strings.Index(addr, "://"); i >= 0 {
		u, err := url.Parse(addr)
		if err != nil {
			return bad("not a URL: " + err.Error())
		}
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			return bad("want http:// or https://")
		case u.Scheme == "http" && secure:
			return bad("the API is HTTPS with --certs-dir: use https:// or HOST:PORT")
		case u.User != nil:
			return bad("no user in the address: credentials come from --certs-dir or --admin-token")
		case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.Opaque != "":
			return bad("want scheme://HOST:PORT, nothing after it")
		}
		scheme, hostport = u.Scheme, u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return bad("want HOST:PORT")
	}
	if host == "" {
		return bad("no host")
	}
	if strings.ContainsAny(host, "/?#@ ") {
		return bad("bad host")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != port {
		return bad("port: want 1 to 65535")
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}
