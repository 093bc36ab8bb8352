package ui_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/ui"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// staticFiles lists ui/static on disk: what `go:embed static` embeds.
func staticFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := fs.WalkDir(os.DirFS("static"), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("ui/static is empty")
	}
	return files
}

func get(t *testing.T, srv *httptest.Server, p string) (*http.Response, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + p)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestServesEveryStaticFileWithItsContentType(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	want := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
		".svg":  "image/svg+xml",
	}
	for _, f := range staticFiles(t) {
		ct, ok := want[path.Ext(f)]
		if !ok {
			t.Errorf("%s: no content type expected for %q files; add it to this test", f, path.Ext(f))
			continue
		}
		resp, body := get(t, srv, "/"+f)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /%s: %s", f, resp.Status)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != ct {
			t.Errorf("GET /%s: Content-Type %q, want %q", f, got, ct)
		}
		disk, err := os.ReadFile("static/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if body != string(disk) {
			t.Errorf("GET /%s: served bytes differ from ui/static/%s", f, f)
		}
	}
	resp, body := get(t, srv, "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "js/cluster.js") {
		t.Errorf("GET /: %s, want the cluster page (index.html)", resp.Status)
	}
}

// The UI works without the internet: no file names an http(s) address
// (CDNs, web fonts, analytics). The SVG namespace is a name, never fetched.
func TestNoExternalURLs(t *testing.T) {
	url := regexp.MustCompile(`https?://[^\s"'<>)]*`)
	allowed := map[string]bool{"http://www.w3.org/2000/svg": true}
	for _, f := range staticFiles(t) {
		b, err := os.ReadFile("static/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, u := range url.FindAllString(line, -1) {
				if !allowed[u] {
					t.Errorf("ui/static/%s:%d: external URL %s: ship the asset in ui/static instead", f, i+1, u)
				}
			}
		}
	}
}

// Every page's src/href and every module's import names a file the
// handler serves: a typo would otherwise show only in a browser.
func TestLocalReferencesResolve(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	refs := map[string]*regexp.Regexp{
		".html": regexp.MustCompile(`(?:src|href)="([^"?#:]+)"`),
		".js":   regexp.MustCompile(`(?m)^import .* from '([^']+)';`),
	}
	for _, f := range staticFiles(t) {
		re := refs[path.Ext(f)]
		if re == nil {
			continue
		}
		b, err := os.ReadFile("static/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			target := path.Join(path.Dir("/"+f), m[1])
			if resp, _ := get(t, srv, target); resp.StatusCode != http.StatusOK {
				t.Errorf("ui/static/%s refers to %q: GET %s: %s", f, m[1], target, resp.Status)
			}
		}
	}
}

// The pure JS modules (formatting, rates, capacity colours, graph layout)
// have unit tests under Node's test runner in ui/e2e/unit.
func TestJavaScriptUnits(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("Node.js (node) is not on PATH: %v: install Node.js >= 20 (Debian's nodejs)", err)
	}
	files, err := filepath.Glob(filepath.Join("e2e", "unit", "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no unit tests in ui/e2e/unit (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=spec"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("node --test %v: %v\n%s", files, err, out)
	}
}

// Every module of the pages parses as a JavaScript module: a syntax error
// would otherwise show only in a browser, as a page that never fills.
// (`node --check` reads a .js file as CommonJS, whose check passes any
// file with an import, so each is checked under a .mjs name.)
func TestJavaScriptModulesParse(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("Node.js (node) is not on PATH: %v: install Node.js >= 20 (Debian's nodejs)", err)
	}
	dir := t.TempDir()
	for _, f := range staticFiles(t) {
		if path.Ext(f) != ".js" {
			continue
		}
		b, err := os.ReadFile("static/" + f)
		if err != nil {
			t.Fatal(err)
		}
		mjs := filepath.Join(dir, strings.ReplaceAll(strings.TrimSuffix(f, ".js"), "/", "_")+".mjs")
		if err := os.WriteFile(mjs, b, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, node, "--check", mjs).CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("ui/static/%s does not parse as a module: %v\n%s", f, err, out)
		}
	}
}

// Every page carries the frame page.js fills (frame, showWarning, report,
// poll): the session and Sign out in the header, the --insecure warning
// banner and the error banner. A page without one would throw in a
// browser only.
func TestEveryPageHasTheFrame(t *testing.T) {
	want := []string{
		`id="session"`, `id="session-user"`, `id="sign-out" type="button" data-testid="sign-out"`,
		`id="insecure-warning" class="banner warning" role="alert" data-testid="insecure-warning" hidden`,
		`id="banner"`, `id="updated"`,
	}
	for _, f := range staticFiles(t) {
		if path.Ext(f) != ".html" {
			continue
		}
		b, err := os.ReadFile("static/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("ui/static/%s has no %s", f, w)
			}
		}
	}
}
