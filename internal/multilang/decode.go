package multilang

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Side names the writer of the bytes a Decoder reads, which decides the
// messages it accepts.
type Side uint8

const (
	// FromSubprocess decodes what a subprocess writes to its stdout:
	// PIDReply, Emit, Ack, Fail, Log, ReportError, Metrics and Sync. This is
	// the decoder of squall's shell tasks.
	FromSubprocess Side = iota + 1
	// FromSquall decodes what squall writes to a subprocess's stdin:
	// Handshake, Next, Activate, Deactivate, Ack, Fail, Tuple and TaskIDs.
	// This is the decoder of a fake subprocess in tests.
	FromSquall
)

func (s Side) String() string {
	switch s {
	case FromSubprocess:
		return "subprocess"
	case FromSquall:
		return "squall"
	default:
		return fmt.Sprintf("Side(%d)", uint8(s))
	}
}

// DefaultMaxMessageSize is the default bound on one message: 16 MiB.
const DefaultMaxMessageSize = 16 << 20

// DecoderOption configures a Decoder.
type DecoderOption func(*decoderConfig)

type decoderConfig struct {
	maxMessageSize int
}

func (c decoderConfig) validate() error {
	if c.maxMessageSize < 1 {
		return fmt.Errorf("multilang: max message size %d: must be at least 1 byte", c.maxMessageSize)
	}
	return nil
}

// WithMaxMessageSize bounds the bytes of one message as read from the pipe:
// for JSON the document with its line breaks and any blank lines before it
// (not the "end" line), for msgpack the whole object. The default is
// DefaultMaxMessageSize. Memory held by a Decoder is a small multiple of it.
func WithMaxMessageSize(n int) DecoderOption {
	return func(c *decoderConfig) { c.maxMessageSize = n }
}

// Decoder reads messages from one end of a multilang pipe.
//
// A Decoder is not safe for concurrent use; a shell task runs it on one
// goroutine that owns the pipe. Decode blocks in the reader: to stop it,
// close the pipe (the subprocess's exit does that), and Decode returns an
// error wrapping ErrBrokenPipe.
//
// After an error wrapping ErrBrokenPipe or ErrTooLarge, or ErrMalformed in
// msgpack framing, the stream has lost its framing and every later Decode
// returns the same error. After any other error the bad message has been
// consumed whole and Decode can go on with the next one, though squall, like
// Storm, treats every protocol error as fatal for the subprocess.
type Decoder struct {
	r     *bufio.Reader
	s     Serializer
	side  Side
	cfg   decoderConfig
	buf   []byte
	stack []uint64 // msgpack framing: items left per open container
	n     int      // messages started, for error messages
	err   error    // sticky framing error
}

// NewDecoder returns a Decoder of s-framed messages written by side. It
// reads through r if r is a *bufio.Reader (of at least 4 KiB) and wraps r in
// one otherwise; a Decoder may read ahead of the message it returns.
func NewDecoder(r io.Reader, s Serializer, side Side, opts ...DecoderOption) (*Decoder, error) {
	if r == nil {
		return nil, fmt.Errorf("multilang: NewDecoder: nil reader")
	}
	if !s.valid() {
		return nil, fmt.Errorf("multilang: NewDecoder: %w %v", ErrUnknownSerializer, s)
	}
	if side != FromSubprocess && side != FromSquall {
		return nil, fmt.Errorf("multilang: NewDecoder: unknown side %v", side)
	}
	cfg := decoderConfig{maxMessageSize: DefaultMaxMessageSize}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Decoder{r: bufio.NewReaderSize(r, 4096), s: s, side: side, cfg: cfg}, nil
}

// Decode reads the next message. Its concrete type is one of the Message
// types the decoder's Side writes; a JSON array (only squall writes them) is
// TaskIDs, and objects are sorted by their "command", or by their keys for
// the messages without one (pidDir: Handshake; pid: PIDReply; otherwise a
// Tuple). Errors wrap the sentinels in errors.go.
func (d *Decoder) Decode() (Message, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.n++
	var (
		v   any
		err error
	)
	switch d.s {
	case JSON:
		v, err = d.decodeJSON()
	default:
		v, err = d.decodeMsgpack()
	}
	if cap(d.buf) > maxRetainedBuffer {
		d.buf = nil
	}
	if err != nil {
		err = fmt.Errorf("multilang: %s message %d: %w", d.s, d.n, err)
		if d.fatal(err) {
			d.err = err
		}
		return nil, err
	}
	m, err := d.message(v)
	if err != nil {
		return nil, fmt.Errorf("multilang: %s message %d from %s: %w", d.s, d.n, d.side, err)
	}
	return m, nil
}

// fatal reports whether err lost the stream's framing.
func (d *Decoder) fatal(err error) bool {
	return errors.Is(err, ErrBrokenPipe) || errors.Is(err, ErrTooLarge) ||
		(d.s == Msgpack && errors.Is(err, ErrMalformed))
}

// brokenPipe wraps a read error; started says whether part of a message
// had been read.
func brokenPipe(err error, started bool) error {
	if errors.Is(err, io.EOF) {
		if started {
			return fmt.Errorf("%w: %w in the middle of a message", ErrBrokenPipe, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("%w: %w", ErrBrokenPipe, io.EOF)
	}
	return fmt.Errorf("%w: %w", ErrBrokenPipe, err)
}

func (d *Decoder) tooLarge() error {
	return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, d.cfg.maxMessageSize)
}

// endSlack lets a line break and the "end\r\n" line complete while a
// message's size is checked before its lines are known.
const endSlack = len("\r\nend\r\n")

// readJSONFrame reads lines up to a line that is exactly "end" (a trailing
// "\r" is dropped, as Java's readLine does) and returns the lines before it
// joined with "\n". Blank lines are skipped, as pystorm does, but their bytes
// count toward the size limit. A final "end" without a newline ends a
// message, as it does for Java.
func (d *Decoder) readJSONFrame() ([]byte, error) {
	body := d.buf[:0]
	defer func() { d.buf = body[:0] }()
	blank := 0 // bytes of the blank lines skipped in this message
	max := d.cfg.maxMessageSize
	for {
		lineStart := len(body)
		if len(body) > 0 {
			body = append(body, '\n')
		}
		textStart := len(body)
		var readErr error
		for {
			chunk, err := d.r.ReadSlice('\n')
			body = append(body, chunk...)
			if len(body)+blank > max+endSlack {
				return nil, d.tooLarge()
			}
			if err == nil {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			readErr = err
			break
		}
		raw := len(body) - textStart
		line := body[textStart:]
		line = bytes.TrimSuffix(line, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		switch {
		case string(line) == "end":
			if lineStart == 0 {
				return nil, fmt.Errorf("%w: empty message (an \"end\" line with no JSON before it)", ErrMalformed)
			}
			return body[:lineStart], nil
		case readErr != nil:
			return nil, brokenPipe(readErr, lineStart > 0 || len(line) > 0)
		case len(line) == 0:
			body = body[:lineStart]
			blank += raw
		default:
			body = body[:textStart+len(line)]
		}
		if len(body)+blank > max {
			return nil, d.tooLarge()
		}
	}
}

func (d *Decoder) decodeJSON() (any, error) {
	body, err := d.readJSONFrame()
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON document (offset %d)", ErrMalformed, dec.InputOffset())
	}
	return v, nil
}

// message turns one decoded value into a Message.
func (d *Decoder) message(v any) (Message, error) {
	switch v := v.(type) {
	case map[string]any:
		return d.command(v)
	case []any:
		if d.side != FromSquall {
			return nil, fmt.Errorf("%w: got a list; a subprocess sends only objects (task-id lists go to it, not from it)", ErrWrongType)
		}
		ids := make(TaskIDs, len(v))
		for i, e := range v {
			n, err := intValue(e)
			if err != nil {
				return nil, fmt.Errorf("task ids [%d]: %w", i, err)
			}
			ids[i] = n
		}
		return ids, nil
	default:
		return nil, fmt.Errorf("%w: got %s, want an object or a task-id list", ErrWrongType, kindOf(v))
	}
}

func (d *Decoder) command(o map[string]any) (Message, error) {
	f := fields{o: o, what: "message"}
	cmd, ok, err := f.string("command")
	if err != nil {
		return nil, err
	}
	if !ok {
		switch {
		case d.side == FromSubprocess && has(o, "pid"):
			return d.pidReply(f)
		case d.side == FromSquall && has(o, "pidDir"):
			return d.handshake(f)
		case d.side == FromSquall:
			return d.tuple(f)
		default:
			return nil, fmt.Errorf("%w \"command\"", ErrMissingField)
		}
	}
	f.what, f.cmd = "", cmd // quoted only when an error needs it
	if d.side == FromSquall {
		switch cmd {
		case cmdNext:
			return Next{}, nil
		case cmdActivate:
			return Activate{}, nil
		case cmdDeactivate:
			return Deactivate{}, nil
		case cmdAck:
			id, err := f.requiredID("id")
			return Ack{ID: id}, err
		case cmdFail:
			id, err := f.requiredID("id")
			return Fail{ID: id}, err
		}
	} else {
		switch cmd {
		case cmdEmit:
			return d.emit(f)
		case cmdAck:
			id, err := f.requiredID("id")
			return Ack{ID: id}, err
		case cmdFail:
			id, err := f.requiredID("id")
			return Fail{ID: id}, err
		case cmdLog:
			msg, err := f.requiredString("msg")
			return Log{Msg: msg, Level: logLevel(o["level"])}, err
		case cmdError:
			msg, err := f.requiredString("msg")
			return ReportError{Msg: msg}, err
		case cmdMetrics:
			name, err := f.requiredString("name")
			if err != nil {
				return nil, err
			}
			params, err := d.value(o["params"])
			if err != nil {
				return nil, f.wrap("params", err)
			}
			return Metrics{Name: name, Params: params}, nil
		case cmdSync:
			return Sync{}, nil
		}
	}
	return nil, fmt.Errorf("%w %q from %s", ErrUnknownCommand, truncate(cmd, 64), d.side)
}

func (d *Decoder) pidReply(f fields) (Message, error) {
	f.what = "pid reply"
	pid, err := f.requiredInt("pid")
	if err != nil {
		return nil, err
	}
	if pid <= 0 {
		return nil, f.wrap("pid", fmt.Errorf("%w: got %d, want a positive process id", ErrWrongType, pid))
	}
	return PIDReply{PID: pid}, nil
}

func (d *Decoder) emit(f fields) (Message, error) {
	var (
		m   Emit
		ok  bool
		err error
	)
	if v := f.o["id"]; v != nil {
		if m.ID, err = idFromValue(v); err != nil {
			return nil, f.wrap("id", err)
		}
	}
	if m.Anchors, err = anchors(f.o["anchors"]); err != nil {
		return nil, f.wrap("anchors", err)
	}
	if m.Stream, ok, err = f.string("stream"); err != nil {
		return nil, err
	} else if !ok {
		m.Stream = DefaultStream
	}
	if m.Task, _, err = f.int("task"); err != nil {
		return nil, err
	}
	if m.NeedTaskIDs, ok, err = f.bool("need_task_ids"); err != nil {
		return nil, err
	} else if !ok {
		m.NeedTaskIDs = true
	}
	if m.Values, err = d.requiredList(f, "tuple"); err != nil {
		return nil, err
	}
	return m, nil
}

func (d *Decoder) tuple(f fields) (Message, error) {
	f.what = "tuple"
	var (
		m   Tuple
		err error
	)
	if m.ID, err = f.requiredID("id"); err != nil {
		return nil, err
	}
	if m.Comp, _, err = f.string("comp"); err != nil {
		return nil, err
	}
	if m.Stream, err = f.requiredString("stream"); err != nil {
		return nil, err
	}
	if m.Task, err = f.requiredInt("task"); err != nil {
		return nil, err
	}
	if m.Values, err = d.requiredList(f, "tuple"); err != nil {
		return nil, err
	}
	return m, nil
}

func (d *Decoder) handshake(f fields) (Message, error) {
	f.what = "handshake"
	var (
		m   Handshake
		err error
	)
	if m.PIDDir, err = f.requiredString("pidDir"); err != nil {
		return nil, err
	}
	conf, err := f.requiredObject("conf")
	if err != nil {
		return nil, err
	}
	v, err := d.value(conf)
	if err != nil {
		return nil, f.wrap("conf", err)
	}
	m.Conf = v.(map[string]any)
	ctx, err := f.requiredObject("context")
	if err != nil {
		return nil, err
	}
	if m.Context, err = decodeContext(ctx); err != nil {
		return nil, f.wrap("context", err)
	}
	return m, nil
}

func (d *Decoder) requiredList(f fields, key string) ([]any, error) {
	l, ok, err := f.list(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, f.missing(key)
	}
	v, err := d.value(l)
	if err != nil {
		return nil, f.wrap(key, err)
	}
	return v.([]any), nil
}

// value turns a decoded tuple value into its Go mapping.
func (d *Decoder) value(v any) (any, error) {
	if d.s == JSON {
		return normalizeJSON(v)
	}
	return v, nil // decodeMsgpack produced the mapping already
}

// logLevel reads "level" the way ShellMsg does: an integer 0-4 is that
// level; anything else, including absence, is INFO.
func logLevel(v any) LogLevel {
	n, err := intValue(v)
	if err != nil || n < int(LogTrace) || n > int(LogError) {
		return LogInfo
	}
	return LogLevel(n)
}

// anchors reads an emit's "anchors": a list of ids, or a single string.
func anchors(v any) ([]ID, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string, []byte:
		id, err := idFromValue(v)
		return []ID{id}, err
	case []any:
		if len(v) == 0 {
			return nil, nil
		}
		ids := make([]ID, len(v))
		for i, e := range v {
			id, err := idFromValue(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			ids[i] = id
		}
		return ids, nil
	default:
		return nil, fmt.Errorf("%w: got %s, want a list of ids or one string", ErrWrongType, kindOf(v))
	}
}

func decodeContext(o map[string]any) (Context, error) {
	f := fields{o: o, what: "context"}
	var (
		c   Context
		err error
	)
	if c.TaskID, err = f.requiredInt("taskid"); err != nil {
		return c, err
	}
	t2c, err := f.requiredObject("task->component")
	if err != nil {
		return c, err
	}
	c.TaskToComponent = make(map[int]string, len(t2c))
	for k, v := range t2c {
		var task int
		if task, err = intValue(json.Number(k)); err != nil {
			return c, f.wrap("task->component", fmt.Errorf("%w: key %q is not a task id", ErrWrongType, truncate(k, 40)))
		}
		s, ok := stringValue(v)
		if !ok {
			return c, f.wrap("task->component", fmt.Errorf("%q: %w: got %s, want string", k, ErrWrongType, kindOf(v)))
		}
		c.TaskToComponent[task] = s
	}
	if c.ComponentID, _, err = f.string("componentid"); err != nil {
		return c, err
	}
	if v, ok := o["streams"]; ok && v != nil {
		if c.Streams, err = stringList(v); err != nil {
			return c, f.wrap("streams", err)
		}
	}
	if c.StreamToOutputFields, err = mapOf(o["stream->outputfields"], stringList); err != nil {
		return c, f.wrap("stream->outputfields", err)
	}
	grouping := func(v any) (map[string]Grouping, error) { return mapOf(v, decodeGrouping) }
	if c.StreamToTargetToGrouping, err = mapOf(o["stream->target->grouping"], grouping); err != nil {
		return c, f.wrap("stream->target->grouping", err)
	}
	if c.SourceToStreamToGrouping, err = mapOf(o["source->stream->grouping"], grouping); err != nil {
		return c, f.wrap("source->stream->grouping", err)
	}
	fieldsOf := func(v any) (map[string][]string, error) { return mapOf(v, stringList) }
	if c.SourceToStreamToFields, err = mapOf(o["source->stream->fields"], fieldsOf); err != nil {
		return c, f.wrap("source->stream->fields", err)
	}
	return c, nil
}

func decodeGrouping(v any) (Grouping, error) {
	o, ok := v.(map[string]any)
	if !ok {
		return Grouping{}, fmt.Errorf("%w: got %s, want a grouping object", ErrWrongType, kindOf(v))
	}
	f := fields{o: o, what: "grouping"}
	t, err := f.requiredString("type")
	if err != nil {
		return Grouping{}, err
	}
	g := Grouping{Type: GroupingType(t)}
	if v, ok := o["fields"]; ok && v != nil {
		if g.Fields, err = stringList(v); err != nil {
			return Grouping{}, f.wrap("fields", err)
		}
	}
	if g.Type == GroupingFields && g.Fields == nil {
		g.Fields = []string{}
	}
	return g, nil
}

// mapOf decodes an optional object whose values all decode with elem.
func mapOf[V any](v any, elem func(any) (V, error)) (map[string]V, error) {
	if v == nil {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: got %s, want an object", ErrWrongType, kindOf(v))
	}
	m := make(map[string]V, len(o))
	for k, e := range o {
		x, err := elem(e)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", truncate(k, 64), err)
		}
		m[k] = x
	}
	return m, nil
}

func stringList(v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: got %s, want a list of strings", ErrWrongType, kindOf(v))
	}
	s := make([]string, len(l))
	for i, e := range l {
		if s[i], ok = stringValue(e); !ok {
			return nil, fmt.Errorf("[%d]: %w: got %s, want string", i, ErrWrongType, kindOf(e))
		}
	}
	return s, nil
}

func stringValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	default:
		return "", false
	}
}

// intValue reads an integer that fits in an int.
func intValue(v any) (int, error) {
	var n int64
	switch v := v.(type) {
	case json.Number:
		i, err := v.Int64()
		if err != nil {
			return 0, fmt.Errorf("%w: got number %s, want an integer", ErrWrongType, truncate(string(v), 40))
		}
		n = i
	case int64:
		n = v
	case float64:
		return 0, fmt.Errorf("%w: got number %v, want an integer", ErrWrongType, v)
	default:
		return 0, fmt.Errorf("%w: got %s, want an integer", ErrWrongType, kindOf(v))
	}
	if n < math.MinInt || n > math.MaxInt {
		return 0, fmt.Errorf("%w: integer %d out of range", ErrWrongType, n)
	}
	return int(n), nil
}

func has(o map[string]any, key string) bool {
	_, ok := o[key]
	return ok
}

// fields reads typed fields of one decoded object. A field that is absent
// or null is "not present"; one of the wrong type is an error.
type fields struct {
	o    map[string]any
	what string
	cmd  string // the command, when what is empty
}

// label names the object in errors.
func (f fields) label() string {
	if f.what == "" {
		return strconv.Quote(f.cmd)
	}
	return f.what
}

func (f fields) wrap(key string, err error) error {
	return fmt.Errorf("%s: field %q: %w", f.label(), key, err)
}

func (f fields) missing(key string) error {
	return fmt.Errorf("%s: %w %q", f.label(), ErrMissingField, key)
}

func (f fields) string(key string) (string, bool, error) {
	v := f.o[key]
	if v == nil {
		return "", false, nil
	}
	s, ok := stringValue(v)
	if !ok {
		return "", false, f.wrap(key, fmt.Errorf("%w: got %s, want string", ErrWrongType, kindOf(v)))
	}
	return s, true, nil
}

func (f fields) requiredString(key string) (string, error) {
	s, ok, err := f.string(key)
	if err == nil && !ok {
		err = f.missing(key)
	}
	return s, err
}

func (f fields) int(key string) (int, bool, error) {
	v := f.o[key]
	if v == nil {
		return 0, false, nil
	}
	n, err := intValue(v)
	if err != nil {
		return 0, false, f.wrap(key, err)
	}
	return n, true, nil
}

func (f fields) requiredInt(key string) (int, error) {
	n, ok, err := f.int(key)
	if err == nil && !ok {
		err = f.missing(key)
	}
	return n, err
}

func (f fields) bool(key string) (bool, bool, error) {
	v := f.o[key]
	if v == nil {
		return false, false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, false, f.wrap(key, fmt.Errorf("%w: got %s, want bool", ErrWrongType, kindOf(v)))
	}
	return b, true, nil
}

func (f fields) list(key string) ([]any, bool, error) {
	v := f.o[key]
	if v == nil {
		return nil, false, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, false, f.wrap(key, fmt.Errorf("%w: got %s, want list", ErrWrongType, kindOf(v)))
	}
	return l, true, nil
}

func (f fields) requiredObject(key string) (map[string]any, error) {
	v := f.o[key]
	if v == nil {
		return nil, f.missing(key)
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, f.wrap(key, fmt.Errorf("%w: got %s, want object", ErrWrongType, kindOf(v)))
	}
	return o, nil
}

func (f fields) requiredID(key string) (ID, error) {
	v := f.o[key]
	if v == nil {
		return ID{}, f.missing(key)
	}
	id, err := idFromValue(v)
	if err != nil {
		return ID{}, f.wrap(key, err)
	}
	return id, nil
}
