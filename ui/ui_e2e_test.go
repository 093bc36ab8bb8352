//go:build unix

package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const setupHint = "run scripts/uideps.sh (or `go tool task ui:deps`): it installs Debian's chromium and ui/e2e's node_modules (npm ci)"

// chromiumPath is Debian's Chromium, or $SQUALL_CHROMIUM. Missing, the
// test fails: CI must run it, never skip it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("SQUALL_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no Chromium at %s (SQUALL_CHROMIUM): %v: %s", p, err, setupHint)
	}
	return p
}

// nodeJS is Node.js with ui/e2e's dependencies installed.
func nodeJS(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("Node.js (node) is not on PATH: %v: install Debian's nodejs, then %s", err, setupHint)
	}
	if _, err := os.Stat(filepath.Join("e2e", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("ui/e2e/node_modules has no playwright-core: %s", setupHint)
	}
	return p
}

// runScript runs ui/e2e/topology.test.mjs in headless Chromium (a
// Node.js subprocess) against base, with env added to its environment.
func runScript(t *testing.T, base string, env ...string) {
	t.Helper()
	chromium := chromiumPath(t)
	node := nodeJS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "topology.test.mjs"), base, "wordcount", "lines", "count")
	cmd.Env = append(append(os.Environ(), "SQUALL_CHROMIUM="+chromium), env...)
	// Its own process group, so a timeout ends Chromium with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("ui/e2e/topology.test.mjs:\n%s", out.String())
	if err != nil {
		t.Fatalf("the UI's end-to-end test failed (%v); screenshots in .cache/ui", err)
	}
}

// commandsJSON is what the script must find in the topology page's
// "Runs commands" section: split's command line.
func commandsJSON(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(map[string][]string{"split": splitCommand})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// shownEnv is what the script must find the pages showing of the test
// topology run by the node called node: node's name where a task runs,
// split's traceback as its last error, top's latencies never measured.
func shownEnv(node string) []string {
	return []string{"SQUALL_UI_NODE=" + node, "SQUALL_UI_ERROR_BOLT=split", "SQUALL_UI_ERROR=" + splitTraceback, "SQUALL_UI_IDLE_BOLT=top"}
}

// TestTopologyPageInChromium runs the script against a node with an admin
// token, as a user does: the page sends the browser to the sign-in form,
// which refuses a wrong token and signs in with the right one (a cookie;
// no token in any URL); the topology page shows the --insecure warning,
// the command split runs, and the counts growing; its submit time as a
// date, top's unmeasured latencies as "–", split's traceback readable in
// its cell with the node's name; Deactivate and Activate
// work through the cookie and the CSRF header (no prompt, no
// Authorization header); rebalance and kill too; Sign out goes back to the
// form, after which the API answers 401, and opening a page with ?token=
// signs in again and drops the token from the URL.
func TestTopologyPageInChromium(t *testing.T) {
	chromiumPath(t)
	nodeJS(t)
	const token = "e2e-admin-token"
	n := startNode(t, "ui-e2e", token)
	runScript(t, "http://"+n.HTTPAddr(), append(shownEnv("ui-e2e"), "SQUALL_ADMIN_TOKEN="+token,
		"SQUALL_UI_WARNING=shown", "SQUALL_UI_COMMANDS="+commandsJSON(t))...)
}

// TestInsecurePageInChromium runs the script against a node run with
// --insecure and no token: no sign-in and no Sign out, every page shows
// the --insecure warning banner, the topology page lists split's command,
// and the actions work without a session.
func TestInsecurePageInChromium(t *testing.T) {
	chromiumPath(t)
	nodeJS(t)
	n := startNode(t, "ui-e2e-open", "")
	runScript(t, "http://"+n.HTTPAddr(), append(shownEnv("ui-e2e-open"), "SQUALL_ADMIN_TOKEN=",
		"SQUALL_UI_WARNING=shown", "SQUALL_UI_COMMANDS="+commandsJSON(t), "SQUALL_UI_SHOTS_PREFIX=insecure-")...)
}
