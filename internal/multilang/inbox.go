package multilang

import "fmt"

// DefaultMaxPending bounds the messages an Inbox queues on either side.
const DefaultMaxPending = 1 << 16

// Inbox sorts what a subprocess reads from squall into two queues, as
// pystorm and storm.py do with pending_commands and pending_task_ids: a
// bolt that waits for the TaskIDs of its emit may first read tuples and
// heartbeats (ShellBolt gives task ids priority over pending tuples, but a
// tuple already written comes first), and a caller waiting for a command may
// read task-id lists. squall's shell tasks never need one; fake subprocesses
// in tests do.
//
// An Inbox is not safe for concurrent use.
type Inbox struct {
	dec        *Decoder
	maxPending int
	commands   []Message
	taskIDs    []TaskIDs
}

// NewInbox returns an Inbox that reads through dec, which should decode
// FromSquall.
func NewInbox(dec *Decoder) *Inbox {
	return &Inbox{dec: dec, maxPending: DefaultMaxPending}
}

// ReadCommand returns the next message that is not a TaskIDs, queueing the
// task-id lists it reads on the way.
func (in *Inbox) ReadCommand() (Message, error) {
	if len(in.commands) > 0 {
		m := in.commands[0]
		in.commands[0] = nil
		in.commands = in.commands[1:]
		return m, nil
	}
	for {
		m, err := in.dec.Decode()
		if err != nil {
			return nil, err
		}
		ids, ok := m.(TaskIDs)
		if !ok {
			return m, nil
		}
		if len(in.taskIDs) >= in.maxPending {
			return nil, fmt.Errorf("multilang: %w: %d task-id lists queued while waiting for a command", ErrTooLarge, len(in.taskIDs))
		}
		in.taskIDs = append(in.taskIDs, ids)
	}
}

// ReadTaskIDs returns the next TaskIDs, queueing the other messages it
// reads on the way.
func (in *Inbox) ReadTaskIDs() (TaskIDs, error) {
	if len(in.taskIDs) > 0 {
		ids := in.taskIDs[0]
		in.taskIDs[0] = nil
		in.taskIDs = in.taskIDs[1:]
		return ids, nil
	}
	for {
		m, err := in.dec.Decode()
		if err != nil {
			return nil, err
		}
		if ids, ok := m.(TaskIDs); ok {
			return ids, nil
		}
		if len(in.commands) >= in.maxPending {
			return nil, fmt.Errorf("multilang: %w: %d commands queued while waiting for task ids", ErrTooLarge, len(in.commands))
		}
		in.commands = append(in.commands, m)
	}
}

// Pending returns how many commands and task-id lists are queued.
func (in *Inbox) Pending() (commands, taskIDs int) {
	return len(in.commands), len(in.taskIDs)
}
