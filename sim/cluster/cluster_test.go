package cluster

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// envSeeds returns ZABKIT_SEED if set, else seeds 1..n.
func envSeeds(t *testing.T, n int) []uint64 {
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ZABKIT_SEED=%q", s)
		return []uint64{v}
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

func requireOK(t *testing.T, r Result) {
	t.Helper()
	if r.Failed() {
		t.Fatalf("seed %d failed: %v\nsettings:\n%sreproduce: ZABKIT_SEED=%d go test ./sim/cluster -run '%s'",
			r.Seed, r.Failure, r.SettingsText(), r.Seed, t.Name())
	}
}

func TestQuietEnsembleCommitsEverything(t *testing.T) {
	for _, seed := range envSeeds(t, 3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := Quiet(seed)
			r := Run(o)
			requireOK(t, r)
			require.Equal(t, 1, r.Stats.Elections, "a fault-free ensemble elects once")
			require.GreaterOrEqual(t, r.Stats.Commits, o.LoadTxnsMax+o.LivenessTxns, "every txn commits without faults: %+v", r.Stats)
			require.Zero(t, r.Stats.Crashes)
		})
	}
}

func TestSwarmSeedsKeepInvariantsAndRecover(t *testing.T) {
	n := 20
	if testing.Short() {
		n = 5
	}
	for _, seed := range envSeeds(t, n) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := Run(Swarm(seed, time.Second))
			requireOK(t, r)
			t.Logf("seed %d: %+v", seed, r.Stats)
		})
	}
}
