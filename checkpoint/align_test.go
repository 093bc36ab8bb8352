package checkpoint_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
	"github.com/squall-streams/squall/topology"
)

func formatStep(step checkpoint.Step[string]) string {
	var parts []string
	if len(step.Process) > 0 {
		parts = append(parts, "process "+strings.Join(step.Process, " "))
	}
	if step.Snapshot != 0 {
		parts = append(parts, fmt.Sprintf("snapshot %d", step.Snapshot))
	}
	if len(step.Drain) > 0 {
		parts = append(parts, "drain "+strings.Join(step.Drain, " "))
	}
	if step.Declined != 0 {
		parts = append(parts, fmt.Sprintf("declined %d: %v", step.Declined, step.Reason))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "\n")
}

// TestAlignerScripts runs the golden alignment scripts in testdata/align:
//
//	inputs T... budget B [done N]   make the aligner
//	tuple FROM NAME SIZE            a tuple
//	barrier FROM ID                 a barrier
//	abort ID | reset ID | state
func TestAlignerScripts(t *testing.T) {
	runScripts(t, "align", func(t *testing.T) func([]string) string {
		var a *checkpoint.Aligner[string]
		return func(args []string) string {
			var step checkpoint.Step[string]
			var err error
			switch args[0] {
			case "inputs":
				var ins []topology.TaskID
				i := 1
				for ; args[i] != "budget"; i++ {
					ins = append(ins, topology.TaskID(atoi(t, args[i])))
				}
				budget := int64(atoi(t, args[i+1]))
				done := checkpoint.ID(0)
				if len(args) > i+3 {
					done = checkpoint.ID(atoi(t, args[i+3]))
				}
				a, err = checkpoint.NewAligner[string](ins, budget, done)
				if err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			case "tuple":
				step, err = a.Tuple(topology.TaskID(atoi(t, args[1])), args[2], int64(atoi(t, args[3])))
			case "barrier":
				step, err = a.Barrier(topology.TaskID(atoi(t, args[1])), checkpoint.ID(atoi(t, args[2])))
			case "abort":
				step = a.Abort(checkpoint.ID(atoi(t, args[1])))
			case "reset":
				a.Reset(checkpoint.ID(atoi(t, args[1])))
				return "ok"
			case "state":
				id, n, b := a.Aligning()
				return fmt.Sprintf("aligning %d, %d parked, %d bytes", id, n, b)
			default:
				t.Fatalf("script: unknown command %q", args[0])
			}
			if err != nil {
				return "error: " + err.Error()
			}
			return formatStep(step)
		}
	})
}

func TestNewAlignerRejects(t *testing.T) {
	tests := []struct {
		name   string
		inputs []topology.TaskID
		budget int64
	}{
		{"no inputs", nil, 10},
		{"zero budget", []topology.TaskID{1}, 0},
		{"duplicate input", []topology.TaskID{1, 2, 1}, 10},
	}
	for _, tt := range tests {
		if _, err := checkpoint.NewAligner[string](tt.inputs, tt.budget, 0); err == nil {
			t.Errorf("%s: NewAligner succeeded, want an error", tt.name)
		}
	}
}

func TestAlignerReasonsAreSentinels(t *testing.T) {
	a, _ := checkpoint.NewAligner[string]([]topology.TaskID{1, 2}, 5, 0)
	a.Barrier(1, 1)
	a.Tuple(1, "x", 5)
	step, _ := a.Tuple(1, "y", 1)
	if step.Declined != 1 || !errors.Is(step.Reason, checkpoint.ErrAlignmentOverflow) {
		t.Fatalf("overflow step = %+v, want checkpoint 1 declined with ErrAlignmentOverflow", step)
	}
	a.Barrier(1, 2)
	step, _ = a.Barrier(2, 3)
	if step.Declined != 2 || !errors.Is(step.Reason, checkpoint.ErrBarrierOvertaken) {
		t.Fatalf("overtaken step = %+v, want checkpoint 2 declined with ErrBarrierOvertaken", step)
	}
	if _, err := a.Barrier(9, 3); !errors.Is(err, checkpoint.ErrUnknownChannel) {
		t.Fatalf("barrier from task 9: err = %v, want ErrUnknownChannel", err)
	}
	if _, err := a.Tuple(9, "z", 1); !errors.Is(err, checkpoint.ErrUnknownChannel) {
		t.Fatalf("tuple from task 9: err = %v, want ErrUnknownChannel", err)
	}
	if _, err := a.Barrier(2, 3); !errors.Is(err, checkpoint.ErrBarrierDuplicate) {
		t.Fatalf("second barrier 3 from task 2: err = %v, want ErrBarrierDuplicate", err)
	}
}

// element is one thing an upstream task sends on its channel.
type element struct {
	barrier checkpoint.ID // 0 = a tuple
	tuple   string
}

// checkAlignment plays channels (per upstream task, in FIFO order) into an
// aligner in the interleaving order picks (each byte chooses the channel
// that delivers next) and checks the invariant of aligned checkpoints:
//
//   - the tuples processed before the snapshot of n are exactly those that
//     precede barrier n on every channel: none after it (it would be in the
//     snapshot twice after a restore) and none before it left out (lost);
//   - in the end every tuple was processed exactly once, in its channel's
//     order;
//   - a checkpoint is either snapshotted or declined, never both; one that
//     every channel delivered and that did not overflow is snapshotted.
func checkAlignment(t *testing.T, channels [][]element, budget int64, picks []byte) {
	t.Helper()
	inputs := make([]topology.TaskID, len(channels))
	for i := range channels {
		inputs[i] = topology.TaskID(i + 1)
	}
	a, err := checkpoint.NewAligner[string](inputs, budget, 0)
	if err != nil {
		t.Fatal(err)
	}
	processed := map[string]int{}
	var order []string
	snapshots := map[checkpoint.ID]map[string]bool{}
	declined := map[checkpoint.ID]bool{}
	apply := func(step checkpoint.Step[string]) {
		for _, tu := range step.Process {
			processed[tu]++
			order = append(order, tu)
		}
		if step.Snapshot != 0 {
			if _, again := snapshots[step.Snapshot]; again || declined[step.Snapshot] {
				t.Fatalf("checkpoint %d snapshotted after it was snapshotted or declined", step.Snapshot)
			}
			seen := map[string]bool{}
			for tu, n := range processed {
				if n > 0 {
					seen[tu] = true
				}
			}
			snapshots[step.Snapshot] = seen
		}
		for _, tu := range step.Drain {
			processed[tu]++
			order = append(order, tu)
		}
		if step.Declined != 0 {
			if _, ok := snapshots[step.Declined]; ok {
				t.Fatalf("checkpoint %d declined after its snapshot", step.Declined)
			}
			declined[step.Declined] = true
		}
	}
	pos := make([]int, len(channels))
	next := func(k int) bool { // deliver channel k's next element
		if pos[k] >= len(channels[k]) {
			return false
		}
		e := channels[k][pos[k]]
		pos[k]++
		var step checkpoint.Step[string]
		var err error
		if e.barrier != 0 {
			step, err = a.Barrier(inputs[k], e.barrier)
		} else {
			step, err = a.Tuple(inputs[k], e.tuple, 1)
		}
		if err != nil {
			t.Fatalf("channel %d element %d: %v", k, pos[k]-1, err)
		}
		apply(step)
		return true
	}
	for _, p := range picks {
		next(int(p) % len(channels))
	}
	for k := range channels {
		for next(k) {
		}
	}
	// Exactly once, in channel order.
	for k, ch := range channels {
		last := -1
		for _, e := range ch {
			if e.barrier != 0 {
				continue
			}
			if processed[e.tuple] != 1 {
				t.Fatalf("tuple %s processed %d times, want once", e.tuple, processed[e.tuple])
			}
			idx := indexOf(order, e.tuple)
			if idx < last {
				t.Fatalf("channel %d: tuple %s processed before an earlier tuple of its channel", k, e.tuple)
			}
			last = idx
		}
	}
	// Snapshot n holds exactly the tuples before barrier n on every channel.
	for id, seen := range snapshots {
		for k, ch := range channels {
			before := true
			found := false
			for _, e := range ch {
				if e.barrier == id {
					before, found = false, true
					continue
				}
				if e.barrier != 0 {
					continue
				}
				if seen[e.tuple] != before {
					t.Fatalf("snapshot %d: tuple %s (before barrier on channel %d: %v) in snapshot: %v", id, e.tuple, k, before, seen[e.tuple])
				}
			}
			if !found {
				t.Fatalf("snapshot %d taken but channel %d never delivered its barrier", id, k)
			}
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// genChannels makes n channels that each carry tuples and the barriers
// 1..barriers in order, from r.
func genChannels(r *rand.Rand, n, barriers int) [][]element {
	chans := make([][]element, n)
	for k := range chans {
		for b := 1; b <= barriers+1; b++ {
			for j := range r.IntN(5) {
				chans[k] = append(chans[k], element{tuple: fmt.Sprintf("c%d.b%d.t%d", k, b, j)})
			}
			if b <= barriers {
				chans[k] = append(chans[k], element{barrier: checkpoint.ID(b)})
			}
		}
	}
	return chans
}

func TestAlignerRandomInterleavings(t *testing.T) {
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 1))
		chans := genChannels(r, 1+r.IntN(4), r.IntN(4))
		picks := make([]byte, 60)
		for i := range picks {
			picks[i] = byte(r.IntN(256))
		}
		budget := int64(1 + r.IntN(12))
		checkAlignment(t, chans, budget, picks)
	}
}

func FuzzAlignerInterleaving(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(2), uint8(4), []byte{0, 1, 2, 0, 1, 2, 2, 2, 1})
	f.Add(uint64(7), uint8(2), uint8(3), uint8(1), []byte{1, 1, 1, 1, 0, 0})
	f.Fuzz(func(t *testing.T, seed uint64, nch, nbar, budget uint8, picks []byte) {
		r := rand.New(rand.NewPCG(seed, 2))
		chans := genChannels(r, 1+int(nch%5), int(nbar%5))
		checkAlignment(t, chans, 1+int64(budget%16), picks)
	})
}
