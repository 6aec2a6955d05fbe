package scenarios

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/clock"
	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/cluster"
	"github.com/zabkit/zabkit/zab"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "run every scenario on this seed only (or ZABKIT_SEED)")
	seedsFlag = flag.Int("seeds", 0, "seeds per scenario (default: each scenario's CI count)")
)

// seeds returns the seeds a scenario runs: the pinned one, or 1..n.
func seeds(t *testing.T, n int) []uint64 {
	t.Helper()
	if *seedFlag != 0 {
		return []uint64{*seedFlag}
	}
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ZABKIT_SEED=%q is not a seed", s)
		return []uint64{v}
	}
	if *seedsFlag > 0 {
		n = *seedsFlag
	}
	if testing.Short() {
		n = max(1, n/4)
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// scenario is one named fault plan. options builds a run's configuration from its seed;
// totals, when set, checks over all seeds that the plan did what it is named for (a
// scenario that never reached its fault would pass without testing anything).
type scenario struct {
	name    string
	seeds   int
	options func(seed uint64, h *hits) cluster.Options
	totals  func(t *testing.T, w sweep)
}

// sweep is what one scenario's seeds did together. Fault counts are stated for the
// scenario's CI seed count; a sweep of a different size (-short, -seeds) scales them.
type sweep struct {
	stats        cluster.Stats
	hits         int
	ran, nominal int
}

// want scales a count stated for the nominal sweep to the seeds that ran, rounding up and
// never below one, so a -short sweep still has to reach its fault.
func (w sweep) want(n int) int {
	return max(1, (n*w.ran+w.nominal-1)/w.nominal)
}

// hits counts the targeted faults a scenario's hooks injected in one run.
type hits struct{ n int }

const faultPhase = 2 * time.Second

func TestScenarios(t *testing.T) {
	for _, sc := range scenarioTable() {
		t.Run(sc.name, func(t *testing.T) {
			var total cluster.Stats
			nHits := 0
			run := seeds(t, sc.seeds)
			for _, seed := range run {
				h := &hits{}
				r := cluster.Run(sc.options(seed, h))
				if r.Failed() {
					t.Fatalf("scenario %s, seed %d: %v\nsettings:\n%sreplay: go test ./scenarios -run 'TestScenarios/%s' -seed=%d -v",
						sc.name, seed, r.Failure, r.SettingsText(), sc.name, seed)
				}
				total.Add(r.Stats)
				nHits += h.n
			}
			if sc.totals != nil && *seedFlag == 0 && os.Getenv("ZABKIT_SEED") == "" {
				sc.totals(t, sweep{stats: total, hits: nHits, ran: len(run), nominal: sc.seeds})
			}
			t.Logf("%s: commits=%d elections=%d crashes=%d refused=%d cut=%dB DIFF=%d TRUNC=%d SNAP=%d targeted faults=%d worst commit=%d ticks",
				sc.name, total.Commits, total.Elections, total.Crashes, total.Refusals, total.BytesCut,
				total.SyncDiff, total.SyncTrunc, total.SyncSnap, nHits, total.WorstCommitTicks)
		})
	}
}

func scenarioTable() []scenario {
	return []scenario{
		{name: "swarm", seeds: 60, options: func(seed uint64, _ *hits) cluster.Options { return cluster.Swarm(seed, faultPhase) }},
		{name: "leader-crash-mid-broadcast", seeds: 20, options: leaderCrashMidBroadcast,
			totals: atLeast("leader crashes", 20)},
		{name: "follower-crash-in-DIFF", seeds: 20, options: crashInSync(zab.MsgDiff), totals: atLeast("crashes in DIFF", 10)},
		{name: "follower-crash-in-TRUNC", seeds: 30, options: crashInSync(zab.MsgTrunc), totals: atLeast("crashes in TRUNC", 3)},
		{name: "follower-crash-in-SNAP", seeds: 20, options: crashInSync(zab.MsgSnap), totals: atLeast("crashes in SNAP", 10)},
		{name: "leader-partitioned-into-minority", seeds: 20, options: leaderInMinority, totals: atLeast("leader partitions", 20)},
		{name: "one-way-partitions", seeds: 20, options: oneWay},
		{name: "majority-crash-and-return", seeds: 20, options: majorityCrash, totals: atLeast("majority crashes", 20)},
		{name: "power-loss-torn-tail", seeds: 20, options: powerLoss, totals: func(t *testing.T, w sweep) {
			atLeast("power losses", 20)(t, w)
			require.Positive(t, w.stats.BytesCut, "power losses with tearing disks never cut a torn tail at recovery: the scenario misses its fault")
		}},
		{name: "corrupt-log-block", seeds: 20, options: corruptLog, totals: func(t *testing.T, w sweep) {
			atLeast("bit flips in synced log blocks", 10)(t, w)
			require.Positive(t, w.stats.Refusals+w.stats.RecoveryCuts, "no bit flip was ever refused or cut at recovery")
		}},
		{name: "clock-skew-and-drift", seeds: 20, options: skewAndDrift},
		{name: "voters-3", seeds: 15, options: voters(3)},
		{name: "voters-5", seeds: 15, options: voters(5)},
		{name: "voters-7", seeds: 10, options: voters(7)},
		{name: "observers-under-partitions", seeds: 20, options: observersPartitioned},
	}
}

// atLeast requires n targeted faults per nominal sweep, scaled to the seeds that ran.
func atLeast(what string, n int) func(t *testing.T, w sweep) {
	return func(t *testing.T, w sweep) {
		want := w.want(n)
		require.GreaterOrEqual(t, w.hits, want,
			"the scenario injected %d %s over %d seeds, expected at least %d (%d per %d seeds): it no longer reaches its fault; rerun: go test ./scenarios -run TestScenarios -seeds=%d -v",
			w.hits, what, w.ran, want, n, w.nominal, w.ran)
	}
}

// base is a fault-free run with a steady load, on which a scenario adds its own faults.
func base(seed uint64) cluster.Options {
	o := cluster.Quiet(seed)
	r := sim.Stream(seed, "scenario-base")
	o.Voters = []int{3, 5}[r.IntN(2)]
	o.FaultUntil = faultPhase
	o.LoadTxnsMax = 600
	o.LoadIntervalMin, o.LoadIntervalMax = time.Millisecond, 3*time.Millisecond
	o.DiskFaults.TearProbability = 0.5
	o.DiskFaults.KeepUnsyncedProbability = 0.3
	return o
}

// every runs f at random moments (mean gap apart) until the fault phase is nearly over.
func every(c *cluster.Cluster, gap time.Duration, f func(r *rand.Rand)) {
	w := c.World()
	r := w.Stream("scenario")
	end := c.Options().FaultUntil - 200*time.Millisecond
	var next func()
	next = func() {
		d := gap/2 + time.Duration(r.Int64N(int64(gap)))
		if w.Now()+d >= end {
			return
		}
		w.Clock.AfterFunc(d, func() {
			f(r)
			next()
		})
	}
	next()
}

// crashFor crashes a server and restarts it after down, unless the fault phase ends first
// (its end restarts every server).
func crashFor(c *cluster.Cluster, name string, down time.Duration) {
	w := c.World()
	if !w.IsUp(name) {
		return
	}
	w.Fault("scenario: crash " + name)
	w.Crash(name)
	w.Clock.AfterFunc(down, func() {
		if !w.IsUp(name) {
			w.Fault("scenario: restart " + name)
			w.Restart(name)
		}
	})
}

func leaderCrashMidBroadcast(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.Hooks.Start = func(c *cluster.Cluster) {
		every(c, 300*time.Millisecond, func(r *rand.Rand) {
			if l := c.Leader(); l != "" {
				h.n++
				crashFor(c, l, time.Duration(20+r.IntN(200))*time.Millisecond)
			}
		})
	}
	return o
}

// crashInSync crashes a learner soon after it receives a sync header of the given kind (so
// the crash lands in the header's persist or in the stream that follows), on top of a mild
// nemesis that keeps making learners resync.
func crashInSync(mode zab.MessageType) func(seed uint64, h *hits) cluster.Options {
	return func(seed uint64, h *hits) cluster.Options {
		o := base(seed)
		if mode == zab.MsgSnap {
			o.DiffTxnsMax = 5
		}
		o.SnapCount = 20
		o.Nemesis = sim.NemesisOptions{Hosts: names(o), Interval: 120 * time.Millisecond, DownMax: 1, Until: o.FaultUntil,
			CrashWeight: 3, RestartWeight: 2, PartitionWeight: 1, IsolateWeight: 1, HealWeight: 2}
		o.Hooks.Message = func(c *cluster.Cluster, to string, m zab.Message) {
			w := c.World()
			if m.Type != mode || w.Now() > o.FaultUntil-200*time.Millisecond {
				return
			}
			r := w.Stream("scenario/" + to + "/" + fmt.Sprint(w.Now()))
			if r.IntN(2) == 0 {
				return
			}
			h.n++
			delay := time.Duration(r.Int64N(int64(3 * time.Millisecond)))
			w.Clock.AfterFunc(delay, func() { crashFor(c, to, time.Duration(10+r.IntN(100))*time.Millisecond) })
		}
		return o
	}
}

func names(o cluster.Options) []string {
	var out []string
	for i := 1; i <= o.Voters+o.Observers; i++ {
		out = append(out, cluster.ServerName(i))
	}
	return out
}

func endpoints(w *sim.World, names []string) []netsim.Endpoint {
	eps := make([]netsim.Endpoint, len(names))
	for i, n := range names {
		eps[i] = w.Endpoint(n)
	}
	return eps
}

// leaderInMinority cuts the leader off with a minority while the load keeps proposing to it
// (the load picks any server that believes it leads): its proposals must never commit.
func leaderInMinority(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.Hooks.Start = func(c *cluster.Cluster) {
		w := c.World()
		every(c, 350*time.Millisecond, func(r *rand.Rand) {
			l := c.Leader()
			if l == "" {
				return
			}
			h.n++
			var others []string
			for _, n := range c.ServerNames() {
				if n != l {
					others = append(others, n)
				}
			}
			r.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
			k := r.IntN(o.Voters / 2) // followers cut off with the leader: a minority in all
			minority := append([]string{l}, others[:k]...)
			majority := others[k:]
			w.Fault(fmt.Sprintf("scenario: leader %s in minority {%s}", l, strings.Join(minority, ",")))
			w.Net.Partition(endpoints(w, minority), endpoints(w, majority))
			w.Clock.AfterFunc(time.Duration(100+r.IntN(200))*time.Millisecond, func() {
				w.Fault("scenario: heal")
				w.Net.Heal()
			})
		})
	}
	return o
}

func oneWay(seed uint64, _ *hits) cluster.Options {
	o := base(seed)
	o.Nemesis = sim.NemesisOptions{Hosts: names(o), Interval: 60 * time.Millisecond, Until: o.FaultUntil, CutWeight: 4, HealWeight: 1}
	return o
}

func majorityCrash(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.Hooks.Start = func(c *cluster.Cluster) {
		every(c, 400*time.Millisecond, func(r *rand.Rand) {
			voters := names(o)[:o.Voters]
			r.Shuffle(len(voters), func(i, j int) { voters[i], voters[j] = voters[j], voters[i] })
			victims := voters[:o.Voters/2+1]
			if l := c.Leader(); l != "" && !slices.Contains(victims, l) {
				victims[0] = l
			}
			h.n++
			for _, v := range victims {
				crashFor(c, v, time.Duration(20+r.IntN(150))*time.Millisecond)
			}
		})
	}
	return o
}

// powerLoss cuts the power of every server at once, on disks that tear the last unsynced
// write and may keep part of the unsynced rest.
func powerLoss(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.DiskFaults.TearProbability = 1
	o.DiskFaults.KeepUnsyncedProbability = 0.5
	o.DiskLatencyMin, o.DiskLatencyMax = time.Millisecond, 8*time.Millisecond
	o.Hooks.Start = func(c *cluster.Cluster) {
		every(c, 300*time.Millisecond, func(r *rand.Rand) {
			h.n++
			c.World().Fault("scenario: power loss")
			down := time.Duration(10+r.IntN(100)) * time.Millisecond
			for _, n := range c.ServerNames() {
				crashFor(c, n, down)
			}
		})
	}
	return o
}

// corruptLog flips a bit in a synced block of a crashed follower's log before it restarts:
// recovery must refuse the disk or cut the damaged tail, never replay the damage (the
// checker's Integrity catches a txn that no leader proposed).
func corruptLog(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.SegmentBytesMax = 4 << 10
	o.Hooks.Start = func(c *cluster.Cluster) {
		w := c.World()
		done := map[string]bool{}
		every(c, 250*time.Millisecond, func(r *rand.Rand) {
			l := c.Leader()
			var victims []string
			for _, n := range c.ServerNames() {
				if n != l && !done[n] && w.IsUp(n) {
					victims = append(victims, n)
				}
			}
			// One damaged disk at most: ZAB's durability assumes a quorum of intact disks.
			if l == "" || len(victims) == 0 || len(done) > 0 {
				return
			}
			v := victims[r.IntN(len(victims))]
			w.Fault("scenario: crash " + v + " and flip a bit in its log")
			w.Crash(v)
			d := c.Disk(v)
			files, _ := d.List()
			var logs []string
			for _, f := range files {
				if strings.HasPrefix(f, "log.") {
					logs = append(logs, f)
				}
			}
			if len(logs) > 0 {
				if _, ok := d.CorruptFileBlock(logs[r.IntN(len(logs))]); ok {
					h.n++
					done[v] = true
				}
			}
			w.Clock.AfterFunc(time.Duration(20+r.IntN(100))*time.Millisecond, func() { w.Restart(v) })
		})
	}
	return o
}

func skewAndDrift(seed uint64, _ *hits) cluster.Options {
	o := cluster.Swarm(seed, faultPhase)
	r := sim.Stream(seed, "scenario-drift")
	o.Drift = make([]clock.Drift, o.Voters+o.Observers)
	for i := range o.Drift {
		o.Drift[i] = clock.Drift{Offset: time.Duration(r.IntN(60_000)) * time.Millisecond, DriftPPM: int64(r.IntN(100_001)) - 50_000}
	}
	return o
}

func voters(n int) func(seed uint64, _ *hits) cluster.Options {
	return func(seed uint64, _ *hits) cluster.Options {
		o := cluster.Swarm(seed, faultPhase)
		o.Voters = n
		o.Nemesis.Hosts = names(o)
		o.Nemesis.DownMax = min(o.Nemesis.DownMax, n)
		o.Drift = nil
		return o
	}
}

func observersPartitioned(seed uint64, _ *hits) cluster.Options {
	o := base(seed)
	o.Observers = 2
	o.Nemesis = sim.NemesisOptions{Hosts: names(o), Interval: 80 * time.Millisecond, Until: o.FaultUntil,
		PartitionWeight: 3, CutWeight: 2, IsolateWeight: 2, HealWeight: 3}
	return o
}
