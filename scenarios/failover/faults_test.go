package failover

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim/cluster"
)

// Every kind of step must do what it is named for, or schedules of it would pass for want
// of a fault. Each case runs its steps on quiet 3-voter ensembles (where s3, the highest
// id, wins the first election) over a few seeds and checks, over the sum of the runs, the
// mark the fault leaves.
func TestEveryStepLeavesItsMark(t *testing.T) {
	const seeds = 4
	for _, tc := range []struct {
		name  string
		steps string
		mark  func(cluster.Stats) (int, string)
	}{
		{"crash the leader", "at 100ms crash s3\nat 300ms restart s3",
			func(s cluster.Stats) (int, string) { return s.Elections - seeds, "elections after the first" }},
		{"isolate the leader", "at 100ms isolate s3\nat 400ms heal",
			func(s cluster.Stats) (int, string) { return s.Elections - seeds, "elections after the first" }},
		{"partition the leader off", "at 100ms partition {s3} {s1,s2}\nat 400ms heal",
			func(s cluster.Stats) (int, string) { return s.Elections - seeds, "elections after the first" }},
		{"cut the leader's way out", "at 100ms cut s3->s1\nat 100ms cut s3->s2\nat 400ms heal",
			func(s cluster.Stats) (int, string) { return s.Elections - seeds, "elections after the first" }},
		{"power-cut servers mid-write", "at 101ms powercut s1\nat 150ms restart s1\nat 203ms powercut s3\nat 260ms restart s3\nat 307ms powercut s2",
			func(s cluster.Stats) (int, string) { return s.RecoveryCuts, "torn tails cut by recovery" }},
		{"corrupt a follower's log", "at 300ms corrupt s1\nat 350ms restart s1",
			func(s cluster.Stats) (int, string) {
				return s.Refusals + s.RecoveryCuts, "refused disks and recovery cuts"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var total cluster.Stats
			for seed := uint64(1); seed <= seeds; seed++ {
				s, err := Parse(fmt.Sprintf("seed %d\ncluster quiet voters=3 observers=0\nfaults-until 500ms\n%s\n", seed, tc.steps))
				require.NoError(t, err)
				r, err := s.Run()
				require.NoError(t, err)
				require.False(t, r.Failed(), "seed %d: %v\n%s", seed, r.Failure, s)
				total.Add(r.Stats)
			}
			n, what := tc.mark(total)
			require.Positive(t, n, "%s over %d seeds: %d; stats %+v", what, seeds, n, total)
		})
	}
}
