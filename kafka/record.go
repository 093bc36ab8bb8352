package kafka

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/topology"
)

// Record is one Kafka record: read by a spout (all fields set) or written by
// a bolt (Topic, Key, Value and Headers; the rest is ignored).
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte // nil when the record has no key
	Value     []byte
	Headers   []Header
	Timestamp time.Time
}

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// RecordTranslator maps a record read by the spout to a tuple: the stream
// to emit on (empty means the default stream) and its values, in the order
// of the fields declared for that stream in SpoutConfig.Streams. It runs on
// the spout's task goroutine and must not block.
//
// An error means the record can never be processed (its value cannot be
// decoded): the spout sends it to the dead-letter destination with the
// error, without retrying it. A panic counts as an error. Nil values and a
// nil error skip the record: it is acked at once, so commits move past it.
type RecordTranslator func(r Record) (topology.StreamID, topology.Values, error)

// DefaultFields are the fields of DefaultTranslator's tuples, Storm's.
var DefaultFields = []string{"topic", "partition", "offset", "key", "value"}

// DefaultTranslator emits every record on the default stream as
// (topic string, partition int32, offset int64, key []byte, value []byte).
// Read key and value with topology.Bytes.
func DefaultTranslator(r Record) (topology.StreamID, topology.Values, error) {
	return topology.DefaultStream, topology.Values{r.Topic, r.Partition, r.Offset, r.Key, r.Value}, nil
}

// DeadLetterStream is the stream a spout without a DeadLetterTopic emits
// dead letters on, with DeadLetterFields: the record's coordinates, its key
// and value, and why it was dead-lettered. The record is committed once the
// dead letter's tuple tree is acked; a failed tree emits it again.
const DeadLetterStream topology.StreamID = "dlq"

// DeadLetterFields are the fields of DeadLetterStream.
var DeadLetterFields = []string{"topic", "partition", "offset", "key", "value", "error"}

// Headers a spout adds to the records it writes to its DeadLetterTopic.
const (
	HeaderSourceTopic     = "squall.dlq.topic"
	HeaderSourcePartition = "squall.dlq.partition"
	HeaderSourceOffset    = "squall.dlq.offset"
	HeaderError           = "squall.dlq.error"
)

// ErrRetriesExhausted is the cause given to a dead letter whose record failed
// more often than Offsets.Retry.MaxRetries allows.
var ErrRetriesExhausted = errors.New("kafka: retries exhausted")

// TupleMapper maps a tuple to the record a bolt writes. Topic may be empty:
// the bolt's configured Topic is used, and without one the tuple is acked
// and skipped. It runs on the bolt's task goroutine and must not block.
type TupleMapper func(t topology.Tuple) (Record, error)

// recordOf converts a consumed message; headers are copied only when present.
func recordOf(m *sarama.ConsumerMessage) Record {
	r := Record{
		Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
		Key: m.Key, Value: m.Value, Timestamp: m.Timestamp,
	}
	if len(m.Headers) > 0 {
		r.Headers = make([]Header, 0, len(m.Headers))
		for _, h := range m.Headers {
			if h != nil {
				r.Headers = append(r.Headers, Header{Key: string(h.Key), Value: h.Value})
			}
		}
	}
	return r
}

// fieldBytes converts a tuple value to record bytes: nil stays nil, strings
// and byte slices are taken as they are, numbers and bools become text.
func fieldBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case uint32:
		return strconv.AppendUint(nil, uint64(x), 10), nil
	case float64:
		return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
	case float32:
		return strconv.AppendFloat(nil, float64(x), 'g', -1, 32), nil
	case bool:
		return strconv.AppendBool(nil, x), nil
	case fmt.Stringer:
		return []byte(x.String()), nil
	}
	return nil, fmt.Errorf("kafka: a %T cannot be written as record bytes; use string, []byte or a number", v)
}
