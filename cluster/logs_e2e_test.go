package cluster_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	capi "github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/multilang"
	"github.com/squall-streams/squall/topology"
)

// pythonFactory builds a topology of pystorm components from
// multilang/testdata/resources, run by SQUALL_PYTHON: the spout emits
// test.sentences once each; "faulty" (FaultyBolt) raises on "raise";
// "logger" (LogBolt, 4 tasks) logs each sentence it is given.
func pythonFactory(t *testing.T) cluster.Factory {
	t.Helper()
	py := os.Getenv("SQUALL_PYTHON")
	if py == "" {
		t.Fatal("SQUALL_PYTHON is not set: run `export SQUALL_PYTHON=$(scripts/pyenv.sh)`")
	}
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in testdata
	dir, err := filepath.Abs("../multilang/testdata/resources")
	if err != nil {
		t.Fatal(err)
	}
	cmd := func(class string) []string { return []string{py, "wordcount.py", class} }
	return cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		b := topology.NewBuilder("py")
		b.SetSpout("sentences", multilang.SpoutFactory(cmd("SentenceSpout"), multilang.WithDir(dir), multilang.Output("sentence")), 1)
		b.SetBolt("faulty", multilang.BoltFactory(cmd("FaultyBolt"), multilang.WithDir(dir), multilang.Output("word")), 1).ShuffleGrouping("sentences")
		b.SetBolt("logger", multilang.BoltFactory(cmd("LogBolt"), multilang.WithDir(dir)), 4).ShuffleGrouping("sentences")
		conf[multilang.RestartBackoffKey] = 0.02
		conf[multilang.RestartBackoffMaxKey] = 0.2
		conf["test.sentences"] = []any{"raise", "a", "b", "c", "d", "e", "f", "g"}
		return b.Build(conf)
	})
}

// TestPythonFailureAndLogsThroughTheAPI: on a two-node cluster, a pystorm
// bolt that raises has the traceback as its last error in Storm's REST
// API, with its restarts counted; the topology's subprocesses' lines are
// read from both nodes at /api/v1/topology/{id}/logs, filtered by
// component, and a since per node gives only newer lines.
func TestPythonFailureAndLogsThroughTheAPI(t *testing.T) {
	c := clustertest.New(t, 2, map[string]cluster.Factory{"py": pythonFactory(t)})
	if err := c.Node(0).Submit("py", "py", nil); err != nil {
		t.Fatal(err)
	}
	base := "http://" + c.Node(1).HTTPAddr() + "/api/v1/topology/py"

	var faulty obj
	// The restart is counted as the next subprocess starts, and the death's
	// report (exit status, stderr tail) reaches the stats after it: wait
	// for both.
	poll.Until(t, 60*time.Second, "faulty to have died on \"raise\" three times, the last death reported", func() bool {
		api(t, "GET", base+"/component/faulty", "", nil, &faulty)
		execs, _ := faulty["executorStats"].([]any)
		if len(execs) != 1 || execs[0].(obj)["restarts"] != float64(multilang.DefaultDeadLetterAfter) {
			return false
		}
		last, _ := execs[0].(obj)["lastError"].(string)
		return strings.Contains(last, "exit status 1")
	})
	exec := faulty["executorStats"].([]any)[0].(obj)
	last, _ := exec["lastError"].(string)
	for _, want := range []string{"exit status 1", "Traceback (most recent call last):", `ValueError: I do not like 'raise'`} {
		if !strings.Contains(last, want) {
			t.Errorf("faulty's last error lacks %q:\n%s", want, last)
		}
	}
	errs, _ := faulty["componentErrors"].([]any)
	if len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0].(obj)["error"]), "ValueError") {
		t.Errorf("componentErrors = %v", errs)
	}

	var all capi.ClusterLogs
	poll.Until(t, 60*time.Second, "lines from both nodes, LogBolt's among them", func() bool {
		api(t, "GET", base+"/logs", "", nil, &all)
		saw, nodes := false, 0
		for _, p := range all.Nodes {
			if len(p.Lines) > 0 {
				nodes++
			}
			for _, l := range p.Lines {
				saw = saw || l.Component == "logger" && strings.Contains(l.Text, "LogBolt saw ")
			}
		}
		return nodes == 2 && saw
	})
	var traceback bool
	for _, p := range all.Nodes {
		for _, l := range p.Lines {
			traceback = traceback || l.Component == "faulty" && l.Source == multilang.SourceError && strings.Contains(l.Text, "ValueError")
		}
	}
	if !traceback {
		t.Errorf("no error line of faulty with its traceback in %+v", all)
	}

	var logger capi.ClusterLogs
	if code := api(t, "GET", base+"/logs?component=logger", "", nil, &logger); code != http.StatusOK {
		t.Fatalf("logs?component=logger: %d", code)
	}
	since := map[string]uint64{}
	for _, p := range logger.Nodes {
		for _, l := range p.Lines {
			if l.Component != "logger" {
				t.Errorf("component=logger gave %+v", l)
			}
		}
		since[p.Node] = p.Next
	}
	var newer capi.ClusterLogs
	q := "?component=logger&since=" + strings.Join(capi.LogSince(since), "&since=")
	api(t, "GET", base+"/logs"+q, "", nil, &newer)
	for _, p := range newer.Nodes {
		for _, l := range p.Lines {
			if l.Seq <= since[p.Node] {
				t.Errorf("since %d on %s gave line %d", since[p.Node], p.Node, l.Seq)
			}
		}
	}
}
