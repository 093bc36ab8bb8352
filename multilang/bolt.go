package multilang

import (
	"context"
	"fmt"
	"strconv"

	wire "github.com/squall-streams/squall/internal/multilang"
	"github.com/squall-streams/squall/topology"
)

// ShellBolt is a bolt whose code runs in a subprocess that speaks Storm's
// multilang protocol (pystorm, streamparse, storm.py, ...). Each task runs
// one subprocess; Execute hands the tuple to it and returns at once, and
// the subprocess's emits, acks and fails come back on the task's goroutine.
//
// A subprocess that exits, stays silent past its heartbeat timeout, writes
// output that is malformed, oversized or breaks the protocol (an ack of an
// id it was never given, an emit on an undeclared stream) is killed with its
// process group; every tuple it held fails at once, so the spouts replay
// them, and a new subprocess starts after a backoff. The task itself never
// stops, and tuples that arrive meanwhile wait in the bolt. The tuple the
// subprocess was working on when it died is remembered (by source, stream
// and values); once it has killed DefaultDeadLetterAfter subprocesses it is
// emitted on DeadLetterStream and acked instead of delivered again.
//
// In squall.guarantee=exactly-once the runtime holds every tuple the bolt
// was given until the subprocess acks it, so a checkpoint barrier passes
// the task only once the subprocess acked everything before it. A death
// of the subprocess fails what it held, which restores the topology: the
// new instance of the bolt starts a new subprocess. The bolts one
// BoltFactory makes remember, per task, the tuples that killed
// subprocesses across those instances, so a poison tuple reaches the
// dead-letter stream there too instead of restoring the topology for ever.
type ShellBolt struct {
	shell
	out topology.OutputCollector

	nextID  uint64
	pending map[uint64]*held
	backlog queue[topology.Tuple]
	poison  *poisonTracker
	memory  *poisonMemory // BoltFactory's: poison outlives the instance
	// suspect is the tuple the subprocess failed right after reporting an
	// error: pystorm's way of dying on a tuple (error, fail, exit).
	suspect    *held
	errorSeen  bool
	anchors    []topology.Tuple
	emitter    boltTaskEmitter
	emitTarget []topology.TaskID
}

// held is a tuple given to the subprocess and not yet acked or failed.
type held struct {
	t    topology.Tuple
	tick bool
	key  uint64 // poison key, when computed
}

var (
	_ topology.Bolt           = (*ShellBolt)(nil)
	_ topology.OutputDeclarer = (*ShellBolt)(nil)
)

// NewShellBolt returns a shell bolt that runs command: argv, as
// [execution_command, script] (streamparse: ["streamparse_run",
// "-s msgpack pkg.Bolt"]) or Flux's list of any length (["python3",
// "split.py"]). It is started in the topology's resources directory.
func NewShellBolt(command []string, opts ...Option) *ShellBolt {
	b := &ShellBolt{}
	b.init(topology.KindBolt, command, opts)
	return b
}

// BoltFactory returns a factory of shell bolts for Builder.SetBolt. The
// bolts it makes share, per task, the memory of the tuples that killed
// their subprocesses (see ShellBolt), so use one factory per component.
func BoltFactory(command []string, opts ...Option) func() topology.Bolt {
	memory := &poisonMemory{}
	return func() topology.Bolt {
		b := NewShellBolt(command, opts...)
		b.memory = memory
		return b
	}
}

// DeclareOutputFields implements topology.OutputDeclarer: the streams given
// as options and the dead-letter stream.
func (b *ShellBolt) DeclareOutputFields(d topology.OutputFieldsDeclarer) { b.declare(d) }

// Prepare implements topology.Bolt. It starts the subprocess and returns
// without waiting for its handshake.
func (b *ShellBolt) Prepare(_ context.Context, tc *topology.Context, c topology.OutputCollector) error {
	if err := b.prepare(tc); err != nil {
		return err
	}
	b.out = c
	b.emitter, _ = c.(boltTaskEmitter)
	b.restarts, _ = c.(restartReporter)
	b.pending = map[uint64]*held{}
	b.poison = b.memory.take(tc.Task, b.opts.dlqAfter)
	b.start()
	return nil
}

func (b *ShellBolt) start() {
	b.launch(procSpec{onInbox: b.drain, onDied: b.procDied, onRoom: b.room}, b.out.ReportError, b.start)
	b.pump()
}

// Execute implements topology.Bolt.
func (b *ShellBolt) Execute(t topology.Tuple) {
	if topology.IsTick(t) {
		if p := b.proc; p != nil && !p.broken {
			b.send(p, t, true, 0)
		} else {
			b.out.Ack(t)
		}
		return
	}
	key, dead := b.poisoned(t)
	if dead {
		return
	}
	if p := b.proc; p != nil && !p.broken && b.backlog.len() == 0 && p.out.hasRoom() {
		b.send(p, t, false, key)
		return
	}
	b.backlog.push(t)
}

// poisoned looks t up in the poison tracker. key is t's poison key, 0
// while the tracker is empty; dead reports that t has killed enough
// subprocesses and was sent to the dead-letter stream instead.
func (b *ShellBolt) poisoned(t topology.Tuple) (key uint64, dead bool) {
	if !b.poison.active() {
		return 0, false
	}
	key = b.poison.key(t)
	if e := b.poison.lookup(key); e != nil && e.count >= b.opts.dlqAfter {
		b.deadLetter(t, e.reason)
		return key, true
	}
	return key, false
}

// send gives t to the subprocess; key is its poison key from poisoned.
func (b *ShellBolt) send(p *proc, t topology.Tuple, tick bool, key uint64) {
	b.nextID++
	id := b.nextID
	h := &held{t: t, tick: tick, key: key}
	m := wire.Tuple{
		ID:     wire.StringID(strconv.FormatUint(id, 10)),
		Comp:   string(t.SourceComponent()),
		Stream: string(t.Stream()),
		Task:   int(t.SourceTask()),
		Values: t.Values(),
	}
	frame, err := wire.AppendFrame(nil, b.s.ser, m)
	if err != nil {
		// Its values have no JSON/msgpack form: no subprocess can take it.
		b.deadLetter(t, err.Error())
		return
	}
	b.pending[id] = h
	// Ticks queue behind the tuples already queued, as in Storm; they do
	// not wait for room.
	p.out.push(frame)
}

// pump moves backlog tuples to the subprocess while there is room.
func (b *ShellBolt) pump() {
	p := b.proc
	if p == nil || p.broken || b.closed {
		return
	}
	for b.backlog.len() > 0 && p.out.hasRoom() {
		// It may have become poison while it waited.
		t := b.backlog.pop()
		if key, dead := b.poisoned(t); !dead {
			b.send(p, t, false, key)
		}
	}
}

func (b *ShellBolt) room(p *proc) {
	if b.current(p) {
		b.pump()
	}
}

// drain handles what the subprocess wrote.
func (b *ShellBolt) drain(p *proc) {
	msgs := p.takeInbox()
	if !b.current(p) {
		return
	}
	for _, m := range msgs {
		if err := b.handle(p, m); err != nil {
			b.protocolError(p, err)
			return
		}
	}
	b.pump()
}

func (b *ShellBolt) handle(p *proc, m wire.Message) error {
	switch m := m.(type) {
	case wire.Emit:
		return b.emit(p, &m)
	case wire.Ack:
		h, err := b.take(m.ID, "acked")
		if err != nil {
			return err
		}
		if h.key != 0 {
			b.poison.forget(h.key)
		}
		b.suspect, b.errorSeen = nil, false
		b.out.Ack(h.t)
	case wire.Fail:
		h, err := b.take(m.ID, "failed")
		if err != nil {
			return err
		}
		if b.errorSeen && !h.tick {
			b.suspect = h
		}
		b.errorSeen = false
		b.out.Fail(h.t)
	case wire.ReportError:
		b.errorSeen = true
		b.common(p, m, b.out.ReportError)
	case wire.Sync:
		// A heartbeat answered; the reader noted it.
	default:
		if !b.common(p, m, b.out.ReportError) {
			return fmt.Errorf("a bolt subprocess may not send %s", messageName(m))
		}
	}
	return nil
}

// lookup finds the pending tuple the subprocess names by id (the decimal
// id send gave it); h is nil when there is none.
func (b *ShellBolt) lookup(id wire.ID) (n uint64, h *held) {
	n, err := strconv.ParseUint(id.String(), 10, 64)
	if err != nil {
		return 0, nil
	}
	return n, b.pending[n]
}

// take removes the pending tuple with id.
func (b *ShellBolt) take(id wire.ID, what string) (*held, error) {
	n, h := b.lookup(id)
	if h == nil {
		return nil, fmt.Errorf("%s a non-existent or already acked/failed tuple id %#v", what, id)
	}
	delete(b.pending, n)
	return h, nil
}

func (b *ShellBolt) emit(p *proc, m *wire.Emit) error {
	b.anchors = b.anchors[:0]
	for _, a := range m.Anchors {
		_, h := b.lookup(a)
		if h == nil {
			return fmt.Errorf("anchored onto tuple id %#v, which is unknown or already acked/failed", a)
		}
		b.anchors = append(b.anchors, h.t)
	}
	stream, err := b.checkEmit(m)
	if err != nil {
		b.blameAnchors(m)
		return err
	}
	values := topology.Values(m.Values)
	var reported bool
	err = guard(func() {
		switch {
		case m.Task != 0:
			b.out.EmitDirect(topology.TaskID(m.Task), stream, values, b.anchors...)
		case m.NeedTaskIDs && b.emitter != nil:
			b.emitTarget = b.emitter.EmitStreamTasks(stream, values, b.anchors...)
			reported = true
		default:
			b.out.EmitStream(stream, values, b.anchors...)
		}
	})
	clear(b.anchors)
	if err != nil {
		b.blameAnchors(m)
		return err
	}
	b.replyTaskIDs(p, m, stream, b.emitTarget, reported)
	return nil
}

// blameAnchors makes the input an invalid emit was anchored to the suspect.
func (b *ShellBolt) blameAnchors(m *wire.Emit) {
	if len(m.Anchors) == 1 {
		if _, h := b.lookup(m.Anchors[0]); h != nil {
			b.suspect = h
		}
	}
}

// procDied fails what the dead subprocess held and schedules its successor.
func (b *ShellBolt) procDied(p *proc) {
	if p != b.proc || b.closed {
		return
	}
	what, post := b.died(p)
	culprit := b.suspect
	if culprit == nil {
		culprit = b.oldest()
	}
	poisoned := ""
	if culprit != nil && b.poison.enabled() {
		e := b.poison.record(culprit.t, what)
		poisoned = fmt.Sprintf("; tuple %s has now killed %d subprocess(es)", topology.Describe(culprit.t), e.count)
		if e.count >= b.opts.dlqAfter {
			poisoned += fmt.Sprintf(", so its next delivery goes to stream %q", b.opts.dlq)
		}
	}
	failed := 0
	for id, h := range b.pending {
		delete(b.pending, id)
		if !h.tick {
			failed++
		}
		b.out.Fail(h.t)
	}
	b.suspect, b.errorSeen = nil, false
	delay := b.scheduleRestart(b.start)
	err := fmt.Errorf("multilang: bolt %q task %d: %s; failed its %d pending tuples%s; restarting in %v",
		b.tc.Component, b.tc.Task, what, failed, poisoned, delay)
	b.logger.Warn("shell subprocess died", "err", err, SourceKey, SourceExit)
	b.out.ReportError(fmt.Errorf("%w%s", err, post))
}

// oldest is the earliest tuple given to the subprocess and not answered:
// the one a subprocess that handles tuples in order was working on.
func (b *ShellBolt) oldest() *held {
	var best *held
	var bestID uint64
	for id, h := range b.pending {
		if !h.tick && (best == nil || id < bestID) {
			best, bestID = h, id
		}
	}
	return best
}

// deadLetter emits t on the dead-letter stream, anchored, and acks it; with
// dead-lettering off it fails t.
func (b *ShellBolt) deadLetter(t topology.Tuple, reason string) {
	if !b.poison.enabled() {
		b.out.ReportError(fmt.Errorf("multilang: bolt %q: tuple %s cannot be delivered: %s", b.tc.Component, topology.Describe(t), reason))
		b.out.Fail(t)
		return
	}
	values := append([]any(nil), t.Values()...)
	err := guard(func() {
		b.out.EmitStream(b.opts.dlq, topology.Values{string(t.SourceComponent()), string(t.Stream()), values, reason}, t)
	})
	if err != nil {
		b.out.ReportError(err)
		b.out.Fail(t)
		return
	}
	b.logger.Warn("tuple sent to the dead-letter stream", "stream", b.opts.dlq, "tuple", topology.Describe(t), "reason", reason)
	b.out.Ack(t)
}

// Cleanup implements topology.Bolt: it closes the subprocess's stdin, waits
// for it to exit (WithStopTimeout), kills its process group, and waits for
// every goroutine of the bolt. The runtime fails the tuples still held.
//
// A tuple the subprocess failed right after reporting an error (pystorm
// dying on it) counts as a death it caused even when the subprocess had
// not exited yet: in exactly-once that failure restores the topology, and
// Cleanup of this instance comes before the news of the death.
func (b *ShellBolt) Cleanup() error {
	if h := b.suspect; h != nil && !h.tick && b.poison.enabled() {
		lastError := ""
		if b.proc != nil {
			lastError = b.proc.lastError
		}
		b.poison.record(h.t, fmt.Sprintf("subprocess %q failed it after reporting an error: %s", b.argv, lastError))
	}
	b.suspect = nil
	b.close()
	b.backlog = queue[topology.Tuple]{}
	clear(b.pending)
	if b.tc != nil {
		b.memory.give(b.tc.Task, b.poison)
	}
	return nil
}

// boltTaskEmitter is the collector method shell bolts use, when the runtime
// provides it, to answer need_task_ids exactly: EmitStream that also returns
// the tasks the tuple went to (valid until the next emit).
type boltTaskEmitter interface {
	EmitStreamTasks(stream topology.StreamID, values topology.Values, anchors ...topology.Tuple) []topology.TaskID
}

// queue is a FIFO.
type queue[T any] struct {
	items []T
	head  int
}

func (q *queue[T]) len() int { return len(q.items) - q.head }

func (q *queue[T]) push(v T) { q.items = append(q.items, v) }

func (q *queue[T]) pop() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return v
}
