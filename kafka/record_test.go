package kafka

import (
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/squall-streams/squall/topology"
)

type stringer struct{}

func (stringer) String() string { return "str" }

func TestFieldBytes(t *testing.T) {
	tests := []struct {
		v    any
		want string
		nil_ bool
		bad  bool
	}{
		{nil, "", true, false},
		{"word", "word", false, false},
		{[]byte("raw"), "raw", false, false},
		{42, "42", false, false},
		{int64(-7), "-7", false, false},
		{int32(3), "3", false, false},
		{uint32(9), "9", false, false},
		{1.5, "1.5", false, false},
		{float32(0.25), "0.25", false, false},
		{true, "true", false, false},
		{stringer{}, "str", false, false},
		{struct{}{}, "", false, true},
	}
	for _, tt := range tests {
		got, err := fieldBytes(tt.v)
		if (err != nil) != tt.bad || string(got) != tt.want || (got == nil) != (tt.nil_ || tt.bad) {
			t.Errorf("fieldBytes(%#v) = %q, %v", tt.v, got, err)
		}
	}
}

func TestMapFields(t *testing.T) {
	fields := topology.Fields{"dest", "key", "message"}
	tu := func(vals ...any) topology.Tuple {
		return topology.NewTuple("c", 1, topology.DefaultStream, fields, vals)
	}
	tests := []struct {
		name                 string
		t                    topology.Tuple
		topicField, keyField string
		want                 Record
		wantErr              string
	}{
		{"topic from config", tu("", "k", "v"), "", "key", Record{Topic: "def", Key: []byte("k"), Value: []byte("v")}, ""},
		{"topic from field", tu("other", "k", 7), "dest", "key", Record{Topic: "other", Key: []byte("k"), Value: []byte("7")}, ""},
		{"empty topic field falls back", tu("", nil, "v"), "dest", "key", Record{Topic: "def", Value: []byte("v")}, ""},
		{"no key field", tu("", "k", "v"), "", "nokey", Record{Topic: "def", Value: []byte("v")}, ""},
		{"bad key", tu("", struct{}{}, "v"), "", "key", Record{}, `field "key"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MapFields(tt.t, "def", tt.topicField, tt.keyField, "message")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("MapFields() error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Topic != tt.want.Topic || string(got.Key) != string(tt.want.Key) || (got.Key == nil) != (tt.want.Key == nil) || string(got.Value) != string(tt.want.Value) {
				t.Fatalf("MapFields() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	other := topology.NewTuple("c", 1, topology.DefaultStream, topology.Fields{"x"}, topology.Values{1})
	if _, err := MapFields(other, "def", "", "key", "message"); err == nil || !strings.Contains(err.Error(), `no field "message"`) {
		t.Fatalf("missing value field: %v", err)
	}
}

func TestRecordOfAndDeadLetterMessage(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	m := &sarama.ConsumerMessage{
		Topic: "in", Partition: 2, Offset: 41, Key: []byte("k"), Value: []byte("v"), Timestamp: ts,
		Headers: []*sarama.RecordHeader{{Key: []byte("h"), Value: []byte("1")}, nil},
	}
	r := recordOf(m)
	if r.Topic != "in" || r.Partition != 2 || r.Offset != 41 || string(r.Key) != "k" || string(r.Value) != "v" ||
		!r.Timestamp.Equal(ts) || len(r.Headers) != 1 || r.Headers[0].Key != "h" {
		t.Fatalf("recordOf() = %+v", r)
	}
	if _, vals, err := DefaultTranslator(r); err != nil || len(vals) != len(DefaultFields) || vals[2] != int64(41) {
		t.Fatalf("DefaultTranslator() = %v, %v", vals, err)
	}
	pm := deadLetterMessage("dlq", m, ErrRetriesExhausted)
	h := map[string]string{}
	for _, x := range pm.Headers {
		h[string(x.Key)] = string(x.Value)
	}
	want := map[string]string{"h": "1", HeaderSourceTopic: "in", HeaderSourcePartition: "2", HeaderSourceOffset: "41", HeaderError: ErrRetriesExhausted.Error()}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("header %s = %q, want %q", k, h[k], v)
		}
	}
	if pm.Topic != "dlq" || pm.Key == nil || pm.Value == nil {
		t.Errorf("dead letter %+v", pm)
	}
	if pm := deadLetterMessage("dlq", &sarama.ConsumerMessage{}, ErrRetriesExhausted); pm.Key != nil || pm.Value != nil {
		t.Errorf("nil key and value became %v, %v", pm.Key, pm.Value)
	}
}
