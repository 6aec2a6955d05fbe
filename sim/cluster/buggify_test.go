package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/sim"
)

// TestBuggifiedSwarmSeedsKeepInvariantsAndRecover is the swarm sweep with FoundationDB's
// BUGGIFY drawn from each seed (Options.Buggify): the sites are legal, so every invariant
// and the liveness bound must hold. The log compares snapshots, SNAP installs and
// elections with the same seeds without it.
func TestBuggifiedSwarmSeedsKeepInvariantsAndRecover(t *testing.T) {
	n := 10
	if testing.Short() {
		n = 3
	}
	fired := map[string]int{}
	var with, without Stats
	for _, seed := range envSeeds(t, n) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := Swarm(seed, time.Second)
			plain := Run(o)
			requireOK(t, plain)
			o.Buggify = true
			r := Run(o)
			if r.Failed() {
				t.Logf("buggify asked/fired: %v", r.Buggify)
			}
			requireOK(t, r)
			require.NotEmpty(t, r.Buggify, "seed %d: no BUGGIFY site was asked", seed)
			for _, c := range r.Buggify {
				fired[c.Site] += c.Fired
			}
			with.Add(r.Stats)
			without.Add(plain.Stats)
		})
	}
	t.Logf("fires per site: %v", fired)
	t.Logf("with BUGGIFY: %d snapshots, %d SNAP installs, %d elections, %d commits; without: %d, %d, %d, %d",
		with.Snapshots, with.SnapInstalls, with.Elections, with.Commits,
		without.Snapshots, without.SnapInstalls, without.Elections, without.Commits)
}

// A buggified seed gives the same trace twice: the hook draws from the seed, and the
// servers ask it in the world's deterministic order.
func TestBuggifiedSeedReplays(t *testing.T) {
	for _, seed := range envSeeds(t, 3) {
		err := sim.CheckDeterminism(func(record bool) *sim.Trace {
			o := Swarm(seed, 500*time.Millisecond)
			o.Record, o.Buggify = record, true
			c, err := New(o)
			require.NoError(t, err)
			requireOK(t, c.Run())
			return c.World().Trace
		})
		require.NoError(t, err, "seed %d: reproduce: ZABKIT_SEED=%d go test ./sim/cluster -run TestBuggifiedSeedReplays", seed, seed)
	}
}
