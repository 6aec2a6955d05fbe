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
	"github.com/zabkit/zabkit/sim/zk"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

// zooBug is one bug switch with the bound of seeds the fuzzer has to find it in (about
// three times the seed of its first detection in a 3000-seed hunt, see doc.go). A switch of
// zab.Bugs runs on sim/cluster; mix, when set, replaces the default fault mix with one tuned
// to the event sequence the bug needs (shared/zab-bugs.md names it for each). A switch of
// zab/node's Bugs (node set) runs whole servers with ZooKeeper clients on sim/zk, in the
// configuration server builds, about fifty times slower a seed: slow ones run only with
// ZABKIT_BUG_ZOO=1.
type zooBug struct {
	name     string
	ticket   string
	bugs     zab.Bugs
	seedsMax int
	mix      func(seed uint64) cluster.Options

	node   node.Bugs
	server func(seed uint64) zk.Options
	// checks, when set, are the client-level checks a detection of a zab/node switch must
	// fail first (sim/zk/bugzoo_test.go's): a run failing another check is logged, not
	// counted, so a bug is never credited to a check that is not about it.
	checks []string
	slow   bool
}

// onServers reports whether the bug runs on sim/zk.
func (b zooBug) onServers() bool { return b.server != nil }

func zooBugs() []zooBug {
	return []zooBug{
		{name: "ack-newleader-before-synced", ticket: "ZOOKEEPER-4646 (Z18)", bugs: zab.Bugs{AckNewLeaderBeforeSynced: true}, seedsMax: 400, mix: durabilityMix},
		{name: "current-epoch-before-synced", ticket: "ZOOKEEPER-4643 (Z17)", bugs: zab.Bugs{CurrentEpochBeforeSynced: true}, seedsMax: 300, mix: durabilityMix},
		{name: "advertise-last-applied", ticket: "ZOOKEEPER-2845 (Z11)", bugs: zab.Bugs{AdvertiseLastApplied: true}, seedsMax: 40},
		{name: "diff-by-range", ticket: "ZOOKEEPER-1154 (Z01)", bugs: zab.Bugs{DiffByRange: true}, seedsMax: 40},
		{name: "vote-tie-break-ignores-epoch", ticket: "ZOOKEEPER-1419 (Z26)", bugs: zab.Bugs{VoteTieBreakIgnoresEpoch: true}, seedsMax: 200},
		{name: "propose-only-to-synced", ticket: "protocol-spec issue 1 (P1)", bugs: zab.Bugs{ProposeOnlyToSynced: true}, seedsMax: 100},
		{name: "ack-before-durable", ticket: "ZOOKEEPER-4882 (Z23)", bugs: zab.Bugs{AckBeforeDurable: true}, seedsMax: 300, mix: durabilityMix},
		{name: "settle-pending-at-newleader", ticket: "ZOOKEEPER-4394 (Z16)", bugs: zab.Bugs{SettlePendingAtNewLeader: true}, seedsMax: 40},
		{name: "trunc-cuts-target", ticket: "ZOOKEEPER-1156 (Z02)", bugs: zab.Bugs{TruncCutsTarget: true}, seedsMax: 40},
		{name: "stale-vote-epoch", ticket: "ZOOKEEPER-1732 (Z27)", bugs: zab.Bugs{StaleVoteEpoch: true}, seedsMax: 60},
		{name: "quorum-off-by-one", ticket: "mutation", bugs: zab.Bugs{QuorumOffByOne: true}, seedsMax: 40},
		{name: "leader-ack-before-persist", ticket: "mutation", bugs: zab.Bugs{LeaderAckBeforePersist: true}, seedsMax: 1000, mix: durabilityMix},
		{name: "commit-out-of-order", ticket: "mutation", bugs: zab.Bugs{CommitOutOfOrder: true}, seedsMax: 40},
		// zab/mutants_test.go's switches: the checker names TotalOrder, Integrity and
		// GlobalPrimaryOrder there; here the cluster's state machine, which refuses to apply a
		// zxid at or below its last, often panics first.
		{name: "commit-redelivers-last", ticket: "mutation", bugs: zab.Bugs{CommitRedeliversLast: true}, seedsMax: 40},
		{name: "proposal-buffer-reused", ticket: "mutation", bugs: zab.Bugs{ProposalBufferReused: true}, seedsMax: 40},
		{name: "initial-history-late", ticket: "mutation", bugs: zab.Bugs{InitialHistoryLate: true}, seedsMax: 40},
		// zab/node's switches (sim/zk/bugzoo_test.go runs the same with a control run).
		{name: "watch-fired-twice", ticket: "mutation", node: node.Bugs{WatchFiredTwice: true}, seedsMax: 10, server: zk.Quiet,
			checks: []string{checker.CheckWatchOneShot}},
		{name: "watch-event-after-reply", ticket: "mutation", node: node.Bugs{WatchEventAfterReply: true}, seedsMax: 10, server: zk.Quiet,
			checks: []string{checker.CheckWatchDelivered}},
		// zab/tree refuses the ephemeral of a closed session with a panic (its invariant).
		{name: "ephemeral-after-close", ticket: "ZOOKEEPER-1208 (Z28)", node: node.Bugs{EphemeralAfterClose: true}, seedsMax: 10, server: zk.Quiet},
		{name: "sync-without-quorum", ticket: "ZOOKEEPER-1675 (Z32)", node: node.Bugs{SyncWithoutQuorum: true}, seedsMax: 200,
			server: pausedServers, slow: true, checks: []string{checker.CheckSyncRead, checker.CheckLinearizable}},
		// A leader wakes from a pause and rejoins through SNAP; while it writes the new epoch
		// it serves an old session's reconnect, re-arms its watches on its old tree, and the
		// SNAP then replaces the tree without their events (sim/zk's snapsync kind).
		{name: "serve-before-synced", ticket: "ZOOKEEPER-3911 (D1)", node: node.Bugs{ServeBeforeSynced: true}, seedsMax: 100,
			server: snapSyncServers,
			checks: []string{checker.CheckWatchDelivered, checker.CheckWatchOneShot, checker.CheckReadState}},
	}
}

// pausedServers is sim/zk's configuration with process pauses (a leader frozen while its
// followers elect and commit: ZOOKEEPER-1675's setting).
func pausedServers(seed uint64) zk.Options { return zk.Paused(seed, zk.DefaultFaultPhase) }

// snapSyncServers is sim/zk's snapsync configuration: paused leaders of five voters that
// rejoin through SNAP while watch-heavy clients reconnect to them.
func snapSyncServers(seed uint64) zk.Options { return zk.SnapSync(seed, zk.DefaultFaultPhase) }

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
func hunt(t *testing.T, b zooBug, seedsMax, detections int) (found []detection, seedsRun int) {
	since := time.Now()
	for seed := uint64(1); seed <= uint64(seedsMax) && len(found) < detections; seed++ {
		failed, check, first := b.run(t, seed)
		seedsRun++
		if !failed {
			continue
		}
		found = append(found, detection{seed: seed, check: check, wall: time.Since(since), first: first})
		t.Logf("seed %d: %s: %s", seed, check, first)
		if len(found) == 1 && b.onServers() {
			b.control(t, seed)
		}
		since = time.Now()
	}
	return found, seedsRun
}

// run runs one seed with the bug on and names the check that failed it, if any.
func (b zooBug) run(t *testing.T, seed uint64) (failed bool, check, first string) {
	if b.onServers() {
		o := b.server(seed)
		o.Bugs = b.node
		o.OutDir = t.TempDir()
		r := zk.Run(o)
		if !r.Failed() {
			return false, "", ""
		}
		first, _, _ = strings.Cut(r.Failure.Detail, "\n")
		if b.checks != nil && (r.Report == nil || r.Report.OK() || !slices.Contains(b.checks, r.Report.Failed()[0])) {
			t.Logf("seed %d failed, but not a check about %s (want one of %v first), so it is not counted: %v failure: %s",
				seed, b.name, b.checks, r.Failure.Kind, first)
			return false, "", ""
		}
		if r.Report != nil && !r.Report.OK() {
			return true, strings.Join(r.Report.Failed(), "; "), first
		}
		if r.Failure.Kind == zk.FailPanic {
			return true, "core assertion (panic): " + numberRE.ReplaceAllString(first, "N"), first
		}
		return true, r.Failure.Kind.String() + ": " + numberRE.ReplaceAllString(first, "N"), first
	}
	mix := b.mix
	if mix == nil {
		mix = defaultMix
	}
	o := mix(seed)
	o.ZabBugs = b.bugs
	r := cluster.Run(o)
	if !r.Failed() {
		return false, "", ""
	}
	first, _, _ = strings.Cut(r.Failure.Detail, "\n")
	return true, checkName(r.Failure), first
}

// control runs a sim/zk seed that failed with the bug again without it: it must pass, or
// the detection is not the bug's (sim/cluster's mixes have TestZooControl for that).
func (b zooBug) control(t *testing.T, seed uint64) {
	o := b.server(seed)
	o.OutDir = t.TempDir()
	if r := zk.Run(o); r.Failed() {
		t.Errorf("bug %s: seed %d also fails without the bug, so its detection proves nothing:\n%v", b.name, seed, r)
	}
}

// reproduce is the command that hunts one bug again with the seeds it ran.
func (b zooBug) reproduce(seeds int) string {
	env := ""
	if b.slow {
		env = "ZABKIT_BUG_ZOO=1 "
	}
	return fmt.Sprintf("%sZABKIT_ZOO_SEEDS=%d go test ./scenarios/bugzoo -run 'TestZoo/%s$' -v -timeout 0", env, seeds, b.name)
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
// at most (default each bug's seedsMax), until ZABKIT_ZOO_DETECTIONS detections (default 3
// for sim/cluster's bugs and 1 for sim/zk's, whose seeds cost fifty times more; the median
// wall time is over the detections; a bug needs at least one). sim/zk's slow bugs run only
// with ZABKIT_BUG_ZOO=1.
func TestZoo(t *testing.T) {
	all := os.Getenv("ZABKIT_BUG_ZOO") != ""
	format := "%-30s %-28s %-7s %8s %8s %10s  %s"
	header := fmt.Sprintf(format, "bug", "ticket", "stack", "1st seed", "found", "median", "caught by")
	var rows []string
	for _, b := range zooBugs() {
		t.Run(b.name, func(t *testing.T) {
			stack, detections := "cluster", envInt(t, "ZABKIT_ZOO_DETECTIONS", 3)
			if b.onServers() {
				stack, detections = "zk", envInt(t, "ZABKIT_ZOO_DETECTIONS", 1)
			}
			seedsMax := envInt(t, "ZABKIT_ZOO_SEEDS", b.seedsMax)
			if b.slow && !all {
				why := "slow: ZABKIT_BUG_ZOO=1 runs it (sim/zk's TestNodeBugsAreCaught does by default)"
				rows = append(rows, fmt.Sprintf(format, b.name, b.ticket, stack, "-", "not run", "-", why))
				t.Skipf("%s\nhunt: %s", why, b.reproduce(seedsMax))
			}
			found, ran := hunt(t, b, seedsMax, detections)
			if len(found) == 0 {
				rows = append(rows, fmt.Sprintf(format, b.name, b.ticket, stack, "-", fmt.Sprintf("0/%d", ran), "-", "NOT CAUGHT"))
				t.Errorf("bug %s (%s) survived %d seeds: the checks or the fault model miss it\nreproduce: %s",
					b.name, b.ticket, ran, b.reproduce(ran))
				return
			}
			var checks []string
			for _, d := range found {
				if !slices.Contains(checks, d.check) {
					checks = append(checks, d.check)
				}
			}
			rows = append(rows, fmt.Sprintf(format, b.name, b.ticket, stack, fmt.Sprint(found[0].seed),
				fmt.Sprintf("%d/%d", len(found), ran), median(found).Round(time.Millisecond), strings.Join(checks, "; ")))
		})
	}
	if len(rows) == 0 {
		t.Fatalf("no bug of the zoo ran (the -run filter matched none of: %s): an empty table proves nothing", strings.Join(zooNames(), ", "))
	}
	t.Logf("bug zoo (seeds 1.. per bug; 1st seed = seeds until first detection; found = detections/seeds run; median = wall time to a detection):\n%s\n%s",
		header, strings.Join(rows, "\n"))
}

func zooNames() []string {
	var names []string
	for _, b := range zooBugs() {
		names = append(names, b.name)
	}
	return names
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
		if b.onServers() {
			continue // sim/zk checks its own runs' determinism (scenarios' TestServersSameSeedSameTrace)
		}
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
