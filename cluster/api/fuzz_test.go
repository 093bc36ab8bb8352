package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/squall-streams/squall/cluster/api"
)

// The routes whose bodies FuzzJSONBodies sends, by its op byte.
var fuzzRoutes = []string{
	"/api/v1/topologies", // submit
	"/api/v1/topology/ids/rebalance",
	"/api/v1/topology/ids/rebalance/3",
	"/api/v1/topology/ids/kill",
	"/api/v1/topology/ids/kill/2",
	"/api/v1/topology/ids/activate",
	"/api/v1/topology/ids/deactivate",
}

// FuzzJSONBodies posts outside bytes as the body of every mutating route,
// through api.Register over a fake Backend that accepts everything. Nothing
// may panic or answer 5xx; a body that does not decode as the route's JSON
// gets a 400 with the API's error body and never reaches the Backend; one
// that does reaches it with exactly what it says. The routes that read no
// body (kill, activate, deactivate) answer as without one.
func FuzzJSONBodies(f *testing.F) {
	for _, seed := range []struct {
		op   uint8
		body string
	}{
		{0, `{"name":"wc","kind":"wordcount","conf":{"topology.workers":"2"}}`},
		{0, `{"name":"wc","kind":"wordcount","resources":"H4sIAAAAAAAA/w=="}`},
		{0, `{"name":"wc","kind":"wordcount","resources":"not base64!"}`},
		{0, `{"name":7}`},
		{0, `{"name":"wc","conf":{"k":1}}`},
		{0, `{"name":"wc","conf":[]}`},
		{0, `{"name":"\ud800","kind":"\xff"}`},
		{0, `[` + strings.Repeat(`[`, 300)},
		{0, `null`},
		{0, ``},
		{0, `{"name":"wc"} trailing`},
		{1, `{"rebalanceOptions":{"numWorkers":3,"executors":{"sink":2}}}`},
		{1, `{"rebalanceOptions":{"executors":{"sink":-1,"relay":0}}}`},
		{1, `{"rebalanceOptions":{"executors":{"sink":1e400}}}`},
		{1, `{"rebalanceOptions":{"executors":{"sink":99999999999999999999}}}`},
		{1, `{"rebalanceOptions":{"executors":{"sink":2.5}}}`},
		{1, `{"rebalanceOptions":{"numWorkers":"three"}}`},
		{1, `{"rebalanceOptions":null}`},
		{1, `{"rebalanceOptions":`},
		{1, ` `},
		{2, `{"rebalanceOptions":{"executors":{"relay":1}}}`},
		{3, `{"anything":true}`},
		{4, `garbage`},
		{5, `{}`},
		{6, `{`},
	} {
		f.Add(seed.op, []byte(seed.body))
	}
	// One fake and mux for all inputs (a fuzz worker runs them one at a
	// time); each input takes the calls it made.
	var fk *fake
	mux := http.NewServeMux()
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		if fk == nil {
			fk = newFake(t)
			api.Register(mux, fk, api.Config{})
		}
		route := fuzzRoutes[int(op)%len(fuzzRoutes)]
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, route, bytes.NewReader(body)))
		code, raw := w.Code, w.Body.Bytes()
		calls := strings.Join(fk.takeCalls(), ";")

		if code >= 500 {
			t.Fatalf("POST %s %q: %d %s", route, body, code, raw)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" || !json.Valid(raw) {
			t.Fatalf("POST %s %q: %d, answer %q of type %q, want JSON", route, body, code, raw, ct)
		}
		// The Backend call a body must give, or "" when it must give a 400.
		var want string
		switch {
		case route == "/api/v1/topologies":
			var req api.SubmitRequest
			// One JSON value and nothing after it (trailing bytes are refused).
			if dec := json.NewDecoder(bytes.NewReader(body)); dec.Decode(&req) == nil && !dec.More() {
				want = fmt.Sprintf("submit %s %s %v %q", req.Name, req.Kind, req.Conf, req.Resources)
			}
		case strings.Contains(route, "/rebalance"):
			var req struct {
				RebalanceOptions struct {
					NumWorkers int            `json:"numWorkers"`
					Executors  map[string]int `json:"executors"`
				} `json:"rebalanceOptions"`
			}
			if len(body) == 0 || json.NewDecoder(bytes.NewReader(body)).Decode(&req) == nil {
				wait := "30s"
				if strings.HasSuffix(route, "/3") {
					wait = "3s"
				}
				want = fmt.Sprintf("rebalance ids %v %s", req.RebalanceOptions.Executors, wait)
			}
		case strings.HasSuffix(route, "/kill"):
			want = "kill ids 30s"
		case strings.HasSuffix(route, "/kill/2"):
			want = "kill ids 2s"
		case strings.HasSuffix(route, "/activate"):
			want = "activate ids"
		case strings.HasSuffix(route, "/deactivate"):
			want = "deactivate ids"
		}
		if want == "" {
			var e map[string]any
			if code != http.StatusBadRequest || json.Unmarshal(raw, &e) != nil || len(e) != 1 || e["error"] == nil {
				t.Fatalf("POST %s with the malformed body %q: %d %s, want 400 and an error", route, body, code, raw)
			}
			if calls != "" {
				t.Fatalf("POST %s with the malformed body %q reached the backend: %s", route, body, calls)
			}
			return
		}
		if code/100 != 2 {
			t.Fatalf("POST %s %q: %d %s, want success", route, body, code, raw)
		}
		if calls != want {
			t.Fatalf("POST %s %q: the backend got %q, want %q", route, body, calls, want)
		}
	})
}
