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
	budget    = flag.Duration("duration", 0, "wall-clock budget of the swarm sweep: run swarm seeds 1, 2, ... until it is spent (0: the -seeds count)")
)

// next returns a scenario's next seed: the listed ones in order, or, for the swarm with a
// -duration budget, seeds 1, 2, ... until the budget is spent.
func next(sc scenario, list []uint64, i int, start time.Time) (uint64, bool) {
	if sc.name == "swarm" && *budget > 0 && *seedFlag == 0 && os.Getenv("ZABKIT_SEED") == "" {
		return uint64(i + 1), time.Since(start) < *budget
	}
	if i >= len(list) {
		return 0, false
	}
	return list[i], true
}

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
	stats         cluster.Stats
	hits, effects int
	tags          map[string]int // runs per tag
	name          string         // the scenario's
	ran, nominal  int
}

// want scales a count stated for the nominal sweep to the seeds that ran, rounding up and
// never below one, so a -short sweep still has to reach its fault.
func (w sweep) want(n int) int {
	return max(1, (n*w.ran+w.nominal-1)/w.nominal)
}

// hits is what a scenario's hooks saw in one run: n counts the targeted faults injected,
// effects what they did (each scenario says what), tags name what the seed drew, and
// broken lists the run's violations of a scenario's own promise (the test fails on any).
type hits struct {
	n, effects int
	tags       []string
	broken     []string
}

// tag records that the run drew or reached what name says (once per run).
func (h *hits) tag(name string) {
	if !slices.Contains(h.tags, name) {
		h.tags = append(h.tags, name)
	}
}

const faultPhase = 2 * time.Second

func TestScenarios(t *testing.T) {
	for _, sc := range scenarioTable() {
		t.Run(sc.name, func(t *testing.T) {
			w := sweep{tags: map[string]int{}, name: sc.name, nominal: sc.seeds}
			run := seeds(t, sc.seeds)
			start := time.Now()
			for i := 0; ; i++ {
				seed, ok := next(sc, run, i, start)
				if !ok {
					break
				}
				h := &hits{}
				r := cluster.Run(sc.options(seed, h))
				replay := fmt.Sprintf("replay: go test ./scenarios -run 'TestScenarios/%s' -seed=%d -v", sc.name, seed)
				if r.Failed() {
					t.Fatalf("scenario %s, seed %d: %v\nsettings:\n%s%s", sc.name, seed, r.Failure, r.SettingsText(), replay)
				}
				if len(h.broken) > 0 {
					t.Fatalf("scenario %s, seed %d passed the checker but broke the scenario's promise:\n  %s\nsettings:\n%s%s",
						sc.name, seed, strings.Join(h.broken, "\n  "), r.SettingsText(), replay)
				}
				w.stats.Add(r.Stats)
				w.hits += h.n
				w.effects += h.effects
				for _, tg := range h.tags {
					w.tags[tg]++
				}
				w.ran++
			}
			if sc.totals != nil && *seedFlag == 0 && os.Getenv("ZABKIT_SEED") == "" {
				sc.totals(t, w)
			}
			total := w.stats
			if sc.name == "swarm" {
				wall := time.Since(start)
				t.Logf("swarm: %d seeds in %v (%.0f seeds/minute)", w.ran, wall.Round(time.Millisecond), float64(w.ran)/wall.Minutes())
			}
			t.Logf("%s: commits=%d elections=%d crashes=%d refused=%d cut=%dB DIFF=%d TRUNC=%d SNAP=%d targeted faults=%d effects=%d worst commit=%d ticks tags=%v",
				sc.name, total.Commits, total.Elections, total.Crashes, total.Refusals, total.BytesCut,
				total.SyncDiff, total.SyncTrunc, total.SyncSnap, w.hits, w.effects, total.WorstCommitTicks, w.tags)
		})
	}
}

func scenarioTable() []scenario {
	return []scenario{
		{name: "swarm", seeds: 60, options: swarm, totals: swarmTotals},
		{name: "leader-crash-mid-broadcast", seeds: 20, options: leaderCrashMidBroadcast,
			totals: atLeast("leader crashes", 20)},
		{name: "follower-crash-in-DIFF", seeds: 20, options: crashInSync(zab.MsgDiff), totals: atLeast("crashes in DIFF", 10)},
		{name: "follower-crash-in-TRUNC", seeds: 30, options: crashInSync(zab.MsgTrunc), totals: atLeast("crashes in TRUNC", 3)},
		{name: "follower-crash-in-SNAP", seeds: 20, options: crashInSync(zab.MsgSnap), totals: atLeast("crashes in SNAP", 10)},
		{name: "leader-partitioned-into-minority", seeds: 20, options: leaderInMinority, totals: all(
			atLeast("leader partitions", 20),
			effectsAtLeast("proposals accepted by a leader cut off in a minority", 1000))},
		{name: "one-way-partitions", seeds: 20, options: oneWay, totals: atLeast("one-way cuts", 150)},
		{name: "flapping-links", seeds: 20, options: flapping, totals: all(
			atLeast("link flaps (a link going down)", 1000),
			effectsAtLeast("learner resyncs (DIFF, TRUNC, SNAP) while links flapped", 80))},
		{name: "rolling-restart", seeds: 10, options: rollingRestart, totals: all(
			atLeast("server restarts in turn", 100),
			effectsAtLeast("rolling restarts completed (every server restarted)", 20))},
		{name: "majority-crash-and-return", seeds: 20, options: majorityCrash, totals: atLeast("majority crashes", 20)},
		{name: "power-loss-torn-tail", seeds: 20, options: powerLoss, totals: func(t *testing.T, w sweep) {
			atLeast("power losses", 20)(t, w)
			require.Positive(t, w.stats.BytesCut, "power losses with tearing disks never cut a torn tail at recovery: the scenario misses its fault")
		}},
		{name: "corrupt-log-block", seeds: 20, options: corruptLog, totals: func(t *testing.T, w sweep) {
			atLeast("bit flips in synced log blocks", 10)(t, w)
			require.Positive(t, w.stats.Refusals+w.stats.RecoveryCuts, "no bit flip was ever refused or cut at recovery")
		}},
		{name: "clock-skew-and-drift", seeds: 20, options: skewAndDrift, totals: all(
			atLeast("servers whose clock ran a second or more off the global time", 70),
			effectsAtLeast("servers whose clock ran 1% or more fast or slow", 60))},
		{name: "voters-3", seeds: 15, options: voters(3), totals: effectsAtLeast("runs where all 3 voters were in broadcast at once", 12)},
		{name: "voters-5", seeds: 15, options: voters(5), totals: effectsAtLeast("runs where all 5 voters were in broadcast at once", 12)},
		{name: "voters-7", seeds: 10, options: voters(7), totals: effectsAtLeast("runs where all 7 voters were in broadcast at once", 8)},
		{name: "observers-under-partitions", seeds: 20, options: observersPartitioned, totals: all(
			atLeast("partitions that cut an observer off", 120),
			effectsAtLeast("observer resyncs (DIFF, TRUNC or SNAP to an observer)", 80))},
	}
}

// atLeast requires n targeted faults per nominal sweep, scaled to the seeds that ran.
func atLeast(what string, n int) func(t *testing.T, w sweep) {
	return func(t *testing.T, w sweep) { w.require(t, w.hits, what, n) }
}

// effectsAtLeast requires n effects of the scenario's faults per nominal sweep, scaled.
func effectsAtLeast(what string, n int) func(t *testing.T, w sweep) {
	return func(t *testing.T, w sweep) { w.require(t, w.effects, what, n) }
}

func (w sweep) require(t *testing.T, got int, what string, n int) {
	t.Helper()
	want := w.want(n)
	require.GreaterOrEqual(t, got, want,
		"the scenario saw %d %s over %d seeds, expected at least %d (%d per %d seeds): it no longer reaches its fault; rerun: go test ./scenarios -run 'TestScenarios/%s$' -seeds=%d -v",
		got, what, w.ran, want, n, w.nominal, w.name, w.ran)
}

// all runs every totals check.
func all(checks ...func(t *testing.T, w sweep)) func(t *testing.T, w sweep) {
	return func(t *testing.T, w sweep) {
		for _, c := range checks {
			c(t, w)
		}
	}
}

// sample runs f every period of virtual time until the run has gone on for until (timers
// left when the run ends never fire). It draws nothing, so it leaves the run's faults alone.
func sample(c *cluster.Cluster, period, until time.Duration, f func()) {
	w := c.World()
	var next func()
	next = func() {
		if w.Now()+period > until {
			return
		}
		w.Clock.AfterFunc(period, func() {
			f()
			next()
		})
	}
	next()
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
// (the load picks any server that believes it leads): its proposals must never commit
// (the checker's Integrity and agreement checks). effects counts the proposals the cut-off
// leader accepted while cut off, so the sweep shows the load did write to it.
func leaderInMinority(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	cutOff := ""
	o.Hooks.Proposed = func(c *cluster.Cluster, name string, _ zab.Zxid) {
		if name == cutOff {
			h.effects++
		}
	}
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
			cutOff = l
			w.Clock.AfterFunc(time.Duration(100+r.IntN(200))*time.Millisecond, func() {
				w.Fault("scenario: heal")
				w.Net.Heal()
				cutOff = ""
			})
		})
	}
	return o
}

// oneWay lets the nemesis cut links in one direction (A hears B, B does not hear A) and
// counts the one-way cuts it made: a pair that becomes cut one way while the other way
// still gets through.
func oneWay(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.Nemesis = sim.NemesisOptions{Hosts: names(o), Interval: 60 * time.Millisecond, Until: o.FaultUntil, CutWeight: 4, HealWeight: 1}
	o.Hooks.Start = func(c *cluster.Cluster) {
		w := c.World()
		servers := c.ServerNames()
		oneWayBefore := map[[2]string]bool{}
		sample(c, 5*time.Millisecond, o.FaultUntil, func() {
			for _, a := range servers {
				for _, b := range servers {
					if a == b {
						continue
					}
					now := !w.Net.Connected(w.Endpoint(a), w.Endpoint(b)) && w.Net.Connected(w.Endpoint(b), w.Endpoint(a))
					if now && !oneWayBefore[[2]string{a, b}] {
						h.n++
					}
					oneWayBefore[[2]string{a, b}] = now
				}
			}
		})
	}
	return o
}

// flapping takes links down and up again on a short period (a flaky NIC or switch port):
// a link between two servers goes down for 5-30 ms, comes back for 5-30 ms, three to eight
// times; several links may flap at once. Each outage breaks the connection (zab sees lost
// messages and resyncs the learner). effects counts the sync headers (DIFF, TRUNC, SNAP)
// learners received after the first 300 ms of the fault phase: resyncs the flaps caused.
func flapping(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.Hooks.Message = func(c *cluster.Cluster, _ string, m zab.Message) {
		now := c.World().Now()
		if (m.Type == zab.MsgDiff || m.Type == zab.MsgTrunc || m.Type == zab.MsgSnap) && now > 300*time.Millisecond && now < o.FaultUntil {
			h.effects++
		}
	}
	o.Hooks.Start = func(c *cluster.Cluster) {
		w := c.World()
		every(c, 80*time.Millisecond, func(r *rand.Rand) {
			servers := c.ServerNames()
			a := servers[r.IntN(len(servers))]
			b := servers[r.IntN(len(servers))]
			if a == b {
				return
			}
			ea, eb := w.Endpoint(a), w.Endpoint(b)
			flaps := 3 + r.IntN(6)
			at := time.Duration(0)
			for range flaps {
				down := time.Duration(5+r.IntN(26)) * time.Millisecond
				up := time.Duration(5+r.IntN(26)) * time.Millisecond
				w.Clock.AfterFunc(at, func() {
					h.n++
					w.Fault(fmt.Sprintf("scenario: link %s-%s down", a, b))
					w.Net.Cut(ea, eb)
					w.Net.Cut(eb, ea)
				})
				w.Clock.AfterFunc(at+down, func() {
					w.Fault(fmt.Sprintf("scenario: link %s-%s up", a, b))
					w.Net.HealLink(ea, eb)
				})
				at += down + up
			}
		})
	}
	return o
}

// rollingRestart restarts every server in turn, as an operator upgrading the ensemble
// does: crash one, bring it back after 20-100 ms, wait until it is back in the broadcast
// phase with a leader established and the cluster has committed something since the
// crash, then the next. The cluster must stay available: each step has to complete within
// rollingStepMax of its crash, or the run breaks the scenario's promise. The rotation starts
// at a random server (sometimes the leader) and goes round as often as the fault phase
// allows; effects counts the completed rotations.
func rollingRestart(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.FaultUntil = 3 * time.Second
	o.LoadTxnsMax = 1500
	o.Hooks.Start = func(c *cluster.Cluster) {
		w := c.World()
		r := w.Stream("scenario/rolling")
		servers := c.ServerNames()
		first := r.IntN(len(servers))
		end := o.FaultUntil - 100*time.Millisecond
		var step func(i int)
		step = func(i int) {
			if w.Now()+rollingStepMax > end {
				return // no time left for a whole step: the fault phase's end restarts all
			}
			name := servers[(first+i)%len(servers)]
			crashedAt, commits := w.Now(), c.Commits()
			h.n++
			w.Fault("scenario: rolling restart of " + name)
			w.Crash(name)
			w.Clock.AfterFunc(time.Duration(20+r.IntN(81))*time.Millisecond, func() {
				w.Fault("scenario: rolling restart: " + name + " back")
				w.Restart(name)
				var wait func()
				wait = func() {
					switch {
					case c.Broadcasting(name) && c.Leader() != "" && c.Commits() > commits:
						if (i+1)%len(servers) == 0 {
							h.effects++
						}
						w.Clock.AfterFunc(20*time.Millisecond, func() { step(i + 1) })
					case w.Now()-crashedAt > rollingStepMax:
						h.broken = append(h.broken, fmt.Sprintf("rolling restart of %s at %v: after %v the cluster has leader %q, %s broadcasting=%v, commits %d (at the crash %d): unavailable",
							name, crashedAt, w.Now()-crashedAt, c.Leader(), name, c.Broadcasting(name), c.Commits(), commits))
					default:
						w.Clock.AfterFunc(5*time.Millisecond, wait)
					}
				}
				wait()
			})
		}
		w.Clock.AfterFunc(150*time.Millisecond, func() { step(0) })
	}
	return o
}

// rollingStepMax bounds one rolling-restart step, from the crash to the server back in
// broadcast with new commits: the down time, an election if the leader went down
// (initLimit and the election's rounds), the resync.
const rollingStepMax = 800 * time.Millisecond

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

// skewAndDrift gives every server a clock up to a minute off and up to 5% fast or slow,
// on the swarm's faults. It counts, from the servers' own clock readings, those that ran a
// second or more off the global time (skew reached them) and those whose clock advanced
// 1% or more faster or slower than the global time over the fault phase (drift did).
func skewAndDrift(seed uint64, h *hits) cluster.Options {
	o := cluster.Swarm(seed, faultPhase)
	r := sim.Stream(seed, "scenario-drift")
	o.Drift = make([]clock.Drift, o.Voters+o.Observers)
	for i := range o.Drift {
		o.Drift[i] = clock.Drift{Offset: time.Duration(r.IntN(60_000)) * time.Millisecond, DriftPPM: int64(r.IntN(100_001)) - 50_000}
	}
	o.Hooks.Start = func(c *cluster.Cluster) {
		w := c.World()
		start := map[string]int64{}
		for _, n := range c.ServerNames() {
			start[n] = c.LocalMillis(n)
			if abs(start[n]-int64(w.Now()/time.Millisecond)) >= 1000 {
				h.n++
			}
		}
		w.Clock.At(o.FaultUntil, func() {
			global := int64(o.FaultUntil / time.Millisecond) // since the start, at 0
			for _, n := range c.ServerNames() {
				if local := c.LocalMillis(n) - start[n]; abs(local-global)*100 >= global {
					h.effects++
				}
			}
		})
	}
	return o
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// voters runs the swarm's faults on n voters. It counts the runs where all n voters were
// in the broadcast phase at once (sampled every 10 ms, liveness phase included): the
// ensemble really formed with n voters.
func voters(n int) func(seed uint64, h *hits) cluster.Options {
	return func(seed uint64, h *hits) cluster.Options {
		o := cluster.Swarm(seed, faultPhase)
		o.Voters = n
		o.Nemesis.Hosts = names(o)
		o.Nemesis.DownMax = min(o.Nemesis.DownMax, n)
		o.Drift = nil
		o.Hooks.Start = func(c *cluster.Cluster) {
			formed := false
			sample(c, 10*time.Millisecond, o.FaultUntil+10*time.Second, func() {
				if formed {
					return
				}
				in := 0
				for _, name := range c.ServerNames()[:n] {
					if c.Broadcasting(name) {
						in++
					}
				}
				if in == n {
					formed = true
					h.effects++
				}
			})
		}
		return o
	}
}

// observersPartitioned adds two observers to a cluster under partitions, cuts and
// isolations. It counts the partitions that cut an observer off from some server (an
// observer going from fully connected to cut, sampled every 5 ms), and, as effects, the
// sync headers observers received (each a resync after the cut).
func observersPartitioned(seed uint64, h *hits) cluster.Options {
	o := base(seed)
	o.Observers = 2
	o.Nemesis = sim.NemesisOptions{Hosts: names(o), Interval: 80 * time.Millisecond, Until: o.FaultUntil,
		PartitionWeight: 3, CutWeight: 2, IsolateWeight: 2, HealWeight: 3}
	observers := names(o)[o.Voters:]
	o.Hooks.Message = func(c *cluster.Cluster, to string, m zab.Message) {
		if slices.Contains(observers, to) && (m.Type == zab.MsgDiff || m.Type == zab.MsgTrunc || m.Type == zab.MsgSnap) {
			h.effects++
		}
	}
	o.Hooks.Start = func(c *cluster.Cluster) {
		w := c.World()
		cutBefore := map[string]bool{}
		sample(c, 5*time.Millisecond, o.FaultUntil, func() {
			for _, obs := range observers {
				cut := false
				for _, other := range c.ServerNames() {
					if other != obs && (!w.Net.Connected(w.Endpoint(obs), w.Endpoint(other)) || !w.Net.Connected(w.Endpoint(other), w.Endpoint(obs))) {
						cut = true
					}
				}
				if cut && !cutBefore[obs] {
					h.n++
				}
				cutBefore[obs] = cut
			}
		})
	}
	return o
}

// swarm is the swarm sweep's seed: cluster.Swarm, with BUGGIFY for the seeds
// cluster.SwarmBuggify draws. It tags what each seed drew, so the sweep shows it covered
// the mix: every cluster size, BUGGIFY, each nemesis fault kind, clock drift.
func swarm(seed uint64, h *hits) cluster.Options {
	o := cluster.Swarm(seed, faultPhase)
	o.Buggify = cluster.SwarmBuggify(seed)
	h.tag(fmt.Sprintf("voters=%d", o.Voters))
	if o.Observers > 0 {
		h.tag("observers")
	}
	if o.Buggify {
		h.tag("buggify")
	}
	if o.Drift != nil {
		h.tag("drift")
	}
	for _, k := range []struct {
		name   string
		weight int
	}{{"crash", o.Nemesis.CrashWeight}, {"partition", o.Nemesis.PartitionWeight}, {"cut", o.Nemesis.CutWeight}, {"isolate", o.Nemesis.IsolateWeight}} {
		if k.weight > 0 {
			h.tag(k.name)
		}
	}
	return o
}

// swarmTotals: the sweep drew every cluster size, BUGGIFY for about a quarter of its seeds,
// each fault kind, and the faults did what they are for: crashes, elections, every sync mode.
func swarmTotals(t *testing.T, w sweep) {
	for _, tg := range []string{"voters=3", "voters=5", "voters=7", "observers", "drift", "crash", "partition", "cut", "isolate"} {
		require.Positive(t, w.tags[tg], "no seed of %d drew %q (drawn: %v): the swarm no longer covers its mix; rerun: go test ./scenarios -run 'TestScenarios/swarm$' -seeds=%d -v",
			w.ran, tg, w.tags, w.ran)
	}
	require.GreaterOrEqual(t, w.tags["buggify"], w.want(8), "BUGGIFY ran on %d of %d seeds, expected about a quarter", w.tags["buggify"], w.ran)
	require.GreaterOrEqual(t, w.stats.Crashes, w.want(100), "crashes over %d seeds", w.ran)
	require.GreaterOrEqual(t, w.stats.Elections, w.want(100), "elections over %d seeds", w.ran)
	for _, m := range []struct {
		name string
		n    int
	}{{"DIFF", w.stats.SyncDiff}, {"TRUNC", w.stats.SyncTrunc}, {"SNAP", w.stats.SyncSnap}} {
		require.Positive(t, m.n, "no %s sync over %d swarm seeds", m.name, w.ran)
	}
}

// -duration turns the swarm sweep into a wall-clock budget: seeds 1, 2, ... past the -seeds
// count while the budget lasts, none after; the other scenarios keep their seed lists.
func TestSwarmDurationBudget(t *testing.T) {
	if *seedFlag != 0 || os.Getenv("ZABKIT_SEED") != "" {
		t.Skip("a pinned seed ignores the budget")
	}
	saved := *budget
	defer func() { *budget = saved }()
	*budget = time.Hour
	swarmSc, other := scenario{name: "swarm"}, scenario{name: "voters-3"}
	list := []uint64{1, 2}
	seed, ok := next(swarmSc, list, 10, time.Now())
	require.True(t, ok, "within the budget the swarm runs past its list")
	require.Equal(t, uint64(11), seed)
	_, ok = next(swarmSc, list, 0, time.Now().Add(-2*time.Hour))
	require.False(t, ok, "a spent budget starts no seed")
	_, ok = next(other, list, 2, time.Now())
	require.False(t, ok, "other scenarios keep their seed list")
	*budget = 0
	_, ok = next(swarmSc, list, 2, time.Now())
	require.False(t, ok, "without -duration the swarm runs its list")
}
