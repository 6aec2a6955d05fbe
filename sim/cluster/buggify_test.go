package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
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

// The host's BUGGIFY sites (hostio's slow fsyncs and lagging members) are drawn with the
// core's: buggified swarm seeds reach both, slow fsyncs and lagging members show in the
// trace, and every run still passes every check (the sites are legal).
func TestHostBuggifySitesFireAndRunsPass(t *testing.T) {
	const seedsMax = 40
	fired := map[string]int{}
	lagged := 0
	for seed := uint64(1); seed <= seedsMax && (fired[hostio.BuggifySlowFsync] == 0 || lagged == 0); seed++ {
		o := Swarm(seed, time.Second)
		o.Buggify, o.Record = true, true
		r := Run(o)
		requireOK(t, r)
		for _, c := range r.Buggify {
			fired[c.Site] += c.Fired
		}
		for _, l := range r.Trace {
			if strings.Contains(l, "buggify: lagging member") {
				lagged++
				break
			}
		}
	}
	require.Positive(t, fired[hostio.BuggifySlowFsync], "no slow fsync in %d buggified seeds: %v", seedsMax, fired)
	require.Positive(t, fired[hostio.BuggifyLaggingMember], "no lagging member in %d buggified seeds: %v", seedsMax, fired)
	require.Positive(t, lagged, "a lagging member is noted in the trace")
	t.Logf("host sites fired: slow fsync %d, lagging member %d", fired[hostio.BuggifySlowFsync], fired[hostio.BuggifyLaggingMember])
}
