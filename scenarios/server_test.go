package scenarios

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/zk"
)

// TestServers' flags: together with -seed they name one configuration exactly, and every
// failing whole-server run prints them (zk.Result.ReplayCommand).
var (
	kindFlag = flag.String("kind", "",
		"TestServers: the configuration kind of every seed, one of "+strings.Join(zk.Kinds, ", ")+" (default: the mix)")
	faultFlag   = flag.Duration("fault", zk.DefaultFaultPhase, "TestServers: the fault phase of swarm and pause seeds")
	buggifyFlag = flag.Bool("buggify", false, "TestServers: BUGGIFY on in every server (zk.Options.Buggify)")
)

// serverRun is what TestServers' flags say about a seed's configuration.
type serverRun struct {
	kind    string // "" : the mix
	fault   time.Duration
	buggify bool
}

// serverRunOfFlags reads the flags; ZABKIT_HARSH=1 is the older spelling of -kind=harsh.
func serverRunOfFlags() serverRun {
	r := serverRun{kind: *kindFlag, fault: *faultFlag, buggify: *buggifyFlag}
	if r.kind == "" && os.Getenv("ZABKIT_HARSH") != "" {
		r.kind = "harsh"
	}
	return r
}

// options is the configuration of a seed: the named kind, or the mix (every fourth seed
// harsh, every fourth from seed 2 paused leaders, the others the default swarm).
func (r serverRun) options(seed uint64) (zk.Options, error) {
	kind := r.kind
	if kind == "" {
		kind = []string{"harsh", "swarm", "pause", "swarm"}[seed%4]
	}
	o, err := zk.Build(kind, seed, r.fault)
	o.Buggify = r.buggify
	return o, err
}

// TestServers runs whole zab/node servers (3 or 5 voters, sometimes an observer) with
// simulated ZooKeeper clients, one configuration per seed, and checks every history
// (sim/zk): ZAB invariants, replica digests, linearizable writes and sync+reads, reads at
// their zxid, watches, sessions, recipes, liveness after the heal. The mix: every fourth
// seed a zk.Harsh configuration (faults every few ticks, sessions of a few ticks), every
// fourth from seed 2 a zk.Paused one (leaders frozen while their followers move on), the
// others the default swarm. -seed=N (or ZABKIT_SEED=N) runs one seed; -seeds=N a longer
// sweep; -kind, -fault and -buggify pin the configuration, as a failure's replay command
// does.
func TestServers(t *testing.T) {
	var total zk.Stats
	list := seeds(t, 60)
	run := serverRunOfFlags()
	for _, seed := range list {
		o, err := run.options(seed)
		require.NoError(t, err, "-kind=%q", run.kind)
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
		total.Pauses += s.Pauses
		total.ConnLosses += s.ConnLosses
		total.WatchEvents += s.WatchEvents
		total.RecipeHolds += s.RecipeHolds
		total.VirtualTime += s.VirtualTime
	}
	t.Logf("%d seeds: %v virtual, %d commits, %d ops, %d sessions (%d expired), %d elections, %d restarts, %d pauses, %d connection losses, %d watch events, %d recipe holds",
		len(list), total.VirtualTime, total.Commits, total.Ops, total.Sessions, total.Expired, total.Elections, total.Restarts,
		total.Pauses, total.ConnLosses, total.WatchEvents, total.RecipeHolds)
}

// serverScenario runs seeds 1..n (or -seed) of one kind, fails on the first failing run
// with its replay command, and returns the summed stats.
func serverScenario(t *testing.T, kind string, n int) (zk.Stats, int) {
	t.Helper()
	var total zk.Stats
	list := seeds(t, n)
	for _, seed := range list {
		o, err := zk.Build(kind, seed, *faultFlag)
		require.NoError(t, err)
		o.OutDir = t.TempDir()
		r := zk.Run(o)
		if r.Failed() {
			t.Fatalf("%v", r)
		}
		s := r.Stats
		total.Expired += s.Expired
		total.RecipeHolds += s.RecipeHolds
		total.HoldersExpired += s.HoldersExpired
		total.HotChanges += s.HotChanges
		total.HotEvents += s.HotEvents
		total.WatchEvents += s.WatchEvents
	}
	return total, len(list)
}

// Issue 6's "sessions expiring while holding ephemeral locks" (zk.LockExpiry): lock holders
// and leaders lose their sessions while they hold, and the recipe check still finds at
// most one holder at a time, every other check passing.
func TestServerLockHoldersExpire(t *testing.T) {
	s, n := serverScenario(t, "lockexpiry", 6)
	t.Logf("%d seeds: %d recipe holds, %d sessions expired, %d of them while holding", n, s.RecipeHolds, s.Expired, s.HoldersExpired)
	require.Positive(t, s.HoldersExpired,
		"%d lockexpiry seeds: no client saw its session expire while holding a lock or leadership: the scenario never reached its fault\nreplay: go test ./scenarios -run TestServerLockHoldersExpire -v", n)
}

// stormFanOutMin is the mean number of watch events each change of the hot znode must fire
// in a storm (ten clients, most of them watching it at any moment).
const stormFanOutMin = 4

// Issue 6's "watch storms on hot znodes" (zk.Storm): every change of the hot znode fires
// the watches of many sessions at once, which all re-arm at once; every check passes.
func TestServerWatchStorm(t *testing.T) {
	s, n := serverScenario(t, "storm", 3)
	t.Logf("%d seeds: %d changes of %s, %d watch events on it (%.1f per change), %d watch events in all",
		n, s.HotChanges, zk.HotPath, s.HotEvents, float64(s.HotEvents)/float64(max(s.HotChanges, 1)), s.WatchEvents)
	require.Positive(t, s.HotChanges, "%d storm seeds: the hot znode never changed", n)
	require.GreaterOrEqual(t, s.HotEvents, stormFanOutMin*s.HotChanges,
		"%d storm seeds: %d events for %d changes of %s, expected at least %d per change\nreplay: go test ./scenarios -run TestServerWatchStorm -v",
		n, s.HotEvents, s.HotChanges, zk.HotPath, stormFanOutMin)
}

// Every printed replay command names its run exactly: the flags it passes rebuild the same
// options, for each kind, a fault phase other than the default, and BUGGIFY.
func TestServerReplayCommandRebuildsTheRun(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		seed    uint64
		fault   time.Duration
		buggify bool
	}{
		{"quiet", 1, 0, false},
		{"swarm", 5, zk.DefaultFaultPhase, false},
		{"swarm", 7, 700 * time.Millisecond, true},
		{"harsh", 8, 0, false},
		{"pause", 6, 900 * time.Millisecond, false},
		{"lockexpiry", 3, 0, false},
		{"storm", 2, 800 * time.Millisecond, false},
		{"snapsync", 4, zk.DefaultFaultPhase, false},
	} {
		o, err := zk.Build(tc.kind, tc.seed, tc.fault)
		require.NoError(t, err)
		o.Buggify = tc.buggify
		o.OutDir = t.TempDir()
		r := zk.Run(o)
		cmd := r.ReplayCommand()
		fs := flag.NewFlagSet("replay", flag.ContinueOnError)
		seed := fs.Uint64("seed", 0, "")
		kind := fs.String("kind", "", "")
		fault := fs.Duration("fault", zk.DefaultFaultPhase, "")
		buggify := fs.Bool("buggify", false, "")
		fs.String("run", "", "")
		fs.Bool("v", false, "")
		args := strings.Fields(strings.ReplaceAll(cmd, "'", ""))
		require.Equal(t, []string{"go", "test", "./scenarios"}, args[:3], "replay command %q", cmd)
		require.NoError(t, fs.Parse(args[3:]), "replay command %q", cmd)
		require.Empty(t, fs.Args(), "replay command %q: arguments no flag takes", cmd)
		again, err := serverRun{kind: *kind, fault: *fault, buggify: *buggify}.options(*seed)
		require.NoError(t, err, "replay command %q", cmd)
		again.OutDir = o.OutDir
		require.Equal(t, o, again, "%s seed %d (fault %v, buggify %v): the replay command %q builds other options",
			tc.kind, tc.seed, tc.fault, tc.buggify, cmd)
		if tc.buggify {
			// Equal options give the same run (TestServersSameSeedSameTrace); one rerun
			// shows it end to end without doubling the test's time.
			rerun := zk.Run(again)
			require.Equal(t, r.TraceHash, rerun.TraceHash, "replay command %q: another run", cmd)
		}
	}
}

// The same seed gives the same trace hash, servers and clients included: twice in a row
// (one run recording every event, one not) with GOMAXPROCS 2, and once more with GOMAXPROCS
// 1; a seed of each kind.
func TestServersSameSeedSameTrace(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, seed := range seeds(t, 4) {
		kind := zk.Kinds[seed%uint64(len(zk.Kinds))]
		replay := fmt.Sprintf("go test ./scenarios -run TestServersSameSeedSameTrace -seed=%d -v (kind %s)", seed, kind)
		hashes := map[int]uint64{}
		trace := func(procs int, record bool) *sim.Trace {
			runtime.GOMAXPROCS(procs)
			o, err := zk.Build(kind, seed, time.Second)
			require.NoError(t, err)
			o.Record = record
			c, err := zk.New(o)
			require.NoError(t, err)
			c.Run()
			hashes[procs] = c.World().Trace.Hash()
			return c.World().Trace
		}
		require.NoError(t, sim.CheckDeterminism(func(record bool) *sim.Trace { return trace(2, record) }),
			"seed %d, GOMAXPROCS=2\nreplay: %s", seed, replay)
		trace(1, false)
		require.Equal(t, hashes[2], hashes[1], "seed %d (%s): the trace hash differs between GOMAXPROCS=2 and 1\nreplay: %s",
			seed, kind, replay)
	}
}
