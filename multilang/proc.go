package multilang

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/squall-streams/squall/internal/linelimit"
	wire "github.com/squall-streams/squall/internal/multilang"
)

// A proc is one incarnation of a shell task's subprocess and the goroutines
// that serve it:
//
//   - writer: writes the outbox's frames to stdin; closes stdin when the
//     outbox is closed (pystorm exits on EOF);
//   - reader: decodes stdout and hands the messages to the task through
//     Context.Submit, in batches;
//   - stderr: logs stderr lines and keeps the last few;
//   - watchdog: kills the process group when the subprocess is silent past
//     its timeout, and queues a bolt's heartbeat tuples;
//   - monitor: waits for the process to exit, kills what is left of its
//     process group before reaping it, closes the pipes, and tells the task.
//
// The subprocess leads its own process group, so killing the group takes
// its children too, and the group id (the leader's pid) cannot be reused
// before the monitor reaps the leader: every kill happens before that.
// A proc's goroutines all end once the process group is dead; the monitor
// waits for the others and is itself waited for by the component.
type proc struct {
	gen    uint64
	argv   []string
	logger *slog.Logger
	bolt   bool // bolts get heartbeats and are always waited on

	cmd    *exec.Cmd
	pgid   int
	stdin  *os.File
	stdout *os.File
	stderr *os.File
	errLog *linelimit.Writer // stderr into the node log
	errEnd *tail             // the end of stderr, for the report of its death
	out    *outbox

	timeout   time.Duration
	startup   time.Duration // the timeout until the handshake is answered
	heartbeat time.Duration
	maxMsg    int
	ser       wire.Serializer
	submit    func(func()) bool
	onInbox   func()
	onDied    func()

	lastHeard atomic.Int64 // nanotime of the last progress (see isProgress)
	idle      atomic.Int64 // messages since then that were no progress
	lastAny   atomic.Int64 // nanotime of the last of those, valid while idle > 0
	waiting   atomic.Int32 // spout commands not yet answered by sync
	handed    atomic.Int64 // commands the writer handed to stdin (syncCheck)
	syncs     syncCheck    // the reader's
	handshook atomic.Bool
	hbPending atomic.Bool
	hbSeq     atomic.Int64
	pid       atomic.Int64 // as the subprocess reported it

	mu       sync.Mutex
	inbox    []wire.Message
	drained  chan struct{} // signalled when the task takes the inbox
	reason   string        // why squall killed it (first reason wins)
	signaled bool
	reaped   bool

	stopping chan struct{} // closed by stop: output is no longer wanted
	exited   chan struct{} // closed once the leader is reaped
	done     chan struct{} // closed when every goroutine but the monitor ended
	status   string        // exit status, set before done is closed
	started  time.Time
	wg       sync.WaitGroup

	// broken is set by the task (only on its goroutine) when it found a
	// protocol error and killed the process: its later output is ignored.
	broken bool
	// lastError is the last error command's message, cut (the task's
	// goroutine only): pystorm reports the traceback so before it exits.
	lastError string
}

// maxInbox is how many messages the reader queues for the task before it
// waits: a subprocess that writes faster than the task handles its output
// then blocks on its stdout, which is the pipe's backpressure.
const maxInbox = 4096

// epoch is the base of nanotime.
var epoch = time.Now()

func nanotime() int64 { return int64(time.Since(epoch)) }

// startedHook, when set (by tests), is told the pid of every subprocess.
var startedHook func(pid int)

// heartbeatHook, when set (by tests), is called for every sync from a bolt
// subprocess: an answered heartbeat.
var heartbeatHook func()

// pipeBytes counts the bytes written to and read from every subprocess,
// for benchmarks (one atomic add per read or write call, not per message).
var pipeBytes struct{ written, read atomic.Int64 }

type countingReader struct{ f *os.File }

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	pipeBytes.read.Add(int64(n))
	return n, err
}

type countingWriter struct{ f *os.File }

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.f.Write(b)
	pipeBytes.written.Add(int64(n))
	return n, err
}

type procSpec struct {
	gen       uint64
	s         *settings
	bolt      bool
	logger    *slog.Logger
	submit    func(func()) bool
	handshake []byte // the first frame
	onInbox   func(p *proc)
	onDied    func(p *proc)
	onRoom    func(p *proc)
}

func startProc(spec procSpec) (_ *proc, err error) {
	s := spec.s
	var files []*os.File
	defer func() {
		if err != nil {
			for _, f := range files {
				f.Close()
			}
		}
	}()
	pipe := func() (r, w *os.File) {
		if err != nil {
			return nil, nil
		}
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return r, w
	}
	inR, inW := pipe()
	outR, outW := pipe()
	errR, errW := pipe()
	if err != nil {
		return nil, fmt.Errorf("pipes: %w", err)
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Dir = s.dir
	cmd.Env = s.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.SysProcAttr = sysProcAttr()
	if err = cmd.Start(); err != nil {
		return nil, err
	}
	// The child has its ends; close ours so EOF and EPIPE work.
	inR.Close()
	outW.Close()
	errW.Close()
	p := &proc{
		gen: spec.gen, argv: s.argv, bolt: spec.bolt,
		cmd: cmd, pgid: cmd.Process.Pid, stdin: inW, stdout: outR, stderr: errR,
		timeout: s.timeout, startup: s.startup, heartbeat: s.heartbeat, maxMsg: s.maxMessage, ser: s.ser,
		submit:   spec.submit,
		drained:  make(chan struct{}, 1),
		stopping: make(chan struct{}),
		exited:   make(chan struct{}),
		done:     make(chan struct{}),
		started:  time.Now(),
	}
	p.logger = spec.logger.With("pid", cmd.Process.Pid)
	p.errLog = newStderrLog(p.logger)
	p.errEnd = newTail(tailLines, tailBytes)
	p.onInbox = func() { spec.onInbox(p) }
	p.onDied = func() { spec.onDied(p) }
	onRoom := func() {}
	if spec.onRoom != nil {
		onRoom = func() { p.submit(func() { spec.onRoom(p) }) }
	}
	p.out = newOutbox(s.maxPending, onRoom)
	p.syncs.bolt = spec.bolt
	p.lastHeard.Store(nanotime())
	if h := startedHook; h != nil {
		h(cmd.Process.Pid)
	}
	p.out.pushPrio(spec.handshake)
	p.wg.Add(4)
	go p.writeLoop()
	go p.readLoop()
	go p.stderrLoop()
	go p.watchdog()
	return p, nil
}

// kill kills the process group, once, unless the leader was reaped already;
// reason, if it is the first, says why.
func (p *proc) kill(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reason == "" {
		p.reason = reason
	}
	if p.reaped || p.signaled {
		return
	}
	p.signaled = true
	_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
}

// death describes how the process ended; valid after done.
func (p *proc) death() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.reason != "":
		return p.reason + " (" + p.status + ")"
	default:
		return p.status
	}
}

// monitor waits for the leader to exit, kills the rest of its group, reaps
// it, makes sure every other goroutine ends, and tells the task.
func (p *proc) monitor() {
	var err error
	if !waitExited(p.cmd.Process.Pid) {
		// No way to wait without reaping: reap, then kill the group at once
		// (its id is only reused after every member is gone).
		err = p.cmd.Wait()
	}
	// The leader is a zombie now: its group id is still its own.
	p.mu.Lock()
	// Children the subprocess left behind in its group die with it.
	_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
	p.reaped = true
	p.mu.Unlock()
	if p.cmd.ProcessState == nil {
		err = p.cmd.Wait()
	}
	status := "exited"
	if ps := p.cmd.ProcessState; ps != nil {
		status = ps.String()
	} else if err != nil {
		status = err.Error()
	}
	p.mu.Lock()
	p.status = status
	p.mu.Unlock()
	close(p.exited)
	// The group is dead, so stdout and stderr reach EOF once read; only a
	// process that left the group can hold them open. Give the reader a
	// moment to hand over the last messages, then close the pipes.
	ioDone := make(chan struct{})
	go func() { p.wg.Wait(); close(ioDone) }()
	t := time.NewTimer(500 * time.Millisecond)
	select {
	case <-ioDone:
	case <-t.C:
		p.stdout.Close()
		p.stderr.Close()
		p.stdin.Close()
		<-ioDone
	}
	t.Stop()
	close(p.done)
	p.submit(p.onDied)
}

// stop ends the subprocess: it closes stdin (after what is queued), waits
// up to grace for the process to exit, then kills its group. It returns
// when every goroutine of the proc but the monitor has ended.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.stopping:
	default:
		close(p.stopping)
	}
	p.out.close()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return
	case <-t.C:
	}
	p.kill(fmt.Sprintf("still running %v after its stdin was closed", grace))
	<-p.done
}

func (p *proc) writeLoop() {
	defer p.wg.Done()
	defer p.stdin.Close()
	bw := bufio.NewWriterSize(countingWriter{p.stdin}, 64<<10)
	var prio, normal [][]byte
	for {
		var closed bool
		var cmds int
		prio, normal, cmds, closed = p.out.take(prio[:0], normal[:0])
		if len(prio) == 0 && len(normal) == 0 {
			if closed {
				return // stdin closes: the subprocess reads EOF
			}
			select {
			case <-p.out.wake:
				continue
			case <-p.exited:
				return
			}
		}
		// Counted before they are written: the subprocess cannot answer a
		// command before that, and the reader must not see its answer first.
		p.handed.Add(int64(cmds))
		var err error
		for _, f := range prio {
			if err == nil {
				_, err = bw.Write(f)
			}
		}
		for _, f := range normal {
			if err == nil {
				_, err = bw.Write(f)
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		clear(prio)
		clear(normal)
		p.out.written(len(normal))
		if err != nil {
			p.kill("writing to its stdin: " + err.Error())
			return
		}
	}
}

func (p *proc) readLoop() {
	defer p.wg.Done()
	dec, err := wire.NewDecoder(bufio.NewReaderSize(countingReader{p.stdout}, 64<<10), p.ser, wire.FromSubprocess, wire.WithMaxMessageSize(p.maxMsg))
	if err != nil {
		p.kill(err.Error())
		return
	}
	for {
		m, err := dec.Decode()
		if err != nil {
			if errors.Is(err, wire.ErrBrokenPipe) {
				p.kill("") // stdout closed: the subprocess is gone or going
				return
			}
			p.fatal("bad output: " + err.Error())
			return
		}
		reply, isReply := m.(wire.PIDReply)
		switch {
		case isReply && p.handshook.Load():
			p.fatal("protocol error: a second pid reply")
			return
		case isReply:
			p.pid.Store(int64(reply.PID))
			p.handshook.Store(true)
		case !p.handshook.Load():
			p.fatal(fmt.Sprintf("protocol error: %s before the pid reply to the handshake", messageName(m)))
			return
		}
		if _, ok := m.(wire.Sync); ok {
			answers, violation := p.syncs.sync(p.handed.Load(), p.bolt && p.hbPending.CompareAndSwap(true, false))
			switch {
			case violation != "":
				p.fatal(violation)
				return
			case !answers:
				p.noProgress()
				continue // a stray sync: nothing for the task
			case p.bolt:
				p.progress()
				if h := heartbeatHook; h != nil {
					h()
				}
				continue // the bolt has nothing to do with it
			}
			p.waiting.Add(-1)
		}
		if isProgress(m) {
			p.progress()
		} else {
			p.noProgress()
		}
		p.deliver(m)
	}
}

// isProgress reports whether m moves the protocol on: log, error and metrics
// messages do not, so a subprocess that sends only those is as silent, for
// its timeout, as one that sends nothing (a loop without progress).
func isProgress(m wire.Message) bool {
	switch m.(type) {
	case wire.Log, wire.ReportError, wire.Metrics:
		return false
	}
	return true
}

// progress restarts the silence clock (one atomic store per message in
// the common case).
func (p *proc) progress() {
	p.lastHeard.Store(nanotime())
	if p.idle.Load() != 0 {
		p.idle.Store(0)
	}
}

// noProgress counts a message that does not restart the silence clock.
func (p *proc) noProgress() {
	p.lastAny.Store(nanotime())
	p.idle.Add(1)
}

// fatal kills the subprocess for a protocol error found by the reader and
// discards the rest of its output.
func (p *proc) fatal(reason string) {
	p.kill(reason)
	_, _ = io.Copy(io.Discard, p.stdout)
}

// messageName names a message in errors.
func messageName(m wire.Message) string {
	if c := m.Command(); c != "" {
		return strconv.Quote(c) + " command"
	}
	return fmt.Sprintf("%T", m)
}

// deliver queues m for the task, waking it when the queue was empty, and
// waits while the queue is full.
func (p *proc) deliver(m wire.Message) {
	for {
		p.mu.Lock()
		n := len(p.inbox)
		if n < maxInbox {
			p.inbox = append(p.inbox, m)
			p.mu.Unlock()
			if n == 0 {
				p.submit(p.onInbox)
			}
			return
		}
		p.mu.Unlock()
		select {
		case <-p.drained:
		case <-p.stopping:
			return // nobody will take it
		}
	}
}

// takeInbox returns the queued messages; the task calls it.
func (p *proc) takeInbox() []wire.Message {
	p.mu.Lock()
	msgs := p.inbox
	p.inbox = nil
	p.mu.Unlock()
	select {
	case p.drained <- struct{}{}:
	default:
	}
	return msgs
}

// stderrLoop passes stderr to the node log within its limits, and keeps
// its end (errEnd, every line: the last ones matter even in a flood); it
// reads and drops as fast as the subprocess writes, so a flood costs CPU,
// never the node log nor a blocked subprocess.
func (p *proc) stderrLoop() {
	defer p.wg.Done()
	defer p.errLog.Close() // the last partial line, and the count of what was dropped
	buf := make([]byte, 64<<10)
	for {
		n, err := p.stderr.Read(buf)
		_, _ = p.errEnd.Write(buf[:n])
		_, _ = p.errLog.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

// watchdog kills a silent subprocess and queues a bolt's heartbeats.
func (p *proc) watchdog() {
	defer p.wg.Done()
	t := time.NewTicker(p.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-p.exited:
			return
		case <-t.C:
		}
		now := nanotime()
		silent := time.Duration(now - p.lastHeard.Load())
		quiet := silent
		if p.idle.Load() > 0 {
			quiet = time.Duration(now - p.lastAny.Load())
		}
		kill, heartbeat := p.watch(silent, quiet)
		switch {
		case kill != "":
			p.kill(kill)
		case heartbeat:
			p.hbPending.Store(true)
			id := wire.StringID(strconv.FormatInt(-p.hbSeq.Add(1), 10))
			if f, err := wire.AppendFrame(nil, p.ser, wire.NewHeartbeat(id)); err == nil {
				p.out.pushCommand(f)
			}
		}
	}
}

// watch decides what one of the watchdog's ticks does after the subprocess
// has made no progress for silent (see progress) and sent nothing at all
// for quiet: kill it (for the reason it returns) when it did not answer the
// handshake within the startup timeout, or is owed an answer (a bolt always
// is: to its heartbeats) and made no progress for longer than the timeout;
// else send a bolt a heartbeat unless one is pending. It reads only the
// proc's flags, not the clock, so tests pass any silence.
func (p *proc) watch(silent, quiet time.Duration) (kill string, heartbeat bool) {
	switch {
	case !p.handshook.Load():
		if silent > p.startup {
			return fmt.Sprintf("no answer to the handshake for %v (startup timeout %v)", silent.Round(time.Millisecond), p.startup), false
		}
		return "", false
	case (p.bolt || p.waiting.Load() > 0) && silent > p.timeout:
		if n := p.idle.Load(); n > 0 && quiet <= p.timeout {
			owed := "emit, ack, fail or answer to a heartbeat"
			if !p.bolt {
				owed = "sync or emit"
			}
			return fmt.Sprintf("no progress for %v: %d log, error, metrics or stray sync messages, but no %s (subprocess timeout %v)",
				silent.Round(time.Millisecond), n, owed, p.timeout), false
		}
		return fmt.Sprintf("no message for %v (subprocess timeout %v)", min(silent, quiet).Round(time.Millisecond), p.timeout), false
	}
	return "", p.bolt && !p.hbPending.Load()
}

// beginCommand notes a spout command that the subprocess must sync; the
// silence clock starts now if it was not waiting already.
func (p *proc) beginCommand() {
	if p.waiting.Add(1) == 1 {
		p.progress()
	}
}

// outbox is the queue in front of a subprocess's stdin: a priority lane for
// task-id replies, heartbeats and spout commands, and a normal lane for
// bolt input tuples whose unwritten frames the bolt keeps below its limit.
type outbox struct {
	mu        sync.Mutex
	prio      [][]byte
	prioCmds  int // frames in prio that are commands (pushCommand)
	normal    [][]byte
	closed    bool
	wake      chan struct{}
	limit     int
	unwritten atomic.Int64
	wantRoom  atomic.Bool
	onRoom    func()
}

func newOutbox(limit int, onRoom func()) *outbox {
	return &outbox{wake: make(chan struct{}, 1), limit: limit, onRoom: onRoom}
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) pushPrio(f []byte) {
	o.mu.Lock()
	if !o.closed {
		o.prio = append(o.prio, f)
	}
	o.mu.Unlock()
	o.signal()
}

// pushCommand queues a command the subprocess answers (a spout command, a
// heartbeat tuple) in the priority lane.
func (o *outbox) pushCommand(f []byte) {
	o.mu.Lock()
	if !o.closed {
		o.prio = append(o.prio, f)
		o.prioCmds++
	}
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) push(f []byte) {
	o.unwritten.Add(1)
	o.mu.Lock()
	if !o.closed {
		o.normal = append(o.normal, f)
	}
	o.mu.Unlock()
	o.signal()
}

// hasRoom reports whether another tuple may be queued; when not, the
// outbox calls onRoom once there is.
func (o *outbox) hasRoom() bool {
	if o.unwritten.Load() < int64(o.limit) {
		return true
	}
	o.wantRoom.Store(true)
	// The writer may have caught up between the two loads.
	return o.unwritten.Load() < int64(o.limit)
}

// take appends the queued frames to prio and normal; cmds is how many of
// them are commands: those pushed with pushCommand, and every tuple.
func (o *outbox) take(prio, normal [][]byte) (_, _ [][]byte, cmds int, closed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	cmds = o.prioCmds + len(o.normal)
	prio = append(prio, o.prio...)
	normal = append(normal, o.normal...)
	clear(o.prio)
	clear(o.normal)
	o.prio, o.normal, o.prioCmds = o.prio[:0], o.normal[:0], 0
	return prio, normal, cmds, o.closed
}

func (o *outbox) written(n int) {
	if n == 0 {
		return
	}
	if o.unwritten.Add(-int64(n)) < int64(o.limit) && o.wantRoom.CompareAndSwap(true, false) {
		o.onRoom()
	}
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.signal()
}
