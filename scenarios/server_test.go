package scenarios

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/zk"
)

// serverFaultPhase is the fault phase of a whole-server seed; the liveness phase and the
// quiet end follow it.
const serverFaultPhase = 3 * time.Second

// TestServers runs whole zab/node servers (3 or 5 voters, sometimes an observer) with
// simulated ZooKeeper clients, one configuration per seed, and checks every history
// (sim/zk): ZAB invariants, replica digests, linearizable writes and sync+reads, reads at
// their zxid, watches, sessions, recipes, liveness after the heal. The mix: every fourth
// seed is a zk.Harsh configuration (faults every few ticks, sessions of a few ticks), the
// others the default swarm. -seed=N (or ZABKIT_SEED=N) runs one seed; -seeds=N a longer
// sweep; ZABKIT_HARSH=1 makes every seed harsh.
func TestServers(t *testing.T) {
	var total zk.Stats
	list := seeds(t, 60)
	harsh := os.Getenv("ZABKIT_HARSH") != ""
	for _, seed := range list {
		o := serverOptions(seed, harsh)
		r := zk.Run(o)
		if r.Failed() {
			t.Fatalf("%v", r)
		}
		if len(list) == 1 {
			t.Logf("%v\nsettings:\n%s", r, r.Settings)
		}
		s := r.Stats
		total.Commits += s.Commits
		total.Ops += s.Ops
		total.Sessions += s.Sessions
		total.Expired += s.Expired
		total.Elections += s.Elections
		total.Restarts += s.Restarts
		total.ConnLosses += s.ConnLosses
		total.WatchEvents += s.WatchEvents
		total.RecipeHolds += s.RecipeHolds
		total.VirtualTime += s.VirtualTime
	}
	t.Logf("%d seeds: %v virtual, %d commits, %d ops, %d sessions (%d expired), %d elections, %d restarts, %d connection losses, %d watch events, %d recipe holds",
		len(list), total.VirtualTime, total.Commits, total.Ops, total.Sessions, total.Expired, total.Elections, total.Restarts,
		total.ConnLosses, total.WatchEvents, total.RecipeHolds)
}

// serverOptions is TestServers' configuration of a seed: harsh for every fourth seed (or
// every seed with allHarsh), else the default swarm. A failure's replay command (-seed=N, or
// ZABKIT_HARSH=1 -seed=N for a harsh one) rebuilds the same configuration.
func serverOptions(seed uint64, allHarsh bool) zk.Options {
	if allHarsh || seed%4 == 0 {
		return zk.Harsh(seed)
	}
	return zk.Swarm(seed, serverFaultPhase)
}

// The same seed gives the same trace hash, servers and clients included.
func TestServersSameSeedSameTrace(t *testing.T) {
	for _, seed := range seeds(t, 3) {
		err := sim.CheckDeterminism(func(record bool) *sim.Trace {
			o := zk.Swarm(seed, time.Second)
			o.Record = record
			c, err := zk.New(o)
			require.NoError(t, err)
			c.Run()
			return c.World().Trace
		})
		require.NoError(t, err, "seed %d\nreplay: go test ./scenarios -run TestServersSameSeedSameTrace -seed=%d -v", seed, seed)
	}
}
