package plan_test

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/squall-streams/squall/cluster/plan"
	"github.com/squall-streams/squall/topology"
)

var update = flag.Bool("update", false, "rewrite the .golden files of TestScripts and TestPlaceGolden")

// TestScripts replays every testdata/*.txt against the planner and checks
// the transcript against the matching .golden file (regenerate with
// go test ./cluster/plan -run TestScripts -update). A script is a history
// of what every node sees; its commands:
//
//	member NAME [boot=ID] [capacity=N]   a node joins (or restarts with a new boot id:
//	                                     the new process runs nothing yet)
//	leave NAME                           a node leaves or dies
//	topology NAME [inactive] [trackers=N] COMP=HINT[/TASKS]...
//	                                     a topology is submitted; task ids are given
//	                                     as a build gives them: components in ID order,
//	                                     then the trackers
//	parallelism TOPO COMP=K...           a rebalance sets the spec's parallelism
//	routing TOPO [COMP=K...]             the spec's routing (none: route to all)
//	activate TOPO / deactivate TOPO
//	kill TOPO
//	plan                                 print the plan, and how many tasks moved
//	                                     since the previous one
//	steps NODE                           print what NODE does to run its share of
//	                                     the last plan, having applied the ones it
//	                                     was shown before
func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts in testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			got := runScript(t, file)
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (a deliberate change: -update):\n%s", file, golden, diff(string(want), got))
			}
		})
	}
}

// script is the state a script builds up.
type script struct {
	members map[string]plan.Member
	topos   map[string]*plan.Topology
	last    *plan.Plan
	applied map[string]map[string]plan.Running // node -> what it runs
}

func runScript(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &script{members: map[string]plan.Member{}, topos: map[string]*plan.Topology{}, applied: map[string]map[string]plan.Running{}}
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			fmt.Fprintln(&out, text)
			continue
		}
		fmt.Fprintf(&out, "> %s\n", text)
		if err := s.run(&out, strings.Fields(text)); err != nil {
			t.Fatalf("%s:%d: %s: %v", file, line, text, err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func (s *script) run(out *strings.Builder, args []string) error {
	cmd, args := args[0], args[1:]
	switch cmd {
	case "member":
		if len(args) < 1 {
			return fmt.Errorf("member NAME [boot=ID] [capacity=N]")
		}
		m := plan.Member{Name: args[0], BootID: args[0] + "-boot"}
		kv, err := pairs(args[1:])
		if err != nil {
			return err
		}
		for k, v := range kv {
			switch k {
			case "boot":
				m.BootID = v
			case "capacity":
				if m.Capacity, err = strconv.Atoi(v); err != nil {
					return err
				}
			default:
				return fmt.Errorf("unknown member option %q", k)
			}
		}
		if old, ok := s.members[m.Name]; ok && old.BootID != m.BootID {
			delete(s.applied, m.Name) // a new process runs nothing yet
		}
		s.members[m.Name] = m
	case "leave":
		if len(args) != 1 || s.members[args[0]].Name == "" {
			return fmt.Errorf("leave a known member")
		}
		delete(s.members, args[0])
		delete(s.applied, args[0])
	case "topology":
		return s.topology(args)
	case "parallelism", "routing":
		if len(args) < 1 || s.topos[args[0]] == nil {
			return fmt.Errorf("%s a known topology", cmd)
		}
		m, err := counts(args[1:])
		if err != nil {
			return err
		}
		if cmd == "parallelism" {
			s.topos[args[0]].Parallelism = m
		} else {
			s.topos[args[0]].Routing = m
		}
	case "activate", "deactivate", "kill":
		if len(args) != 1 || s.topos[args[0]] == nil {
			return fmt.Errorf("%s a known topology", cmd)
		}
		switch cmd {
		case "kill":
			delete(s.topos, args[0])
		default:
			s.topos[args[0]].Active = cmd == "activate"
		}
	case "plan":
		p := plan.Compute(s.memberList(), s.topologyList())
		printPlan(out, p)
		if s.last != nil {
			fmt.Fprintf(out, "moved %d\n", plan.Moves(s.last.Placement, p.Placement))
		}
		s.last = p
	case "steps":
		if len(args) != 1 || s.last == nil {
			return fmt.Errorf("steps NODE, after a plan")
		}
		node := args[0]
		running := s.applied[node]
		if running == nil {
			running = map[string]plan.Running{}
		}
		steps := s.last.Steps(node, running)
		if len(steps) == 0 {
			fmt.Fprintln(out, "nothing to do")
		}
		for _, st := range steps {
			if st.Op == plan.Stop {
				fmt.Fprintf(out, "%s %s\n", st.Op, st.Topology)
				delete(running, st.Topology)
				continue
			}
			r := st.Running
			fmt.Fprintf(out, "%s %s tasks %v epoch %016x wire %016x active %t\n", st.Op, st.Topology, r.Tasks, r.Epoch, r.Wire, r.Active)
			running[st.Topology] = r
		}
		s.applied[node] = running
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	return nil
}

// topology parses "NAME [inactive] [trackers=N] COMP=HINT[/TASKS]...".
func (s *script) topology(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("topology NAME [inactive] [trackers=N] COMP=HINT[/TASKS]...")
	}
	t := &plan.Topology{Name: args[0], Active: true}
	trackers := 0
	type comp struct {
		id          topology.ComponentID
		hint, tasks int
	}
	var comps []comp
	for _, a := range args[1:] {
		if a == "inactive" {
			t.Active = false
			continue
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("%q is not KEY=VALUE", a)
		}
		if k == "trackers" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return err
			}
			trackers = n
			continue
		}
		hint, tasks, hasTasks := strings.Cut(v, "/")
		h, err := strconv.Atoi(hint)
		if err != nil {
			return err
		}
		n := h
		if hasTasks {
			if n, err = strconv.Atoi(tasks); err != nil {
				return err
			}
		}
		comps = append(comps, comp{id: topology.ComponentID(k), hint: h, tasks: max(n, h)})
	}
	slices.SortFunc(comps, func(a, b comp) int { return cmp.Compare(a.id, b.id) })
	next := topology.TaskID(1)
	for _, c := range comps {
		pc := plan.Component{ID: c.id, Parallelism: c.hint}
		for range c.tasks {
			pc.Tasks = append(pc.Tasks, next)
			next++
		}
		t.Components = append(t.Components, pc)
	}
	for range trackers {
		t.Trackers = append(t.Trackers, next)
		next++
	}
	s.topos[t.Name] = t
	return nil
}

func (s *script) memberList() []plan.Member {
	var out []plan.Member
	for _, name := range slices.Sorted(maps.Keys(s.members)) {
		out = append(out, s.members[name])
	}
	return out
}

func (s *script) topologyList() []plan.Topology {
	var out []plan.Topology
	for _, name := range slices.Sorted(maps.Keys(s.topos)) {
		out = append(out, *s.topos[name])
	}
	return out
}

func printPlan(out *strings.Builder, p *plan.Plan) {
	fmt.Fprintf(out, "wire %016x\n", p.Wire())
	nodes := slices.Sorted(maps.Keys(p.Members))
	for _, name := range slices.Sorted(maps.Keys(p.Topologies)) {
		l := p.Topologies[name]
		fmt.Fprintf(out, "topology %s epoch %016x parallelism %s", name, l.Epoch, countString(l.Parallelism))
		if !maps.Equal(l.Routing, l.Parallelism) {
			fmt.Fprintf(out, " routing %s", countString(l.Routing))
		}
		if !l.Active {
			fmt.Fprint(out, " inactive")
		}
		fmt.Fprintln(out)
		for _, node := range nodes {
			if tasks := p.Tasks(name, node); len(tasks) > 0 {
				fmt.Fprintf(out, "  %s: %v\n", node, tasks)
			}
		}
	}
	loads := p.Placement.Counts()
	var ls []string
	for _, node := range nodes {
		ls = append(ls, fmt.Sprintf("%s=%d", node, loads[node]))
	}
	if len(ls) == 0 {
		ls = []string{"(no member)"}
	}
	fmt.Fprintf(out, "load %s\n", strings.Join(ls, " "))
}

func countString(m map[topology.ComponentID]int) string {
	var out []string
	for _, c := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s=%d", c, m[c]))
	}
	return strings.Join(out, ",")
}

func pairs(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not KEY=VALUE", a)
		}
		out[k] = v
	}
	return out, nil
}

func counts(args []string) (map[topology.ComponentID]int, error) {
	kv, err := pairs(args)
	if err != nil {
		return nil, err
	}
	out := map[topology.ComponentID]int{}
	for k, v := range kv {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, err
		}
		out[topology.ComponentID(k)] = n
	}
	return out, nil
}

// diff shows the first lines where want and got differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, wl, gl)
		}
	}
	return "(no difference)"
}
