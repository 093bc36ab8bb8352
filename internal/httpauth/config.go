package httpauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// ErrConfig is wrapped by every error Config.validate returns.
var ErrConfig = errors.New("httpauth: bad config")

// Config is what New needs. Start from DefaultConfig.
type Config struct {
	// Token is the admin token (--admin-token, or the certs dir's
	// admin-token): as "Authorization: Bearer TOKEN", to sign in, and (via
	// HKDF) the session cookies' signing key. Required unless Open.
	Token string
	// Open turns authentication off (`--insecure` without a token); the
	// Host, origin, content-type and body checks still run. Open with a
	// Token is a contradiction and rejected.
	Open bool
	// Hosts are the host names the node serves (the --http host, its
	// certificate's DNS names, "localhost"), without ports; a request's
	// Host must be one of them or an IP literal. Compared without case.
	Hosts []string
	// PublicMetrics serves GET /metrics without credentials (the one route
	// that may be public).
	PublicMetrics bool
	// MaxBody bounds every request body, in bytes.
	MaxBody int64
	// BodyLimit, when set, bounds r's body instead of MaxBody (a route
	// that takes resources tarballs needs more); it must not block.
	BodyLimit func(r *http.Request) int64
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// CookieName names the session cookie. Nodes on one host share a
	// browser's cookies whatever their ports: give each cluster its own.
	CookieName string

	// now, when set, replaces time.Now (tests expire sessions).
	now func() time.Time
}

// DefaultConfig is a Guard for a node on loopback: 1 MiB bodies, 24 h
// sessions. Set Token (or Open) before New.
func DefaultConfig() Config {
	return Config{
		Hosts:      []string{"localhost"},
		MaxBody:    1 << 20,
		SessionTTL: 24 * time.Hour,
		CookieName: "squall_session",
	}
}

func (c *Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.Token == "" && !c.Open:
		return bad("no admin token: set --admin-token, use --certs-dir (which generates one), or --insecure")
	case c.Token != "" && c.Open:
		return bad("an admin token and no authentication (Open) at once")
	case strings.TrimSpace(c.Token) != c.Token:
		return bad("the admin token starts or ends with white space")
	case c.MaxBody <= 0:
		return bad("MaxBody %d: want a positive number of bytes", c.MaxBody)
	case c.SessionTTL <= 0:
		return bad("SessionTTL %v: want a positive duration", c.SessionTTL)
	case !validCookieName(c.CookieName):
		return bad("cookie name %q: want letters, digits, '_' or '-'", c.CookieName)
	}
	for _, h := range c.Hosts {
		if h == "" || strings.ContainsAny(h, ":/ ") && net.ParseIP(strings.Trim(h, "[]")) == nil {
			return bad("host %q: want a host name without scheme or port", h)
		}
	}
	return nil
}

func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
