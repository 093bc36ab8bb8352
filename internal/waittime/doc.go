// Package waittime parses and bounds the wait of Storm's kill and
// rebalance actions: the {wait} of POST /api/v1/topology/{id}/kill/{wait}
// and …/rebalance/{wait} (whole seconds) and the client's --wait (issue 11
// item 6: a kill wait of 9223372036854775807 overflowed time.Duration and
// came back as an instant "success").
//
// # Where it sits
//
// Outside the spout -> router -> bolt -> tracker -> spout flow, at the
// HTTP API's edge (cluster's Storm routes) and in the client commands
// (cmd/node): the wait it returns is how long the node lets trees in
// flight finish before it kills a topology, or every node applies a new
// placement.
package waittime
