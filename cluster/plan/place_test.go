package plan_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/cluster/plan"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func members(names ...string) []plan.Member {
	out := make([]plan.Member, len(names))
	for i, n := range names {
		out[i] = plan.Member{Name: n}
	}
	return out
}

func TestPlaceSpreadsEvenly(t *testing.T) {
	cases := []struct {
		members   []plan.Member
		workloads []plan.Workload
	}{
		{members("n1", "n2", "n3"), []plan.Workload{{"wc", taskRange(7)}}},
		{members("n1", "n2", "n3"), []plan.Workload{{"a", taskRange(10)}, {"b", taskRange(11)}}},
		{members("a", "b"), []plan.Workload{{"x", taskRange(1)}}},
		{members("n1", "n2", "n3", "n4", "n5"), []plan.Workload{{"big", taskRange(100)}}},
		{[]plan.Member{{Name: "small", Capacity: 1}, {Name: "large", Capacity: 3}}, []plan.Workload{{"t", taskRange(40)}}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			p := plan.Place(c.members, c.workloads)
			total, capSum := 0, 0
			for _, w := range c.workloads {
				total += len(w.Tasks)
			}
			for _, m := range c.members {
				capSum += max(m.Capacity, 1)
			}
			if len(p) != total {
				t.Fatalf("placed %d of %d tasks", len(p), total)
			}
			l := p.Counts()
			for _, m := range c.members {
				share := (total*max(m.Capacity, 1) + capSum - 1) / capSum
				if l[m.Name] > share {
					t.Errorf("%s has %d tasks, above its share %d (%v)", m.Name, l[m.Name], share, l)
				}
			}
		})
	}
}

func TestPlaceIsDeterministicWhateverTheInputOrder(t *testing.T) {
	w := []plan.Workload{{"a", taskRange(9)}, {"b", taskRange(5)}}
	p1 := plan.Place(members("n1", "n2", "n3"), w)
	p2 := plan.Place(members("n3", "n1", "n2", "n1"), []plan.Workload{w[1], w[0]})
	if !maps.Equal(p1, p2) {
		t.Fatal("placement depends on input order or duplicates")
	}
}

func TestPlaceMovesFewTasksOnMembershipChange(t *testing.T) {
	w := []plan.Workload{{"wc", taskRange(60)}}
	three := plan.Place(members("n1", "n2", "n3"), w)
	// A member leaves: its tasks must move; the survivors' tasks stay put
	// except for what rebalancing their share requires.
	two := plan.Place(members("n1", "n2"), w)
	lost := three.Counts()["n3"]
	if m := plan.Moves(three, two); m > 2*lost {
		t.Errorf("removing n3 (%d tasks) moved %d tasks", lost, m)
	}
	for s, node := range three {
		if node == "n3" && two[s] == "n3" {
			t.Fatalf("task %v still on the departed node", s)
		}
	}
	// A member joins: roughly its share moves to it, not a reshuffle.
	four := plan.Place(members("n1", "n2", "n3", "n4"), w)
	if m := plan.Moves(three, four); m > 2*four.Counts()["n4"] {
		t.Errorf("adding n4 (%d tasks) moved %d tasks", four.Counts()["n4"], m)
	}
}

func TestPlaceWithNoMembersPlacesNothing(t *testing.T) {
	if p := plan.Place(nil, []plan.Workload{{"a", taskRange(3)}}); len(p) != 0 {
		t.Fatalf("placed %v with no members", p)
	}
}

func TestMoves(t *testing.T) {
	a := plan.Placement{{"t", 1}: "n1", {"t", 2}: "n2", {"t", 3}: "n1"}
	b := plan.Placement{{"t", 1}: "n1", {"t", 2}: "n1", {"t", 4}: "n2"}
	// Task 2 moved, 3 stopped, 4 started.
	if got := plan.Moves(a, b); got != 3 {
		t.Errorf("Moves = %d, want 3", got)
	}
	if got := plan.Moves(a, a); got != 0 {
		t.Errorf("Moves of a placement with itself = %d", got)
	}
}

// TestPlaceGolden pins a placement: a change to the algorithm moves tasks
// of every running cluster at upgrade time, so it must be deliberate
// (regenerate with -update).
func TestPlaceGolden(t *testing.T) {
	p := plan.Place(members("node-a", "node-b", "node-c"), []plan.Workload{{"wordcount", taskRange(7)}, {"kafka-words", taskRange(5)}})
	var lines []string
	for s, n := range p {
		lines = append(lines, fmt.Sprintf("%s\t%d\t%s", s.Topology, s.Task, n))
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "placement.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("placement changed:\n%s\nwant:\n%s", got, want)
	}
}

// taskRange is tasks 1..n.
func taskRange(n int) []topology.TaskID {
	out := make([]topology.TaskID, n)
	for i := range out {
		out[i] = topology.TaskID(i + 1)
	}
	return out
}
