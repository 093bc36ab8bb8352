package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
)

// The public HTTP API (package api) end to end, through real nodes: the
// handlers alone, against a fake Backend, are cluster/api's tests.

// api calls a node's HTTP API and decodes the JSON answer into out (when
// not nil); it returns the status code.
func api(t *testing.T, method, url, token string, body any, out any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %s: decode: %v", method, url, resp.Status, err)
		}
	}
	return resp.StatusCode
}

type obj = map[string]any

func num(t *testing.T, o obj, key string) float64 {
	t.Helper()
	switch v := o[key].(type) {
	case float64:
		return v
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s = %q: not a number", key, v)
		}
		return f
	}
	t.Fatalf("%s = %#v (%T): not a number", key, o[key], o[key])
	return 0
}

func list(t *testing.T, o obj, key string) []obj {
	t.Helper()
	raw, ok := o[key].([]any)
	if !ok {
		t.Fatalf("%s = %#v: not a list", key, o[key])
	}
	out := make([]obj, len(raw))
	for i, r := range raw {
		out[i] = r.(obj)
	}
	return out
}

// TestStormRESTAPI reads a running topology through Storm UI's routes on a
// node that runs only part of it: the answers cover the whole cluster.
func TestStormRESTAPI(t *testing.T) {
	const n = 3000
	src := newSource(n)
	c := clustertest.New(t, 2, map[string]cluster.Factory{"ids": factory(src)})
	if err := c.Node(0).Submit("ids", "ids", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "every id acked", func() bool { return src.Acked() == n })
	base := "http://" + c.Node(1).HTTPAddr() + "/api/v1"

	var cs obj
	if code := api(t, "GET", base+"/cluster/summary", "", nil, &cs); code != http.StatusOK {
		t.Fatalf("cluster/summary: %d", code)
	}
	// 1 spout + 3 relay + 4 sink + 2 trackers.
	if num(t, cs, "supervisors") != 2 || num(t, cs, "topologies") != 1 || num(t, cs, "executorsTotal") != 10 {
		t.Errorf("cluster/summary = %v", cs)
	}

	var ss obj
	api(t, "GET", base+"/supervisor/summary", "", nil, &ss)
	sups := list(t, ss, "supervisors")
	if len(sups) != 2 {
		t.Fatalf("supervisor/summary = %v", ss)
	}
	for _, s := range sups {
		gossipHost, _, _ := net.SplitHostPort(fmt.Sprint(s["gossipAddr"]))
		if s["status"] != "alive" || s["uptime"] == "" || gossipHost == "" || s["host"] != gossipHost {
			t.Errorf("supervisor %v", s)
		}
	}

	var ts obj
	api(t, "GET", base+"/topology/summary", "", nil, &ts)
	tops := list(t, ts, "topologies")
	if len(tops) != 1 || tops[0]["name"] != "ids" || tops[0]["status"] != "ACTIVE" || num(t, tops[0], "tasksTotal") != 10 || num(t, tops[0], "workersTotal") != 2 {
		t.Fatalf("topology/summary = %v", ts)
	}
	id := tops[0]["id"].(string)

	for _, ref := range []string{id, "ids"} {
		var tp obj
		if code := api(t, "GET", base+"/topology/"+ref, "", nil, &tp); code != http.StatusOK {
			t.Fatalf("topology/%s: %d %v", ref, code, tp)
		}
		if tp["id"] != id || tp["window"] != ":all-time" {
			t.Errorf("topology/%s: id %v window %v", ref, tp["id"], tp["window"])
		}
		spouts, bolts := list(t, tp, "spouts"), list(t, tp, "bolts")
		if len(spouts) != 1 || spouts[0]["spoutId"] != "ids" || num(t, spouts[0], "acked") < n || num(t, spouts[0], "executors") != 1 {
			t.Errorf("spouts = %v", spouts)
		}
		if len(bolts) != 2 || bolts[0]["boltId"] != "relay" || bolts[1]["boltId"] != "sink" {
			t.Fatalf("bolts = %v", bolts)
		}
		if num(t, bolts[1], "executed") < n || num(t, bolts[1], "executors") != 4 {
			t.Errorf("sink = %v", bolts[1])
		}
		num(t, bolts[1], "executeLatency")
		num(t, bolts[1], "capacity")
		if num(t, spouts[0], "completeLatency") <= 0 { // every tree crossed the nodes
			t.Errorf("spout complete latency %v", spouts[0]["completeLatency"])
		}
		stats := list(t, tp, "topologyStats")
		var windows []string
		for _, s := range stats {
			windows = append(windows, s["window"].(string)+"="+s["windowPretty"].(string))
		}
		if want := "600=10m 0s|10800=3h 0m 0s|86400=1d 0h 0m 0s|:all-time=All time"; strings.Join(windows, "|") != want {
			t.Errorf("topologyStats windows = %v, want %s", windows, want)
		}
		if num(t, stats[3], "acked") < n {
			t.Errorf("all-time topologyStats = %v", stats[3])
		}
		edges := list(t, tp, "edges")
		if len(edges) != 2 || edges[0]["source"] != "ids" || edges[0]["target"] != "relay" || edges[1]["grouping"] != "fields(key)" ||
			num(t, edges[0], "transferred") < n || num(t, edges[1], "transferred") < n {
			t.Errorf("edges = %v", edges)
		}
	}

	var cp obj
	if code := api(t, "GET", base+"/topology/"+id+"/component/sink?window=600", "", nil, &cp); code != http.StatusOK {
		t.Fatalf("component: %d %v", code, cp)
	}
	execs := list(t, cp, "executorStats")
	if cp["componentType"] != "bolt" || len(execs) != 4 || cp["window"] != "600" {
		t.Fatalf("component page = %v", cp)
	}
	var executed float64
	nodes := map[any]bool{}
	for _, e := range execs {
		executed += num(t, e, "executed")
		nodes[e["node"]] = true
		if e["id"] != "["+strconv.Itoa(int(num(t, e, "task")))+"-"+strconv.Itoa(int(num(t, e, "task")))+"]" {
			t.Errorf("executor id %v", e["id"])
		}
	}
	for node := range nodes {
		if node != "node-0" && node != "node-1" {
			t.Errorf("an executor on node %v, not a member", node)
		}
	}
	if executed < n {
		t.Errorf("executors executed %v, want >= %d", executed, n)
	}
	if len(list(t, cp, "boltStats")) != 4 {
		t.Errorf("boltStats = %v", cp["boltStats"])
	}

	for url, want := range map[string]int{
		base + "/topology/nope":                      http.StatusNotFound,
		base + "/topology/ids?window=7":              http.StatusBadRequest,
		base + "/topology/ids/component/nope":        http.StatusNotFound,
		base + "/topology/ids/component/sink?window": http.StatusOK,
	} {
		if code := api(t, "GET", url, "", nil, nil); code != want {
			t.Errorf("GET %s: %d, want %d", url, code, want)
		}
	}

	var op obj
	if code := api(t, "POST", base+"/topology/"+id+"/deactivate", "", nil, &op); code != http.StatusOK || op["status"] != "success" || op["topologyOperation"] != "deactivate" || op["topologyId"] != id {
		t.Fatalf("deactivate: %d %v", code, op)
	}
	poll.Until(t, 10*time.Second, "status INACTIVE on the other node", func() bool {
		var ts obj
		api(t, "GET", "http://"+c.Node(0).HTTPAddr()+"/api/v1/topology/summary", "", nil, &ts)
		tops := list(t, ts, "topologies")
		return len(tops) == 1 && tops[0]["status"] == "INACTIVE"
	})
	if code := api(t, "POST", base+"/topology/ids/kill/5", "", nil, &op); code != http.StatusOK || op["topologyOperation"] != "kill" {
		t.Fatalf("kill: %d %v", code, op)
	}
	if code := api(t, "POST", base+"/topology/ids/activate", "", nil, nil); code != http.StatusNotFound {
		t.Errorf("activate after kill: %d, want 404", code)
	}
}

// tokenNode starts a throwaway node (Insecure: no key, no certs) whose API
// is guarded by the admin token "s3cret", able to run topology "ids".
func tokenNode(t *testing.T) *cluster.Node {
	t.Helper()
	cfg := cluster.LocalConfig()
	cfg.Insecure = true
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.AdminToken = "solo", "127.0.0.1:0", "127.0.0.1:0", "s3cret"
	cfg.Topologies = map[string]cluster.Factory{"ids": factory(newSource(10))}
	nd, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nd.Shutdown(context.Background()) })
	return nd
}

// TestAdminToken: with a token, every route answers 401 without
// credentials and 403 with wrong ones, reads included (configs, YAML and
// resources are not public).
func TestAdminToken(t *testing.T) {
	nd := tokenNode(t)
	base := "http://" + nd.HTTPAddr() + "/api/v1"
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"POST", "/topology/ids/activate", "", http.StatusUnauthorized},
		{"POST", "/topology/ids/activate", "wrong", http.StatusForbidden},
		{"POST", "/topology/ids/activate", "s3cret", http.StatusNotFound}, // authorised; no such topology
		{"POST", "/topology/ids/kill/0", "", http.StatusUnauthorized},
		{"POST", "/topology/ids/rebalance/0", "wrong", http.StatusForbidden},
		{"POST", "/topologies", "", http.StatusUnauthorized},
		{"GET", "/topology/summary", "", http.StatusUnauthorized},
		{"GET", "/topologies", "", http.StatusUnauthorized},
		{"GET", "/cluster/summary", "wrong", http.StatusForbidden},
		{"GET", "/cluster/summary", "s3cret", http.StatusOK},
	} {
		if got := api(t, tc.method, base+tc.path, tc.token, nil, nil); got != tc.want {
			t.Errorf("%s %s (token %q): %d, want %d", tc.method, tc.path, tc.token, got, tc.want)
		}
	}
	var resp obj
	if code := api(t, "POST", base+"/topologies", "s3cret", cluster.SubmitRequest{Name: "ids", Kind: "ids"}, &resp); code != http.StatusAccepted {
		t.Fatalf("submit with token: %d %v", code, resp)
	}
	for _, action := range []string{"deactivate", "activate", "kill/5"} {
		if code := api(t, "POST", base+"/topology/ids/"+action, "s3cret", nil, &resp); code != http.StatusOK || resp["status"] != "success" {
			t.Errorf("%s with token: %d %v", action, code, resp)
		}
	}
	if code := api(t, "POST", base+"/topology/ids/activate", "s3cret", nil, nil); code != http.StatusNotFound {
		t.Errorf("activate after kill: %d, want 404", code)
	}
}

// TestHTTPAnyPort: a node whose API port is taken fails to start, unless
// HTTPAnyPort lets it listen on a free port of the same host.
func TestHTTPAnyPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := cluster.LocalConfig()
	cfg.Insecure = true // a throwaway node
	cfg.Name, cfg.Bind, cfg.HTTP = "solo", "127.0.0.1:0", taken.Addr().String()
	if nd, err := cluster.Start(context.Background(), cfg); err == nil {
		_ = nd.Shutdown(context.Background())
		t.Fatalf("started with its API port %s taken", cfg.HTTP)
	}
	cfg.HTTPAnyPort = true
	nd, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nd.Shutdown(context.Background()) })
	host, _, _ := net.SplitHostPort(nd.HTTPAddr())
	if nd.HTTPAddr() == taken.Addr().String() || host != "127.0.0.1" {
		t.Fatalf("HTTPAddr %s; want another port on 127.0.0.1", nd.HTTPAddr())
	}
	if code := api(t, "GET", "http://"+nd.HTTPAddr()+"/api/v1/cluster/summary", "", nil, nil); code != http.StatusOK {
		t.Fatalf("cluster/summary at %s: %d", nd.HTTPAddr(), code)
	}
}

// TestBrowserAttacksOnARealNode: the attacks of issue 11 on a node's
// real API. A web page's cross-origin text/plain POST (what a form or
// fetch without preflight sends) and a DNS-rebinding request (a Host the
// node does not serve) get 403 and change nothing, even with the token; a
// GET of configs or resources without credentials gets 401.
func TestBrowserAttacksOnARealNode(t *testing.T) {
	nd := tokenNode(t)
	if err := nd.Submit("ids", "ids", nil); err != nil {
		t.Fatal(err)
	}
	base := "http://" + nd.HTTPAddr()
	do := func(method, path, host, origin, ctype, token, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	flux := `{"name":"x","kind":"flux","conf":{"squall.flux.yaml":"spouts: [{id: s, className: org.apache.storm.flux.wrappers.spouts.FluxShellSpout, constructorArgs: [[/bin/sh, -c, id], [x]]}]"}}`
	for _, tc := range []struct {
		name                                   string
		method, path, host, origin, ctype, tok string
		want                                   int
	}{
		{"cross-origin text/plain submit", "POST", "/api/v1/topologies", "", "http://evil.example", "text/plain", "", http.StatusForbidden},
		{"cross-origin kill with the token", "POST", "/api/v1/topology/ids/kill/0", "", "http://evil.example", "", "s3cret", http.StatusForbidden},
		{"DNS rebinding read", "GET", "/api/v1/topologies", "evil.example", "", "", "s3cret", http.StatusForbidden},
		{"DNS rebinding kill", "POST", "/api/v1/topology/ids/kill/0", "evil.example:80", "", "", "s3cret", http.StatusForbidden},
		{"configs without credentials", "GET", "/api/v1/topologies", "", "", "", "", http.StatusUnauthorized},
		{"resources without credentials", "GET", "/api/v1/resources/" + strings.Repeat("a", 64), "", "", "", "", http.StatusUnauthorized},
		{"a page without credentials", "GET", "/api/v1/topology/ids", "", "", "", "", http.StatusUnauthorized},
	} {
		body := ""
		if tc.method == "POST" && tc.path == "/api/v1/topologies" {
			body = flux
		}
		if got := do(tc.method, tc.path, tc.host, tc.origin, tc.ctype, tc.tok, body); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	ts := nd.Topologies(t.Context())
	if len(ts) != 1 || ts[0].Name != "ids" || ts[0].Status != "ACTIVE" {
		t.Errorf("topologies after the attacks: %+v, want ids alone, active", ts)
	}
}
