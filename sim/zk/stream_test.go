package zk

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func seqs(ps []packet) []uint64 {
	out := []uint64{}
	for _, p := range ps {
		out = append(out, p.seq)
	}
	return out
}

// The receiving side of a connection delivers in order, once, and holds early packets
// until the gap closes or is given up.
func TestInOrderRestoresTheSendersOrder(t *testing.T) {
	o := inOrder{next: 1}
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
		got, early := o.accept(packet{seq: s.arrives})
		require.Equal(t, s.delivered, seqs(got), "step %d: packet %d", i, s.arrives)
		require.Equal(t, s.early, early, "step %d: packet %d held early", i, s.arrives)
	}
	require.True(t, o.missing(5), "4 has not arrived")
	require.Equal(t, []uint64{5}, seqs(o.skipTo(5)), "giving up on 4 delivers 5")
	require.False(t, o.missing(5))
	got, _ := o.accept(packet{seq: 4})
	require.Empty(t, got, "a packet given up on is dropped when it finally arrives")
}
