package multilang

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// TestInbox replays the interleaving of the bolt golden session: a bolt
// waiting for the task ids of its emit first reads a heartbeat.
func TestInbox(t *testing.T) {
	for _, s := range serializers {
		t.Run(s.String(), func(t *testing.T) {
			in := encodeAll(t, s, []Message{
				Tuple{ID: StringID("1"), Comp: "c", Stream: "default", Task: 1, Values: []any{"a"}},
				NewHeartbeat(StringID("2")),
				TaskIDs{4, 5},
				TaskIDs{6},
				Tuple{ID: StringID("3"), Comp: "c", Stream: "default", Task: 1, Values: []any{"b"}},
			})
			inbox := NewInbox(newTestDecoder(t, bytes.NewReader(in), s, FromSquall))
			steps := []struct {
				taskIDs bool
				want    Message
			}{
				{false, Tuple{ID: StringID("1"), Comp: "c", Stream: "default", Task: 1, Values: []any{"a"}}},
				{true, TaskIDs{4, 5}}, // queues the heartbeat
				{false, NewHeartbeat(StringID("2"))},
				{false, Tuple{ID: StringID("3"), Comp: "c", Stream: "default", Task: 1, Values: []any{"b"}}}, // queues [6]
				{true, TaskIDs{6}},
			}
			for i, st := range steps {
				var (
					got Message
					err error
				)
				if st.taskIDs {
					got, err = inbox.ReadTaskIDs()
				} else {
					got, err = inbox.ReadCommand()
				}
				if err != nil || !reflect.DeepEqual(got, st.want) {
					t.Fatalf("step %d: got %#v, %v; want %#v", i, got, err, st.want)
				}
			}
			if c, ids := inbox.Pending(); c != 0 || ids != 0 {
				t.Errorf("Pending() = %d, %d", c, ids)
			}
			if _, err := inbox.ReadCommand(); !errors.Is(err, io.EOF) {
				t.Errorf("at the end: %v, want EOF", err)
			}
		})
	}
}

func TestInboxBounded(t *testing.T) {
	var msgs []Message
	for range 5 {
		msgs = append(msgs, Next{})
	}
	inbox := NewInbox(newTestDecoder(t, bytes.NewReader(encodeAll(t, JSON, msgs)), JSON, FromSquall))
	inbox.maxPending = 3
	if _, err := inbox.ReadTaskIDs(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error = %v, want ErrTooLarge", err)
	}
	msgs = []Message{TaskIDs{1}, TaskIDs{2}, TaskIDs{3}, TaskIDs{4}, Next{}}
	inbox = NewInbox(newTestDecoder(t, bytes.NewReader(encodeAll(t, JSON, msgs)), JSON, FromSquall))
	inbox.maxPending = 3
	if _, err := inbox.ReadCommand(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error = %v, want ErrTooLarge", err)
	}
}
