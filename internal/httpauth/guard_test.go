package httpauth

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const token = "s3cret-admin-token"

// reached is what the handler behind the Guard saw.
type reached struct {
	ok        bool
	principal Principal
	bodyErr   error
	body      string
}

// backend is the handler behind the Guard: it reads the body and answers
// 202 for mutating requests, 200 for the others.
func backend(got *reached) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.ok = true
		got.principal, _ = FromContext(r.Context())
		b, err := io.ReadAll(r.Body)
		got.body, got.bodyErr = string(b), err
		if safe(r.Method) {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Token = token
	cfg.Hosts = []string{"localhost", "node1.example"}
	cfg.MaxBody = 64
	return cfg
}

func newGuard(t *testing.T, cfg Config) *Guard {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// req is one request of a table: Host 127.0.0.1:8080 unless host says
// otherwise.
type req struct {
	method, path, host, body string
	headers                  map[string]string
	chunked                  bool   // no Content-Length
	cert                     string // the common name of a verified client certificate, or unverified
}

const unverified = "(unverified)"

func (q req) build() *http.Request {
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
		if q.chunked {
			body = io.MultiReader(body) // hides the length from NewRequest
		}
	}
	r := httptest.NewRequest(method, q.path, body)
	r.Host = "127.0.0.1:8080"
	if q.host != "" {
		r.Host = q.host
		if q.host == "-" {
			r.Host = ""
		}
	}
	if q.chunked {
		r.ContentLength = -1
	}
	for k, v := range q.headers {
		r.Header.Set(k, v)
	}
	switch leaf := (&x509.Certificate{Subject: pkix.Name{CommonName: q.cert}}); q.cert {
	case "":
	case unverified: // presented, but not verified against the CA
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}
	default:
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf}}}
	}
	return r
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

var jsonToken = with(bearer(token), "Content-Type", "application/json")

func TestGuard(t *testing.T) {
	strict := testConfig()
	public := testConfig()
	public.PublicMetrics = true
	open := testConfig()
	open.Token, open.Open = "", true
	limited := testConfig()
	limited.BodyLimit = func(r *http.Request) int64 {
		if r.URL.Path == "/api/v1/topologies" {
			return 1 << 10
		}
		return 8
	}
	big := `{"name":"` + strings.Repeat("x", 100) + `"}`

	for _, tc := range []struct {
		name     string
		cfg      Config
		req      req
		code     int
		via      Method // the Principal the backend must see when it is reached
		location string // the redirect, when code is 303
	}{
		// Credentials on every route, GET included.
		{"GET topologies without credentials", strict, req{path: "/api/v1/topologies"}, 401, "", ""},
		{"GET resources without credentials", strict, req{path: "/api/v1/resources/0123abcd"}, 401, "", ""},
		{"GET members without credentials", strict, req{path: "/api/v1/members"}, 401, "", ""},
		{"Storm UI route without credentials", strict, req{path: "/api/v1/cluster/summary"}, 401, "", ""},
		{"GET with the token", strict, req{path: "/api/v1/topologies", headers: bearer(token)}, 200, ViaToken, ""},
		{"GET with a wrong token", strict, req{path: "/api/v1/topologies", headers: bearer(token + "x")}, 403, "", ""},
		{"GET with a token prefix", strict, req{path: "/api/v1/topologies", headers: bearer(token[:5])}, 403, "", ""},
		{"Basic instead of Bearer", strict, req{path: "/api/v1/topologies", headers: map[string]string{"Authorization": "Basic " + token}}, 403, "", ""},
		{"GET with a verified client certificate", strict, req{path: "/api/v1/topologies", cert: "admin"}, 200, ViaCertificate, ""},
		{"a certificate TLS did not verify", strict, req{path: "/api/v1/topologies", cert: unverified}, 401, "", ""},
		{"a browser's GET of a page signs in first", strict, req{path: "/"}, 303, "", LoginPath},
		{"a browser's GET of another page", strict, req{path: "/topology.html?id=wc"}, 303, "", LoginPath},
		{"token query on an API route does not sign in", strict, req{path: "/api/v1/topologies?token=" + token}, 401, "", ""},

		// /metrics: public only with the flag, and only to read.
		{"metrics without the flag", strict, req{path: "/metrics"}, 401, "", ""},
		{"metrics with the flag", public, req{path: "/metrics"}, 200, "", ""},
		{"POST metrics with the flag", public, req{method: "POST", path: "/metrics"}, 401, "", ""},
		{"the flag opens nothing else", public, req{path: "/api/v1/topologies"}, 401, "", ""},

		// Host: DNS rebinding.
		{"rebinding host with the token", strict, req{path: "/api/v1/topologies", host: "evil.example:8080", headers: bearer(token)}, 403, "", ""},
		{"rebinding host on a public route", public, req{path: "/metrics", host: "evil.example"}, 403, "", ""},
		{"listed host", strict, req{path: "/api/v1/topologies", host: "node1.example:8080", headers: bearer(token)}, 200, ViaToken, ""},
		{"listed host in capitals with a dot", strict, req{path: "/api/v1/topologies", host: "LOCALHOST.:8080", headers: bearer(token)}, 200, ViaToken, ""},
		{"IPv6 literal", strict, req{path: "/api/v1/topologies", host: "[::1]:8080", headers: bearer(token)}, 200, ViaToken, ""},
		{"IPv4 literal without port", strict, req{path: "/api/v1/topologies", host: "10.1.2.3", headers: bearer(token)}, 200, ViaToken, ""},
		{"no Host", strict, req{path: "/api/v1/topologies", host: "-", headers: bearer(token)}, 403, "", ""},
		{"suffix of a listed host", strict, req{path: "/api/v1/topologies", host: "evilnode1.example", headers: bearer(token)}, 403, "", ""},

		// Same origin and content type on mutating requests.
		{"text/plain from evil.example", strict, req{method: "POST", path: "/api/v1/topologies", body: `{"name":"x"}`, headers: map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}}, 403, "", ""},
		{"text/plain from evil.example with the token", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: with(bearer(token), "Content-Type", "text/plain", "Origin", "http://evil.example")}, 403, "", ""},
		{"JSON from evil.example with the token", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: with(jsonToken, "Origin", "http://evil.example")}, 403, "", ""},
		{"Sec-Fetch-Site cross-site", strict, req{method: "POST", path: "/api/v1/topology/wc/kill/30", headers: with(jsonToken, "Sec-Fetch-Site", "cross-site")}, 403, "", ""},
		{"Sec-Fetch-Site same-site is not same-origin", strict, req{method: "POST", path: "/api/v1/topology/wc/kill/30", headers: with(jsonToken, "Sec-Fetch-Site", "same-site")}, 403, "", ""},
		{"Sec-Fetch-Site same-origin", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: with(jsonToken, "Sec-Fetch-Site", "same-origin")}, 202, ViaToken, ""},
		{"Origin of the node itself", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: with(jsonToken, "Origin", "http://127.0.0.1:8080")}, 202, ViaToken, ""},
		{"a client without Origin (node submit)", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: jsonToken}, 202, ViaToken, ""},
		{"text/plain without Origin", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: with(bearer(token), "Content-Type", "text/plain")}, 415, "", ""},
		{"form body on an API route", strict, req{method: "POST", path: "/api/v1/topologies", body: `a=b`, headers: with(bearer(token), "Content-Type", "application/x-www-form-urlencoded")}, 415, "", ""},
		{"multipart body", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: with(bearer(token), "Content-Type", "multipart/form-data; boundary=x")}, 415, "", ""},
		{"a body without Content-Type", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: bearer(token)}, 415, "", ""},
		{"a malformed Content-Type", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: with(bearer(token), "Content-Type", "application/json; =")}, 415, "", ""},
		{"JSON with a charset", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: with(bearer(token), "Content-Type", "application/json; charset=utf-8")}, 202, ViaToken, ""},
		{"an empty POST without Content-Type (kill)", strict, req{method: "POST", path: "/api/v1/topology/wc/kill/30", headers: bearer(token)}, 202, ViaToken, ""},
		{"cross-origin POST without credentials is 403, not 401", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}}, 403, "", ""},
		{"POST without credentials", strict, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: map[string]string{"Content-Type": "application/json"}}, 401, "", ""},
		{"DELETE is mutating", strict, req{method: "DELETE", path: "/api/v1/topologies/wc", headers: with(bearer(token), "Origin", "http://evil.example")}, 403, "", ""},

		// Body limits.
		{"body over MaxBody", strict, req{method: "POST", path: "/api/v1/topologies", body: big, headers: jsonToken}, 413, "", ""},
		{"per-route limit lets a submit through", limited, req{method: "POST", path: "/api/v1/topologies", body: big, headers: jsonToken}, 202, ViaToken, ""},
		{"per-route limit elsewhere", limited, req{method: "POST", path: "/api/v1/topology/wc/rebalance/0", body: `{"rebalanceOptions":{}}`, headers: jsonToken}, 413, "", ""},

		// Signing in.
		{"the sign-in form", strict, req{path: LoginPath}, 200, "", ""},
		{"sign in with the token", strict, req{method: "POST", path: LoginPath, body: "token=" + token, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}}, 303, "", "/"},
		{"sign in with a wrong token", strict, req{method: "POST", path: LoginPath, body: "token=nope", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 403, "", ""},
		{"sign in from another site", strict, req{method: "POST", path: LoginPath, body: "token=" + token, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}}, 403, "", ""},
		{"sign in with an empty JSON body", strict, req{method: "POST", path: LoginPath, headers: map[string]string{"Content-Type": "application/json"}}, 403, "", ""},
		{"sign in with text/plain", strict, req{method: "POST", path: LoginPath, body: "token=" + token, headers: map[string]string{"Content-Type": "text/plain"}}, 415, "", ""},
		{"?token= signs in and drops the token", strict, req{path: "/topology.html?id=wc&token=" + token}, 303, "", "/topology.html?id=wc"},
		{"?token= at the root", strict, req{path: "/?token=" + token}, 303, "", "/"},
		{"?token= wrong", strict, req{path: "/?token=nope"}, 403, "", ""},
		{"?token= twice", strict, req{path: "/?token=" + token + "&token=" + token}, 403, "", ""},
		{"?token= cannot redirect off the node", strict, req{path: "//evil.example/?token=" + token}, 303, "", "/evil.example/"},
		{"sign out", strict, req{method: "POST", path: LogoutPath, headers: map[string]string{"Sec-Fetch-Site": "same-origin"}}, 303, "", LoginPath},
		{"sign out from another site", strict, req{method: "POST", path: LogoutPath, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, "", ""},
		{"session without credentials", strict, req{path: SessionPath}, 401, "", ""},

		// --insecure: no credentials, the other checks stay.
		{"open: GET without credentials", open, req{path: "/api/v1/topologies"}, 200, ViaOpen, ""},
		{"open: a page without credentials", open, req{path: "/"}, 200, ViaOpen, ""},
		{"open: text/plain from evil.example", open, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}}, 403, "", ""},
		{"open: rebinding host", open, req{path: "/api/v1/topologies", host: "evil.example"}, 403, "", ""},
		{"open: JSON POST", open, req{method: "POST", path: "/api/v1/topologies", body: `{}`, headers: map[string]string{"Content-Type": "application/json"}}, 202, ViaOpen, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got reached
			rec := httptest.NewRecorder()
			newGuard(t, tc.cfg).Handler(backend(&got)).ServeHTTP(rec, tc.req.build())
			if rec.Code != tc.code {
				t.Fatalf("code %d, want %d; body %s", rec.Code, tc.code, rec.Body)
			}
			wantReached := tc.code == 200 || tc.code == 202
			if tc.req.path == LoginPath && tc.code == 200 {
				wantReached = false // the Guard's own form
			}
			if got.ok != wantReached {
				t.Fatalf("backend reached %v, want %v", got.ok, wantReached)
			}
			if got.ok && got.principal.Via != tc.via && !(tc.via == "" && tc.cfg.PublicMetrics) {
				t.Errorf("principal %+v, want via %q", got.principal, tc.via)
			}
			if got.bodyErr != nil {
				t.Errorf("backend body read: %v", got.bodyErr)
			}
			if tc.code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tc.code == 303 {
				if loc := rec.Header().Get("Location"); loc != tc.location {
					t.Errorf("Location %q, want %q", loc, tc.location)
				}
			}
			if tc.code >= 400 && !strings.Contains(rec.Body.String(), `"error"`) && tc.req.path != LoginPath {
				t.Errorf("error body %q has no error field", rec.Body)
			}
		})
	}
}

func TestGuardCertificateUser(t *testing.T) {
	var got reached
	rec := httptest.NewRecorder()
	newGuard(t, testConfig()).Handler(backend(&got)).ServeHTTP(rec, req{path: "/api/v1/members", cert: "alice"}.build())
	if rec.Code != 200 || got.principal != (Principal{User: "alice", Via: ViaCertificate}) || !got.principal.Admin() {
		t.Fatalf("code %d, principal %+v", rec.Code, got.principal)
	}
	if (Principal{Via: ViaOpen}).Admin() {
		t.Error("an Open principal counts as an admin")
	}
}

// TestGuardChunkedBodyOverLimit: a body with no Content-Length is cut at
// the limit while the handler reads it.
func TestGuardChunkedBodyOverLimit(t *testing.T) {
	var got reached
	rec := httptest.NewRecorder()
	body := strings.Repeat("x", 100)
	newGuard(t, testConfig()).Handler(backend(&got)).ServeHTTP(rec, req{method: "POST", path: "/api/v1/topologies", body: body, chunked: true, headers: jsonToken}.build())
	if !got.ok || !IsBodyTooLarge(got.bodyErr) || len(got.body) > 64 {
		t.Fatalf("reached %v, read %d bytes, err %v; want the read cut at 64 with a MaxBytesError", got.ok, len(got.body), got.bodyErr)
	}
	if IsBodyTooLarge(errors.New("other")) {
		t.Error("IsBodyTooLarge(other error)")
	}
}

// clock is a fake time.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func sessionCookie(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == "squall_session" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", rec.Header())
	return nil
}

func TestGuardSessionCookie(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	cfg := testConfig()
	cfg.SessionTTL = time.Hour
	cfg.now = clk.now
	g := newGuard(t, cfg)
	serve := func(q req, c *http.Cookie) (*httptest.ResponseRecorder, reached) {
		var got reached
		r := q.build()
		if c != nil {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		g.Handler(backend(&got)).ServeHTTP(rec, r)
		return rec, got
	}

	rec, _ := serve(req{path: "/?token=" + token}, nil)
	c := sessionCookie(t, rec)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over HTTP", c)
	}
	if strings.Contains(c.Value, token) {
		t.Error("the cookie carries the admin token")
	}
	tlsReq := req{path: "/?token=" + token}.build()
	tlsReq.TLS = &tls.ConnectionState{}
	tlsRec := httptest.NewRecorder()
	g.Handler(backend(&reached{})).ServeHTTP(tlsRec, tlsReq)
	if !sessionCookie(t, tlsRec).Secure {
		t.Error("cookie set over HTTPS is not Secure")
	}

	// The session tells the UI its CSRF token.
	rec, _ = serve(req{path: SessionPath}, c)
	var sess struct {
		User, Via string
		CSRF      string `json:"csrf_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &sess); err != nil || rec.Code != 200 || sess.Via != "cookie" || sess.CSRF == "" {
		t.Fatalf("session: %d %s (%v)", rec.Code, rec.Body, err)
	}

	post := func(csrf string) req {
		h := map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}
		if csrf != "" {
			h[CSRFHeader] = csrf
		}
		return req{method: "POST", path: "/api/v1/topology/wc/kill/30", headers: h}
	}
	tampered := *c
	tampered.Value = strings.Replace(c.Value, "v1.", "v1.9", 1)
	otherCfg := cfg
	otherCfg.Token = "another-cluster-token"
	otherRec := httptest.NewRecorder()
	newGuard(t, otherCfg).Handler(backend(&reached{})).ServeHTTP(otherRec, req{path: "/?token=another-cluster-token"}.build())
	foreign := sessionCookie(t, otherRec)

	for _, tc := range []struct {
		name    string
		req     req
		cookie  *http.Cookie
		advance time.Duration
		code    int
	}{
		{"GET with the cookie", req{path: "/api/v1/topologies"}, c, 0, 200},
		{"a page with the cookie", req{path: "/"}, c, 0, 200},
		{"POST with the cookie and no CSRF token", post(""), c, 0, 403},
		{"POST with the cookie and a wrong CSRF token", post(sess.CSRF + "x"), c, 0, 403},
		{"POST with the cookie and the CSRF token", post(sess.CSRF), c, 0, 202},
		{"the CSRF token alone is no credential", post(sess.CSRF), nil, 0, 401},
		{"a tampered cookie", req{path: "/api/v1/topologies"}, &tampered, 0, 401},
		{"another cluster's cookie", req{path: "/api/v1/topologies"}, foreign, 0, 401},
		{"a garbage cookie", req{path: "/api/v1/topologies"}, &http.Cookie{Name: "squall_session", Value: "v1.x.y"}, 0, 401},
		{"just before expiry", req{path: "/api/v1/topologies"}, c, time.Hour - time.Second, 200},
		{"expired", req{path: "/api/v1/topologies"}, c, time.Second, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.t = clk.t.Add(tc.advance)
			rec, got := serve(tc.req, tc.cookie)
			if rec.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if (tc.code < 300) != got.ok {
				t.Fatalf("backend reached %v", got.ok)
			}
			if got.ok && got.principal.Via != ViaCookie {
				t.Errorf("principal %+v, want via cookie", got.principal)
			}
		})
	}

	// Sign out clears the cookie.
	rec, _ = serve(req{method: "POST", path: LogoutPath}, c)
	if out := sessionCookie(t, rec); out.MaxAge >= 0 || out.Value != "" {
		t.Errorf("sign-out cookie %+v: want it deleted", out)
	}
}

func TestLoginFormSetsCookie(t *testing.T) {
	g := newGuard(t, testConfig())
	form := url.Values{"token": {token}}.Encode()
	rec := httptest.NewRecorder()
	g.Handler(backend(&reached{})).ServeHTTP(rec, req{method: "POST", path: LoginPath, body: form, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}.build())
	if rec.Code != 303 {
		t.Fatalf("code %d", rec.Code)
	}
	c := sessionCookie(t, rec)
	var got reached
	r := req{path: "/api/v1/topologies"}.build()
	r.AddCookie(c)
	g.Handler(backend(&got)).ServeHTTP(httptest.NewRecorder(), r)
	if !got.ok || got.principal.Via != ViaCookie {
		t.Fatalf("the form's cookie did not authenticate: %+v", got)
	}
	page := httptest.NewRecorder()
	g.Handler(backend(&reached{})).ServeHTTP(page, req{path: LoginPath}.build())
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("sign-in page CSP %q", csp)
	}
	if !strings.Contains(page.Body.String(), `name="token"`) {
		t.Error("sign-in page has no token field")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"default with a token", func(c *Config) { c.Token = token }, true},
		{"open", func(c *Config) { c.Open = true }, true},
		{"no token, not open", func(c *Config) {}, false},
		{"token and open", func(c *Config) { c.Token, c.Open = token, true }, false},
		{"token with a newline", func(c *Config) { c.Token = token + "\n" }, false},
		{"zero MaxBody", func(c *Config) { c.Token, c.MaxBody = token, 0 }, false},
		{"zero SessionTTL", func(c *Config) { c.Token, c.SessionTTL = token, 0 }, false},
		{"host with a port", func(c *Config) { c.Token, c.Hosts = token, []string{"localhost:8080"} }, false},
		{"host with a scheme", func(c *Config) { c.Token, c.Hosts = token, []string{"https://node1"} }, false},
		{"empty host", func(c *Config) { c.Token, c.Hosts = token, []string{""} }, false},
		{"IPv6 host", func(c *Config) { c.Token, c.Hosts = token, []string{"::1"} }, true},
		{"cookie name with a space", func(c *Config) { c.Token, c.CookieName = token, "a b" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			_, err := New(cfg)
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("err %v does not wrap ErrConfig", err)
			}
			mw, err2 := Middleware(cfg)
			if (err == nil) != (err2 == nil) || (err2 == nil && mw == nil) {
				t.Errorf("Middleware disagrees with New: %v vs %v", err2, err)
			}
		})
	}
}
