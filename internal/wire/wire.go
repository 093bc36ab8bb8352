package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// ErrMalformed is returned by Decode for bytes that are not a frame body,
// and by AppendFrame for a Message that cannot be sent.
var ErrMalformed = errors.New("malformed wire message")

// HeaderLen is the size of a frame's header: a 4-byte big-endian body
// length, then an 8-byte big-endian sequence number (Seq).
const HeaderLen = 12

// TaskAddr names one task of one running topology on one node incarnation.
// It is comparable, so it keys maps.
type TaskAddr struct {
	Topology string
	// Boot is the boot id of the node that runs the task (new for every
	// process start): a batch for an earlier incarnation never reaches its
	// successor.
	Boot string
	Task topology.TaskID
}

// Valid reports whether a names a task at all: a topology, a boot id
// without a slash (boot ids are hex; a slash would make two addresses
// name one actor) and a task number of at least 1.
func (a TaskAddr) Valid() bool {
	return a.Topology != "" && a.Boot != "" && !strings.Contains(a.Boot, "/") && a.Task >= 1
}

func (a TaskAddr) String() string { return fmt.Sprintf("%s@%s#%d", a.Topology, a.Boot, a.Task) }

// Message is one batch for one task on another node. Payload is a
// *messages.TupleBatch, *messages.TrackerBatch or *messages.CompletionBatch.
type Message struct {
	To      TaskAddr
	Payload proto.Message
	size    int // the body's length, when Decode made the message
}

// Size is the size in bytes of m's frame body: the length of the body it
// was decoded from, or what encoding it takes (0 if it cannot be sent).
func (m Message) Size() int {
	if m.size > 0 {
		return m.size
	}
	env, err := envelope(m)
	if err != nil {
		return 0
	}
	return env.SizeVT()
}

// envelope wraps m for the wire.
func envelope(m Message) (*messages.Envelope, error) {
	if !m.To.Valid() {
		return nil, fmt.Errorf("%w: address %v", ErrMalformed, m.To)
	}
	if isNilPayload(m.Payload) {
		return nil, fmt.Errorf("%w: payload %T", ErrMalformed, m.Payload)
	}
	env := &messages.Envelope{ToTopology: m.To.Topology, ToBoot: m.To.Boot, ToTask: int32(m.To.Task)}
	switch b := m.Payload.(type) {
	case *messages.TupleBatch:
		env.Payload = &messages.Envelope_Tuples{Tuples: b}
	case *messages.TrackerBatch:
		env.Payload = &messages.Envelope_Tracker{Tracker: b}
	case *messages.CompletionBatch:
		env.Payload = &messages.Envelope_Completions{Completions: b}
	default:
		return nil, fmt.Errorf("%w: payload %T", ErrMalformed, m.Payload)
	}
	return env, nil
}

// AppendFrame appends m as one frame (header and body) to dst, with
// sequence number 0 (the transport's writer numbers frames as it sends
// them: SetSeq). A body larger than maxBody is refused (with ErrTooLarge),
// before anything is marshalled; Split cuts such a message to fit.
func AppendFrame(dst []byte, m Message, maxBody int) ([]byte, error) {
	env, err := envelope(m)
	if err != nil {
		return dst, err
	}
	if err := validUTF8(env); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	size := env.SizeVT()
	if size > maxBody {
		return dst, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, size, maxBody)
	}
	start := len(dst)
	// Marshal straight into the frame after its header: one allocation
	// and no copy per frame when dst has room. The generated codec
	// (MarshalToSizedBufferVT) fills exactly size bytes, back to front.
	if dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); cap(dst)-len(dst) < size {
		grown := make([]byte, len(dst), len(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	body := dst[len(dst) : len(dst)+size]
	if n, err := env.MarshalToSizedBufferVT(body); err != nil || n != size {
		return dst[:start], fmt.Errorf("%w: marshalled %d of %d bytes: %v", ErrMalformed, n, size, err)
	}
	dst = dst[:len(dst)+size]
	binary.BigEndian.PutUint32(dst[start:], uint32(size))
	return dst, nil
}

// ErrTooLarge is returned for a frame above the size limit.
var ErrTooLarge = errors.New("wire frame too large")

// BodyLen reads a frame's body length from its header.
func BodyLen(header [HeaderLen]byte) int { return int(binary.BigEndian.Uint32(header[:4])) }

// Seq reads a frame's sequence number from its header.
func Seq(header [HeaderLen]byte) uint64 { return binary.BigEndian.Uint64(header[4:]) }

// SetSeq writes seq into the header of frame (a frame AppendFrame made).
func SetSeq(frame []byte, seq uint64) { binary.BigEndian.PutUint64(frame[4:HeaderLen], seq) }

// Decode decodes a frame body (the bytes after the length prefix). Bytes
// that do not decode, or decode to a message without a valid address or
// payload, yield ErrMalformed. The Message does not alias body: callers
// may reuse it. The decoder is decode.go's.
func Decode(body []byte) (Message, error) {
	m := Message{size: len(body)}
	var d decoder
	if err := d.envelope(body, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case !m.To.Valid():
		return Message{}, fmt.Errorf("%w: address %v", ErrMalformed, m.To)
	case m.Payload == nil:
		return Message{}, fmt.Errorf("%w: no payload", ErrMalformed)
	}
	return m, nil
}

// isNilPayload reports whether p is not one of the three batches, or a
// nil one.
func isNilPayload(p proto.Message) bool {
	switch b := p.(type) {
	case *messages.TupleBatch:
		return b == nil
	case *messages.TrackerBatch:
		return b == nil
	case *messages.CompletionBatch:
		return b == nil
	}
	return true
}

// validUTF8 checks what protobuf's own Marshal checks and the generated
// codec does not: that every string is UTF-8 (Decode refuses a frame
// with one that is not, so it must not leave).
func validUTF8(env *messages.Envelope) error {
	ok := utf8.ValidString(env.ToTopology) && utf8.ValidString(env.ToBoot)
	switch p := env.Payload.(type) {
	case *messages.Envelope_Tuples:
		ok = ok && utf8.ValidString(p.Tuples.Topology)
		for _, t := range p.Tuples.Tuples {
			if !ok {
				break
			}
			ok = utf8.ValidString(t.GetStream()) && utf8.ValidString(t.GetSourceComponent()) && validValues(t.GetValues())
		}
	case *messages.Envelope_Tracker:
		ok = ok && utf8.ValidString(p.Tracker.Topology)
	case *messages.Envelope_Completions:
		ok = ok && utf8.ValidString(p.Completions.Topology)
	}
	if !ok {
		return errUTF8
	}
	return nil
}

func validValues(vs []*messages.Value) bool {
	for _, v := range vs {
		switch k := v.GetKind().(type) {
		case *messages.Value_Str:
			if k != nil && !utf8.ValidString(k.Str) {
				return false
			}
		case *messages.Value_List:
			if k != nil && !validValues(k.List.GetValues()) {
				return false
			}
		}
	}
	return true
}
