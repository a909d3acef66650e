package ecsexec

import (
	"time"
)

// reorder puts the agent's output frames back in sequence order. The agent
// numbers its stream frames from 0, resends a frame until it is acknowledged
// and acknowledges nothing out of order itself, so a client sees duplicates
// and, after a lost frame, later frames first (agent datachannel.go,
// ResendStreamDataMessageScheduler; plugin streaming.go, HandleOutputMessage
// buffers such frames in IncomingMessageBuffer). Unlike the plugin, whose
// buffer holds 10000 frames and silently drops the rest, reorder accepts a
// frame only within max frames of the next expected one and reports a gap
// that stays open too long, so memory and waiting are both bounded.
type reorder struct {
	next     int64
	max      int
	pending  map[int64]Message
	gapSince time.Time
}

func newReorder(max int) *reorder {
	return &reorder{max: max, pending: make(map[int64]Message)}
}

// add files m and returns the frames now deliverable in order. dup reports a
// frame already delivered or already buffered; it is to be acknowledged
// again (the agent resends until it sees an acknowledgement) and dropped.
func (r *reorder) add(m Message, now time.Time) (ready []Message, dup bool, err error) {
	switch {
	case m.Sequence < r.next:
		return nil, true, nil
	case m.Sequence > r.next:
		if m.Sequence-r.next > int64(r.max) {
			return nil, false, &SequenceError{Expected: r.next, Got: m.Sequence,
				Reason: "gap wider than the out-of-order window"}
		}
		if _, ok := r.pending[m.Sequence]; ok {
			return nil, true, nil
		}
		if len(r.pending) == 0 {
			r.gapSince = now
		}
		r.pending[m.Sequence] = m
		return nil, false, nil
	}
	ready = append(ready, m)
	r.next++
	for {
		p, ok := r.pending[r.next]
		if !ok {
			break
		}
		delete(r.pending, r.next)
		ready = append(ready, p)
		r.next++
	}
	if len(r.pending) > 0 {
		r.gapSince = now // progress: the remaining gap starts now
	}
	return ready, false, nil
}

// stalled returns a SequenceError when frames wait behind a gap that has
// been open for longer than timeout.
func (r *reorder) stalled(now time.Time, timeout time.Duration) error {
	if len(r.pending) == 0 || now.Sub(r.gapSince) <= timeout {
		return nil
	}
	return &SequenceError{Expected: r.next, Got: r.lowestPending(),
		Reason: "missing frame never arrived"}
}

// open returns a SequenceError when the channel closed with frames still
// waiting behind a gap: the output would be incomplete.
func (r *reorder) open() error {
	if len(r.pending) == 0 {
		return nil
	}
	return &SequenceError{Expected: r.next, Got: r.lowestPending(),
		Reason: "channel closed with a gap in the output"}
}

func (r *reorder) lowestPending() int64 {
	low := int64(-1)
	for s := range r.pending {
		if low < 0 || s < low {
			low = s
		}
	}
	return low
}

// outbox holds our sent stream frames until the agent acknowledges them.
// The agent acknowledges a frame only once it processed it, and drops
// (without acknowledging) input that arrives before its pty is ready
// (agent shell_unix.go, InputStreamMessageHandler returns
// ErrHandlerNotReady), so unacknowledged frames are resent, oldest first, as
// the plugin does (streaming.go, ResendStreamDataMessageScheduler).
type outbox struct {
	next    int64
	window  int
	unacked []sentFrame
}

type sentFrame struct {
	seq       int64
	raw       []byte
	firstSent time.Time
	lastSent  time.Time
}

func newOutbox(window int) *outbox { return &outbox{window: window} }

// room reports whether another frame may be sent before acknowledgements
// arrive.
func (o *outbox) room() bool { return len(o.unacked) < o.window }

// seq returns the sequence number for the next frame and advances it.
func (o *outbox) seq() int64 {
	s := o.next
	o.next++
	return s
}

func (o *outbox) sent(seq int64, raw []byte, now time.Time) {
	o.unacked = append(o.unacked, sentFrame{seq: seq, raw: raw, firstSent: now, lastSent: now})
}

// ack forgets the frame with sequence number seq. Unknown numbers (a
// duplicate acknowledgement) are ignored.
func (o *outbox) ack(seq int64) {
	for i, f := range o.unacked {
		if f.seq == seq {
			o.unacked = append(o.unacked[:i], o.unacked[i+1:]...)
			return
		}
	}
}

// due returns the oldest frame when it waited longer than interval since it
// was last sent, and marks it sent now.
func (o *outbox) due(now time.Time, interval time.Duration) []byte {
	if len(o.unacked) == 0 || now.Sub(o.unacked[0].lastSent) < interval {
		return nil
	}
	o.unacked[0].lastSent = now
	return o.unacked[0].raw
}

// overdue returns an AckTimeoutError for a frame first sent more than
// timeout ago.
func (o *outbox) overdue(now time.Time, timeout time.Duration) error {
	for _, f := range o.unacked {
		if w := now.Sub(f.firstSent); w > timeout {
			return &AckTimeoutError{Sequence: f.seq, Waited: w.Round(time.Millisecond)}
		}
	}
	return nil
}
