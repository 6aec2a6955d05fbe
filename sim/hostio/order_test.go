package hostio

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func seqs(ps []Packet[string]) []uint64 {
	out := []uint64{}
	for _, p := range ps {
		out = append(out, p.Seq)
	}
	return out
}

// The receiving side of a connection delivers in order, once, and holds early packets
// until the gap closes or is given up.
func TestInOrderRestoresTheSendersOrder(t *testing.T) {
	o := NewInOrder[string](1)
	steps := []struct {
		arrives   uint64
		delivered []uint64
		early     bool
	}{
		{1, []uint64{1}, false},
		{3, []uint64{}, true},      // early: held
		{3, []uint64{}, false},     // its duplicate: dropped, not held twice
		{1, []uint64{}, false},     // a late duplicate: dropped
		{2, []uint64{2, 3}, false}, // the gap closes: both, in order
		{5, []uint64{}, true},
	}
	for i, s := range steps {
		got, early := o.Accept(Packet[string]{Seq: s.arrives})
		require.Equal(t, s.delivered, seqs(got), "step %d: packet %d", i, s.arrives)
		require.Equal(t, s.early, early, "step %d: packet %d held early", i, s.arrives)
	}
	require.True(t, o.Missing(5), "4 has not arrived")
	require.Equal(t, []uint64{5}, seqs(o.SkipTo(5)), "giving up on 4 delivers 5")
	require.False(t, o.Missing(5))
	require.Empty(t, o.SkipTo(5), "nothing left to give up on")
	got, _ := o.Accept(Packet[string]{Seq: 4})
	require.Empty(t, got, "a packet given up on is dropped when it finally arrives")
}

// A connection can start at any sequence number (a peer connection starts at the first
// packet seen), and a gap given up delivers everything held past it in order.
func TestInOrderSkipsAGapToTheHeldPackets(t *testing.T) {
	o := NewInOrder[string](7)
	for _, seq := range []uint64{10, 9} {
		got, early := o.Accept(Packet[string]{Seq: seq, Body: "x"})
		require.Empty(t, got, "packet %d arrives before 7 and 8", seq)
		require.True(t, early, "packet %d is held", seq)
	}
	require.Equal(t, []uint64{9, 10}, seqs(o.SkipTo(9)), "giving up on 7 and 8 delivers 9 and 10")
	got, _ := o.Accept(Packet[string]{Seq: 11})
	require.Equal(t, []uint64{11}, seqs(got))
}

func TestGapWaitCoversTheSlowestCopy(t *testing.T) {
	const ms = time.Millisecond
	require.Equal(t, 5*ms+time.Microsecond, GapWait(10*ms, 7*ms, 12*ms), "sent at 10ms, copies arrive by 17ms")
	require.Zero(t, GapWait(10*ms, 7*ms, 30*ms), "the wait is over already")
}
