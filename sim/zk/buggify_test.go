package zk

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
)

// TestBuggifiedRunsPassEveryCheck runs swarm seeds, a harsh one every fourth seed (every
// seed with ZABKIT_HARSH=1), with FoundationDB's BUGGIFY drawn from each seed
// (Options.Buggify): the sites are legal, so every check must pass. ZABKIT_SEED pins one
// seed; ZK_BUGGIFY_SEEDS sets how many (default 6).
func TestBuggifiedRunsPassEveryCheck(t *testing.T) {
	var seeds []uint64
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ZABKIT_SEED")
		seeds = append(seeds, seed)
	} else {
		n := 6
		if s := os.Getenv("ZK_BUGGIFY_SEEDS"); s != "" {
			v, err := strconv.Atoi(s)
			require.NoError(t, err, "ZK_BUGGIFY_SEEDS")
			n = v
		} else if testing.Short() {
			n = 2
		}
		for i := range n {
			seeds = append(seeds, uint64(1+i))
		}
	}
	harshAll := os.Getenv("ZABKIT_HARSH") != ""
	active, fired := map[string]int{}, map[string]int{}
	var with, without Stats
	for _, seed := range seeds {
		o := Swarm(seed, 2*time.Second)
		if harshAll || seed%4 == 0 {
			o = Harsh(seed)
		}
		o.OutDir = t.TempDir()
		plain := Run(o)
		o.Buggify = true
		r := Run(o)
		require.False(t, r.Failed(), "a buggified run must pass every check (its sites are legal):\n%v", r)
		require.False(t, plain.Failed(), "the same seed without BUGGIFY must pass too:\n%v", plain)
		require.True(t, r.Buggified)
		for _, c := range r.Buggify {
			if c.Fired > 0 {
				active[c.Site]++
			}
			fired[c.Site] += c.Fired
		}
		with.Snapshots += r.Stats.Snapshots
		with.SnapInstalls += r.Stats.SnapInstalls
		with.Elections += r.Stats.Elections
		with.Commits += r.Stats.Commits
		without.Snapshots += plain.Stats.Snapshots
		without.SnapInstalls += plain.Stats.SnapInstalls
		without.Elections += plain.Stats.Elections
		without.Commits += plain.Stats.Commits
	}
	t.Logf("%d seeds; runs in which each site fired: %v; fires: %v", len(seeds), active, fired)
	t.Logf("with BUGGIFY: %d snapshots, %d SNAP installs, %d elections, %d commits; without: %d, %d, %d, %d",
		with.Snapshots, with.SnapInstalls, with.Elections, with.Commits,
		without.Snapshots, without.SnapInstalls, without.Elections, without.Commits)
	if len(seeds) >= 4 {
		require.NotEmpty(t, active, "over %d seeds no BUGGIFY site fired", len(seeds))
	}
}

// A buggified seed gives the same trace twice: the hook draws from the seed, and the
// servers ask it in the world's deterministic order.
func TestBuggifiedSeedReplays(t *testing.T) {
	for _, seed := range []uint64{1, 4} {
		err := sim.CheckDeterminism(func(record bool) *sim.Trace {
			o := Swarm(seed, time.Second)
			o.Record, o.Buggify = record, true
			c, err := New(o)
			require.NoError(t, err)
			c.Run()
			return c.World().Trace
		})
		require.NoError(t, err, "seed %d: reproduce: go test ./sim/zk -run TestBuggifiedSeedReplays", seed)
	}
}
