package zab

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bounded memory: a peer keeps DiffTxnsMax committed txns below its latest snapshot, the
// txns committed since, and the uncommitted ones; everything older is dropped, by zab itself
// after its own periodic snapshot is durable, or by Peer.Compact when the host snapshots.

// retainedBound is the most txns a peer may hold: DiffTxnsMax below the snapshot point, up
// to twice the snapshot interval above it (the next snapshot is taken after one interval and
// the log is compacted only once it is durable, or, for host snapshots, once the log below
// it is durable), and the leader's in-flight window.
func retainedBound(opt harnessOptions) int {
	every := max(opt.snapshotEveryTxns, opt.hostSnapshotEveryTxns)
	return opt.diffTxnsMax + 2*every + opt.inFlightMax
}

// TestRetainedLogStaysBoundedUnderEndlessWrites pushes 200k txns (a tenth with -short)
// through 3 voters and an observer, with the host taking the snapshots as zab/node's does,
// and 50k with zab's own periodic snapshots; it samples every peer's retained log all along:
// it must stay under retainedBound, and the retained byte count must equal the txns' data.
func TestRetainedLogStaysBoundedUnderEndlessWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int
		set   func(*harnessOptions)
	}{
		{"host snapshots and Compact", 200_000, func(o *harnessOptions) { o.hostSnapshotEveryTxns = 10_000 }},
		{"zab snapshots", 50_000, func(o *harnessOptions) { o.snapshotEveryTxns = 10_000 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total := tc.total
			if testing.Short() {
				total /= 10
			}
			opt := defaultOptions(3, 1)
			opt.proposeEveryMillis, opt.windowTxns = 1, 64
			opt.diffTxnsMax, opt.inFlightMax = 500, 200
			tc.set(&opt)
			c := newCluster(t, 7, opt)
			c.noTrace, c.noCheck = true, true
			c.awaitProgress(50)
			bound := retainedBound(opt)
			peak := map[PeerID]int{}
			for steps := 0; c.stats.delivered < 4*total; steps++ {
				if !c.step(c.now + 1000) {
					t.Fatalf("the ensemble went idle after %d deliveries (seed 7)", c.stats.delivered)
				}
				if steps%4096 != 0 {
					continue
				}
				for _, id := range c.ids {
					n := c.nodes[id]
					txns, bytes := n.peer.Retained()
					peak[id] = max(peak[id], txns)
					require.LessOrEqual(t, txns, bound,
						"node %d holds %d txns after %d deliveries; expected at most diffTxnsMax+2*snapshot interval+inFlight = %d (seed 7)",
						id, txns, c.stats.delivered, bound)
					require.Equal(t, sumDataBytes(n.peer.log.entries), bytes, "node %d: Retained bytes must be the sum of the logged txns' data", id)
				}
			}
			for _, id := range c.ids {
				n := c.nodes[id]
				base, _ := n.peer.History()
				require.Greater(t, base, Zxid(0), "node %d never compacted its log in %d txns", id, total)
				require.LessOrEqual(t, len(n.durable.log), bound, "node %d's disk log was not trimmed by snapshots either", id)
			}
			t.Logf("%d txns committed on 4 peers; peak retained txns per peer %v (bound %d)", total, peak, bound)
		})
	}
}

// TestHostSnapshotsUnderFaults runs the fault mix with the host taking the snapshots and
// compacting through Peer.Compact, with short DIFF windows so that laggards need SNAP: every
// ZAB invariant holds and the healed ensemble makes progress.
func TestHostSnapshotsUnderFaults(t *testing.T) {
	for _, seed := range seeds(t, 30) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			voters, observers := 3, int(seed%2)
			if seed%5 == 0 {
				voters = 5
			}
			opt := faultyOptions(seed, voters, observers)
			opt.snapshotEveryTxns = 0
			opt.hostSnapshotEveryTxns = 1 + int(seed%13)
			opt.diffTxnsMax = 1 + int(seed%7)
			c := newCluster(t, seed, opt)
			c.runFaults(3000)
			c.heal()
			c.awaitProgress(livenessBoundTicks)
			c.run(c.now + 200)
			c.finish()
		})
	}
}

func TestCompactKeepsDiffTxnsMaxAndRefusesWhatWasNotApplied(t *testing.T) {
	opt := defaultOptions(1, 0)
	opt.diffTxnsMax = 2
	c := newCluster(t, 3, opt)
	c.awaitProgress(50)
	c.run(c.now + 100)
	c.opt.proposeEveryMillis = 0
	c.run(c.now + 200)
	p := c.nodes[1].peer
	committed := p.Committed()
	require.Greater(t, committed.Counter(), uint32(3), "the single voter must have committed a few txns")
	require.Equal(t, committed, p.LastLogged(), "no client load: everything logged is committed")

	require.ErrorContains(t, p.Compact(committed+1), "beyond the last applied txn",
		"compacting above the commit point must be refused")
	require.ErrorContains(t, p.Compact(MakeZxid(committed.Epoch()-1, 7)), "not a txn of the history",
		"a zxid the history does not hold must be refused")

	require.NoError(t, p.Compact(committed), "compacting at the commit point")
	txns, bytes := p.Retained()
	base, zxids := p.History()
	require.Equal(t, []Zxid{committed - 1, committed}, zxids, "DiffTxnsMax=2 txns stay up to the compaction point")
	require.Equal(t, committed-2, base, "the history now starts after the txn below them")
	require.Equal(t, 2, txns)
	require.Equal(t, len(c.nodes[1].sm.values[len(c.nodes[1].sm.values)-1])+len(c.nodes[1].sm.values[len(c.nodes[1].sm.values)-2]), bytes,
		"retained bytes are the data of the two txns kept")
	require.NoError(t, p.Compact(committed-1), "compacting at or below an earlier point is a no-op")
	_, again := p.History()
	require.Equal(t, zxids, again)
}
