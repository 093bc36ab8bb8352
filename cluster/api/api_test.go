package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/internal/httpauth"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fake is a Backend of two nodes, node-a (this one) and node-b, running
// the topology "ids" submitted at submitted; it records the mutations it
// is asked for and answers them with err.
type fake struct {
	mu      sync.Mutex
	calls   []string
	err     error
	specs   []*messages.TopologySpec
	built   map[string]*topology.Topology
	local   map[string][]api.LocalTopology // by node
	infos   map[string]api.NodeInfo
	members []api.MemberInfo
	tasks   []api.LocalTask
	tr      api.TransportStats
	cps     map[string]actors.CheckpointStatus
}

var _ api.Backend = (*fake)(nil)

const submitted = 1_700_000_000_000

func (f *fake) NodeInfo() api.NodeInfo { return f.infos["node-a"] }
func (f *fake) Members() []api.MemberInfo {
	return f.members
}
func (f *fake) Specs() []*messages.TopologySpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.specs
}
func (f *fake) Built(name string) *topology.Topology                    { return f.built[name] }
func (f *fake) LocalTopologies() []api.LocalTopology                    { return f.local["node-a"] }
func (f *fake) LocalTasks() []api.LocalTask                             { return f.tasks }
func (f *fake) Transport() api.TransportStats                           { return f.tr }
func (f *fake) Checkpoints() map[string]actors.CheckpointStatus         { return f.cps }
func (f *fake) ClusterNodeInfo(context.Context) map[string]api.NodeInfo { return f.infos }
func (f *fake) ClusterLocalTopologies(context.Context) map[string][]api.LocalTopology {
	return f.local
}

func (f *fake) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return f.err
}

func (f *fake) Submit(req api.SubmitRequest) error {
	if req.Admin {
		return f.record("submit %s %s %v %q by admin", req.Name, req.Kind, req.Conf, req.Resources)
	}
	return f.record("submit %s %s %v %q", req.Name, req.Kind, req.Conf, req.Resources)
}
func (f *fake) Activate(name string) error   { return f.record("activate %s", name) }
func (f *fake) Deactivate(name string) error { return f.record("deactivate %s", name) }
func (f *fake) Kill(_ context.Context, name string, wait time.Duration) error {
	return f.record("kill %s %v", name, wait)
}
func (f *fake) Rebalance(_ context.Context, name string, par map[string]int, wait time.Duration) (any, error) {
	if err := f.record("rebalance %s %v %v", name, par, wait); err != nil {
		return nil, err
	}
	return map[string]any{"moved": 2}, nil
}

func (f *fake) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// idsTopology is a spout ids (1 task), a bolt relay (2) shuffle-grouped on
// it and a bolt sink (2) fields-grouped on relay's key, and its trackers.
func idsTopology(t *testing.T) *topology.Topology {
	t.Helper()
	b := topology.NewBuilder("ids")
	b.SetSpout("ids", func() topology.Spout { return nil }, 1).Output("id", "key")
	b.SetBolt("relay", func() topology.Bolt { return nil }, 2).ShuffleGrouping("ids").Output("id", "key")
	b.SetBolt("sink", func() topology.Bolt { return nil }, 2).FieldsGrouping("relay", "key")
	top, err := b.Build(topology.Config{topology.MessageTimeoutSecs: 7})
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// windows is a task's counts, the same in every window but the first
// (10m), which has a tenth.
func windows(c actors.Counts) []actors.Counts {
	tenth := actors.Counts{Emitted: c.Emitted / 10, Transferred: c.Transferred / 10, Acked: c.Acked / 10, Executed: c.Executed / 10}
	return []actors.Counts{tenth, c, c, c}
}

// newFake: node-a runs ids' spout (task 1) and relay task 2; node-b relay
// task 3 and sink task 4 (sink task 5 runs nowhere).
func newFake(t *testing.T) *fake {
	top := idsTopology(t)
	started := time.Now().Add(-90 * time.Second).UnixMilli()
	task := func(id int32, comp, kind, node string, c actors.Counts, edges ...api.EdgeInfo) api.TaskInfo {
		return api.TaskInfo{Task: id, Component: comp, Kind: kind, Node: node, Host: "127.0.0.1", Port: 7000,
			StartedUnixMs: started, Windows: windows(c), Edges: edges}
	}
	a := api.LocalTopology{Name: "ids", Node: "node-a", Tasks: []int32{1, 2}, InFlight: 3, Epoch: 9, TaskStats: []api.TaskInfo{
		task(1, "ids", "spout", "node-a", actors.Counts{Emitted: 100, Transferred: 100, Acked: 100, CompleteNanos: 100 * 2e6, Completed: 100},
			api.EdgeInfo{Stream: "default", Target: "relay", Transferred: 100}),
		task(2, "relay", "bolt", "node-a", actors.Counts{Emitted: 40, Transferred: 40, Executed: 40, Acked: 40},
			api.EdgeInfo{Stream: "default", Target: "sink", Transferred: 40}),
	}}
	sink := task(4, "sink", "bolt", "node-b", actors.Counts{Executed: 100, Acked: 100, ExecuteNanos: 100 * 1e6, Span: time.Second})
	sink.LastError, sink.LastErrorMs, sink.Errors = "boom", time.Now().Add(-5*time.Second).UnixMilli(), 1
	sink.Gauges = []api.GaugeInfo{{Name: "lag", Labels: map[string]string{"p": "0"}, Value: 4}}
	b := api.LocalTopology{Name: "ids", Node: "node-b", Tasks: []int32{3, 4}, InFlight: 2, Epoch: 9, TaskStats: []api.TaskInfo{
		task(3, "relay", "bolt", "node-b", actors.Counts{Emitted: 60, Transferred: 60, Executed: 60, Acked: 60},
			api.EdgeInfo{Stream: "default", Target: "sink", Transferred: 60}),
		sink,
	}}
	return &fake{
		specs: []*messages.TopologySpec{
			{Name: "gone", Kind: "ids", Killed: true, SubmittedUnixMs: submitted - 1},
			{Name: "ids", Kind: "ids", Active: true, Version: 3, SubmittedUnixMs: submitted, Conf: map[string]string{"k": "v"}},
		},
		built: map[string]*topology.Topology{"ids": top},
		local: map[string][]api.LocalTopology{"node-a": {a}, "node-b": {b}},
		infos: map[string]api.NodeInfo{
			"node-a": {Name: "node-a", StartedUnixMs: time.Now().Add(-time.Hour).UnixMilli(), Version: "v1.2.3"},
		},
		members: []api.MemberInfo{
			{Name: "node-a", GossipAddr: "127.0.0.1:7946", Status: "alive", Tasks: 3, BootID: "b1"},
			{Name: "node-b", GossipAddr: "127.0.0.2:7946", Status: "alive", Tasks: 2},
			{Name: "node-c", GossipAddr: "127.0.0.3:7946", Status: "dead"},
		},
	}
}

// serve starts the API over f; call does one request and decodes the
// JSON answer into out (when not nil).
func serve(t *testing.T, f *fake, cfg api.Config) func(method, path, token, body string, out any) *http.Response {
	if cfg.Auth.Token == "" {
		cfg.Auth.Open = true // the routes' own behaviour; TestGuardedRoutes checks the Guard
	}
	h, err := api.Handler(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return func(method, path, token, body string, out any) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == "" {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s %s: %s: decode %q: %v", method, path, resp.Status, raw, err)
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		return resp
	}
}

type obj = map[string]any

// TestSquallRoutes: members, what this node runs, the topologies summed
// over the nodes, and submit, with their status codes and content type.
func TestSquallRoutes(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})

	var ms []api.MemberInfo
	if resp := call("GET", "/api/v1/members", "", "", &ms); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("members: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if !reflect.DeepEqual(ms, f.members) {
		t.Errorf("members = %+v, want %+v", ms, f.members)
	}
	var raw []obj
	call("GET", "/api/v1/members", "", "", &raw)
	if want := (obj{"name": "node-a", "gossip_addr": "127.0.0.1:7946", "remote_addr": "", "http_addr": "", "status": "alive", "tasks": 3.0, "boot_id": "b1"}); !reflect.DeepEqual(raw[0], want) {
		t.Errorf("member JSON = %v, want %v", raw[0], want)
	}

	var lts []api.LocalTopology
	call("GET", "/api/v1/local/topologies", "", "", &lts)
	if len(lts) != 1 || lts[0].Node != "node-a" || lts[0].Epoch != 9 || !reflect.DeepEqual(lts[0].Tasks, []int32{1, 2}) || len(lts[0].TaskStats) != 2 {
		t.Errorf("local topologies = %+v", lts)
	}

	var tis []api.TopologyInfo
	call("GET", "/api/v1/topologies", "", "", &tis)
	if len(tis) != 2 || tis[0].Status != "KILLED" || tis[1].Status != "ACTIVE" || tis[1].Version != 3 || tis[1].Conf["k"] != "v" {
		t.Fatalf("topologies = %+v", tis)
	}
	ids := tis[1]
	if ids.InFlight != 5 || len(ids.Spouts) != 1 || ids.Spouts[0].Acked != 100 || ids.Spouts[0].CompleteP50Ms != 0 {
		t.Errorf("ids: in flight %d, spouts %+v", ids.InFlight, ids.Spouts)
	}
	if len(ids.Bolts) != 2 || ids.Bolts[0].Component != "relay" || ids.Bolts[0].Tasks != 2 || ids.Bolts[0].Executed != 100 ||
		ids.Bolts[1].Component != "sink" || ids.Bolts[1].Errors != 1 || ids.Bolts[1].LastError != "boom" {
		t.Errorf("ids bolts = %+v", ids.Bolts)
	}

	for _, tc := range []struct {
		body string
		err  error
		code int
		want obj
		call string
	}{
		{`{"name":"w","kind":"wordcount","conf":{"a":"1"},"resources":"AQI="}`, nil, http.StatusAccepted,
			obj{"status": "submitted", "name": "w"}, `submit w wordcount map[a:1] "\x01\x02"`},
		{`{"name":"w","kind":"wordcount"}`, fmt.Errorf("%w: %q", api.ErrTopologyExists, "w"), http.StatusConflict,
			obj{"error": `a topology of that name is running: "w"`}, "submit w wordcount map[] \"\""},
		{`{"name":"w","kind":"nope"}`, errors.New("no such registered topology"), http.StatusBadRequest,
			obj{"error": "no such registered topology"}, "submit w nope map[] \"\""},
		{`{"name":`, nil, http.StatusBadRequest, obj{"error": "bad request body: unexpected EOF"}, ""},
		{`{"name":"w","kind":"wordcount"} {"name":"x"}`, nil, http.StatusBadRequest, obj{"error": "bad request body: more than one JSON value"}, ""},
	} {
		f.err = tc.err
		var got obj
		resp := call("POST", "/api/v1/topologies", "", tc.body, &got)
		if resp.StatusCode != tc.code || !reflect.DeepEqual(got, tc.want) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("submit %s: %d %v, want %d %v", tc.body, resp.StatusCode, got, tc.code, tc.want)
		}
		if calls := strings.Join(f.takeCalls(), ";"); calls != tc.call {
			t.Errorf("submit %s: backend got %q, want %q", tc.body, calls, tc.call)
		}
	}
}

// TestSubmitBodyBound: a submit larger than MaxSubmitBytes is refused
// before it reaches the backend.
func TestSubmitBodyBound(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{MaxSubmitBytes: 64})
	body := `{"name":"w","kind":"wordcount","conf":{"pad":"` + strings.Repeat("x", 64) + `"}}`
	if resp := call("POST", "/api/v1/topologies", "", body, nil); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized submit: %s, want 413", resp.Status)
	}
	if calls := f.takeCalls(); len(calls) != 0 {
		t.Errorf("backend got %v", calls)
	}
}

// TestGuardedRoutes: behind a token, every route — reads included —
// answers 401 (saying how to authenticate) without credentials and 403
// with a wrong token, and the backend hears of neither; with the token the
// route runs, and a submit reaches the backend as an admin's.
func TestGuardedRoutes(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{Auth: httpauth.Config{Token: "s3cret"}})
	for _, tc := range []struct {
		method, path, token, body string
		want                      int
		call                      string
	}{
		{"POST", "/api/v1/topology/ids/activate", "", "", http.StatusUnauthorized, ""},
		{"POST", "/api/v1/topology/ids/activate", "wrong", "", http.StatusForbidden, ""},
		{"POST", "/api/v1/topology/ids/kill/0", "", "", http.StatusUnauthorized, ""},
		{"POST", "/api/v1/topology/ids/rebalance/0", "wrong", "", http.StatusForbidden, ""},
		{"POST", "/api/v1/topology/ids/deactivate", "s3cret", "", http.StatusOK, "deactivate ids"},
		{"POST", "/api/v1/topologies", "", `{"name":"w","kind":"wordcount"}`, http.StatusUnauthorized, ""},
		{"POST", "/api/v1/topologies", "s3cret", `{"name":"w","kind":"wordcount"}`, http.StatusAccepted, `submit w wordcount map[] "" by admin`},
		{"GET", "/api/v1/topology/summary", "", "", http.StatusUnauthorized, ""},
		{"GET", "/api/v1/topologies", "", "", http.StatusUnauthorized, ""},
		{"GET", "/api/v1/cluster/summary", "wrong", "", http.StatusForbidden, ""},
		{"GET", "/metrics", "", "", http.StatusUnauthorized, ""},
		{"GET", "/api/v1/cluster/summary", "s3cret", "", http.StatusOK, ""},
	} {
		var body obj
		resp := call(tc.method, tc.path, tc.token, tc.body, &body)
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s (token %q): %d, want %d", tc.method, tc.path, tc.token, resp.StatusCode, tc.want)
		}
		switch tc.want {
		case http.StatusUnauthorized:
			if h := resp.Header.Get("WWW-Authenticate"); h != `Bearer realm="squall"` || !strings.Contains(fmt.Sprint(body["error"]), "Authorization: Bearer <admin token>") {
				t.Errorf("%s: WWW-Authenticate %q, body %v", tc.path, h, body)
			}
		case http.StatusForbidden:
			if body["error"] != "wrong admin token" {
				t.Errorf("%s: body %v", tc.path, body)
			}
		}
		if calls := strings.Join(f.takeCalls(), ";"); calls != tc.call {
			t.Errorf("%s %s (token %q): backend got %q, want %q", tc.method, tc.path, tc.token, calls, tc.call)
		}
	}
}

// TestOpenSubmitIsNotAdmin: with authentication off (--insecure without a
// token) a submit reaches the backend as nobody's, so the node refuses
// topologies that run commands; a body cannot claim to be an admin's.
func TestOpenSubmitIsNotAdmin(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})
	resp := call("POST", "/api/v1/topologies", "", `{"name":"w","kind":"flux","Admin":true,"admin":true}`, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %s", resp.Status)
	}
	if calls := strings.Join(f.takeCalls(), ";"); calls != `submit w flux map[] ""` {
		t.Errorf("backend got %q, want a submit not by an admin", calls)
	}
	f.err = fmt.Errorf("%w: component %q runs [sh]", api.ErrNotAdmin, "x")
	var body obj
	if resp := call("POST", "/api/v1/topologies", "", `{"name":"w","kind":"flux"}`, &body); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a refused shell submit: %s %v, want 403", resp.Status, body)
	}
}

// TestTopologyOperations: Storm's POST routes find the topology by id or
// name, parse the wait, call the backend and answer in Storm's shape;
// errors map to their status codes.
func TestTopologyOperations(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})
	id := fmt.Sprintf("ids-%d", submitted)
	for _, tc := range []struct {
		path, body string
		err        error
		code       int
		call       string
		squall     any // the answer's "squall" field; nil: none
	}{
		{"/activate", "", nil, 200, "activate ids", nil},
		{"/deactivate", "", nil, 200, "deactivate ids", nil},
		{"/kill", "", nil, 200, "kill ids 30s", nil},
		{"/kill/5", "", nil, 200, "kill ids 5s", nil},
		{"/kill/0", "", nil, 200, "kill ids 0s", nil},
		{"/kill/-1", "", nil, 400, "", nil},
		{"/kill/soon", "", nil, 400, "", nil},
		// Waits over an hour behave as they always have, up to the most
		// seconds a time.Duration holds; one over it overflowed into an
		// instant "success" and is refused before the backend is called.
		{"/kill/7200", "", nil, 200, "kill ids 2h0m0s", nil},
		{"/kill/9223372036", "", nil, 200, "kill ids 2562047h47m16s", nil},
		{"/kill/9223372037", "", nil, 400, "", nil},
		{"/kill/9223372036854775807", "", nil, 400, "", nil},
		{"/kill/99999999999999999999999", "", nil, 400, "", nil},
		{"/rebalance/9223372036854775807", "", nil, 400, "", nil},
		{"/rebalance", "", nil, 200, "rebalance ids map[] 30s", obj{"moved": 2.0}},
		{"/rebalance/7", `{"rebalanceOptions":{"executors":{"sink":2}}}`, nil, 200, "rebalance ids map[sink:2] 7s", obj{"moved": 2.0}},
		// What squall cannot apply is named beside what it applied...
		{"/rebalance/7", `{"rebalanceOptions":{"numWorkers":3,"executors":{"sink":2}}}`, nil, 200, "rebalance ids map[sink:2] 7s", obj{"moved": 2.0, "ignored": []any{"rebalanceOptions.numWorkers"}}},
		// ...and a body with nothing squall applies is refused, not a
		// "success" for nothing done.
		{"/rebalance/7", `{"rebalanceOptions":{"numWorkers":3}}`, nil, 400, "", nil},
		{"/rebalance/7", `{"rebalanceOptions":{"numWorkers":3,"executors":{}}}`, nil, 400, "", nil},
		{"/rebalance/7", `{"executors":{"sink":2}}`, nil, 400, "", nil},
		{"/rebalance/7", `{"rebalanceOptions":{"executor":{"sink":2}}}`, nil, 400, "", nil},
		// No options: a re-spread, as the web UI's button without changes.
		{"/rebalance/7", `{}`, nil, 200, "rebalance ids map[] 7s", obj{"moved": 2.0}},
		{"/rebalance/7", `{"rebalanceOptions":{"executors":{}}}`, nil, 200, "rebalance ids map[] 7s", obj{"moved": 2.0}},
		{"/rebalance/7", `{"rebalanceOptions":null}`, nil, 200, "rebalance ids map[] 7s", obj{"moved": 2.0}},
		{"/rebalance/7", `{"rebalanceOptions":`, nil, 400, "", nil},
		{"/rebalance/7", `{"rebalanceOptions":{"executors":{"sink":"two"}}}`, nil, 400, "", nil},
		{"/rebalance/7", `{"rebalanceOptions":[]}`, nil, 400, "", nil},
		{"/activate", "", fmt.Errorf("%w: %q", api.ErrTopologyNotFound, "ids"), 404, "activate ids", nil},
		{"/kill/1", "", context.DeadlineExceeded, 504, "kill ids 1s", nil},
		{"/rebalance/1", "", errors.New("invalid rebalance: no component x"), 400, "rebalance ids map[] 1s", nil},
	} {
		for _, ref := range []string{"ids", id} {
			f.err = tc.err
			var got obj
			resp := call("POST", "/api/v1/topology/"+ref+tc.path, "", tc.body, &got)
			if resp.StatusCode != tc.code {
				t.Errorf("POST %s%s: %d %v, want %d", ref, tc.path, resp.StatusCode, got, tc.code)
			}
			if calls := strings.Join(f.takeCalls(), ";"); calls != tc.call {
				t.Errorf("POST %s%s: backend got %q, want %q", ref, tc.path, calls, tc.call)
			}
			if tc.code != 200 {
				if _, ok := got["error"].(string); !ok || len(got) != 1 {
					t.Errorf("POST %s%s: error body %v", ref, tc.path, got)
				}
				continue
			}
			op, _, _ := strings.Cut(strings.TrimPrefix(tc.path, "/"), "/")
			want := obj{"topologyOperation": op, "topologyId": id, "status": "success"}
			if tc.squall != nil {
				want["squall"] = tc.squall
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("POST %s%s = %v, want %v", ref, tc.path, got, want)
			}
		}
	}
	for _, ref := range []string{"nope", "gone", fmt.Sprintf("gone-%d", submitted-1)} {
		if resp := call("POST", "/api/v1/topology/"+ref+"/kill", "", "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("kill %s: %s, want 404", ref, resp.Status)
		}
	}
	if calls := f.takeCalls(); len(calls) != 0 {
		t.Errorf("backend got %v for unknown topologies", calls)
	}
}

// TestWaitOverflowIsRefusedNamingTheLimit: a kill wait of
// 9223372036854775807 seconds gets a 400 that says what the limit is.
func TestWaitOverflowIsRefusedNamingTheLimit(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})
	for _, path := range []string{"/kill/9223372036854775807", "/rebalance/9223372036854775807"} {
		var got obj
		resp := call("POST", "/api/v1/topology/ids"+path, "", "", &got)
		want := `wait "9223372036854775807": over the limit of 9223372036 seconds`
		if resp.StatusCode != http.StatusBadRequest || got["error"] != want {
			t.Errorf("POST %s: %d %v, want 400 %q", path, resp.StatusCode, got, want)
		}
	}
	if calls := f.takeCalls(); len(calls) != 0 {
		t.Errorf("backend got %v for waits that overflow", calls)
	}
}

// TestTopologyPage reads Storm's topology page: the components of the
// build (with or without running tasks), counts of the window asked for,
// summed over the nodes, the graph's edges and the configuration.
func TestTopologyPage(t *testing.T) {
	f := newFake(t)
	// A report with another number of windows (a node of another version)
	// is left out of the pages.
	f.local["node-b"] = append(f.local["node-b"], api.LocalTopology{Name: "ids", Node: "node-b", TaskStats: []api.TaskInfo{
		{Task: 5, Component: "sink", Kind: "bolt", Windows: []actors.Counts{{Executed: 1}}}}})
	call := serve(t, f, api.Config{})
	var tp obj
	if resp := call("GET", "/api/v1/topology/ids", "", "", &tp); resp.StatusCode != 200 {
		t.Fatalf("topology page: %s %v", resp.Status, tp)
	}
	want := obj{"id": fmt.Sprintf("ids-%d", submitted), "name": "ids", "status": "ACTIVE", "kind": "ids",
		"tasksTotal": 4.0, "executorsTotal": 4.0, "workersTotal": 2.0, "inFlight": 5.0,
		"msgTimeout": 7.0, "window": ":all-time", "windowHint": "All time"}
	for k, v := range want {
		if !reflect.DeepEqual(tp[k], v) {
			t.Errorf("%s = %#v, want %#v", k, tp[k], v)
		}
	}
	if up, _ := tp["uptimeSeconds"].(float64); up < float64(time.Since(time.UnixMilli(submitted))/time.Second)-1 {
		t.Errorf("uptimeSeconds = %v", tp["uptimeSeconds"])
	}
	spouts := tp["spouts"].([]any)
	if s := spouts[0].(obj); len(spouts) != 1 || s["spoutId"] != "ids" || s["acked"] != 100.0 || s["completeLatency"] != "2.000" || s["executors"] != 1.0 || s["maxTasks"] != 1.0 {
		t.Errorf("spouts = %v", spouts)
	}
	bolts := tp["bolts"].([]any)
	relay, sink := bolts[0].(obj), bolts[1].(obj)
	if len(bolts) != 2 || relay["boltId"] != "relay" || relay["executed"] != 100.0 || relay["executors"] != 2.0 || relay["maxTasks"] != 2.0 {
		t.Errorf("relay = %v", relay)
	}
	if sink["boltId"] != "sink" || sink["executors"] != 1.0 || sink["maxTasks"] != 2.0 || sink["executeLatency"] != "1.000" ||
		sink["capacity"] != "0.100" || sink["lastError"] != "boom" || sink["errorHost"] != "127.0.0.1" || sink["errorPort"] != 7000.0 {
		t.Errorf("sink = %v", sink)
	}
	if lapsed, _ := sink["errorLapsedSecs"].(float64); lapsed < 4 {
		t.Errorf("sink errorLapsedSecs = %v", sink["errorLapsedSecs"])
	}
	wantEdges := []any{
		obj{"source": "ids", "stream": "default", "target": "relay", "grouping": "shuffle", "transferred": 100.0},
		obj{"source": "relay", "stream": "default", "target": "sink", "grouping": "fields(key)", "transferred": 100.0},
	}
	if !reflect.DeepEqual(tp["edges"], wantEdges) {
		t.Errorf("edges = %v, want %v", tp["edges"], wantEdges)
	}
	if conf := tp["configuration"].(obj); conf[topology.MessageTimeoutSecs] != 7.0 {
		t.Errorf("configuration = %v", conf)
	}
	var windows []string
	for _, s := range tp["topologyStats"].([]any) {
		s := s.(obj)
		windows = append(windows, fmt.Sprintf("%s=%s:%v/%v", s["window"], s["windowPretty"], s["emitted"], s["acked"]))
	}
	if want := "600=10m 0s:20/10|10800=3h 0m 0s:200/100|86400=1d 0h 0m 0s:200/100|:all-time=All time:200/100"; strings.Join(windows, "|") != want {
		t.Errorf("topologyStats = %v, want %s", windows, want)
	}

	tp = obj{}
	call("GET", "/api/v1/topology/ids?window=600", "", "", &tp)
	if tp["window"] != "600" || tp["windowHint"] != "10m 0s" || tp["spouts"].([]any)[0].(obj)["acked"] != 10.0 {
		t.Errorf("10m page: window %v %v, spouts %v", tp["window"], tp["windowHint"], tp["spouts"])
	}

	// A node that could not build the topology shows what runs: the spec's
	// configuration, no message timeout, the reported edges.
	delete(f.built, "ids")
	tp = obj{}
	call("GET", "/api/v1/topology/ids", "", "", &tp)
	if tp["msgTimeout"] != nil || !reflect.DeepEqual(tp["configuration"], obj{"k": "v"}) || len(tp["bolts"].([]any)) != 2 {
		t.Errorf("page without a build: msgTimeout %v configuration %v bolts %v", tp["msgTimeout"], tp["configuration"], tp["bolts"])
	}
	if e := tp["edges"].([]any); len(e) != 2 || e[1].(obj)["grouping"] != nil || e[1].(obj)["transferred"] != 100.0 {
		t.Errorf("edges without a build = %v", e)
	}

	for path, code := range map[string]int{
		"/api/v1/topology/nope":                               http.StatusNotFound,
		"/api/v1/topology/gone":                               http.StatusNotFound,
		"/api/v1/topology/ids?window=7":                       http.StatusBadRequest,
		"/api/v1/topology/ids?window=all-time":                http.StatusOK,
		"/api/v1/topology/ids?window=86400":                   http.StatusOK,
		"/api/v1/topology/ids/component/nope":                 http.StatusNotFound,
		"/api/v1/topology/ids/component/sink?window=10800":    http.StatusOK,
		"/api/v1/topology/ids/component/sink?window=10801":    http.StatusBadRequest,
		"/api/v1/topology/ids/component/sink?window=":         http.StatusOK,
		"/api/v1/topology/ids/component/ids?window=:all-time": http.StatusOK,
	} {
		var body obj
		if resp := call("GET", path, "", "", &body); resp.StatusCode != code {
			t.Errorf("GET %s: %d %v, want %d", path, resp.StatusCode, body, code)
		}
	}
}

// commandSpout and commandBolt stand in for multilang's shell components:
// they run a command line as a subprocess (topology.CommandRunner).
type commandSpout struct {
	topology.Spout
	cmd []string
}

func (c commandSpout) CommandLine() []string { return c.cmd }

type commandBolt struct {
	topology.Bolt
	cmd []string
}

func (c commandBolt) CommandLine() []string { return c.cmd }

// TestTopologyPageCommands: the topology page's spout and bolt entries
// carry the command line each component runs (squallCommand, from this
// node's build of the topology), and none for a component that runs in
// the node or when the node could not build the topology.
func TestTopologyPageCommands(t *testing.T) {
	b := topology.NewBuilder("ids")
	b.SetSpout("ids", func() topology.Spout { return commandSpout{cmd: []string{"node", "ids.js"}} }, 1).Output("id", "key")
	b.SetBolt("relay", func() topology.Bolt { return commandBolt{cmd: []string{"python3", "relay.py", "--key", "a b"}} }, 2).
		ShuffleGrouping("ids").Output("id", "key")
	b.SetBolt("sink", func() topology.Bolt { return nil }, 2).FieldsGrouping("relay", "key")
	withCommands, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		built *topology.Topology // nil: this node could not build it
		want  map[string][]any   // component -> squallCommand; absent: none
	}{
		{"shell spout and bolt", withCommands, map[string][]any{
			"ids":   {"node", "ids.js"},
			"relay": {"python3", "relay.py", "--key", "a b"},
		}},
		{"Go components only", idsTopology(t), map[string][]any{}},
		{"no build on this node", nil, map[string][]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.built == nil {
				delete(f.built, "ids")
			} else {
				f.built["ids"] = tc.built
			}
			call := serve(t, f, api.Config{})
			var tp struct{ Spouts, Bolts []obj }
			if resp := call("GET", "/api/v1/topology/ids", "", "", &tp); resp.StatusCode != 200 {
				t.Fatalf("topology page: %s", resp.Status)
			}
			seen := map[string]bool{}
			for _, row := range append(tp.Spouts, tp.Bolts...) {
				id, _ := row["spoutId"].(string)
				if id == "" {
					id, _ = row["boltId"].(string)
				}
				seen[id] = true
				got, has := row["squallCommand"]
				want, wantOne := tc.want[id]
				switch {
				case wantOne && !reflect.DeepEqual(got, want):
					t.Errorf("%s: squallCommand = %#v, want %#v", id, got, want)
				case !wantOne && has:
					t.Errorf("%s: squallCommand = %#v, want none (it runs in the node)", id, got)
				}
			}
			if len(seen) != 3 || !seen["ids"] || !seen["relay"] || !seen["sink"] {
				t.Errorf("components on the page = %v, want ids, relay, sink", seen)
			}
		})
	}
}

// TestComponentPage reads Storm's component page of a bolt and of a spout.
func TestComponentPage(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})
	var cp obj
	if resp := call("GET", "/api/v1/topology/ids/component/sink?window=600", "", "", &cp); resp.StatusCode != 200 {
		t.Fatalf("component page: %s %v", resp.Status, cp)
	}
	for k, v := range (obj{"id": "sink", "name": "ids", "topologyId": fmt.Sprintf("ids-%d", submitted), "topologyStatus": "ACTIVE",
		"componentType": "bolt", "executors": 1.0, "tasks": 1.0, "maxTasks": 2.0, "window": "600", "windowHint": "10m 0s"}) {
		if !reflect.DeepEqual(cp[k], v) {
			t.Errorf("%s = %#v, want %#v", k, cp[k], v)
		}
	}
	execs := cp["executorStats"].([]any)
	e := execs[0].(obj)
	if len(execs) != 1 || e["id"] != "[4-4]" || e["node"] != "node-b" || e["port"] != 7000.0 || e["executed"] != 10.0 || e["errors"] != 1.0 || !strings.HasPrefix(e["uptime"].(string), "1m 3") {
		t.Errorf("executorStats = %v", execs)
	}
	errs := cp["componentErrors"].([]any)
	if len(errs) != 1 || errs[0].(obj)["error"] != "boom" || errs[0].(obj)["task"] != 4.0 {
		t.Errorf("componentErrors = %v", errs)
	}
	if want := []any{obj{"name": "lag", "labels": obj{"p": "0"}, "value": 4.0, "task": 4.0}}; !reflect.DeepEqual(cp["gauges"], want) {
		t.Errorf("gauges = %v, want %v", cp["gauges"], want)
	}
	if !reflect.DeepEqual(cp["outputStats"], []any{}) || len(cp["boltStats"].([]any)) != 4 || cp["spoutSummary"] != nil {
		t.Errorf("outputStats %v boltStats %v spoutSummary %v", cp["outputStats"], cp["boltStats"], cp["spoutSummary"])
	}
	// sparse stats -c reads inputStats: who feeds the bolt and what it executed.
	in, _ := cp["inputStats"].([]any)
	if len(in) != 1 || in[0].(obj)["component"] != "relay" || in[0].(obj)["stream"] != "default" ||
		in[0].(obj)["executed"] != 10.0 || in[0].(obj)["acked"] != 10.0 || in[0].(obj)["executeLatency"] == nil {
		t.Errorf("inputStats = %v, want one row: relay/default, 10 executed and acked", cp["inputStats"])
	}

	cp = obj{} // Unmarshal into a map keeps its keys
	call("GET", "/api/v1/topology/ids/component/ids", "", "", &cp)
	if cp["componentType"] != "spout" || len(cp["spoutSummary"].([]any)) != 4 || cp["boltStats"] != nil ||
		!reflect.DeepEqual(cp["outputStats"], []any{obj{"stream": "default", "transferred": 100.0, "emitted": 100.0}}) ||
		!reflect.DeepEqual(cp["componentErrors"], []any{}) || !reflect.DeepEqual(cp["gauges"], []any{}) {
		t.Errorf("spout page = %v", cp)
	}
}

// TestSummaries: Storm's cluster, supervisor and topology summaries and
// the answering node's own info.
func TestSummaries(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})
	var cs obj
	call("GET", "/api/v1/cluster/summary", "", "", &cs)
	want := obj{"stormVersion": "2.8.8", "squallVersion": api.Version(), "supervisors": 2.0, "topologies": 1.0,
		"slotsTotal": 2.0, "slotsUsed": 2.0, "slotsFree": 0.0, "executorsTotal": 5.0, "tasksTotal": 5.0}
	if !reflect.DeepEqual(cs, want) {
		t.Errorf("cluster/summary = %v, want %v", cs, want)
	}

	var ss struct{ Supervisors []obj }
	call("GET", "/api/v1/supervisor/summary", "", "", &ss)
	if len(ss.Supervisors) != 3 {
		t.Fatalf("supervisor/summary = %v", ss)
	}
	a, b, c := ss.Supervisors[0], ss.Supervisors[1], ss.Supervisors[2]
	if a["id"] != "node-a" || a["host"] != "127.0.0.1" || a["version"] != "v1.2.3" || a["uptimeSeconds"].(float64) < 3599 ||
		!strings.HasPrefix(a["uptime"].(string), "1h 0m ") || a["slotsUsed"] != 1.0 || a["bootId"] != "b1" {
		t.Errorf("node-a = %v", a)
	}
	if b["host"] != "127.0.0.2" || b["uptime"] != "" || b["uptimeSeconds"] != 0.0 || b["version"] != nil {
		t.Errorf("node-b (no info) = %v", b)
	}
	if c["status"] != "dead" || c["slotsUsed"] != 0.0 {
		t.Errorf("node-c = %v", c)
	}

	var ts struct{ Topologies []obj }
	call("GET", "/api/v1/topology/summary", "", "", &ts)
	if len(ts.Topologies) != 1 {
		t.Fatalf("topology/summary = %v", ts)
	}
	top := ts.Topologies[0]
	for k, v := range (obj{"id": fmt.Sprintf("ids-%d", submitted), "name": "ids", "status": "ACTIVE", "kind": "ids",
		"tasksTotal": 4.0, "executorsTotal": 4.0, "workersTotal": 2.0, "owner": "", "schedulerInfo": ""}) {
		if !reflect.DeepEqual(top[k], v) {
			t.Errorf("topology summary %s = %#v, want %#v", k, top[k], v)
		}
	}

	var ni api.NodeInfo
	call("GET", "/api/v1/local/node", "", "", &ni)
	if ni != f.infos["node-a"] {
		t.Errorf("local/node = %+v", ni)
	}
}

// TestMetrics scrapes /metrics: the transport's counters and every local
// task's families by kind, with topology, component and task labels.
func TestMetrics(t *testing.T) {
	f := newFake(t)
	f.tr = api.TransportStats{Peers: 3, Dropped: 4, Rejected: 5, Parked: 6, Unroutable: 7,
		Refused: 8, Oversized: 9, Gaps: 10, Late: 11, OverBudget: 12, Unreported: 13, Inbound: 14, HeldBytes: 15}
	spout := &actors.TaskStats{Task: 1, Component: "ids"}
	spout.Emitted.Store(11)
	spout.Pending.Store(2)
	bolt := &actors.TaskStats{Task: 4, Component: "sink"}
	bolt.Executed.Store(9)
	bolt.ExecuteNanos.Store(9e6)
	tracker := &actors.TaskStats{Task: 6, Component: topology.TrackerComponent}
	tracker.Acked.Store(8)
	f.tasks = []api.LocalTask{{Topology: "ids", Kind: "spout", Stats: spout}, {Topology: "ids", Kind: "bolt", Stats: bolt}, {Topology: "ids", Kind: "tracker", Stats: tracker}}
	call := serve(t, f, api.Config{})
	resp := call("GET", "/metrics", "", "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	raw, _ := io.ReadAll(resp.Body)
	body := string(raw)
	for _, line := range []string{
		"squall_transport_peers 3",
		"squall_transport_dropped_total 4",
		"squall_transport_rejected_total 5",
		"squall_transport_parked 6",
		"squall_transport_unroutable_total 7",
		"squall_transport_refused_total 8",
		"squall_transport_oversized_total 9",
		"squall_transport_gaps_total 10",
		"squall_transport_late_total 11",
		"squall_transport_over_budget_total 12",
		"squall_transport_drops_unreported_total 13",
		"squall_transport_inbound_connections 14",
		"squall_transport_inbound_held_bytes 15",
		`squall_task_emitted_total{component="ids",task="1",topology="ids"} 11`,
		`squall_task_pending{component="ids",task="1",topology="ids"} 2`,
		`squall_task_executed_total{component="sink",task="4",topology="ids"} 9`,
		`squall_task_execute_latency_seconds_sum{component="sink",task="4",topology="ids"} 0.009`,
		`squall_task_execute_latency_seconds_count{component="sink",task="4",topology="ids"} 9`,
		`squall_task_capacity{component="sink",task="4",topology="ids",window="all"} 0`,
		`squall_task_acked_total{component="` + string(topology.TrackerComponent) + `",task="6",topology="ids"} 8`,
		"# HELP squall_transport_peers Nodes this node holds a tuple connection (and its writer) to.",
		"# TYPE squall_transport_unroutable_total counter",
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("no line %q", line)
		}
	}
	for _, absent := range []string{
		`squall_task_pending{component="sink"`,                                // bolts have no pending trees
		`squall_task_capacity{component="ids"`,                                // spouts no capacity
		`squall_task_pending{component="` + string(topology.TrackerComponent), // trackers neither
		`squall_task_complete_latency_seconds_count{component="ids"`,          // no tree completed yet
		`squall_task_start_time_seconds{`,                                     // never started
	} {
		if strings.Contains(body, absent) {
			t.Errorf("unexpected %q", absent)
		}
	}
	if !strings.Contains(body, "\ngo_goroutines ") {
		t.Error("no Go runtime metrics")
	}
	if t.Failed() {
		t.Log(body)
	}
}

// TestServesTheUI: the web UI's pages are at /.
func TestServesTheUI(t *testing.T) {
	call := serve(t, newFake(t), api.Config{})
	resp := call("GET", "/", "", "", nil)
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), "js/cluster.js") {
		t.Errorf("GET /: %s %.200q", resp.Status, raw)
	}
	if resp := call("DELETE", "/api/v1/members", "", "", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /api/v1/members: %s, want 405", resp.Status)
	}
}

// TestPublicMetrics: with PublicMetrics, GET /metrics needs no
// credentials; every other route still does.
func TestPublicMetrics(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{Auth: httpauth.Config{Token: "s3cret", PublicMetrics: true}})
	if resp := call("GET", "/metrics", "", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /metrics without credentials: %s, want 200", resp.Status)
	}
	for _, path := range []string{"/api/v1/topologies", "/api/v1/cluster/summary", "/api/v1/members"} {
		if resp := call("GET", path, "", "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %s, want 401", path, resp.Status)
		}
	}
}

// TestRebalanceNamesWhatItIgnores: a rebalance body asking only for
// numWorkers (squall has no workers) answers 400 naming the field and
// what to send instead; the backend is not called.
func TestRebalanceNamesWhatItIgnores(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})
	var got obj
	resp := call("POST", "/api/v1/topology/ids/rebalance/0", "", `{"rebalanceOptions":{"numWorkers":3},"callback":"x"}`, &got)
	msg, _ := got["error"].(string)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "callback, rebalanceOptions.numWorkers ignored") || !strings.Contains(msg, "rebalanceOptions.executors") {
		t.Errorf("numWorkers only: %s %q, want 400 naming the ignored fields and executors", resp.Status, msg)
	}
	if calls := f.takeCalls(); len(calls) != 0 {
		t.Errorf("backend got %v", calls)
	}
}
