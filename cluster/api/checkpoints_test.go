package api_test

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/actors"
	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/topology"
)

// TestCheckpointsShape: the topology page's squallCheckpoints is null
// unless the topology is exactly-once; an exactly-once topology this node
// does not run (yet) says so; one it runs carries its last completed
// checkpoint (times in Unix ms, durations in ms, ageMs null until one
// completed) and its failures. The summary rows carry the short form, and
// /metrics the squall_checkpoint_* series of exactly-once topologies only.
func TestCheckpointsShape(t *testing.T) {
	completedAt := time.Now().Add(-1500 * time.Millisecond)
	failedAt := time.UnixMilli(1_700_000_123_456)
	running := actors.CheckpointStatus{
		Phase: "idle", Epoch: 2, LastCompleted: 17, CompletedAt: completedAt,
		Duration: 12345 * time.Microsecond, Bytes: 4096, Alignment: 1500 * time.Microsecond,
		Completed: 15, Failed: 3, Restores: 1, LastFailure: "checkpoint 9: task 3 declined: boom", LastFailureAt: failedAt,
	}
	for _, tc := range []struct {
		name      string
		guarantee string // submitted squall.guarantee ("": none)
		status    *actors.CheckpointStatus
		want      obj // nil: JSON null
		metrics   []string
	}{
		{name: "at-least-once", want: nil},
		{name: "at-most-once", guarantee: "at-most-once", want: nil},
		{name: "exactly-once, not running here", guarantee: "exactly-once", want: obj{
			"phase": "not running", "epoch": 0.0, "lastCompleted": 0.0, "completedAt": 0.0, "ageMs": nil,
			"durationMs": 0.0, "bytes": 0.0, "alignmentMs": 0.0, "completed": 0.0, "failed": 0.0, "restores": 0.0,
			"lastFailure": "", "lastFailureAt": 0.0,
		}},
		{name: "exactly-once, starting", guarantee: "exactly-once", status: &actors.CheckpointStatus{Phase: "starting"}, want: obj{
			"phase": "starting", "epoch": 0.0, "lastCompleted": 0.0, "completedAt": 0.0, "ageMs": nil,
			"durationMs": 0.0, "bytes": 0.0, "alignmentMs": 0.0, "completed": 0.0, "failed": 0.0, "restores": 0.0,
			"lastFailure": "", "lastFailureAt": 0.0,
		}, metrics: []string{
			`squall_checkpoint_completed_total{topology="ids"} 0`,
			`squall_checkpoint_last_completed_id{topology="ids"} 0`,
		}},
		{name: "exactly-once, running", guarantee: "exactly-once", status: &running, want: obj{
			"phase": "idle", "epoch": 2.0, "lastCompleted": 17.0, "completedAt": float64(completedAt.UnixMilli()), "ageMs": "≥1500",
			"durationMs": 12.345, "bytes": 4096.0, "alignmentMs": 1.5, "completed": 15.0, "failed": 3.0, "restores": 1.0,
			"lastFailure": "checkpoint 9: task 3 declined: boom", "lastFailureAt": float64(failedAt.UnixMilli()),
		}, metrics: []string{
			`squall_checkpoint_completed_total{topology="ids"} 15`,
			`squall_checkpoint_failed_total{topology="ids"} 3`,
			`squall_checkpoint_restores_total{topology="ids"} 1`,
			`squall_checkpoint_last_completed_id{topology="ids"} 17`,
			`squall_checkpoint_last_duration_seconds{topology="ids"} 0.012345`,
			`squall_checkpoint_last_bytes{topology="ids"} 4096`,
			`squall_checkpoint_last_alignment_seconds{topology="ids"} 0.0015`,
			`squall_checkpoint_last_failure_time_seconds{topology="ids"} 1.700000123456e+09`,
			"# TYPE squall_checkpoint_completed_total counter",
			"# TYPE squall_checkpoint_age_seconds gauge",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			delete(f.built, "ids") // the guarantee comes from the submitted configuration
			if tc.guarantee != "" {
				f.specs[1].Conf = map[string]string{topology.GuaranteeKey: tc.guarantee}
			}
			if tc.status != nil {
				f.cps = map[string]actors.CheckpointStatus{"ids": *tc.status}
			}
			call := serve(t, f, api.Config{})

			var tp obj
			call("GET", fmt.Sprintf("/api/v1/topology/ids-%d", submitted), "", "", &tp)
			cp, present := tp["squallCheckpoints"]
			if !present {
				t.Fatal("topology page has no squallCheckpoints")
			}
			if tc.want == nil {
				if cp != nil {
					t.Errorf("squallCheckpoints = %#v, want null", cp)
				}
			} else {
				checkCheckpoints(t, "topology page", cp, tc.want, slices.Collect(maps.Keys(tc.want)))
			}

			var ts struct{ Topologies []obj }
			call("GET", "/api/v1/topology/summary", "", "", &ts)
			if len(ts.Topologies) != 1 {
				t.Fatalf("topology summary = %v, want one topology", ts.Topologies)
			}
			row, present := ts.Topologies[0]["squallCheckpoints"]
			switch {
			case !present:
				t.Error("summary row has no squallCheckpoints")
			case tc.want == nil && row != nil:
				t.Errorf("summary squallCheckpoints = %#v, want null", row)
			case tc.want != nil:
				checkCheckpoints(t, "summary row", row, tc.want, []string{"phase", "lastCompleted", "ageMs", "completed", "failed", "lastFailure"})
			}

			resp := call("GET", "/metrics", "", "", nil)
			raw, _ := io.ReadAll(resp.Body)
			body := string(raw)
			for _, line := range tc.metrics {
				if !strings.Contains(body, "\n"+line+"\n") {
					t.Errorf("no line %q", line)
				}
			}
			if tc.status == nil && strings.Contains(body, "\nsquall_checkpoint_") {
				t.Error("checkpoint series for a topology that keeps no checkpoints")
			}
			if age := `squall_checkpoint_age_seconds{topology="ids"} `; (tc.status != nil && tc.status.LastCompleted > 0) != strings.Contains(body, age) {
				t.Errorf("%s present = %v, want it only once a checkpoint completed", age, !(tc.status != nil && tc.status.LastCompleted > 0))
			}
			if t.Failed() {
				t.Log(body)
			}
		})
	}
}

// checkCheckpoints compares a squallCheckpoints object's keys with want's
// ("≥N": a number at least N), and that it has exactly those keys.
func checkCheckpoints(t *testing.T, where string, got any, want obj, keys []string) {
	t.Helper()
	g, ok := got.(obj)
	if !ok {
		t.Fatalf("%s squallCheckpoints = %#v, want an object", where, got)
	}
	slices.Sort(keys)
	if have := slices.Sorted(maps.Keys(g)); !slices.Equal(have, keys) {
		t.Errorf("%s squallCheckpoints keys = %v, want %v", where, have, keys)
	}
	for _, k := range keys {
		w := want[k]
		if s, ok := w.(string); ok && strings.HasPrefix(s, "≥") {
			var least float64
			fmt.Sscan(strings.TrimPrefix(s, "≥"), &least)
			if n, ok := g[k].(float64); !ok || n < least {
				t.Errorf("%s %s = %#v, want a number ≥ %v", where, k, g[k], least)
			}
			continue
		}
		if g[k] != w {
			t.Errorf("%s %s = %#v, want %#v", where, k, g[k], w)
		}
	}
}
