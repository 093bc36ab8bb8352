package plan

import (
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/squall-streams/squall/topology"
)

// Member is a node as the planner sees it.
type Member struct {
	Name string
	// BootID names the node's incarnation: it is new for every process
	// start, so a restarted node gets new epochs.
	BootID string
	// Capacity weighs how many tasks the node takes relative to the others
	// (0 counts as 1).
	Capacity int
}

// Workload is one topology to place: the tasks that run (a rebalance that
// lowers a component's parallelism leaves gaps in the ids), in placement
// priority: earlier tasks choose their node first. Compute lists every
// component's first task, then every component's second, and so on, so a
// rebalance that starts or stops a component's last tasks disturbs the
// others' placement least.
type Workload struct {
	Topology string
	Tasks    []topology.TaskID
}

// Slot is one task of one topology.
type Slot struct {
	Topology string
	Task     topology.TaskID
}

// Placement maps every task to the node that runs it.
type Placement map[Slot]string

// Place assigns every task of every workload to a member. It is a pure
// function of its inputs (the order of members and workloads does not
// matter; the order of a workload's tasks is its priority), so every node
// that sees the same membership and topologies computes the same placement.
//
// Each task ranks the members by a hash of (topology, task, member) —
// rendezvous hashing — and goes to the first member in its ranking that is
// below its share of the tasks (capacity-weighted, rounded up). Rendezvous
// ranking moves few tasks when a member joins or leaves (only tasks that
// ranked it first move to it; only its own tasks move away), and the bound
// keeps the spread even: no member gets more than its rounded-up share.
func Place(members []Member, workloads []Workload) Placement {
	out := Placement{}
	if len(members) == 0 {
		return out
	}
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b Member) int { return cmp.Compare(a.Name, b.Name) })
	ms = slices.CompactFunc(ms, func(a, b Member) bool { return a.Name == b.Name })
	ws := slices.Clone(workloads)
	slices.SortFunc(ws, func(a, b Workload) int { return cmp.Compare(a.Topology, b.Topology) })

	total, capSum := 0, 0
	for _, w := range ws {
		total += len(w.Tasks)
	}
	for _, m := range ms {
		capSum += max(m.Capacity, 1)
	}
	limit := make([]int, len(ms))
	for i, m := range ms {
		c := max(m.Capacity, 1)
		limit[i] = (total*c + capSum - 1) / capSum // ceil(total * c / capSum)
	}
	load := make([]int, len(ms))
	order := make([]int, len(ms))
	score := make([]uint64, len(ms))
	for _, w := range ws {
		for _, task := range w.Tasks {
			for i, m := range ms {
				order[i] = i
				score[i] = weight(w.Topology, task, m.Name)
			}
			slices.SortFunc(order, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
			chosen := order[0]
			for _, i := range order {
				if load[i] < limit[i] {
					chosen = i
					break
				}
			}
			load[chosen]++
			out[Slot{Topology: w.Topology, Task: task}] = ms[chosen].Name
		}
	}
	return out
}

// weight is the rendezvous score of a task on a member.
func weight(topology string, task topology.TaskID, member string) uint64 {
	var d xxhash.Digest
	d.Reset()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(len(topology)))
	d.Write(b[:])
	d.WriteString(topology)
	binary.LittleEndian.PutUint32(b[:], uint32(task))
	d.Write(b[:])
	d.WriteString(member)
	return d.Sum64()
}

// Moves counts the slots whose node differs between two placements (slots
// present in only one count as moved).
func Moves(a, b Placement) int {
	n := 0
	for s, node := range a {
		if b[s] != node {
			n++
		}
	}
	for s := range b {
		if _, ok := a[s]; !ok {
			n++
		}
	}
	return n
}

// Of is the placement of one topology's tasks: task -> node.
func (p Placement) Of(topologyName string) map[topology.TaskID]string {
	out := map[topology.TaskID]string{}
	for s, node := range p {
		if s.Topology == topologyName {
			out[s.Task] = node
		}
	}
	return out
}

// Counts is the number of tasks on every node.
func (p Placement) Counts() map[string]int {
	out := map[string]int{}
	for _, node := range p {
		out[node]++
	}
	return out
}
