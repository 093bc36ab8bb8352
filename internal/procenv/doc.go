// Package procenv builds the environment of a component's subprocess: the
// node's environment minus every squall secret, plus the topology's
// `topology.environment` (issue 11 item 4: shell subprocesses inherited
// SQUALL_ADMIN_TOKEN and SQUALL_GOSSIP_KEY, so any pip dependency of a
// Python bolt held cluster admin).
//
// # Where it sits
//
// Where a shell spout or bolt task starts its subprocess (multilang/):
//
//	cmd.Env = procenv.For(os.Environ(), topologyEnvironment)
//
// It is a pure function of its inputs, so it is tested without a process.
package procenv
