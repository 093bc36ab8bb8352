package api

import "slices"

// A component that keeps crashing — a Python bolt whose subprocess dies
// on every tuple — leaves its topology ACTIVE: the topology's status is
// Storm's (ACTIVE, INACTIVE, KILLED), which streamparse, the Nimbus API
// and the web UI's buttons branch on, and its spouts still emit. What says
// it is failing is beside the status, where Storm UI users look for
// errors: "failing" on the component's row and its executors' rows
// (beside lastError), and "failingComponents" in the topology's summary
// and page, naming the components with a failing task (TaskInfo.Failing).

// failingComponents names the components of tasks with a failing task,
// sorted; never nil, so the JSON is a list.
func failingComponents(tasks []TaskInfo) []string {
	out := []string{}
	for _, t := range tasks {
		if t.Failing && !slices.Contains(out, t.Component) {
			out = append(out, t.Component)
		}
	}
	slices.Sort(out)
	return out
}

// failingOf is failingComponents of the topology called name's tasks on
// every node of local.
func failingOf(name string, local map[string][]LocalTopology) []string {
	var tasks []TaskInfo
	for _, lts := range local {
		for _, lt := range lts {
			if lt.Name == name {
				tasks = append(tasks, lt.TaskStats...)
			}
		}
	}
	return failingComponents(tasks)
}
