package failover

import (
	"testing"
	"time"
)

func TestZZProbe(t *testing.T) {
	for _, b := range []string{"DiffByRange", "TruncCutsTarget", "QuorumOffByOne", "SettlePendingAtNewLeader", "CommitOutOfOrder", "AdvertiseLastApplied", "StaleVoteEpoch", "ProposeOnlyToSynced", "AckBeforeDurable", "VoteTieBreakIgnoresEpoch"} {
		start := time.Now()
		h := hunt(t, []string{b}, 1, 200)
		if h.minimal == nil {
			t.Logf("%s: not found (%v)", b, time.Since(start))
			continue
		}
		t.Logf("%s: %d steps (%v)\n%s\n%s", b, len(h.minimal.Steps), time.Since(start), h.minimal, firstLine(h.report))
	}
}
