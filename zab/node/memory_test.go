package node

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// TestRetainedLogStaysBoundedUnderWrites writes through a follower of three members with a
// small snapCount and DIFF window: every member's in-memory log must stay within
// 2*DiffTxnsMax + the in-flight window, and the member's snapshots must trim the disks'
// logs to about one snapCount.
func TestRetainedLogStaysBoundedUnderWrites(t *testing.T) {
	const snapCount, diffTxnsMax, writes = 100, 50, 3000
	w := newWorld(t, 5, worldOptions{members: 3, snapCount: snapCount, configure: func(c *Config) { c.DiffTxnsMax = diffTxnsMax }})
	w.stable()
	target := w.follower()
	require.NotNil(t, target, "a follower to write through (seed 5)")
	c := w.session(target.id)
	require.Equal(t, wire.ErrOK, c.do(wire.OpCreate, createReq("/k", "", wire.ModePersistent)).Header.Err)
	const bound = 2*diffTxnsMax + 16
	peak := make([]int, len(w.members))
	for i := range writes {
		r := c.do(wire.OpSetData, &wire.SetDataRequest{Path: "/k", Data: fmt.Appendf(nil, "value %d", i), Version: -1})
		require.Equal(t, wire.ErrOK, r.Header.Err, "write %d (seed 5)", i)
		c.received = c.received[:0]
		for j, m := range w.members {
			txns := m.n.Stats().LogTxns
			peak[j] = max(peak[j], txns)
			require.LessOrEqual(t, txns, bound, "member %d holds %d txns after %d writes; expected at most 2*DiffTxnsMax+16 = %d (seed 5)",
				m.id, txns, i, bound)
		}
	}
	for _, m := range w.members {
		require.Positive(t, m.snapshots, "member %d saved no snapshot in %d writes", m.id, writes)
		require.LessOrEqual(t, len(m.durable.log), 2*snapCount, "member %d's disk log was not trimmed behind its snapshots", m.id)
	}
	t.Logf("%d writes; peak retained txns per member %v (bound %d)", writes, peak, bound)
}
