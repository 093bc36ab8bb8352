package checkpoint_test

import (
	"errors"
	"testing"

	"github.com/squall-streams/squall/checkpoint"
)

func TestReceiverAccept(t *testing.T) {
	type in struct {
		epoch checkpoint.Epoch
		seq   checkpoint.Seq
	}
	tests := []struct {
		name    string
		ins     []in
		want    []bool  // process?
		wantErr []error // per element, nil or the sentinel
	}{
		{name: "in order", ins: []in{{1, 1}, {1, 2}, {1, 3}}, want: []bool{true, true, true}, wantErr: []error{nil, nil, nil}},
		{name: "gap is loss and sticks", ins: []in{{1, 1}, {1, 3}, {1, 2}, {1, 4}}, want: []bool{true, false, false, false},
			wantErr: []error{nil, checkpoint.ErrChannelLoss, checkpoint.ErrChannelLoss, checkpoint.ErrChannelLoss}},
		{name: "first element missing", ins: []in{{1, 2}}, want: []bool{false}, wantErr: []error{checkpoint.ErrChannelLoss}},
		{name: "duplicate", ins: []in{{1, 1}, {1, 2}, {1, 2}}, want: []bool{true, true, false},
			wantErr: []error{nil, nil, checkpoint.ErrChannelDuplicate}},
		{name: "older epoch dropped silently", ins: []in{{1, 7}, {2, 1}, {1, 8}, {2, 2}}, want: []bool{false, true, false, true},
			wantErr: []error{nil, nil, nil, nil}},
		{name: "future epoch", ins: []in{{3, 1}}, want: []bool{false}, wantErr: []error{checkpoint.ErrFutureEpoch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			epoch := checkpoint.Epoch(1)
			if tt.name == "older epoch dropped silently" {
				epoch = 2
			}
			r := checkpoint.NewReceiver(7, epoch)
			for i, e := range tt.ins {
				ok, err := r.Accept(e.epoch, e.seq)
				if ok != tt.want[i] {
					t.Errorf("element %d %+v: process = %v, want %v", i, e, ok, tt.want[i])
				}
				if !errors.Is(err, tt.wantErr[i]) || (err == nil) != (tt.wantErr[i] == nil) {
					t.Errorf("element %d %+v: err = %v, want %v", i, e, err, tt.wantErr[i])
				}
				var ce *checkpoint.ChannelError
				if err != nil && (!errors.As(err, &ce) || ce.From != 7) {
					t.Errorf("element %d: err %v is not a ChannelError from task 7", i, err)
				}
			}
		})
	}
}

func TestReceiverGapMessageAndReset(t *testing.T) {
	r := checkpoint.NewReceiver(3, 1)
	r.Accept(1, 1)
	_, err := r.Accept(1, 5)
	const want = "input channel from task 3, epoch 1: sequence gap, want 2, got 5 (3 elements lost): checkpoint: channel lost elements"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	r.Reset(2)
	if ok, err := r.Accept(2, 1); !ok || err != nil {
		t.Fatalf("after Reset(2): Accept(2,1) = %v, %v; want true, nil", ok, err)
	}
}

func TestReceiverTerminated(t *testing.T) {
	r := checkpoint.NewReceiver(4, 1)
	r.Accept(1, 1)
	cause := errors.New("endpoint terminated")
	err := r.Terminated(cause)
	if !errors.Is(err, checkpoint.ErrChannelLoss) || !errors.Is(err, cause) {
		t.Fatalf("Terminated = %v, want it to wrap ErrChannelLoss and the cause", err)
	}
	if ok, err2 := r.Accept(1, 2); ok || err2 != err {
		t.Fatalf("Accept after Terminated = %v, %v; want false and the same error", ok, err2)
	}
}

func TestSenderNumbersFromOnePerEpoch(t *testing.T) {
	s := checkpoint.NewSender(1)
	r := checkpoint.NewReceiver(1, 1)
	for range 3 {
		if ok, err := r.Accept(s.Next()); !ok || err != nil {
			t.Fatalf("Accept = %v, %v", ok, err)
		}
	}
	s.Reset(2)
	if e, q := s.Next(); e != 2 || q != 1 {
		t.Fatalf("after Reset(2): Next = (%d,%d), want (2,1)", e, q)
	}
}
