package topology

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Guarantee is a topology's processing guarantee, the value of
// squall.guarantee, fixed when the topology is submitted.
type Guarantee string

// GuaranteeKey is the configuration key of a topology's Guarantee (issue
// 12). Set it like any other key: `--set squall.guarantee=at-most-once`,
// Config{GuaranteeKey: AtMostOnce}, or under a Flux file's config:.
const GuaranteeKey = "squall.guarantee"

// The guarantees.
const (
	// AtLeastOnce is Storm's guarantee and the default: a tuple tree a spout
	// starts with a message id is tracked by XOR acking, and its spout's Fail
	// is called (and it may replay) when any tuple of it fails or it does not
	// complete within topology.message.timeout.secs.
	//
	// topology.acker.executors=0 is Storm's way of turning the tracking off
	// within this mode: every tuple a spout emits with a message id is acked
	// as soon as it is emitted, so the spout's Ack is called but nothing ever
	// replays.
	AtLeastOnce Guarantee = "at-least-once"
	// ExactlyOnce is checkpointed state and transactional sinks (issue 12):
	// barriers instead of per-tuple tracking (no tracker runs, message ids
	// are not acked: CheckpointComplete replaces Ack), a global rollback to
	// the last completed checkpoint on any failure. Build checks a topology
	// for it (CheckExactlyOnce). It runs in local mode (node run,
	// local.Run); a cluster refuses it with ErrExactlyOnceUnavailable until
	// barriers cross nodes.
	ExactlyOnce Guarantee = "exactly-once"
	// AtMostOnce tracks nothing: no tracker tasks run (it sets
	// topology.acker.executors to 0, over any value), message ids are ignored,
	// so a spout's Ack and Fail are never called — Storm's semantics for a
	// tuple emitted without a message id — and bolts' Ack and Fail only
	// count. Nothing is pending, so topology.max.spout.pending never holds a
	// spout back; within one process spouts pause on
	// topology.executor.receive.buffer.size as they do for any untracked
	// tuple. A tuple lost to a crash is not replayed. A spout that wants to
	// know (a Kafka spout committing offsets as it reads, like
	// storm-kafka-client's AT_MOST_ONCE) reads Runtime.Guarantee from its
	// Context's compiled topology.
	AtMostOnce Guarantee = "at-most-once"
)

// Guarantees are the values of squall.guarantee, the default first.
var Guarantees = []Guarantee{AtLeastOnce, ExactlyOnce, AtMostOnce}

// ErrExactlyOnceUnavailable is wrapped by the error a cluster returns for
// a topology configured with squall.guarantee=exactly-once: its checkpoint
// barriers do not cross nodes yet, and squall never runs such a topology at
// a weaker guarantee instead.
var ErrExactlyOnceUnavailable = errors.New("exactly-once runs in local mode (node run, local.Run) until checkpoint barriers cross nodes (issue 12)")

// The checkpoint settings of squall.guarantee=exactly-once.
const (
	// CheckpointIntervalMs is Storm's key: how often the coordinator
	// triggers a checkpoint (default 1000).
	CheckpointIntervalMs = "topology.state.checkpoint.interval.ms"
	// CheckpointTimeoutMs bounds one checkpoint from trigger to the last
	// ack (default 30000, Flink's ten minutes are too long for a stream
	// processor that restores in seconds).
	CheckpointTimeoutMs = "squall.checkpoint.timeout.ms"
	// CheckpointTolerableFailures is how many checkpoints in a row may fail
	// before the topology restores (default 0, Flink's).
	CheckpointTolerableFailures = "squall.checkpoint.tolerable.failures"
	// AlignmentMaxBytes bounds the tuples a task parks while it aligns a
	// barrier (default 64 MiB); past it the checkpoint is declined.
	AlignmentMaxBytes = "squall.checkpoint.alignment.max.bytes"
	// StateDir is the directory that keeps checkpoints in local mode
	// (empty, the default: the process's memory).
	StateDir = "squall.state.dir"
)

// Checkpoints are the checkpoint settings, read and checked once.
type Checkpoints struct {
	Interval          time.Duration
	Timeout           time.Duration
	TolerableFailures int
	AlignmentMaxBytes int64
	StateDir          string
}

func (c Config) checkpoints() (Checkpoints, error) {
	var errs []error
	ms := func(key string, def, floor int) time.Duration {
		n, err := c.Int(key, def)
		if err == nil && n < floor {
			err = fmt.Errorf("config %s: must be >= %d, got %d", key, floor, n)
		}
		if err != nil {
			errs = append(errs, err)
			return time.Duration(def) * time.Millisecond
		}
		return time.Duration(n) * time.Millisecond
	}
	cp := Checkpoints{
		Interval: ms(CheckpointIntervalMs, 1000, 10),
		Timeout:  ms(CheckpointTimeoutMs, 30000, 1),
	}
	var err error
	if cp.TolerableFailures, err = c.Int(CheckpointTolerableFailures, 0); err != nil || cp.TolerableFailures < 0 {
		errs = append(errs, cmpErr(err, fmt.Errorf("config %s: must be >= 0, got %d", CheckpointTolerableFailures, cp.TolerableFailures)))
	}
	n, err := c.Int(AlignmentMaxBytes, 64<<20)
	if err != nil || n < 1 {
		errs = append(errs, cmpErr(err, fmt.Errorf("config %s: must be >= 1, got %d", AlignmentMaxBytes, n)))
	}
	cp.AlignmentMaxBytes = int64(n)
	if v, ok := c[StateDir]; ok && v != nil {
		s, isString := v.(string)
		if !isString {
			errs = append(errs, fmt.Errorf("config %s: %v (%T) is not a directory name", StateDir, v, v))
		}
		cp.StateDir = s
	}
	return cp, joinErrors(errs)
}

// cmpErr is err if there is one, else fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

func (g Guarantee) String() string { return string(g) }

// ParseGuarantee reads a value of squall.guarantee. Case and the
// underscores of the design brief's spelling (at_least_once) are forgiven.
func ParseGuarantee(s string) (Guarantee, error) {
	g := Guarantee(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-"))
	if slices.Contains(Guarantees, g) {
		return g, nil
	}
	return "", fmt.Errorf("config %s: %q is not a guarantee: want %s (the default), %s or %s",
		GuaranteeKey, s, AtLeastOnce, ExactlyOnce, AtMostOnce)
}

// Guarantee returns squall.guarantee, AtLeastOnce when it is unset.
func (c Config) Guarantee() (Guarantee, error) {
	v, ok := c[GuaranteeKey]
	if !ok || v == nil {
		return AtLeastOnce, nil
	}
	switch x := v.(type) {
	case Guarantee:
		return ParseGuarantee(string(x))
	case string:
		return ParseGuarantee(x)
	}
	return "", fmt.Errorf("config %s: %v (%T) is not a guarantee: want %s (the default), %s or %s",
		GuaranteeKey, v, v, AtLeastOnce, ExactlyOnce, AtMostOnce)
}

// applyGuarantee makes conf, the merged configuration Build compiles with,
// say what the guarantee implies: the canonical squall.guarantee, and for
// at-most-once topology.acker.executors 0, whatever it was set to (Storm
// configurations often carry it: a Flux file's, sparse's), as rt.Trackers
// already is.
func applyGuarantee(conf Config, rt *Runtime) {
	g, err := conf.Guarantee()
	if err != nil {
		return // Runtime reported it
	}
	conf[GuaranteeKey] = string(g)
	if g == AtMostOnce || g == ExactlyOnce {
		conf[AckerExecutors] = 0
		rt.Trackers = 0
	}
}

// CheckpointedSpout is a spout whose position can be part of a checkpoint,
// which squall.guarantee=exactly-once requires of every spout: the Kafka
// spout's positions are its partitions' next offsets. The exactly-once
// runtime calls these on the spout task's goroutine, between NextTuple
// calls, and they must not block.
type CheckpointedSpout interface {
	// SnapshotPosition returns the spout's position at checkpoint id: what
	// it would emit next, having emitted everything before the barrier. The
	// bytes are the spout's own encoding and must outlive the process.
	SnapshotPosition(id uint64) ([]byte, error)
	// RestorePosition rewinds the spout to a position SnapshotPosition
	// returned (nil: no checkpoint completed yet, start from the beginning
	// of the input), before NextTuple is called again.
	RestorePosition(position []byte) error
	// CheckpointComplete says checkpoint id is durable: every tuple before
	// its barrier is done. It replaces Ack in exactly-once (a Kafka spout
	// may commit its group's offsets there, for monitoring).
	CheckpointComplete(id uint64)
}

// State is what a bolt declares about the state it keeps in checkpoints
// (package state's handles), by handle name.
type State struct {
	// Keyed are handles scoped to the key of the current tuple (state.Value,
	// state.Map, state.Timers): the key is the grouping key, so every input
	// of the bolt must come through a fields grouping.
	Keyed []string
	// Task are task-scoped handles (Storm's KeyValueState, used by a
	// state.StatefulBolt): any grouping, but the component cannot change
	// its parallelism.
	Task []string
}

// StateDeclarer is a bolt that keeps checkpointed state. The Builder asks
// one instance, as it asks an OutputDeclarer for its fields, and records
// the answer in Component.Capabilities.
type StateDeclarer interface {
	DeclareState() State
}

// TwoPhaseSink is a bolt whose side effects outside the topology commit
// with checkpoints (the transactional Kafka bolt): without it, a sink's
// writes are at-least-once even in exactly-once mode.
//
// The exactly-once runtime calls these on the task's goroutine, between
// Execute calls. Unlike Execute they may block, bounded by the sink's own
// timeouts: a pre-commit waits for the broker to confirm what was written
// (Flink's synchronous phase), and the checkpoint waits for it.
type TwoPhaseSink interface {
	// PreCommit runs at checkpoint id's barrier, after every tuple before
	// it was executed: flush the open transaction and pre-commit it. The
	// committable it returns is stored in checkpoint id (the sink's own
	// encoding: for Kafka, each pending transaction's id, producer id and
	// epoch) and handed back to Recover after a crash. It covers every
	// transaction still pending at id, including those of earlier
	// checkpoints that were aborted, since id's completion commits them
	// too. An error declines the checkpoint.
	PreCommit(id uint64) (committable []byte, err error)
	// Commit runs when checkpoint id completed: commit every pre-committed
	// transaction it covers, oldest first. It must be idempotent. An error
	// is reported and restores the topology (the commit is retried by
	// Recover).
	Commit(id uint64) error
	// Recover runs once after Prepare, before any tuple, on every start and
	// after every restore: id is the last completed checkpoint (0: none)
	// and committable what PreCommit returned for it (nil for 0). Commit
	// what it names if that did not happen (a crash between completion and
	// Commit), then fence and abort every other transaction the task may
	// have left open. An error stops the topology: a committed checkpoint
	// whose transaction the broker aborted is data lost.
	Recover(id uint64, committable []byte) error
}

// Capabilities are what a component's instance says it can do for the
// guarantees beyond at-least-once, as the Builder found them.
type Capabilities struct {
	// Checkpointed: a spout that is a CheckpointedSpout.
	Checkpointed bool
	// State is what a StateDeclarer bolt declared.
	State State
	// TwoPhase: a bolt that is a TwoPhaseSink.
	TwoPhase bool
}

// capabilitiesOf asks one instance of a component (a BasicBolt behind its
// Basic wrapper).
func capabilitiesOf(inst any) Capabilities {
	if bb, ok := inst.(*basicBolt); ok {
		inst = bb.inner
	}
	var c Capabilities
	_, c.Checkpointed = inst.(CheckpointedSpout)
	_, c.TwoPhase = inst.(TwoPhaseSink)
	if sd, ok := inst.(StateDeclarer); ok {
		c.State = sd.DeclareState()
	}
	return c
}

// Warning is something a topology may run with that weakens its guarantee.
type Warning struct {
	Component ComponentID
	Reason    string
}

func (w Warning) String() string { return fmt.Sprintf("%q: %s", w.Component, w.Reason) }

// CheckExactlyOnce says whether t could run with squall.guarantee=exactly-once,
// whatever t's own guarantee. The error (nil when it could) joins one
// problem per cause, each wrapping ErrInvalid and naming the component and
// the reason:
//
//   - a spout that is not a CheckpointedSpout (its position cannot be
//     snapshotted, so a restore cannot rewind it);
//   - a bolt with keyed state fed by anything but a fields grouping (its
//     state is scoped to the grouping's key);
//   - a cycle (a barrier never comes back around one, so the tasks on it
//     would wait for it forever).
//
// The warnings are what it would run with at a weaker guarantee: a sink (a
// bolt whose output no bolt consumes) that is not a TwoPhaseSink — its side
// effects are at-least-once. It is pure: t's components are only read.
func CheckExactlyOnce(t *Topology) (warnings []Warning, err error) {
	var errs []error
	for _, c := range t.Components { // sorted by ID
		switch c.Kind {
		case KindSpout:
			if !c.Capabilities.Checkpointed {
				errs = append(errs, invalid("spout %q cannot snapshot its position: exactly-once rewinds every spout to the last checkpoint, so it must implement topology.CheckpointedSpout", c.ID))
			}
		case KindBolt:
			errs = append(errs, checkKeyedInputs(c)...)
			if !c.Capabilities.TwoPhase && !hasConsumers(c) {
				warnings = append(warnings, Warning{Component: c.ID,
					Reason: "a sink that is not transactional (not a topology.TwoPhaseSink): its side effects outside the topology are at-least-once"})
			}
		}
	}
	for _, cycle := range cycles(t) {
		names := make([]string, len(cycle))
		for i, id := range cycle {
			names[i] = fmt.Sprintf("%q", id)
		}
		errs = append(errs, invalid("bolt %q is on a cycle (%s -> %q): exactly-once aligns a checkpoint's barrier on every input, and a barrier never comes back around a cycle",
			cycle[0], strings.Join(names, " -> "), cycle[0]))
	}
	return warnings, joinErrors(errs)
}

func checkKeyedInputs(c *Component) []error {
	keyed := c.Capabilities.State.Keyed
	if len(keyed) == 0 {
		return nil
	}
	var errs []error
	for _, in := range c.Inputs {
		switch in.Grouping.Kind {
		case KindFields:
		case KindPartialKey:
			errs = append(errs, invalid("bolt %q keeps keyed state %v, but takes stream %q of %q with a partial-key grouping, which splits a key over two tasks: use a fields grouping",
				c.ID, keyed, in.Stream, in.Source))
		default:
			errs = append(errs, invalid("bolt %q keeps keyed state %v, but takes stream %q of %q through %s grouping: keyed state is scoped to the grouping's key, so every input needs a fields grouping",
				c.ID, keyed, in.Stream, in.Source, in.Grouping.Kind))
		}
	}
	return errs
}

func hasConsumers(c *Component) bool {
	for _, subs := range c.Consumers {
		if len(subs) > 0 {
			return true
		}
	}
	return false
}

// cycles returns one cycle through each strongly connected part of t's
// graph (source -> consumer) that has one, each starting at its smallest
// component and listing the components in the order a tuple travels.
func cycles(t *Topology) [][]ComponentID {
	// Tarjan's strongly connected components, in a deterministic order.
	next := func(id ComponentID) []ComponentID {
		var out []ComponentID
		for _, subs := range t.Component(id).Consumers {
			for _, s := range subs {
				out = append(out, s.Consumer)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	index := map[ComponentID]int{}
	low := map[ComponentID]int{}
	onStack := map[ComponentID]bool{}
	var stack []ComponentID
	var parts [][]ComponentID
	var visit func(v ComponentID)
	visit = func(v ComponentID) {
		index[v], low[v] = len(index), len(index)
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range next(v) {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var part []ComponentID
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				part = append(part, w)
				if w == v {
					break
				}
			}
			parts = append(parts, part)
		}
	}
	for _, c := range t.Components {
		if _, seen := index[c.ID]; !seen {
			visit(c.ID)
		}
	}
	var out [][]ComponentID
	for _, part := range parts {
		slices.Sort(part)
		start := part[0]
		if len(part) == 1 && !slices.Contains(next(start), start) {
			continue // no cycle: a lone component that does not feed itself
		}
		out = append(out, pathBack(start, part, next))
	}
	slices.SortFunc(out, func(a, b []ComponentID) int { return strings.Compare(string(a[0]), string(b[0])) })
	return out
}

// pathBack is a shortest path from start back to itself within part (a
// strongly connected set holding start), without repeating start.
func pathBack(start ComponentID, part []ComponentID, next func(ComponentID) []ComponentID) []ComponentID {
	prev := map[ComponentID]ComponentID{}
	queue := []ComponentID{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range next(v) {
			if !slices.Contains(part, w) {
				continue
			}
			if w == start {
				path := []ComponentID{v}
				for path[0] != start {
					path = append([]ComponentID{prev[path[0]]}, path...)
				}
				return path
			}
			if _, seen := prev[w]; !seen && w != start {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []ComponentID{start} // unreachable for a strongly connected part
}

// checkGuarantee is Build's last step: a topology configured for exactly-once
// must pass CheckExactlyOnce. Its warnings are the runtime's to log.
func checkGuarantee(t *Topology) error {
	if t.Runtime.Guarantee != ExactlyOnce {
		return nil
	}
	if _, err := CheckExactlyOnce(t); err != nil {
		return fmt.Errorf("%w: %s=%s: the topology fails exactly-once validation: %w",
			ErrInvalid, GuaranteeKey, ExactlyOnce, err)
	}
	return nil
}
