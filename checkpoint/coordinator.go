package checkpoint

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/squall-streams/squall/topology"
)

// Reasons the Coordinator aborts a checkpoint or restores. Match with
// errors.Is on Abort.Reason and Restore.Reason.
var (
	// ErrCheckpointTimeout: not every task acked within Config.Timeout.
	ErrCheckpointTimeout = errors.New("checkpoint: timed out waiting for acks")
	// ErrTooManyFailures: more consecutive checkpoints failed than
	// Config.TolerableFailures allows.
	ErrTooManyFailures = errors.New("checkpoint: more consecutive failed checkpoints than tolerated")
	// ErrTaskFailed: a task failed or its node died.
	ErrTaskFailed = errors.New("checkpoint: a task failed")
	// ErrIndefinite marks a commit error whose outcome is unknown (a network
	// error or a timeout on the store's write): CommitFailed with it does not
	// abort, it asks the shell to Resolve by reading the store back.
	ErrIndefinite = errors.New("checkpoint: commit outcome unknown")
	// ErrUnknownTask: an ack or decline from a task the coordinator does not
	// wait for.
	ErrUnknownTask = errors.New("checkpoint: message from a task that takes no part in checkpoints")
	// ErrStarting: the first restore, when the topology starts (Start).
	ErrStarting = errors.New("checkpoint: the topology starts")
)

// Config is a topology's checkpoint configuration.
type Config struct {
	// Interval between triggers (topology.state.checkpoint.interval.ms).
	Interval time.Duration
	// Timeout bounds one checkpoint from trigger to the last ack; it must be
	// below the Kafka transaction timeout.
	Timeout time.Duration
	// MinPause is the least time from the end of one checkpoint to the
	// trigger of the next.
	MinPause time.Duration
	// TolerableFailures is how many checkpoints in a row may fail (decline or
	// time out) before the topology restores. A channel loss or a failed task
	// restores at once, whatever this says.
	TolerableFailures int
}

// DefaultConfig is Storm's interval with Flink's timeout and tolerance.
func DefaultConfig() Config {
	return Config{Interval: time.Second, Timeout: 30 * time.Second}
}

// LocalConfig has short timers for tests and local mode.
func LocalConfig() Config {
	return Config{Interval: 100 * time.Millisecond, Timeout: 2 * time.Second}
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("checkpoint interval %v is below the 10ms floor", c.Interval))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("checkpoint timeout must be > 0, got %v", c.Timeout))
	}
	if c.MinPause < 0 {
		errs = append(errs, fmt.Errorf("checkpoint min pause must be >= 0, got %v", c.MinPause))
	}
	if c.TolerableFailures < 0 {
		errs = append(errs, fmt.Errorf("tolerable checkpoint failures must be >= 0, got %d", c.TolerableFailures))
	}
	return errors.Join(errs...)
}

// A Command is what the Coordinator asks its shell to do: Trigger, Commit,
// Resolve, Complete, Abort or Restore.
type Command interface{ command() }

// Trigger: send TriggerCheckpoint{ID, Epoch} to every spout task.
type Trigger struct {
	ID    ID
	Epoch Epoch
}

// Commit: every task acked ID. Write the completed record (the acks, i.e.
// source positions, state handles, committables) to the checkpoint store
// durably, then report Committed or CommitFailed. This write is the commit
// point of the whole checkpoint.
type Commit[A any] struct {
	ID    ID
	Epoch Epoch
	Acks  map[topology.TaskID]A
}

// Resolve: the commit of ID ended with an indefinite error. Read the store
// back and report Committed if the record is there, CommitFailed if not.
type Resolve struct{ ID ID }

// Complete: checkpoint ID is durable. Tell every task
// (CheckpointComplete): two-phase sinks commit their transactions.
type Complete struct{ ID ID }

// Abort: checkpoint ID will not complete. Tell every task, so that
// aligners release what they parked and sinks keep the transaction pending
// (a later completion subsumes it).
type Abort struct {
	ID     ID
	Reason error
}

// Restore: roll every task back to checkpoint From (0: the beginning) in
// restore epoch Epoch: recommit From's transactions, fence the others,
// restore state, rewind spouts. Report Restored(Epoch) when every task has.
type Restore struct {
	Epoch  Epoch
	From   ID
	Reason error
}

func (Trigger) command()   {}
func (Commit[A]) command() {}
func (Resolve) command()   {}
func (Complete) command()  {}
func (Abort) command()     {}
func (Restore) command()   {}

// Phase is where the Coordinator is.
type Phase int

// The phases.
const (
	Idle       Phase = iota // waiting to trigger
	Pending                 // triggered, collecting acks
	Committing              // Commit issued, waiting for its outcome
	Resolving               // Resolve issued after an indefinite commit error
	Restoring               // Restore issued, waiting for Restored
)

func (p Phase) String() string {
	return [...]string{"idle", "pending", "committing", "resolving", "restoring"}[p]
}

// Status is a snapshot of the Coordinator for the UI, REST and metrics.
type Status struct {
	Phase         Phase
	Epoch         Epoch
	InFlight      ID // the checkpoint pending, committing or resolving
	LastCompleted ID
	LastTriggered ID
	Failures      int // consecutive failed checkpoints
	Waiting       []topology.TaskID
}

// Resume is where a coordinator starts: from nothing, or from what the
// checkpoint store says after a failover.
type Resume struct {
	LastCompleted ID
	LastTriggered ID // the highest id ever triggered: ids continue above it
	Epoch         Epoch
}

// Coordinator is the checkpoint coordinator's state machine: one checkpoint
// in flight at a time, triggered every interval, complete when every task
// acked it and the completed record is durable, aborted on a decline or a
// timeout, and a global restore when failures pass the tolerance, a channel
// loses elements or a task fails. It does no I/O and reads no clock: every
// event carries the time, and every call returns the Commands to execute,
// in order. A is the shell's ack payload. Not safe for concurrent use.
type Coordinator[A any] struct {
	cfg   Config
	tasks map[topology.TaskID]bool

	phase         Phase
	epoch         Epoch
	lastCompleted ID
	lastTriggered ID
	failures      int

	inFlight  ID
	started   time.Time
	acks      map[topology.TaskID]A
	nextAt    time.Time // earliest next trigger
	restoreBy error     // a restore deferred until the commit in flight resolves
}

// NewCoordinator makes the coordinator of a topology whose checkpointing
// tasks (every spout and bolt task that runs) are tasks. The first trigger
// is due one interval after now.
func NewCoordinator[A any](cfg Config, tasks []topology.TaskID, from Resume, now time.Time) (*Coordinator[A], error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint coordinator: %w", err)
	}
	if len(tasks) == 0 {
		return nil, errors.New("checkpoint coordinator: no tasks")
	}
	set := make(map[topology.TaskID]bool, len(tasks))
	for _, t := range tasks {
		set[t] = true
	}
	if from.LastTriggered < from.LastCompleted {
		from.LastTriggered = from.LastCompleted
	}
	return &Coordinator[A]{
		cfg: cfg, tasks: set, epoch: from.Epoch,
		lastCompleted: from.LastCompleted, lastTriggered: from.LastTriggered,
		nextAt: now.Add(cfg.Interval),
	}, nil
}

// Status reports where the coordinator is.
func (c *Coordinator[A]) Status() Status {
	s := Status{Phase: c.phase, Epoch: c.epoch, InFlight: c.inFlight, LastCompleted: c.lastCompleted, LastTriggered: c.lastTriggered, Failures: c.failures}
	if c.phase == Pending {
		for t := range c.tasks {
			if _, ok := c.acks[t]; !ok {
				s.Waiting = append(s.Waiting, t)
			}
		}
		slices.Sort(s.Waiting)
	}
	return s
}

// Tick advances time: it triggers the next checkpoint when one is due and
// times out the one pending.
func (c *Coordinator[A]) Tick(now time.Time) []Command {
	switch c.phase {
	case Idle:
		if now.Before(c.nextAt) {
			return nil
		}
		c.lastTriggered++
		c.phase, c.inFlight, c.started = Pending, c.lastTriggered, now
		c.acks = make(map[topology.TaskID]A, len(c.tasks))
		c.nextAt = now.Add(c.cfg.Interval)
		return []Command{Trigger{ID: c.inFlight, Epoch: c.epoch}}
	case Pending:
		if now.Sub(c.started) >= c.cfg.Timeout {
			return c.fail(now, fmt.Errorf("%w: checkpoint %d after %v, waiting for tasks %v", ErrCheckpointTimeout, c.inFlight, c.cfg.Timeout, c.Status().Waiting))
		}
	}
	return nil
}

// Ack records that task snapshotted checkpoint id, with its payload. Acks
// of a checkpoint not pending (an aborted one, an older epoch's) and
// repeated acks are ignored.
func (c *Coordinator[A]) Ack(now time.Time, task topology.TaskID, id ID, ack A) ([]Command, error) {
	if !c.tasks[task] {
		return nil, fmt.Errorf("%w: ack of checkpoint %d from task %d", ErrUnknownTask, id, task)
	}
	if c.phase != Pending || id != c.inFlight {
		return nil, nil
	}
	if _, dup := c.acks[task]; dup {
		return nil, nil
	}
	c.acks[task] = ack
	if len(c.acks) < len(c.tasks) {
		return nil, nil
	}
	c.phase = Committing
	return []Command{Commit[A]{ID: id, Epoch: c.epoch, Acks: maps.Clone(c.acks)}}, nil
}

// Decline records that task cannot snapshot checkpoint id, for reason.
// Other reasons abort the checkpoint and count toward the tolerable
// failures; declines of a checkpoint not pending are ignored. A channel
// break (ErrChannelLoss, ErrChannelDuplicate, ErrFutureEpoch) restores
// whatever the id and the phase, like TaskFailed: a hole in a channel must
// never wait for a checkpoint to time out. A ChannelError of an older
// restore epoch is ignored: that restore replaced the channel.
func (c *Coordinator[A]) Decline(now time.Time, task topology.TaskID, id ID, reason error) ([]Command, error) {
	if !c.tasks[task] {
		return nil, fmt.Errorf("%w: decline of checkpoint %d from task %d", ErrUnknownTask, id, task)
	}
	err := fmt.Errorf("task %d declined checkpoint %d: %w", task, id, reason)
	if isChannelBreak(reason) {
		if ce := (*ChannelError)(nil); errors.As(reason, &ce) && ce.Epoch < c.epoch {
			return nil, nil // a channel of an epoch a restore has already replaced
		}
		return c.restoreNow(now, err), nil
	}
	if c.phase != Pending || id != c.inFlight {
		return nil, nil
	}
	return c.fail(now, err), nil
}

// Committed reports that the completed record of id is durable.
func (c *Coordinator[A]) Committed(now time.Time, id ID) []Command {
	if (c.phase != Committing && c.phase != Resolving) || id != c.inFlight {
		return nil
	}
	c.lastCompleted, c.failures = id, 0
	c.endInFlight(now)
	cmds := []Command{Complete{ID: id}}
	if c.restoreBy != nil {
		cmds = append(cmds, c.restore(c.restoreBy))
	}
	return cmds
}

// CommitFailed reports that writing the completed record of id failed. An
// error wrapping ErrIndefinite asks for a Resolve; any other is definite:
// the checkpoint is aborted.
func (c *Coordinator[A]) CommitFailed(now time.Time, id ID, err error) []Command {
	if (c.phase != Committing && c.phase != Resolving) || id != c.inFlight {
		return nil
	}
	if errors.Is(err, ErrIndefinite) {
		c.phase = Resolving
		return []Command{Resolve{ID: id}}
	}
	reason := fmt.Errorf("checkpoint %d: writing the completed record: %w", id, err)
	if c.restoreBy != nil {
		c.endInFlight(now)
		return []Command{Abort{ID: id, Reason: reason}, c.restore(c.restoreBy)}
	}
	return c.fail(now, reason)
}

// TaskFailed reports that task failed or its node died: everything restores
// to the last completed checkpoint. If a commit is in flight, the restore
// waits for its outcome, since that decides which checkpoint is the last.
// A failure during a restore starts a new one in a new epoch (the old
// epoch's Restored is then ignored), since the failed task cannot finish.
func (c *Coordinator[A]) TaskFailed(now time.Time, task topology.TaskID, reason error) []Command {
	return c.restoreNow(now, fmt.Errorf("%w: task %d: %w", ErrTaskFailed, task, reason))
}

// Start is the topology's first restore, once every task has started:
// they all restore the checkpoint the coordinator resumed from (0: the
// beginning) in a new epoch, then report Restored, and checkpoints begin
// one interval later. A task that starts again later is TaskFailed.
func (c *Coordinator[A]) Start(now time.Time) []Command {
	return c.restoreNow(now, ErrStarting)
}

// restoreNow restores for err: at once, or when the commit in flight has
// resolved.
func (c *Coordinator[A]) restoreNow(now time.Time, err error) []Command {
	switch c.phase {
	case Committing, Resolving:
		if c.restoreBy == nil {
			c.restoreBy = err
		}
		return nil
	case Pending:
		id := c.inFlight
		c.endInFlight(now)
		return []Command{Abort{ID: id, Reason: err}, c.restore(err)}
	default:
		return []Command{c.restore(err)}
	}
}

// Restored reports that every task finished restoring in epoch: checkpoints
// start again one interval later. Reports of another epoch are ignored.
func (c *Coordinator[A]) Restored(now time.Time, epoch Epoch) []Command {
	if c.phase != Restoring || epoch != c.epoch {
		return nil
	}
	c.phase = Idle
	c.nextAt = now.Add(c.cfg.Interval)
	return nil
}

// fail aborts the checkpoint in flight for reason and restores if that was
// one failure too many.
func (c *Coordinator[A]) fail(now time.Time, reason error) []Command {
	id := c.inFlight
	c.endInFlight(now)
	c.failures++
	cmds := []Command{Abort{ID: id, Reason: reason}}
	if c.failures > c.cfg.TolerableFailures {
		cmds = append(cmds, c.restore(fmt.Errorf("%w (%d in a row, %d tolerated); last: %w", ErrTooManyFailures, c.failures, c.cfg.TolerableFailures, reason)))
	}
	return cmds
}

func (c *Coordinator[A]) endInFlight(now time.Time) {
	c.phase, c.inFlight, c.acks = Idle, 0, nil
	c.nextAt = latest(c.nextAt, now.Add(c.cfg.MinPause))
}

func (c *Coordinator[A]) restore(reason error) Restore {
	c.epoch++
	c.phase, c.inFlight, c.acks, c.restoreBy, c.failures = Restoring, 0, nil, nil, 0
	return Restore{Epoch: c.epoch, From: c.lastCompleted, Reason: reason}
}

func isChannelBreak(err error) bool {
	return errors.Is(err, ErrChannelLoss) || errors.Is(err, ErrChannelDuplicate) || errors.Is(err, ErrFutureEpoch)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
