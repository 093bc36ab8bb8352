package multilang

import "errors"

// Sentinel errors. Every error a Decoder returns wraps exactly one of the
// first six with %w, so a shell task can branch with errors.Is; the message
// around it says which message and field were wrong.
var (
	// ErrBrokenPipe means the stream ended or could not be read: the
	// subprocess exited or closed its stdout (Storm: "Pipe to subprocess
	// seems to be broken!"; pystorm: StormWentAwayError). At a message
	// boundary the error also wraps io.EOF; in the middle of a message it
	// wraps io.ErrUnexpectedEOF; any other read error is wrapped as is.
	ErrBrokenPipe = errors.New("pipe to subprocess is broken")

	// ErrTooLarge means one message is larger than the decoder's
	// MaxMessageSize (or, for an Inbox, too many messages were queued).
	ErrTooLarge = errors.New("message too large")

	// ErrMalformed means the bytes are not one JSON document followed by an
	// "end" line, or not a well-formed msgpack object.
	ErrMalformed = errors.New("malformed message")

	// ErrUnknownCommand means a "command" this side of the pipe never
	// receives, such as "next" from a subprocess or "foo" from anyone.
	ErrUnknownCommand = errors.New("unknown command")

	// ErrMissingField means a field the message needs is absent or null.
	ErrMissingField = errors.New("missing required field")

	// ErrWrongType means a field, or the message itself, has the wrong JSON
	// type (a number where a string belongs, an object where a task-id list
	// belongs, a msgpack extension type in a tuple value, ...).
	ErrWrongType = errors.New("wrong field type")

	// ErrUnsupportedValue is returned by the encoders for a Go value that has
	// no multilang form (NaN in JSON, a channel, a cyclic list).
	ErrUnsupportedValue = errors.New("unsupported value")

	// ErrUnknownSerializer is returned by ParseSerializer and
	// SerializerFromConf for a topology.multilang.serializer they don't know.
	ErrUnknownSerializer = errors.New("unknown multilang serializer")
)
