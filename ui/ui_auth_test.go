package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/internal/preflight"
)

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// request does one request and returns the answer with its body read.
func request(t *testing.T, method, u string, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// sessionCookie is the cookie resp sets, checked to be the browser-only
// kind: HttpOnly, SameSite=Strict.
func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "squall_session") && c.Value != "" {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("session cookie %s: HttpOnly %v, SameSite %v; want HttpOnly and Strict", c.Name, c.HttpOnly, c.SameSite)
			}
			return c
		}
	}
	t.Fatalf("%s: no session cookie set (Set-Cookie %q)", resp.Request.URL, resp.Header.Values("Set-Cookie"))
	return nil
}

func topologyStatus(t *testing.T, base string, header map[string]string) string {
	t.Helper()
	resp, body := request(t, "GET", base+"/api/v1/topology/wordcount", "", header)
	var tp struct{ Status string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &tp) != nil {
		t.Fatalf("GET the topology page: %s %s", resp.Status, body)
	}
	return tp.Status
}

// TestTokenNodeSignsInTheBrowserAndRefusesCrossSiteRequests: on a node
// with an admin token, the UI's pages send a browser without a session to
// the sign-in form, the API answers 401; the form and ?token= sign in
// with an HttpOnly, SameSite=Strict cookie; with it the UI and the API
// answer, a POST needs the session's CSRF token, and a cross-origin POST
// is refused even with the cookie and the token (403), leaving the
// topology as it was.
func TestTokenNodeSignsInTheBrowserAndRefusesCrossSiteRequests(t *testing.T) {
	const token = "auth-test-token"
	n := startNode(t, "ui-auth", token)
	base := "http://" + n.HTTPAddr()

	for _, tc := range []struct {
		method, path string
		code         int
		location     string
	}{
		{"GET", "/", http.StatusSeeOther, "/login"},
		{"GET", "/topology.html?id=wordcount", http.StatusSeeOther, "/login"},
		{"GET", "/js/api.js", http.StatusSeeOther, "/login"},
		{"GET", "/api/v1/cluster/summary", http.StatusUnauthorized, ""},
		{"GET", "/api/v1/topology/wordcount", http.StatusUnauthorized, ""},
		{"GET", "/api/v1/session", http.StatusUnauthorized, ""},
		{"POST", "/api/v1/topology/wordcount/deactivate", http.StatusUnauthorized, ""},
		{"GET", "/login", http.StatusOK, ""},
	} {
		resp, body := request(t, tc.method, base+tc.path, "", nil)
		if resp.StatusCode != tc.code || resp.Header.Get("Location") != tc.location {
			t.Errorf("%s %s without credentials: %s (Location %q) %.200s; want %d (Location %q)",
				tc.method, tc.path, resp.Status, resp.Header.Get("Location"), body, tc.code, tc.location)
		}
	}

	// The sign-in form, as the browser posts it.
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": base, "Sec-Fetch-Site": "same-origin"}
	if resp, body := request(t, "POST", base+"/login", url.Values{"token": {"wrong"}}.Encode(), form); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "refused") {
		t.Errorf("sign in with a wrong token: %s %.200s; want 403 and the form saying so", resp.Status, body)
	}
	resp, _ := request(t, "POST", base+"/login", url.Values{"token": {token}}.Encode(), form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign in: %s (Location %q), want 303 to /", resp.Status, resp.Header.Get("Location"))
	}
	cookie := sessionCookie(t, resp)

	// Jupyter's way: the token in the URL signs in and is dropped from it.
	resp, _ = request(t, "GET", base+"/topology.html?id=wordcount&token="+token, "", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/topology.html?id=wordcount" {
		t.Errorf("GET /topology.html?id=wordcount&token=…: %s (Location %q), want 303 to the page without the token", resp.Status, loc)
	}
	sessionCookie(t, resp)

	signedIn := map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}
	if resp, body := request(t, "GET", base+"/", "", signedIn); resp.StatusCode != http.StatusOK || !strings.Contains(body, "js/cluster.js") {
		t.Errorf("GET / signed in: %s, want the cluster page", resp.Status)
	}
	resp, body := request(t, "GET", base+"/api/v1/session", "", signedIn)
	var session struct {
		Via       string `json:"via"`
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal([]byte(body), &session); err != nil ||
		resp.StatusCode != http.StatusOK || session.Via != "cookie" || session.CSRFToken == "" {
		t.Fatalf("GET /api/v1/session signed in: %s %s; want via cookie with a csrf_token", resp.Status, body)
	}
	if got := topologyStatus(t, base, signedIn); got != "ACTIVE" {
		t.Fatalf("status %s before the refused requests, want ACTIVE", got)
	}

	with := func(extra map[string]string) map[string]string {
		h := map[string]string{"Cookie": signedIn["Cookie"], "Content-Type": "application/json",
			"Origin": base, "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": session.CSRFToken}
		for k, v := range extra {
			if v == "" {
				delete(h, k)
			} else {
				h[k] = v
			}
		}
		return h
	}
	deactivate := base + "/api/v1/topology/wordcount/deactivate"
	for _, tc := range []struct {
		name   string
		header map[string]string
		body   string
		code   int
	}{
		{"no CSRF token", with(map[string]string{"X-CSRF-Token": ""}), "{}", http.StatusForbidden},
		{"a wrong CSRF token", with(map[string]string{"X-CSRF-Token": "x" + session.CSRFToken}), "{}", http.StatusForbidden},
		{"cross-origin (Origin)", with(map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": ""}), "{}", http.StatusForbidden},
		{"cross-site (Sec-Fetch-Site)", with(map[string]string{"Sec-Fetch-Site": "cross-site"}), "{}", http.StatusForbidden},
		{"another site's form post, no cookie", map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}, "{}", http.StatusForbidden},
		{"same origin but not JSON", with(map[string]string{"Content-Type": "text/plain"}), "{}", http.StatusUnsupportedMediaType},
		{"a DNS-rebinding host", with(map[string]string{"Host": "rebind.evil.example"}), "{}", http.StatusForbidden},
	} {
		req := func() (*http.Response, string) {
			if host := tc.header["Host"]; host != "" {
				r, err := http.NewRequest("POST", deactivate, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range tc.header {
					r.Header.Set(k, v)
				}
				r.Host = host
				resp, err := noRedirects.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			return request(t, "POST", deactivate, tc.body, tc.header)
		}
		if resp, body := req(); resp.StatusCode != tc.code {
			t.Errorf("POST deactivate, %s: %s %s; want %d", tc.name, resp.Status, body, tc.code)
		}
	}
	if got := topologyStatus(t, base, signedIn); got != "ACTIVE" {
		t.Errorf("status %s after the refused deactivations, want ACTIVE: one of them went through", got)
	}

	// The same request, same-origin with the CSRF token, is the UI's own.
	if resp, body := request(t, "POST", deactivate, "{}", with(nil)); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST deactivate as the UI does: %s %s", resp.Status, body)
	}
	if got := topologyStatus(t, base, signedIn); got != "INACTIVE" {
		t.Errorf("status %s after the UI's deactivate, want INACTIVE", got)
	}

	// Sign out clears the cookie and goes back to the form.
	resp, _ = request(t, "POST", base+"/logout", "", with(map[string]string{"Content-Type": ""}))
	cleared := slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == cookie.Name && c.MaxAge < 0 })
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" || !cleared {
		t.Errorf("POST /logout: %s (Location %q, Set-Cookie %q); want 303 to /login clearing %s",
			resp.Status, resp.Header.Get("Location"), resp.Header.Values("Set-Cookie"), cookie.Name)
	}
}

// TestOpenNodeWarnsAndShowsCommands: a node run with --insecure and no
// admin token asks for no sign-in, carries the --insecure warning in its
// cluster summary (every page shows it), lists the commands its topology
// runs, and still refuses cross-origin POSTs.
func TestOpenNodeWarnsAndShowsCommands(t *testing.T) {
	n := startNode(t, "ui-open", "")
	base := "http://" + n.HTTPAddr()

	if resp, body := request(t, "GET", base+"/", "", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="insecure-warning"`) {
		t.Errorf("GET / on an open node: %s, want the cluster page with its warning banner", resp.Status)
	}
	resp, body := request(t, "GET", base+"/api/v1/cluster/summary", "", nil)
	var summary struct{ SquallWarning string }
	if err := json.Unmarshal([]byte(body), &summary); err != nil || resp.StatusCode != http.StatusOK || summary.SquallWarning != preflight.InsecureWarning {
		t.Errorf("cluster summary: %s %s; want squallWarning %q", resp.Status, body, preflight.InsecureWarning)
	}
	resp, body = request(t, "GET", base+"/api/v1/session", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"via":"open"`) || strings.Contains(body, "csrf_token") {
		t.Errorf("session on an open node: %s %s; want via open, no CSRF token", resp.Status, body)
	}

	// The page lists commands from the node's build of the topology,
	// which it has once it runs the topology's tasks.
	commands := func() map[string]any {
		resp, body := request(t, "GET", base+"/api/v1/topology/wordcount", "", nil)
		var tp struct{ Spouts, Bolts []map[string]any }
		if err := json.Unmarshal([]byte(body), &tp); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("topology page: %s %s", resp.Status, body)
		}
		out := map[string]any{}
		for _, c := range append(tp.Spouts, tp.Bolts...) {
			if cmd, ok := c["squallCommand"]; ok {
				id, _ := c["boltId"].(string)
				if id == "" {
					id, _ = c["spoutId"].(string)
				}
				out[id] = cmd
			}
		}
		return out
	}
	poll.Until(t, 30*time.Second, "the topology page to list a command", func() bool { return len(commands()) > 0 })
	want := map[string]any{"split": []any{}}
	for _, a := range splitCommand {
		want["split"] = append(want["split"].([]any), a)
	}
	if got := commands(); !reflect.DeepEqual(got, want) {
		t.Errorf("commands on the topology page = %v, want %v", got, want)
	}

	resp, body = request(t, "POST", base+"/api/v1/topology/wordcount/deactivate", "{}",
		map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST on an open node: %s %s, want 403", resp.Status, body)
	}
}
