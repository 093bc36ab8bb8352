package multilang

import (
	"context"
	"fmt"

	wire "github.com/squall-streams/squall/internal/multilang"
	"github.com/squall-streams/squall/topology"
)

// ShellSpout is a spout whose code runs in a subprocess that speaks Storm's
// multilang protocol. Storm's protocol is synchronous: a command ("next",
// "ack", "fail", "activate", "deactivate") and the subprocess's emits, logs
// and so on, ending with "sync". squall does not wait for the sync on the
// task's goroutine: NextTuple sends "next" while fewer than
// WithNextInFlight are outstanding and returns, and the emits arrive on the
// task's goroutine as the subprocess writes them, each emitted at once.
//
// A subprocess that dies, does not answer a command within its timeout, or
// breaks the protocol is killed with its process group and restarted after
// a backoff. The trees its predecessor started still complete, but their
// acks and fails are not forwarded to the new subprocess, which never saw
// those ids (Storm restarts the whole worker and loses them too).
type ShellSpout struct {
	shell
	out     topology.SpoutCollector
	emitter spoutTaskEmitter

	active bool
	// cmds are the commands sent and not yet synced, oldest first.
	cmds    queue[commandKind]
	nextOut int
	target  []topology.TaskID
	// next is the encoded "next" command, the same bytes every time.
	next []byte
}

type commandKind uint8

const (
	cmdNext commandKind = iota + 1
	cmdOther
)

// spoutMsgID is the message id squall's runtime sees: the subprocess's id
// and the incarnation that emitted it.
type spoutMsgID struct {
	gen uint64
	id  wire.ID
}

var (
	_ topology.Spout          = (*ShellSpout)(nil)
	_ topology.OutputDeclarer = (*ShellSpout)(nil)
)

// NewShellSpout returns a shell spout that runs command (see NewShellBolt).
func NewShellSpout(command []string, opts ...Option) *ShellSpout {
	s := &ShellSpout{}
	s.init(topology.KindSpout, command, opts)
	return s
}

// SpoutFactory returns a factory of shell spouts for Builder.SetSpout.
func SpoutFactory(command []string, opts ...Option) func() topology.Spout {
	return func() topology.Spout { return NewShellSpout(command, opts...) }
}

// DeclareOutputFields implements topology.OutputDeclarer.
func (s *ShellSpout) DeclareOutputFields(d topology.OutputFieldsDeclarer) { s.declare(d) }

// Open implements topology.Spout; it starts the subprocess.
func (s *ShellSpout) Open(_ context.Context, tc *topology.Context, c topology.SpoutCollector) error {
	if err := s.prepare(tc); err != nil {
		return err
	}
	next, err := wire.AppendFrame(nil, s.s.ser, wire.Next{})
	if err != nil {
		return err
	}
	s.next = next
	s.out = c
	s.emitter, _ = c.(spoutTaskEmitter)
	s.restarts, _ = c.(restartReporter)
	s.start()
	return nil
}

func (s *ShellSpout) start() {
	s.launch(procSpec{onInbox: s.drain, onDied: s.procDied}, s.out.ReportError, s.start)
	if s.proc != nil && s.active {
		s.send(wire.Activate{}, cmdOther)
	}
}

// send writes a command the subprocess will sync; nothing is encoded while
// there is no subprocess to take it.
func (s *ShellSpout) send(m wire.Message, kind commandKind) {
	if !s.canSend() {
		return
	}
	frame, err := wire.AppendFrame(nil, s.s.ser, m)
	if err != nil {
		s.out.ReportError(fmt.Errorf("multilang: spout %q: %w", s.tc.Component, err))
		return
	}
	s.sendFrame(frame, kind)
}

// canSend reports whether a subprocess runs to take commands.
func (s *ShellSpout) canSend() bool {
	return s.proc != nil && !s.proc.broken && !s.closed
}

// sendFrame writes an encoded command the subprocess will sync. The outbox
// only reads frames, so one frame may be sent many times.
func (s *ShellSpout) sendFrame(frame []byte, kind commandKind) {
	if !s.canSend() {
		return
	}
	p := s.proc
	p.beginCommand()
	s.cmds.push(kind)
	if kind == cmdNext {
		s.nextOut++
	}
	p.out.pushCommand(frame)
}

// NextTuple implements topology.Spout: it asks the subprocess for tuples,
// up to WithNextInFlight "next" commands outstanding.
func (s *ShellSpout) NextTuple() {
	for s.active && s.proc != nil && !s.proc.broken && s.nextOut < s.s.nextInFlight {
		s.sendFrame(s.next, cmdNext)
	}
}

// Ack implements topology.Spout.
func (s *ShellSpout) Ack(msgID any) {
	if id, ok := msgID.(spoutMsgID); ok && id.gen == s.gen {
		s.send(wire.Ack{ID: id.id}, cmdOther)
	}
}

// Fail implements topology.Spout.
func (s *ShellSpout) Fail(msgID any) {
	if id, ok := msgID.(spoutMsgID); ok && id.gen == s.gen {
		s.send(wire.Fail{ID: id.id}, cmdOther)
	}
}

// Activate implements topology.Spout.
func (s *ShellSpout) Activate() {
	s.active = true
	s.send(wire.Activate{}, cmdOther)
}

// Deactivate implements topology.Spout.
func (s *ShellSpout) Deactivate() {
	s.active = false
	s.send(wire.Deactivate{}, cmdOther)
}

func (s *ShellSpout) drain(p *proc) {
	msgs := p.takeInbox()
	if !s.current(p) {
		return
	}
	for _, m := range msgs {
		if err := s.handle(p, m); err != nil {
			s.protocolError(p, err)
			return
		}
	}
}

func (s *ShellSpout) handle(p *proc, m wire.Message) error {
	switch m := m.(type) {
	case wire.Sync:
		if s.cmds.len() == 0 {
			return fmt.Errorf("sync without a command to answer")
		}
		if s.cmds.pop() == cmdNext {
			s.nextOut--
		}
	case wire.Emit:
		return s.emit(p, &m)
	default:
		if !s.common(p, m, s.out.ReportError) {
			return fmt.Errorf("a spout subprocess may not send %s", messageName(m))
		}
	}
	return nil
}

func (s *ShellSpout) emit(p *proc, m *wire.Emit) error {
	stream, err := s.checkEmit(m)
	if err != nil {
		return err
	}
	var msgID any
	if !m.ID.IsZero() {
		msgID = spoutMsgID{gen: s.gen, id: m.ID}
	}
	values := topology.Values(m.Values)
	var reported bool
	err = guard(func() {
		switch {
		case m.Task != 0:
			s.out.EmitDirect(topology.TaskID(m.Task), stream, values, msgID)
		case m.NeedTaskIDs && s.emitter != nil:
			s.target = s.emitter.EmitStreamTasks(stream, values, msgID)
			reported = true
		default:
			s.out.EmitStream(stream, values, msgID)
		}
	})
	if err != nil {
		return err
	}
	s.replyTaskIDs(p, m, stream, s.target, reported)
	return nil
}

func (s *ShellSpout) procDied(p *proc) {
	if p != s.proc || s.closed {
		return
	}
	what, post := s.died(p)
	s.cmds = queue[commandKind]{}
	s.nextOut = 0
	delay := s.scheduleRestart(s.start)
	err := fmt.Errorf("multilang: spout %q task %d: %s; restarting in %v", s.tc.Component, s.tc.Task, what, delay)
	s.logger.Warn("shell subprocess died", "err", err, SourceKey, SourceExit)
	s.out.ReportError(fmt.Errorf("%w%s", err, post))
}

// Close implements topology.Spout: like ShellBolt.Cleanup.
func (s *ShellSpout) Close() error {
	s.close()
	return nil
}

// spoutTaskEmitter is the spout counterpart of boltTaskEmitter.
type spoutTaskEmitter interface {
	EmitStreamTasks(stream topology.StreamID, values topology.Values, msgID any) []topology.TaskID
}
