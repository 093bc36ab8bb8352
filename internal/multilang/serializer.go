package multilang

import "fmt"

// Serializer names the framing of a multilang pipe. Both ends of one pipe
// must use the same one: the subprocess learns it from its command line
// (streamparse's `-s msgpack`), squall from the topology config.
type Serializer uint8

const (
	// JSON is Storm's default framing: each message is a JSON document
	// followed by a line containing exactly "end".
	JSON Serializer = iota + 1
	// Msgpack is pystorm's `-s msgpack` framing: a stream of self-delimiting
	// msgpack objects, one per message, with no "end" line.
	Msgpack
)

// Config keys and values that select a Serializer.
const (
	// SerializerKey is the Storm config key that selects the serializer.
	SerializerKey = "topology.multilang.serializer"
	// JSONSerializerClass is Storm's default (and only shipped) serializer.
	JSONSerializerClass = "org.apache.storm.multilang.JsonSerializer"
	// LegacyJSONSerializerClass is the same class under Storm 0.9's package
	// name, still found in old topology configs.
	LegacyJSONSerializerClass = "backtype.storm.multilang.JsonSerializer"
	// MsgpackSerializerClass is the Pyleus Java serializer users plug into
	// Storm to speak pystorm's msgpack framing.
	MsgpackSerializerClass = "com.yelp.pyleus.serializer.MessagePackSerializer"
	// MsgpackSerializerName is squall's short name for the msgpack framing.
	MsgpackSerializerName = "msgpack"
)

// String returns the name pystorm uses for the serializer ("json",
// "msgpack"), which is also what streamparse's `-s` flag takes.
func (s Serializer) String() string {
	switch s {
	case JSON:
		return "json"
	case Msgpack:
		return "msgpack"
	default:
		return fmt.Sprintf("Serializer(%d)", uint8(s))
	}
}

func (s Serializer) valid() bool { return s == JSON || s == Msgpack }

// ParseSerializer maps a value of topology.multilang.serializer to a
// Serializer: "", "json", JSONSerializerClass and its Storm 0.9 name select JSON; MsgpackSerializerClass
// and "msgpack" select Msgpack. Anything else is an error that wraps
// ErrUnknownSerializer and names the key and the value.
func ParseSerializer(value string) (Serializer, error) {
	switch value {
	case "", JSONSerializerClass, LegacyJSONSerializerClass, "json":
		return JSON, nil
	case MsgpackSerializerClass, MsgpackSerializerName:
		return Msgpack, nil
	default:
		return 0, fmt.Errorf("multilang: %s: %w %q: want %q (the default), %q or %q",
			SerializerKey, ErrUnknownSerializer, value,
			JSONSerializerClass, MsgpackSerializerClass, MsgpackSerializerName)
	}
}

// SerializerFromConf reads SerializerKey from a topology config. An absent
// or null key selects JSON, like Storm; a value that is not a string is an
// error naming the key and the value's type.
func SerializerFromConf(conf map[string]any) (Serializer, error) {
	v, ok := conf[SerializerKey]
	if !ok || v == nil {
		return JSON, nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("multilang: %s: %w: got %T %v, want a string",
			SerializerKey, ErrUnknownSerializer, v, v)
	}
	return ParseSerializer(s)
}
