package nodecmd_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestClientWaitIsCheckedBeforeItIsSent: `kill --wait` and `rebalance
// --wait` carry every wait the node takes, rounded up to whole seconds (an
// hour and more included), and refuse, without a request, one below zero
// or with more seconds than the node takes (it used to reach the node and
// overflow there into an instant "success").
func TestClientWaitIsCheckedBeforeItIsSent(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","squall":{"applied":true}}`))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		cmd, wait string
		path      string // "": refused before sending
	}{
		{"kill", "0s", "/api/v1/topology/wc/kill/0"},
		{"kill", "1.2s", "/api/v1/topology/wc/kill/2"},
		{"kill", "2h", "/api/v1/topology/wc/kill/7200"},
		{"kill", "2562047h47m16s", "/api/v1/topology/wc/kill/9223372036"},
		{"kill", "2562047h47m16.000000001s", ""},
		{"kill", "2562047h47m16.854775807s", ""},
		{"kill", "-1s", ""},
		{"rebalance", "30s", "/api/v1/topology/wc/rebalance/30"},
		{"rebalance", "2562047h47m16.854775807s", ""},
	} {
		mu.Lock()
		paths = nil
		mu.Unlock()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{tc.cmd, "wc", "--addr", addr, "--wait", tc.wait}, &stdout, &stderr)
		mu.Lock()
		got := strings.Join(paths, " ")
		mu.Unlock()
		if got != tc.path {
			t.Errorf("%s --wait %s: sent %q, want %q", tc.cmd, tc.wait, got, tc.path)
		}
		if tc.path == "" && (code != 1 || !strings.Contains(stderr.String(), "wait "+strings.TrimSuffix(tc.wait, "s"))) {
			t.Errorf("%s --wait %s: exit %d, stderr %q: want 1 and the wait named", tc.cmd, tc.wait, code, stderr.String())
		}
		if tc.path != "" && code != 0 {
			t.Errorf("%s --wait %s: exit %d, stderr %q", tc.cmd, tc.wait, code, stderr.String())
		}
	}
}
