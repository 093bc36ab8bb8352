package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Magic opens every transport connection.
const Magic = "SQWL"

// Version is the transport protocol this build speaks; MinVersion the
// oldest it still accepts.
const (
	Version    uint16 = 1
	MinVersion uint16 = 1
)

// HelloSize is the size of a Hello on the wire.
const HelloSize = 8

// Sentinel errors of the handshake.
var (
	// ErrNotSquall: the peer did not open with Magic (random bytes, another
	// protocol).
	ErrNotSquall = errors.New("frame: not a squall transport connection")
	// ErrVersion: the peer speaks no version this build accepts.
	ErrVersion = errors.New("frame: unsupported transport version")
)

// Hello is what each side sends first.
type Hello struct {
	Version uint16
}

// AppendHello appends h's wire form to b.
func AppendHello(b []byte, h Hello) []byte {
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	return binary.BigEndian.AppendUint16(b, 0)
}

// WriteHello writes h to w.
func WriteHello(w io.Writer, h Hello) error {
	_, err := w.Write(AppendHello(make([]byte, 0, HelloSize), h))
	return err
}

// ReadHello reads the peer's Hello: ErrNotSquall unless it opens with
// Magic and a zero reserved field, ErrVersion unless its version is in
// [MinVersion, Version]. The caller bounds the read with a deadline.
func ReadHello(r io.Reader) (Hello, error) {
	var b [HelloSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Hello{}, fmt.Errorf("frame: hello: %w", err)
	}
	if string(b[:4]) != Magic || binary.BigEndian.Uint16(b[6:]) != 0 {
		return Hello{}, ErrNotSquall
	}
	h := Hello{Version: binary.BigEndian.Uint16(b[4:6])}
	if h.Version < MinVersion || h.Version > Version {
		return h, fmt.Errorf("%w: peer speaks %d, this node %d to %d", ErrVersion, h.Version, MinVersion, Version)
	}
	return h, nil
}
