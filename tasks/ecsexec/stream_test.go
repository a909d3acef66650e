package ecsexec

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestReorder(t *testing.T) {
	tests := []struct {
		name    string
		in      []int64
		want    []int64 // delivered, in order
		dups    int
		wantErr bool
	}{
		{"in order", []int64{0, 1, 2}, []int64{0, 1, 2}, 0, false},
		{"swapped", []int64{1, 0, 3, 2}, []int64{0, 1, 2, 3}, 0, false},
		{"duplicates", []int64{0, 0, 1, 1, 2}, []int64{0, 1, 2}, 2, false},
		{"buffered duplicate", []int64{2, 2, 0, 1}, []int64{0, 1, 2}, 1, false},
		{"gap stays open", []int64{0, 2, 3}, []int64{0}, 0, false},
		{"beyond the window", []int64{0, 6}, []int64{0}, 0, true},
		{"edge of the window", []int64{4, 0, 1, 2, 3}, []int64{0, 1, 2, 3, 4}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReorder(4)
			var got []int64
			dups := 0
			var err error
			for _, s := range tt.in {
				var ready []Message
				var dup bool
				ready, dup, err = r.add(Message{Sequence: s}, time.Now())
				if err != nil {
					break
				}
				if dup {
					dups++
				}
				for _, m := range ready {
					got = append(got, m.Sequence)
				}
			}
			var se *SequenceError
			if tt.wantErr != errors.As(err, &se) {
				t.Fatalf("error %v; want a SequenceError: %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) || dups != tt.dups {
				t.Errorf("delivered %v with %d duplicates; want %v with %d", got, dups, tt.want, tt.dups)
			}
		})
	}
}

func TestReorderGapTimeout(t *testing.T) {
	r := newReorder(8)
	t0 := time.Now()
	r.add(Message{Sequence: 0}, t0)
	r.add(Message{Sequence: 2}, t0)
	if err := r.stalled(t0.Add(time.Second), 2*time.Second); err != nil {
		t.Fatalf("stalled too early: %v", err)
	}
	if err := r.open(); err == nil {
		t.Errorf("open() = nil with frame 1 missing")
	}
	var se *SequenceError
	if err := r.stalled(t0.Add(3*time.Second), 2*time.Second); !errors.As(err, &se) || se.Expected != 1 || se.Got != 2 {
		t.Errorf("stalled = %v; want expected 1, got 2", err)
	}
}

func TestOutbox(t *testing.T) {
	o := newOutbox(2)
	t0 := time.Now()
	for i := 0; i < 2; i++ {
		s := o.seq()
		o.sent(s, []byte{byte(s)}, t0)
	}
	if o.room() {
		t.Errorf("room() with a full window")
	}
	if raw := o.due(t0.Add(100*time.Millisecond), time.Second); raw != nil {
		t.Errorf("resent before the interval")
	}
	if raw := o.due(t0.Add(2*time.Second), time.Second); len(raw) != 1 || raw[0] != 0 {
		t.Errorf("due = %v; want the oldest frame, 0", raw)
	}
	o.ack(0)
	o.ack(0) // a duplicate acknowledgement changes nothing
	if !o.room() {
		t.Errorf("no room after an acknowledgement")
	}
	var at *AckTimeoutError
	if err := o.overdue(t0.Add(31*time.Second), 30*time.Second); !errors.As(err, &at) || at.Sequence != 1 {
		t.Errorf("overdue = %v; want frame 1", err)
	}
}
