package zab

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bounded memory: a peer keeps at most 2*DiffTxnsMax committed txns in memory, plus the
// uncommitted ones, whatever the snapshots do (trimLog).

// retainedBound is the most txns a peer in steady broadcast may hold: 2*DiffTxnsMax-1
// committed ones before a trim, and the leader's in-flight window of uncommitted ones.
func retainedBound(opt harnessOptions) int { return 2*opt.diffTxnsMax + opt.inFlightMax }

// TestRetainedLogStaysBoundedUnderEndlessWrites pushes 200k txns (a tenth with -short)
// through 3 voters and an observer whose host takes the snapshots, as zab/node's does, and
// 50k with zab's own periodic snapshots, and samples every peer's retained log all along:
// it must stay under retainedBound, and the retained byte count must equal the txns' data.
func TestRetainedLogStaysBoundedUnderEndlessWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int
		set   func(*harnessOptions)
	}{
		{"host snapshots", 200_000, func(o *harnessOptions) { o.hostSnapshotEveryTxns = 50_000 }},
		{"zab snapshots", 50_000, func(o *harnessOptions) { o.snapshotEveryTxns = 20_000 }},
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
						"node %d holds %d txns after %d deliveries; expected at most 2*diffTxnsMax+inFlight = %d (seed 7)",
						id, txns, c.stats.delivered, bound)
					require.Equal(t, sumDataBytes(n.peer.log.entries), bytes, "node %d: Retained bytes must be the sum of the logged txns' data", id)
				}
			}
			for _, id := range c.ids {
				base, _ := c.nodes[id].peer.History()
				require.Greater(t, base, Zxid(0), "node %d never trimmed its log in %d txns", id, total)
			}
			t.Logf("%d txns committed on 4 peers; peak retained txns per peer %v (bound %d)", total, peak, bound)
		})
	}
}

// TestHostSnapshotsUnderFaults runs the fault mix with the host taking the snapshots and
// short DIFF windows, so that logs are trimmed all the time and laggards need SNAP: every
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
			if seed%3 == 0 {
				opt.diffTxnsMax, opt.diffBytesMax = 1000, 8+int(seed%40) // trims and SNAPs by bytes
			}
			c := newCluster(t, seed, opt)
			c.runFaults(3000)
			c.heal()
			c.awaitProgress(livenessBoundTicks)
			c.run(c.now + 200)
			c.finish()
		})
	}
}

// TestTrimKeepsAWindowOfCommittedTxns commits txns on a single voter and checks the window
// after every step: fewer than 2*DiffTxnsMax committed txns and less than 2*DiffBytesMax
// (plus one txn) of their bytes stay in memory, and a trim keeps up to DiffTxnsMax of them.
func TestTrimKeepsAWindowOfCommittedTxns(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		diffTxnsMax, diffBytesMax int
	}{{"by count", 3, 0}, {"by bytes", 1000, 12}} {
		t.Run(tc.name, func(t *testing.T) {
			opt := defaultOptions(1, 0)
			opt.diffTxnsMax, opt.diffBytesMax = tc.diffTxnsMax, tc.diffBytesMax
			c := newCluster(t, 3, opt)
			c.awaitProgress(50)
			p := c.nodes[1].peer
			bytesMax := p.cfg.DiffBytesMax
			trimmed := false
			for c.nodes[1].sm.last().Counter() < 40 {
				require.True(t, c.step(c.now+1000), "the single voter must keep committing")
				txns, bytes := p.Retained()
				base, zxids := p.History()
				count, committedBytes, largest := 0, 0, 0
				for _, tx := range p.log.entries {
					largest = max(largest, len(tx.Data))
					if tx.Zxid <= p.Committed() {
						count++
						committedBytes += len(tx.Data)
					}
				}
				require.Less(t, count, 2*tc.diffTxnsMax, "at most 2*DiffTxnsMax-1 committed txns in memory: base %v, log %v", base, zxids)
				require.Less(t, committedBytes, 2*bytesMax+largest, "committed bytes in memory stay under 2*DiffBytesMax+one txn: base %v, log %v", base, zxids)
				require.Equal(t, len(zxids), txns)
				require.Equal(t, sumDataBytes(p.log.entries), bytes)
				trimmed = trimmed || base > 0
			}
			require.True(t, trimmed, "40 commits trimmed the log")
		})
	}
}
