package cluster

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func members(names ...string) []Member {
	out := make([]Member, len(names))
	for i, n := range names {
		out[i] = Member{Name: n}
	}
	return out
}

func loads(p Placement) map[string]int {
	m := map[string]int{}
	for _, n := range p {
		m[n]++
	}
	return m
}

func TestPlaceSpreadsEvenly(t *testing.T) {
	cases := []struct {
		members   []Member
		workloads []Workload
	}{
		{members("n1", "n2", "n3"), []Workload{{"wc", taskRange(7)}}},
		{members("n1", "n2", "n3"), []Workload{{"a", taskRange(10)}, {"b", taskRange(11)}}},
		{members("a", "b"), []Workload{{"x", taskRange(1)}}},
		{members("n1", "n2", "n3", "n4", "n5"), []Workload{{"big", taskRange(100)}}},
		{[]Member{{"small", 1}, {"large", 3}}, []Workload{{"t", taskRange(40)}}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			p := Place(c.members, c.workloads)
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
			l := loads(p)
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
	w := []Workload{{"a", taskRange(9)}, {"b", taskRange(5)}}
	p1 := Place(members("n1", "n2", "n3"), w)
	p2 := Place(members("n3", "n1", "n2", "n1"), []Workload{w[1], w[0]})
	if !maps.Equal(p1, p2) {
		t.Fatal("placement depends on input order or duplicates")
	}
}

func TestPlaceMovesFewTasksOnMembershipChange(t *testing.T) {
	w := []Workload{{"wc", taskRange(60)}}
	three := Place(members("n1", "n2", "n3"), w)
	// A member leaves: its tasks must move; the survivors' tasks stay put
	// except for what rebalancing their share requires.
	two := Place(members("n1", "n2"), w)
	lost := loads(three)["n3"]
	if m := Moves(three, two); m > 2*lost {
		t.Errorf("removing n3 (%d tasks) moved %d tasks", lost, m)
	}
	for s, node := range three {
		if node == "n3" && two[s] == "n3" {
			t.Fatalf("task %v still on the departed node", s)
		}
	}
	// A member joins: roughly its share moves to it, not a reshuffle.
	four := Place(members("n1", "n2", "n3", "n4"), w)
	if m := Moves(three, four); m > 2*loads(four)["n4"] {
		t.Errorf("adding n4 (%d tasks) moved %d tasks", loads(four)["n4"], m)
	}
}

func TestPlaceWithNoMembersPlacesNothing(t *testing.T) {
	if p := Place(nil, []Workload{{"a", taskRange(3)}}); len(p) != 0 {
		t.Fatalf("placed %v with no members", p)
	}
}

// TestPlaceGolden pins a placement: a change to the algorithm moves tasks
// of every running cluster at upgrade time, so it must be deliberate
// (regenerate with -update).
func TestPlaceGolden(t *testing.T) {
	p := Place(members("node-a", "node-b", "node-c"), []Workload{{"wordcount", taskRange(7)}, {"kafka-words", taskRange(5)}})
	var lines []string
	for s, n := range p {
		lines = append(lines, fmt.Sprintf("%s\t%d\t%s", s.Topology, s.Task, n))
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "placement.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("placement changed:\n%s\nwant:\n%s", got, want)
	}
}

// taskRange is tasks 1..n.
func taskRange(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i + 1)
	}
	return out
}
