package frame

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Sentinel errors of Reader.Next. On any error the connection is done:
// close it.
var (
	// ErrFrameSize: a header announced 0 bytes or more than MaxFrame.
	ErrFrameSize = errors.New("frame: bad frame size")
	// ErrBudget: the frame does not fit the peer's memory Budget.
	ErrBudget = errors.New("frame: over the peer's memory budget")
)

// HeaderSize is the size of a frame's length prefix.
const HeaderSize = 4

// ReaderConfig bounds what reading a peer's frames may cost. Start from
// DefaultReaderConfig.
type ReaderConfig struct {
	// MaxFrame is the largest payload accepted, in bytes.
	MaxFrame int
	// InitialBuffer is the first allocation for a payload; the buffer
	// then doubles only once the bytes received have filled it.
	InitialBuffer int
	// KeepBuffer: a buffer grown beyond this is dropped (and its budget
	// released) once its frame is consumed, so one big frame does not pin
	// memory for the connection's life.
	KeepBuffer int
	// Budget, when set, is charged for the buffer's capacity.
	Budget *Budget
	// IdleTimeout bounds the wait for the next frame's header (an idle
	// connection is closed); 0: no bound.
	IdleTimeout time.Duration
	// FrameTimeout bounds receiving a frame's payload once its header came
	// (a half-sent frame is not held); 0: no bound.
	FrameTimeout time.Duration
}

// DefaultReaderConfig suits batches of the transport: 16 MiB frames at
// most, 64 KiB to start with, idle connections closed after 2 minutes
// (peers send heartbeats well within that), 30 s for a frame's payload.
func DefaultReaderConfig() ReaderConfig {
	return ReaderConfig{
		MaxFrame:      16 << 20,
		InitialBuffer: 64 << 10,
		KeepBuffer:    1 << 20,
		IdleTimeout:   2 * time.Minute,
		FrameTimeout:  30 * time.Second,
	}
}

func (c *ReaderConfig) validate() error {
	switch {
	case c.MaxFrame <= 0 || c.MaxFrame > 1<<31-1:
		return fmt.Errorf("frame: MaxFrame %d: want 1 to 2^31-1 bytes", c.MaxFrame)
	case c.InitialBuffer <= 0:
		return fmt.Errorf("frame: InitialBuffer %d: want a positive size", c.InitialBuffer)
	case c.KeepBuffer < 0:
		return fmt.Errorf("frame: KeepBuffer %d: want 0 or more", c.KeepBuffer)
	case c.IdleTimeout < 0 || c.FrameTimeout < 0:
		return fmt.Errorf("frame: negative timeout")
	}
	return nil
}

// deadliner is the part of net.Conn the Reader uses for its timeouts.
type deadliner interface {
	SetReadDeadline(time.Time) error
}

// Reader reads a peer's frames. Not safe for concurrent use: one
// goroutine reads a connection.
type Reader struct {
	cfg      ReaderConfig
	br       *bufio.Reader
	conn     deadliner // nil when r has no deadlines
	buf      []byte
	reserved int64 // of cfg.Budget, for buf's capacity
	hdr      [HeaderSize]byte
}

// NewReader reads frames from r (a net.Conn, a *tls.Conn: its read
// deadlines are set for the timeouts; a reader without deadlines gets
// none).
func NewReader(r io.Reader, cfg ReaderConfig) (*Reader, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	fr := &Reader{cfg: cfg, br: bufio.NewReaderSize(r, 64<<10)}
	fr.conn, _ = r.(deadliner)
	return fr, nil
}

// Next returns the next frame's payload, valid until the next call. It
// returns io.EOF when the peer closed between frames,
// io.ErrUnexpectedEOF inside one, ErrFrameSize, ErrBudget, or the
// connection's error (os.ErrDeadlineExceeded on a timeout).
func (fr *Reader) Next() ([]byte, error) {
	if cap(fr.buf) > fr.cfg.KeepBuffer {
		fr.drop()
	}
	if err := fr.deadline(fr.cfg.IdleTimeout); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(fr.br, fr.hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(fr.hdr[:])
	if n == 0 || uint64(n) > uint64(fr.cfg.MaxFrame) {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrFrameSize, n, fr.cfg.MaxFrame)
	}
	if err := fr.deadline(fr.cfg.FrameTimeout); err != nil {
		return nil, err
	}
	need := int(n)
	buf := fr.buf[:0]
	for len(buf) < need {
		if len(buf) == cap(buf) {
			grown := max(fr.cfg.InitialBuffer, 2*cap(buf))
			fr.buf = buf
			if err := fr.grow(min(need, grown)); err != nil {
				return nil, err
			}
			buf = fr.buf[:len(buf)]
		}
		m, err := io.ReadFull(fr.br, buf[len(buf):min(cap(buf), need)])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	fr.buf = buf
	return buf, nil
}

// Buffered is the capacity of the frame buffer now (what the Budget is
// charged).
func (fr *Reader) Buffered() int { return cap(fr.buf) }

// Close releases the Reader's budget. It does not close the connection.
// Safe to call twice.
func (fr *Reader) Close() { fr.drop() }

// grow makes fr.buf's capacity c (> its capacity now), keeping its
// contents, if the budget has room.
func (fr *Reader) grow(c int) error {
	delta := int64(c - cap(fr.buf))
	if b := fr.cfg.Budget; b != nil {
		if !b.TryReserve(delta) {
			return fmt.Errorf("%w: %d more bytes, %d of %d in use", ErrBudget, delta, b.Used(), b.Limit())
		}
		fr.reserved += delta
	}
	nb := make([]byte, len(fr.buf), c)
	copy(nb, fr.buf)
	fr.buf = nb
	return nil
}

func (fr *Reader) drop() {
	if fr.cfg.Budget != nil && fr.reserved > 0 {
		fr.cfg.Budget.Release(fr.reserved)
	}
	fr.reserved, fr.buf = 0, nil
}

// deadline bounds the next reads by d from now (0: unbounded).
func (fr *Reader) deadline(d time.Duration) error {
	if fr.conn == nil {
		return nil
	}
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	return fr.conn.SetReadDeadline(t)
}

// AppendFrame appends payload as one frame to b; ErrFrameSize if it is
// empty or over maxFrame (split the batch instead).
func AppendFrame(b, payload []byte, maxFrame int) ([]byte, error) {
	if len(payload) == 0 || len(payload) > maxFrame || uint64(len(payload)) > 1<<32-1 {
		return b, fmt.Errorf("%w: %d bytes (limit %d)", ErrFrameSize, len(payload), maxFrame)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...), nil
}
