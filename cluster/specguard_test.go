package cluster_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/internal/poll"
)

// TestSubmitOfAnOversizedSpecIsRejectedAndJoinsStillWork: a 25 MiB config
// value passed the HTTP body limit but not memberlist's push/pull limit,
// and split the cluster: nodes never agreed again and new ones could not
// join. It is refused at submit, through the API and the Go call, with an
// error naming the limit; nothing reaches the state; the cluster keeps
// accepting joins and submits.
func TestSubmitOfAnOversizedSpecIsRejectedAndJoinsStillWork(t *testing.T) {
	src := newSource(100)
	c := clustertest.New(t, 2, map[string]cluster.Factory{"ids": factory(src)})
	big := map[string]string{"blob": strings.Repeat("x", 25<<20)}
	var got obj
	code := api(t, "POST", "http://"+c.Node(0).HTTPAddr()+"/api/v1/topologies", "", cluster.SubmitRequest{Name: "big", Kind: "ids", Conf: big}, &got)
	msg, _ := got["error"].(string)
	if code != http.StatusBadRequest || !strings.Contains(msg, "over the limit of 1048576 (1 MiB)") || !strings.Contains(msg, `"big"`) {
		t.Fatalf("submit of a 25 MiB config: %d %v; want 400 naming the limit", code, got)
	}
	if err := c.Node(1).Submit("big", "ids", big); err == nil || !strings.Contains(err.Error(), "over the limit of 1048576") {
		t.Fatalf("Submit of a 25 MiB config: %v; want the limit named", err)
	}
	for i := range 2 {
		if ts := c.Node(i).Topologies(t.Context()); len(ts) != 0 {
			t.Fatalf("node %d knows %d topologies after a refused submit", i, len(ts))
		}
	}
	j := c.Add() // waits until every node sees it alive
	if err := c.Node(j).Submit("ids", "ids", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "every node to know the topology submitted after the join", func() bool {
		for i := range 3 {
			if len(c.Node(i).Topologies(t.Context())) != 1 {
				return false
			}
		}
		return true
	})
}
