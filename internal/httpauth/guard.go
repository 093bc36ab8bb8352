package httpauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Method says how a caller proved who it is.
type Method string

const (
	ViaOpen        Method = "open"        // Config.Open: nobody is asked
	ViaCertificate Method = "certificate" // a client certificate of the CA
	ViaToken       Method = "token"       // Authorization: Bearer
	ViaCookie      Method = "cookie"      // the web UI's session
)

// Principal is who made a request.
type Principal struct {
	// User is the certificate's common name ("node" for a node, "admin",
	// …), or "admin" for the token and the session cookie, or "" when Open.
	User string `json:"user"`
	Via  Method `json:"via"`
}

// Admin reports whether p was authenticated (anything but Open): the one
// who may submit topologies whose components run commands.
func (p Principal) Admin() bool { return p.Via != ViaOpen && p.Via != "" }

type principalKey struct{}

// FromContext is the Principal the Guard let through, for the handler
// behind it.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Routes the Guard serves itself.
const (
	LoginPath   = "/login"
	LogoutPath  = "/logout"
	SessionPath = "/api/v1/session"
	// CSRFHeader carries the session's CSRF token on the web UI's
	// mutating requests.
	CSRFHeader = "X-CSRF-Token"
)

// Guard is the middleware. It is immutable after New and safe for
// concurrent use.
type Guard struct {
	cfg      Config
	hosts    map[string]bool
	origin   *http.CrossOriginProtection
	sessions *sessions // nil when Open
}

// New validates cfg and returns its Guard.
func New(cfg Config) (*Guard, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	g := &Guard{cfg: cfg, hosts: map[string]bool{}, origin: http.NewCrossOriginProtection()}
	for _, h := range cfg.Hosts {
		g.hosts[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	g.origin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusForbidden, "cross-origin request refused: mutating routes take same-origin requests only")
	}))
	if !cfg.Open {
		g.sessions = newSessions(cfg.Token, cfg.SessionTTL, cfg.now)
	}
	return g, nil
}

// Middleware is New as a func(http.Handler) http.Handler.
func Middleware(cfg Config) (func(http.Handler) http.Handler, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return g.Handler, nil
}

// Handler wraps next: next sees only requests that passed every check,
// with their Principal in the context.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostAllowed(r.Host) {
			writeErr(w, http.StatusForbidden, fmt.Sprintf("host %q is not one this node serves", r.Host))
			return
		}
		limit := g.cfg.MaxBody
		if g.cfg.BodyLimit != nil {
			limit = g.cfg.BodyLimit(r)
		}
		if r.ContentLength > limit {
			writeErr(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over this route's limit of %d", r.ContentLength, limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if !safe(r.Method) {
			if err := g.origin.Check(r); err != nil {
				writeErr(w, http.StatusForbidden, "cross-origin request refused: mutating routes take same-origin requests only")
				return
			}
			if msg := contentTypeProblem(r); msg != "" {
				writeErr(w, http.StatusUnsupportedMediaType, msg)
				return
			}
		}
		switch r.URL.Path {
		case LoginPath:
			g.login(w, r)
			return
		case LogoutPath:
			g.logout(w, r)
			return
		}
		if g.cfg.PublicMetrics && r.URL.Path == "/metrics" && safe(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		p, ok := g.authenticate(w, r)
		if !ok {
			return
		}
		if r.URL.Path == SessionPath && r.Method == http.MethodGet {
			g.session(w, r, p)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// authenticate finds r's Principal, or answers r itself (401, 403, a
// redirect) and returns false.
func (g *Guard) authenticate(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	if g.cfg.Open {
		return Principal{Via: ViaOpen}, true
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		return Principal{User: r.TLS.VerifiedChains[0][0].Subject.CommonName, Via: ViaCertificate}, true
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		got, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || !g.tokenMatches(got) {
			writeErr(w, http.StatusForbidden, "wrong admin token")
			return Principal{}, false
		}
		return Principal{User: "admin", Via: ViaToken}, true
	}
	if id, ok := g.cookieSession(r); ok {
		if !safe(r.Method) {
			got := r.Header.Get(CSRFHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(g.sessions.csrf(id))) != 1 {
				writeErr(w, http.StatusForbidden, "missing or wrong CSRF token (header "+CSRFHeader+", from GET "+SessionPath+")")
				return Principal{}, false
			}
		}
		return Principal{User: "admin", Via: ViaCookie}, true
	}
	if tok, ok := r.URL.Query()["token"]; ok && r.Method == http.MethodGet && !isAPI(r.URL.Path) {
		if len(tok) != 1 || !g.tokenMatches(tok[0]) {
			writeErr(w, http.StatusForbidden, "wrong admin token")
			return Principal{}, false
		}
		g.setCookie(w, r)
		q := r.URL.Query()
		q.Del("token")
		// One leading slash: "//evil.example" must not leave the node.
		clean := &url.URL{Path: "/" + strings.TrimLeft(r.URL.Path, "/\\"), RawQuery: q.Encode()}
		http.Redirect(w, r, clean.String(), http.StatusSeeOther)
		return Principal{}, false
	}
	if r.Method == http.MethodGet && !isAPI(r.URL.Path) && r.URL.Path != "/metrics" {
		http.Redirect(w, r, LoginPath, http.StatusSeeOther)
		return Principal{}, false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="squall"`)
	writeErr(w, http.StatusUnauthorized, "this route needs credentials: a client certificate of the cluster's CA, or Authorization: Bearer <admin token>")
	return Principal{}, false
}

func (g *Guard) tokenMatches(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(g.cfg.Token)) == 1
}

func (g *Guard) cookieSession(r *http.Request) (string, bool) {
	c, err := r.Cookie(g.cfg.CookieName)
	if err != nil {
		return "", false
	}
	return g.sessions.verify(c.Value)
}

func (g *Guard) setCookie(w http.ResponseWriter, r *http.Request) {
	value, expires := g.sessions.issue()
	http.SetCookie(w, &http.Cookie{
		Name: g.cfg.CookieName, Value: value, Path: "/", Expires: expires,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// login serves the sign-in form (GET) and signs in (POST, form field
// "token"). Origin and content type were checked already.
func (g *Guard) login(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		loginPage(w, http.StatusOK, "")
	case http.MethodPost:
		if g.cfg.Open {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		if !g.tokenMatches(r.PostFormValue("token")) {
			loginPage(w, http.StatusForbidden, "The node refused that token.")
			return
		}
		g.setCookie(w, r)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeErr(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

func (g *Guard) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeErr(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: g.cfg.CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, LoginPath, http.StatusSeeOther)
}

// session tells the web UI who it is and, for a cookie session, its CSRF
// token.
func (g *Guard) session(w http.ResponseWriter, r *http.Request, p Principal) {
	body := struct {
		Principal
		CSRFToken string `json:"csrf_token,omitempty"`
	}{Principal: p}
	if p.Via == ViaCookie {
		id, _ := g.cookieSession(r)
		body.CSRFToken = g.sessions.csrf(id)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
}

// hostAllowed reports whether a Host header names this node: one of
// Config.Hosts or an IP literal (a DNS-rebinding page always arrives under
// its own name).
func (g *Guard) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	return g.hosts[host] || net.ParseIP(host) != nil
}

// contentTypeProblem says what is wrong with a mutating request's body
// type, or "". JSON everywhere; the sign-in form on /login; no
// Content-Type only with no body.
func contentTypeProblem(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if r.ContentLength == 0 {
			return ""
		}
		return "a request body needs Content-Type: application/json"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Sprintf("Content-Type %q: %v", ct, err)
	}
	switch {
	case mt == "application/json":
		return ""
	case mt == "application/x-www-form-urlencoded" && r.URL.Path == LoginPath:
		return ""
	}
	return fmt.Sprintf("Content-Type %q: want application/json", mt)
}

func safe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

func isAPI(path string) bool { return strings.HasPrefix(path, "/api/") }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// IsBodyTooLarge reports whether err is the error a handler's body read
// got from the Guard's limit (answer 413).
func IsBodyTooLarge(err error) bool {
	var e *http.MaxBytesError
	return errors.As(err, &e)
}
