package api_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/squall-streams/squall/cluster/api"
)

// The fake's logs: what Logs and ClusterLogs were asked, answered with one
// line per node naming the query.
var fakeLogs = struct {
	sync.Mutex
	asked map[*fake][]string
}{asked: map[*fake][]string{}}

func (f *fake) askedLogs() []string {
	fakeLogs.Lock()
	defer fakeLogs.Unlock()
	return fakeLogs.asked[f]
}

func (f *fake) Logs(name string, q api.LogQuery) api.LogPage {
	return f.logPage("node-a", name, q)
}

func (f *fake) logPage(node, name string, q api.LogQuery) api.LogPage {
	fakeLogs.Lock()
	fakeLogs.asked[f] = append(fakeLogs.asked[f], fmt.Sprintf("%s %s %+v", node, name, q))
	fakeLogs.Unlock()
	return api.LogPage{Node: node, Next: q.Since + 1, Lines: []api.LogLine{{Seq: q.Since + 1, Component: "relay", Task: 2, Level: "INFO", Source: "log", Text: "hello from " + node}}}
}

func (f *fake) ClusterLogs(_ context.Context, name string, q api.LogQuery, since map[string]uint64) map[string]api.LogPage {
	out := map[string]api.LogPage{}
	for _, node := range []string{"node-b", "node-a"} {
		nq := q
		nq.Since = since[node]
		p := f.logPage(node, name, nq)
		p.Node = "" // the route names the pages
		out[node] = p
	}
	return out
}

// TestLogsRoutes: the node's own lines and the cluster's, with their
// queries passed on, by topology id or name (a killed one too), and the
// queries' mistakes answered 400, an unknown topology 404.
func TestLogsRoutes(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})

	var page api.LogPage
	if resp := call("GET", "/api/v1/local/topology/ids/logs?component=relay&since=7&limit=20", "", "", &page); resp.StatusCode != http.StatusOK {
		t.Fatalf("local logs: %s", resp.Status)
	}
	if page.Node != "node-a" || len(page.Lines) != 1 || page.Lines[0].Text != "hello from node-a" || page.Next != 8 {
		t.Errorf("local logs = %+v", page)
	}

	var all api.ClusterLogs
	id := fmt.Sprintf("ids-%d", submitted)
	if resp := call("GET", "/api/v1/topology/"+id+"/logs?component=relay&since=node-b:41&since=node-a:3", "", "", &all); resp.StatusCode != http.StatusOK {
		t.Fatalf("cluster logs: %s", resp.Status)
	}
	if all.Topology != "ids" || len(all.Nodes) != 2 || all.Nodes[0].Node != "node-a" || all.Nodes[1].Node != "node-b" ||
		all.Nodes[0].Next != 4 || all.Nodes[1].Next != 42 {
		t.Errorf("cluster logs = %+v", all)
	}
	call("GET", "/api/v1/topology/gone/logs", "", "", &all)
	if all.Topology != "gone" {
		t.Errorf("a killed topology's logs = %+v", all)
	}
	want := []string{
		"node-a ids {Component:relay Since:7 Limit:20}",
		"node-b ids {Component:relay Since:41 Limit:0}", "node-a ids {Component:relay Since:3 Limit:0}",
		"node-b gone {Component: Since:0 Limit:0}", "node-a gone {Component: Since:0 Limit:0}",
	}
	if got := f.askedLogs(); !slices.Equal(got, want) {
		t.Errorf("asked\n%q\nwant\n%q", got, want)
	}

	for path, code := range map[string]int{
		"/api/v1/topology/nope/logs":                    http.StatusNotFound,
		"/api/v1/topology/ids/logs?since=7":             http.StatusBadRequest,
		"/api/v1/topology/ids/logs?since=node-a:x":      http.StatusBadRequest,
		"/api/v1/topology/ids/logs?limit=-1":            http.StatusBadRequest,
		"/api/v1/local/topology/ids/logs?since=node-a":  http.StatusBadRequest,
		"/api/v1/local/topology/ids/logs?limit=lots":    http.StatusBadRequest,
		"/api/v1/local/topology/ids/logs?since=-1":      http.StatusBadRequest,
		"/api/v1/local/topology/unknown/logs?since=123": http.StatusOK, // a node may not run it (yet)
	} {
		if resp := call("GET", path, "", "", nil); resp.StatusCode != code {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, code)
		}
	}
}

func TestLogSince(t *testing.T) {
	cases := []struct {
		in   []string
		want map[string]uint64
		bad  bool
	}{
		{nil, map[string]uint64{}, false},
		{[]string{"node-a:3", "node-b:0"}, map[string]uint64{"node-a": 3, "node-b": 0}, false},
		{[]string{"host:7946:12"}, map[string]uint64{"host:7946": 12}, false},
		{[]string{":3"}, nil, true},
		{[]string{"node-a"}, nil, true},
		{[]string{"node-a:"}, nil, true},
		{[]string{"node-a:-1"}, nil, true},
	}
	for _, tc := range cases {
		got, err := api.ParseLogSince(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && !maps.Equal(got, tc.want)) {
			t.Errorf("ParseLogSince(%q) = %v, %v", tc.in, got, err)
			continue
		}
		if !tc.bad {
			if back, _ := api.ParseLogSince(api.LogSince(got)); !maps.Equal(back, got) {
				t.Errorf("LogSince(%v) = %q does not parse back", got, api.LogSince(got))
			}
		}
	}
}

func TestLogQueryLineLimit(t *testing.T) {
	for limit, want := range map[int]int{0: api.DefaultLogLines, -3: api.DefaultLogLines, 1: 1, 999: 999, api.MaxLogLines + 1: api.MaxLogLines} {
		if got := (api.LogQuery{Limit: limit}).LineLimit(); got != want {
			t.Errorf("LineLimit of %d = %d, want %d", limit, got, want)
		}
	}
}

// TestFailingComponents: a task that keeps restarting makes its component
// failing in every report, while the topology's status stays ACTIVE.
func TestFailingComponents(t *testing.T) {
	f := newFake(t)
	sink := &f.local["node-b"][0].TaskStats[1]
	sink.Failing, sink.Restarts, sink.LastRestartMs = true, 4, sink.LastErrorMs
	call := serve(t, f, api.Config{})

	var ts struct{ Topologies []obj }
	call("GET", "/api/v1/topology/summary", "", "", &ts)
	if top := ts.Topologies[0]; top["status"] != "ACTIVE" || !reflect.DeepEqual(top["failingComponents"], []any{"sink"}) {
		t.Errorf("topology summary: status %v, failingComponents %v; want ACTIVE, [sink]", top["status"], top["failingComponents"])
	}

	var page struct {
		Status            string
		FailingComponents []string
		Bolts             []obj
	}
	call("GET", "/api/v1/topology/ids", "", "", &page)
	if page.Status != "ACTIVE" || !slices.Equal(page.FailingComponents, []string{"sink"}) {
		t.Errorf("topology page: status %s, failingComponents %v", page.Status, page.FailingComponents)
	}
	for _, b := range page.Bolts {
		if want := b["boltId"] == "sink"; b["failing"] != want {
			t.Errorf("bolt %v: failing = %v, want %v", b["boltId"], b["failing"], want)
		}
	}

	var comp struct{ ExecutorStats []obj }
	call("GET", "/api/v1/topology/ids/component/sink", "", "", &comp)
	if len(comp.ExecutorStats) != 1 || comp.ExecutorStats[0]["failing"] != true || comp.ExecutorStats[0]["restarts"] != 4.0 {
		t.Errorf("sink's executors = %v", comp.ExecutorStats)
	}

	var infos []api.TopologyInfo
	call("GET", "/api/v1/topologies", "", "", &infos)
	if len(infos) != 2 || infos[1].Name != "ids" || infos[1].Status != "ACTIVE" || !slices.Equal(infos[1].Failing, []string{"sink"}) {
		t.Fatalf("topologies = %+v", infos)
	}
	for _, b := range infos[1].Bolts {
		if b.Failing != (b.Component == "sink") {
			t.Errorf("bolt %s: failing %v", b.Component, b.Failing)
		}
	}
}
