package bugzoo

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/cluster"
	"github.com/zabkit/zabkit/zab"
)

// zooBug is one switch of zab.Bugs with the bound of seeds the fuzzer has to find it in
// (about three times the seed of its first detection in a 3000-seed hunt, see doc.go).
// mix, when set, replaces the default fault mix with one tuned to the event sequence the bug
// needs (shared/zab-bugs.md names it for each).
type zooBug struct {
	name     string
	ticket   string
	bugs     zab.Bugs
	seedsMax int
	mix      func(seed uint64) cluster.Options
}

func zooBugs() []zooBug {
	return []zooBug{
		{"ack-newleader-before-synced", "ZOOKEEPER-4646 (Z18)", zab.Bugs{AckNewLeaderBeforeSynced: true}, 400, durabilityMix},
		{"current-epoch-before-synced", "ZOOKEEPER-4643 (Z17)", zab.Bugs{CurrentEpochBeforeSynced: true}, 300, durabilityMix},
		{"advertise-last-applied", "ZOOKEEPER-2845 (Z11)", zab.Bugs{AdvertiseLastApplied: true}, 40, nil},
		{"diff-by-range", "ZOOKEEPER-1154 (Z01)", zab.Bugs{DiffByRange: true}, 40, nil},
		{"vote-tie-break-ignores-epoch", "ZOOKEEPER-1419 (Z26)", zab.Bugs{VoteTieBreakIgnoresEpoch: true}, 200, nil},
		{"propose-only-to-synced", "protocol-spec issue 1 (P1)", zab.Bugs{ProposeOnlyToSynced: true}, 100, nil},
		{"ack-before-durable", "ZOOKEEPER-4882 (Z23)", zab.Bugs{AckBeforeDurable: true}, 300, durabilityMix},
		{"settle-pending-at-newleader", "ZOOKEEPER-4394 (Z16)", zab.Bugs{SettlePendingAtNewLeader: true}, 40, nil},
		{"trunc-cuts-target", "ZOOKEEPER-1156 (Z02)", zab.Bugs{TruncCutsTarget: true}, 40, nil},
		{"stale-vote-epoch", "ZOOKEEPER-1732 (Z27)", zab.Bugs{StaleVoteEpoch: true}, 60, nil},
		{"quorum-off-by-one", "mutation", zab.Bugs{QuorumOffByOne: true}, 40, nil},
		{"leader-ack-before-persist", "mutation", zab.Bugs{LeaderAckBeforePersist: true}, 1000, durabilityMix},
		{"commit-out-of-order", "mutation", zab.Bugs{CommitOutOfOrder: true}, 40, nil},
	}
}

// faultPhase is the fault phase of a zoo run; the liveness phase follows it.
const faultPhase = time.Second

// defaultMix is swarm testing: each seed draws its cluster, network, disk and nemesis
// (crashes that lose unsynced writes and tear the log tail, partitions, one-way cuts,
// connection loss), and one seed in four is fault-free, where the Stable check applies.
// Both check NoVoteCircle (cluster.Quiet's default).
func defaultMix(seed uint64) cluster.Options {
	if seed%4 == 0 {
		o := cluster.Quiet(seed)
		o.FaultUntil = faultPhase
		o.ElectionChecks = checker.ElectionChecks{NoVoteCircle: true, Stable: true}
		return o
	}
	return cluster.Swarm(seed, faultPhase)
}

// durabilityMix aims at the ack-before-durable family (Z15, Z17, Z18, Z23): the swarm's
// faults, plus slow disks that lose every unsynced write at a crash, and crashes placed
// where those bugs bite: an acker crashed as its ACK reaches the leader (its unsynced writes
// die with it), or the leader crashed a moment after it took an ACK (its own unsynced log
// dies with it).
func durabilityMix(seed uint64) cluster.Options {
	o := cluster.Swarm(seed, faultPhase)
	r := sim.Stream(seed, "bugzoo/durability")
	o.DiskLatencyMin = time.Duration(1+r.IntN(3)) * time.Millisecond
	o.DiskLatencyMax = o.DiskLatencyMin + time.Duration(5+r.IntN(30))*time.Millisecond
	o.DiskFaults.KeepUnsyncedProbability = 0
	// Discovery and sync take a few synced writes in a row: give them time.
	o.InitLimitTicks = max(o.InitLimitTicks, 400/o.TickMillis)
	crashPerAck := float64(1+r.IntN(5)) / 100
	o.Hooks.Message = func(c *cluster.Cluster, to string, m zab.Message) {
		if m.Type != zab.MsgAck && m.Type != zab.MsgAckNewLeader || c.World().Now() >= faultPhase-200*time.Millisecond ||
			r.Float64() >= crashPerAck {
			return
		}
		down := time.Duration(5+r.IntN(100)) * time.Millisecond
		if r.IntN(2) == 0 {
			crashFor(c, cluster.ServerName(int(m.From)), down)
			return
		}
		w := c.World()
		w.Clock.AfterFunc(time.Duration(r.Int64N(int64(o.DiskLatencyMin))), func() { crashFor(c, to, down) })
	}
	return o
}

// crashFor crashes a server and restarts it after down, unless the fault phase ends first
// (its end restarts every server).
func crashFor(c *cluster.Cluster, name string, down time.Duration) {
	w := c.World()
	if !w.IsUp(name) {
		return
	}
	w.Fault("bugzoo: crash " + name)
	w.Crash(name)
	w.Clock.AfterFunc(down, func() {
		if !w.IsUp(name) {
			w.Fault("bugzoo: restart " + name)
			w.Restart(name)
		}
	})
}

// detection is one zoo run that failed.
type detection struct {
	seed  uint64
	check string
	wall  time.Duration // wall time spent since the previous detection (or the start)
	first string
}

var (
	violatedRE = regexp.MustCompile(`(\w+) violated`)
	numberRE   = regexp.MustCompile(`0x[0-9a-f]+|[0-9]+(\.[0-9]+)?`)
)

// checkName names the check that failed a run.
func checkName(f *cluster.Failure) string {
	first, _, _ := strings.Cut(f.Detail, "\n")
	switch f.Kind {
	case cluster.FailSafety:
		if m := violatedRE.FindStringSubmatch(first); m != nil {
			return m[1]
		}
		if strings.HasPrefix(first, "state machines differ") {
			return "state machine hashes"
		}
		return "safety: " + numberRE.ReplaceAllString(first, "N")
	case cluster.FailPanic:
		if _, a, ok := strings.Cut(first, "invariant violated: "); ok {
			return "core assertion: " + numberRE.ReplaceAllString(a, "N")
		}
		return "panic: " + numberRE.ReplaceAllString(first, "N")
	case cluster.FailLiveness:
		return "liveness"
	}
	return f.Kind.String() + ": " + numberRE.ReplaceAllString(first, "N")
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	require.NoError(t, err, "%s=%q is not a number", name, s)
	return v
}

// hunt runs seeds 1.. with the bug until it has detections or the seeds run out.
func hunt(b zooBug, seedsMax, detections int, logf func(string, ...any)) (found []detection, seedsRun int) {
	mix := b.mix
	if mix == nil {
		mix = defaultMix
	}
	since := time.Now()
	for seed := uint64(1); seed <= uint64(seedsMax) && len(found) < detections; seed++ {
		o := mix(seed)
		o.ZabBugs = b.bugs
		r := cluster.Run(o)
		seedsRun++
		if !r.Failed() {
			continue
		}
		first, _, _ := strings.Cut(r.Failure.Detail, "\n")
		d := detection{seed: seed, check: checkName(r.Failure), wall: time.Since(since), first: first}
		since = time.Now()
		found = append(found, d)
		logf("seed %d: %v failure at %v: %s", seed, r.Failure.Kind, r.Failure.At, first)
	}
	return found, seedsRun
}

func median(ds []detection) time.Duration {
	ws := make([]time.Duration, len(ds))
	for i, d := range ds {
		ws[i] = d.wall
	}
	slices.Sort(ws)
	return ws[len(ws)/2]
}

// TestZoo hunts every bug and prints the zoo table. Bounds: ZABKIT_ZOO_SEEDS seeds per bug
// at most (default each bug's seedsMax), until ZABKIT_ZOO_DETECTIONS detections (default 3;
// the median wall time is over the detections; a bug needs at least one).
func TestZoo(t *testing.T) {
	detections := envInt(t, "ZABKIT_ZOO_DETECTIONS", 3)
	rows := []string{fmt.Sprintf("%-30s %-28s %8s %8s %10s  %s", "bug", "ticket", "1st seed", "found", "median", "caught by")}
	for _, b := range zooBugs() {
		t.Run(b.name, func(t *testing.T) {
			seedsMax := envInt(t, "ZABKIT_ZOO_SEEDS", b.seedsMax)
			found, ran := hunt(b, seedsMax, detections, t.Logf)
			if len(found) == 0 {
				rows = append(rows, fmt.Sprintf("%-30s %-28s %8s %8s %10s  %s", b.name, b.ticket, "-", fmt.Sprintf("0/%d", ran), "-", "NOT CAUGHT"))
				t.Errorf("bug %s (%s, %v) survived %d seeds: the checks or the fault model miss it", b.name, b.ticket, b.bugs.Names(), ran)
				return
			}
			var checks []string
			for _, d := range found {
				if !slices.Contains(checks, d.check) {
					checks = append(checks, d.check)
				}
			}
			rows = append(rows, fmt.Sprintf("%-30s %-28s %8d %8s %10v  %s", b.name, b.ticket, found[0].seed,
				fmt.Sprintf("%d/%d", len(found), ran), median(found).Round(time.Millisecond), strings.Join(checks, "; ")))
		})
	}
	t.Logf("bug zoo (seeds 1.. per bug; 1st seed = seeds until first detection; found = detections/seeds run; median = wall time to a detection):\n%s",
		strings.Join(rows, "\n"))
}

// TestZooControl runs the zoo's fault mixes and checks with every switch off: the fixed core
// must pass every seed, so what the zoo finds is the bugs, not the mixes or the checks.
func TestZooControl(t *testing.T) {
	n := envInt(t, "ZABKIT_ZOO_CONTROL_SEEDS", 100)
	if testing.Short() {
		n = 20
	}
	mixes := []struct {
		name string
		mix  func(uint64) cluster.Options
	}{{"default", defaultMix}, {"durability", durabilityMix}}
	for _, m := range mixes {
		t.Run(m.name, func(t *testing.T) {
			var total cluster.Stats
			for seed := uint64(1); seed <= uint64(n); seed++ {
				r := cluster.Run(m.mix(seed))
				if r.Failed() {
					t.Fatalf("the fixed core failed zoo seed %d of mix %s: %v\nsettings:\n%sreproduce: ZABKIT_ZOO_CONTROL_SEEDS=%d go test ./scenarios/bugzoo -run 'TestZooControl/%s'",
						seed, m.name, r.Failure, r.SettingsText(), seed, m.name)
				}
				total.Add(r.Stats)
			}
			require.Positive(t, total.Crashes, "mix %s never crashed a server over %d seeds: it tests nothing the bugs need", m.name, n)
			t.Logf("mix %s, %d seeds: commits=%d elections=%d crashes=%d DIFF=%d TRUNC=%d SNAP=%d", m.name, n,
				total.Commits, total.Elections, total.Crashes, total.SyncDiff, total.SyncTrunc, total.SyncSnap)
		})
	}
}

// TestElectionChecksOnlyObserve: the election checks read the servers' outputs and change
// nothing, so a zoo run with them is the run without them, event for event.
func TestElectionChecksOnlyObserve(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		mix := durabilityMix
		if seed%2 == 0 {
			mix = defaultMix
		}
		checked := cluster.Run(mix(seed)) // a fresh one per run: a mix's hooks hold their run's random stream
		o := mix(seed)
		o.ElectionChecks = checker.ElectionChecks{}
		unchecked := cluster.Run(o)
		require.False(t, checked.Failed(), "seed %d: %v", seed, checked.Failure)
		require.Equal(t, unchecked.TraceHash, checked.TraceHash,
			"seed %d: the election checks changed the run (%d vs %d events)", seed, unchecked.Events, checked.Events)
	}
}

// TestZooDeterministic: a run with a bug on replays exactly (the detection's seed is its
// reproduction), bugs included.
func TestZooDeterministic(t *testing.T) {
	for _, b := range zooBugs() {
		mix := b.mix
		if mix == nil {
			mix = defaultMix
		}
		o := mix(3)
		o.ZabBugs = b.bugs
		first := cluster.Run(o)
		o = mix(3)
		o.ZabBugs = b.bugs
		second := cluster.Run(o)
		require.Equal(t, first.TraceHash, second.TraceHash, "bug %s, seed 3: two runs differ", b.name)
		require.Equal(t, first.Failed(), second.Failed(), "bug %s, seed 3: one run failed, the other not", b.name)
		if first.Failed() {
			// A panic's detail ends with its goroutine's stack, which names addresses.
			a, _, _ := strings.Cut(first.Failure.Detail, "\ngoroutine ")
			b2, _, _ := strings.Cut(second.Failure.Detail, "\ngoroutine ")
			require.Equal(t, first.Failure.Kind, second.Failure.Kind, "bug %s, seed 3", b.name)
			require.Equal(t, first.Failure.At, second.Failure.At, "bug %s, seed 3", b.name)
			require.Equal(t, a, b2, "bug %s, seed 3: two runs end differently", b.name)
		}
	}
}
