package checkpoint_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/topology"
)

var t0 = time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)

func formatCommands(cmds []checkpoint.Command) string {
	if len(cmds) == 0 {
		return "-"
	}
	var b strings.Builder
	for _, c := range cmds {
		switch c := c.(type) {
		case checkpoint.Trigger:
			fmt.Fprintf(&b, "trigger %d epoch %d\n", c.ID, c.Epoch)
		case checkpoint.Commit[string]:
			tasks := slices.Sorted(func(yield func(topology.TaskID) bool) {
				for t := range c.Acks {
					if !yield(t) {
						return
					}
				}
			})
			var acks []string
			for _, t := range tasks {
				acks = append(acks, fmt.Sprintf("%d=%s", t, c.Acks[t]))
			}
			fmt.Fprintf(&b, "commit %d epoch %d acks %s\n", c.ID, c.Epoch, strings.Join(acks, " "))
		case checkpoint.Resolve:
			fmt.Fprintf(&b, "resolve %d\n", c.ID)
		case checkpoint.Complete:
			fmt.Fprintf(&b, "complete %d\n", c.ID)
		case checkpoint.Abort:
			fmt.Fprintf(&b, "abort %d: %v\n", c.ID, c.Reason)
		case checkpoint.Restore:
			fmt.Fprintf(&b, "restore epoch %d from %d: %v\n", c.Epoch, c.From, c.Reason)
		default:
			fmt.Fprintf(&b, "unknown command %T\n", c)
		}
	}
	return b.String()
}

var errOverflow = fmt.Errorf("alignment: %w", checkpoint.ErrAlignmentOverflow)

// TestCoordinatorScripts runs the golden coordinator scripts in
// testdata/coordinator. Times are milliseconds after t0:
//
//	new TASKS... interval MS timeout MS pause MS tolerable N [resume COMPLETED TRIGGERED EPOCH]
//	tick MS | ack MS TASK ID PAYLOAD | decline MS TASK ID overflow|loss|staleloss
//	committed MS ID | commitfailed MS ID indefinite|definite
//	taskfailed MS TASK | restored MS EPOCH | status
func TestCoordinatorScripts(t *testing.T) {
	runScripts(t, "coordinator", func(t *testing.T) func([]string) string {
		var c *checkpoint.Coordinator[string]
		ms := func(s string) time.Time { return t0.Add(time.Duration(atoi(t, s)) * time.Millisecond) }
		return func(args []string) string {
			var cmds []checkpoint.Command
			var err error
			switch args[0] {
			case "new":
				var tasks []topology.TaskID
				i := 1
				for ; args[i] != "interval"; i++ {
					tasks = append(tasks, topology.TaskID(atoi(t, args[i])))
				}
				cfg := checkpoint.Config{
					Interval:          time.Duration(atoi(t, args[i+1])) * time.Millisecond,
					Timeout:           time.Duration(atoi(t, args[i+3])) * time.Millisecond,
					MinPause:          time.Duration(atoi(t, args[i+5])) * time.Millisecond,
					TolerableFailures: atoi(t, args[i+7]),
				}
				var from checkpoint.Resume
				if len(args) > i+8 {
					from = checkpoint.Resume{LastCompleted: checkpoint.ID(atoi(t, args[i+9])), LastTriggered: checkpoint.ID(atoi(t, args[i+10])), Epoch: checkpoint.Epoch(atoi(t, args[i+11]))}
				}
				c, err = checkpoint.NewCoordinator[string](cfg, tasks, from, t0)
				if err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			case "tick":
				cmds = c.Tick(ms(args[1]))
			case "ack":
				cmds, err = c.Ack(ms(args[1]), topology.TaskID(atoi(t, args[2])), checkpoint.ID(atoi(t, args[3])), args[4])
			case "decline":
				reason := errOverflow
				switch epoch := c.Status().Epoch; args[4] {
				case "loss": // a channel of the current epoch
					reason = &checkpoint.ChannelError{From: 9, Epoch: epoch, Want: 3, Got: 5, Err: checkpoint.ErrChannelLoss}
				case "staleloss": // a channel of the epoch before
					reason = &checkpoint.ChannelError{From: 9, Epoch: epoch - 1, Want: 3, Got: 5, Err: checkpoint.ErrChannelLoss}
				}
				cmds, err = c.Decline(ms(args[1]), topology.TaskID(atoi(t, args[2])), checkpoint.ID(atoi(t, args[3])), reason)
			case "committed":
				cmds = c.Committed(ms(args[1]), checkpoint.ID(atoi(t, args[2])))
			case "commitfailed":
				reason := errors.New("disk full")
				if args[3] == "indefinite" {
					reason = fmt.Errorf("%w: i/o timeout", checkpoint.ErrIndefinite)
				}
				cmds = c.CommitFailed(ms(args[1]), checkpoint.ID(atoi(t, args[2])), reason)
			case "taskfailed":
				cmds = c.TaskFailed(ms(args[1]), topology.TaskID(atoi(t, args[2])), errors.New("node n2 dead"))
			case "restored":
				cmds = c.Restored(ms(args[1]), checkpoint.Epoch(atoi(t, args[2])))
			case "status":
				s := c.Status()
				return fmt.Sprintf("%s epoch %d in-flight %d completed %d triggered %d failures %d waiting %v",
					s.Phase, s.Epoch, s.InFlight, s.LastCompleted, s.LastTriggered, s.Failures, s.Waiting)
			default:
				t.Fatalf("script: unknown command %q", args[0])
			}
			if err != nil {
				return "error: " + err.Error()
			}
			return formatCommands(cmds)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  checkpoint.Config
		ok   bool
	}{
		{"default", checkpoint.DefaultConfig(), true},
		{"local", checkpoint.LocalConfig(), true},
		{"interval below floor", checkpoint.Config{Interval: time.Millisecond, Timeout: time.Second}, false},
		{"no timeout", checkpoint.Config{Interval: time.Second}, false},
		{"negative pause", checkpoint.Config{Interval: time.Second, Timeout: time.Second, MinPause: -1}, false},
		{"negative tolerance", checkpoint.Config{Interval: time.Second, Timeout: time.Second, TolerableFailures: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// TestCoordinatorIDsNeverReused drives many checkpoints through triggers,
// random outcomes and restores, and checks that trigger ids strictly grow
// (also across a coordinator failover that resumes from the store) and
// that at most one checkpoint is ever in flight.
func TestCoordinatorIDsNeverReused(t *testing.T) {
	tasks := []topology.TaskID{1, 2}
	cfg := checkpoint.Config{Interval: 10 * time.Millisecond, Timeout: 50 * time.Millisecond, TolerableFailures: 1}
	c, err := checkpoint.NewCoordinator[string](cfg, tasks, checkpoint.Resume{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	var last checkpoint.ID
	now := t0
	for i := range 2000 {
		now = now.Add(5 * time.Millisecond)
		var cmds []checkpoint.Command
		s := c.Status()
		switch {
		case i == 1000: // failover: a new coordinator resumes from what the store holds
			c, err = checkpoint.NewCoordinator[string](cfg, tasks, checkpoint.Resume{LastCompleted: s.LastCompleted, LastTriggered: s.LastTriggered, Epoch: s.Epoch}, now)
			if err != nil {
				t.Fatal(err)
			}
		case s.Phase == checkpoint.Restoring:
			cmds = c.Restored(now, s.Epoch)
		case s.Phase == checkpoint.Pending && i%7 == 0:
			cmds, _ = c.Decline(now, 2, s.InFlight, errOverflow)
		case s.Phase == checkpoint.Pending && i%3 != 0:
			c.Ack(now, 1, s.InFlight, "a")
			cmds, _ = c.Ack(now, 2, s.InFlight, "b")
		case s.Phase == checkpoint.Committing && i%11 == 0:
			cmds = c.CommitFailed(now, s.InFlight, errors.New("write failed"))
		case s.Phase == checkpoint.Committing:
			cmds = c.Committed(now, s.InFlight)
		case i%97 == 0:
			cmds = c.TaskFailed(now, 1, errors.New("boom"))
		}
		cmds = append(cmds, c.Tick(now)...)
		for _, cmd := range cmds {
			if tr, ok := cmd.(checkpoint.Trigger); ok {
				if tr.ID <= last {
					t.Fatalf("step %d: trigger %d after %d: ids must strictly grow", i, tr.ID, last)
				}
				if s := c.Status(); s.InFlight != tr.ID || s.Phase != checkpoint.Pending {
					t.Fatalf("step %d: after trigger %d status is %+v", i, tr.ID, s)
				}
				last = tr.ID
			}
		}
	}
	if last < 50 {
		t.Fatalf("only %d checkpoints triggered in 2000 steps of 5ms with a 10ms interval", last)
	}
}

func TestStartRestoresTheResumedCheckpoint(t *testing.T) {
	now := time.Unix(0, 0)
	c, err := checkpoint.NewCoordinator[int](checkpoint.LocalConfig(), []topology.TaskID{1, 2}, checkpoint.Resume{LastCompleted: 7, LastTriggered: 9, Epoch: 3}, now)
	if err != nil {
		t.Fatal(err)
	}
	cmds := c.Start(now)
	if len(cmds) != 1 {
		t.Fatalf("Start = %v, want one Restore", cmds)
	}
	r, ok := cmds[0].(checkpoint.Restore)
	if !ok || r.Epoch != 4 || r.From != 7 || !errors.Is(r.Reason, checkpoint.ErrStarting) {
		t.Fatalf("Start = %+v, want Restore{Epoch: 4, From: 7, ErrStarting}", cmds[0])
	}
	if got := c.Tick(now.Add(time.Hour)); len(got) != 0 {
		t.Errorf("Tick while restoring = %v, want nothing", got)
	}
	c.Restored(now, 4)
	later := now.Add(checkpoint.LocalConfig().Interval)
	got := c.Tick(later)
	if tr, ok := got[0].(checkpoint.Trigger); len(got) != 1 || !ok || tr.ID != 10 || tr.Epoch != 4 {
		t.Errorf("first Tick after Restored = %v, want Trigger{10, epoch 4}", got)
	}
}
