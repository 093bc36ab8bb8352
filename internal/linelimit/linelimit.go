package linelimit

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Sink receives what passes the limits. Its methods are called one at a
// time, from whichever goroutine called Write, WriteLine, Flush or Close;
// they must not block for long (the producer waits for them).
type Sink interface {
	// Line is one line without its newline, cut to Config.MaxLine bytes;
	// cut is how many bytes were cut off. line is valid only during the
	// call.
	Line(line []byte, cut int)
	// Dropped reports n lines dropped by the rate limit since the last
	// report: before the next line that passes, and at Close.
	Dropped(n uint64)
}

// Config is a Writer's limits. Start from DefaultConfig.
type Config struct {
	// MaxLine is the most bytes of a line that reach the Sink; the
	// Writer buffers no more than this.
	MaxLine int
	// LinesPerSecond is the sustained rate of lines that pass.
	LinesPerSecond float64
	// Burst is how many lines may pass at once after a quiet spell.
	Burst int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig lets through 100 lines a second, bursts of 200, of up to
// 4 KiB each: at most about 400 KiB/s of one subprocess into the node log.
func DefaultConfig() Config {
	return Config{MaxLine: 4 << 10, LinesPerSecond: 100, Burst: 200}
}

// ErrConfig is wrapped by New's errors.
var ErrConfig = errors.New("linelimit: bad config")

func (c *Config) validate() error {
	switch {
	case c.MaxLine <= 0:
		return fmt.Errorf("%w: MaxLine %d: want a positive number of bytes", ErrConfig, c.MaxLine)
	case !(c.LinesPerSecond > 0):
		return fmt.Errorf("%w: LinesPerSecond %v: want a positive rate", ErrConfig, c.LinesPerSecond)
	case c.Burst <= 0:
		return fmt.Errorf("%w: Burst %d: want at least 1 line", ErrConfig, c.Burst)
	}
	return nil
}

// Writer is an io.Writer that splits what it is given into lines and
// passes them to a Sink within the limits of its Config. It is safe for
// concurrent use; Write never fails and never blocks but on the Sink.
type Writer struct {
	cfg  Config
	sink Sink

	mu      sync.Mutex
	buf     []byte // the current line's first MaxLine bytes
	cut     int    // bytes of the current line beyond buf
	tokens  float64
	last    time.Time // when tokens was last refilled
	pending uint64    // dropped lines not reported yet
	dropped uint64    // all dropped lines
	closed  bool
}

// New returns a Writer into sink with the limits of cfg.
func New(sink Sink, cfg Config) (*Writer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Writer{cfg: cfg, sink: sink, tokens: float64(cfg.Burst), last: cfg.Now()}, nil
}

// Write takes any bytes, complete lines or not; it always returns
// len(p), nil (dropping is not an error the subprocess could act on).
// After Close it drops everything.
func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return n, nil
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		w.take(chunk)
		if i < 0 {
			break
		}
		w.endLine()
		p = p[i+1:]
	}
	return n, nil
}

// WriteLine passes one already-framed line (a multilang log message)
// under the same limits; a newline inside it is kept as is. A partial
// line buffered by Write is ended first.
func (w *Writer) WriteLine(line []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if len(w.buf) > 0 || w.cut > 0 {
		w.endLine()
	}
	w.take(line)
	w.endLine()
}

// Flush passes a buffered partial line as a line.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed && (len(w.buf) > 0 || w.cut > 0) {
		w.endLine()
	}
}

// Close flushes and reports the lines dropped since the last report,
// even with no tokens left. It is safe to call twice.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	if len(w.buf) > 0 || w.cut > 0 {
		w.endLine()
	}
	w.closed = true
	if w.pending > 0 {
		w.sink.Dropped(w.pending)
		w.pending = 0
	}
	return nil
}

// Dropped is how many lines the rate limit dropped so far.
func (w *Writer) Dropped() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// take appends b to the current line, keeping at most MaxLine bytes.
func (w *Writer) take(b []byte) {
	room := w.cfg.MaxLine - len(w.buf)
	if len(b) > room {
		w.cut += len(b) - room
		b = b[:room]
	}
	w.buf = append(w.buf, b...)
}

// endLine passes or drops the current line and starts the next.
func (w *Writer) endLine() {
	line := bytes.TrimSuffix(w.buf, []byte{'\r'})
	if w.allow() {
		if w.pending > 0 {
			w.sink.Dropped(w.pending)
			w.pending = 0
		}
		w.sink.Line(line, w.cut)
	} else {
		w.pending++
		w.dropped++
	}
	w.buf, w.cut = w.buf[:0], 0
}

// allow takes a token if there is one (a token bucket refilled at
// LinesPerSecond, holding at most Burst).
func (w *Writer) allow() bool {
	now := w.cfg.Now()
	if elapsed := now.Sub(w.last); elapsed > 0 {
		w.tokens = min(float64(w.cfg.Burst), w.tokens+elapsed.Seconds()*w.cfg.LinesPerSecond)
		w.last = now
	}
	if w.tokens < 1 {
		return false
	}
	w.tokens--
	return true
}
