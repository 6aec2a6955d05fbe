package cluster

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/storage"
)

func TestObserverFollowsAnEpochBelowItsAcceptedEpoch(t *testing.T) {
	// An observer that accepted epoch 7 from a failed leader attempt follows the ensemble's
	// epoch 1 (zab: its acks promise nothing). Its currentEpoch goes to 1, below the
	// acceptedEpoch 7 it keeps, which storage allows: currentEpoch never decreases and never
	// passes acceptedEpoch. (A durable currentEpoch above the ensemble's epoch would be
	// refused, failing the run, but it needs a voter quorum to have lost its acceptedEpoch:
	// an observer writes currentEpoch e only after a quorum of voters durably accepted e.)
	o := Quiet(1)
	o.Observers = 1
	o.Hooks.Start = func(c *Cluster) {
		w := c.World()
		w.Crash("s4")
		d := c.Disk("s4")
		require.NoError(t, storage.WriteEpoch(d, storage.AcceptedEpochFile, 7))
		w.Restart("s4")
	}
	r := Run(o)
	requireOK(t, r)
	require.Equal(t, 1, r.Stats.LowerEpochFollows, "s4 writes currentEpoch 1 below its acceptedEpoch 7 once: %+v", r.Stats)
}
