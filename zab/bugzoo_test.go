package zab

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The in-package bug zoo: every bug switch, run under the harness's faults (crashes that
// lose unsynced writes, partitions, loss, duplication), must be found within a bound of
// seeds. The whole-stack zoo, on real storage over the simulated network, is
// scenarios/bugzoo; this one runs in the package's own tests and in seconds.

// zooBug is one bug switch, how many seeds the fuzzer may take to find it and the check
// that must find it first (as detector names it). adjust, when set, tunes the fault mix
// towards the event sequence the bug needs (zab-bugs.md names it).
type zooBug struct {
	name     string
	bugs     Bugs
	seedsMax int
	adjust   func(*harnessOptions)
	foundBy  string
}

// slowDisks widens the window between a write and its durability (ack-before-durable bugs
// need a crash inside it).
// initLimit grows with them: discovery and sync take a few writes in a row.
func slowDisks(o *harnessOptions) { o.diskMin, o.diskMax, o.initLimitTicks = 10, 80, 40 }

// idleLoad proposes rarely, so epochs often end without a txn of their own: then votes
// with equal zxids and different epochs meet (ZOOKEEPER-1419).
func idleLoad(o *harnessOptions) { o.proposeEveryMillis = 150 }

func zooBugs() []zooBug {
	return []zooBug{
		{"ZOOKEEPER-4646 ack NEWLEADER before synced txns are durable", Bugs{AckNewLeaderBeforeSynced: true}, 60, nil, "core assertion: commit of N, which is not logged"},
		{"ZOOKEEPER-4643 currentEpoch before synced txns", Bugs{CurrentEpochBeforeSynced: true}, 60, nil, "core assertion: truncation after N would cut committed txns up to N"},
		{"ZOOKEEPER-2845 advertise last applied", Bugs{AdvertiseLastApplied: true}, 60, nil, "liveness"},
		{"ZOOKEEPER-1154 DIFF by numeric range", Bugs{DiffByRange: true}, 60, nil, "PrimaryIntegrity"},
		{"ZOOKEEPER-1419 vote tie-break without epoch guard", Bugs{VoteTieBreakIgnoresEpoch: true}, 60, idleLoad, "NoVoteCircle"},
		{"P1 propose only to NEWLEADER-acked learners", Bugs{ProposeOnlyToSynced: true}, 60, nil, "stability"},
		{"ZOOKEEPER-4882 ack before durable", Bugs{AckBeforeDurable: true}, 60, nil, "CommittedLogDurability"},
		{"ZOOKEEPER-4394 settle pending at NEWLEADER", Bugs{SettlePendingAtNewLeader: true}, 60, nil, "PrefixConsistency"},
		{"ZOOKEEPER-1156 TRUNC cuts its target", Bugs{TruncCutsTarget: true}, 60, nil, "core assertion: truncation after N would cut committed txns up to N"},
		{"ZOOKEEPER-1732 stale vote epoch", Bugs{StaleVoteEpoch: true}, 60, nil, "liveness"},
		{"quorum off by one", Bugs{QuorumOffByOne: true}, 60, nil, "CommittedLogDurability"},
		{"leader ack before persist", Bugs{LeaderAckBeforePersist: true}, 400, slowDisks, "core assertion: truncation after N would cut committed txns up to N"},
		{"commit out of order", Bugs{CommitOutOfOrder: true}, 60, nil, "state machine order"},
		{"commit redelivers the last committed txn", Bugs{CommitRedeliversLast: true}, 60, nil, "state machine order"},
		{"proposal buffer reused", Bugs{ProposalBufferReused: true}, 60, nil, "Integrity"},
		{"initial history applied late", Bugs{InitialHistoryLate: true}, 60, nil, "PrimaryIntegrity"},
	}
}

var (
	violatedRE = regexp.MustCompile(`(\w+) violated`)
	numberRE   = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
)

// detector names the check behind a harness failure message.
func detector(failure string) string {
	switch {
	case strings.HasPrefix(failure, "ZAB invariant broken"):
		if m := violatedRE.FindStringSubmatch(failure); m != nil {
			return m[1]
		}
		return "checker"
	case strings.Contains(failure, "panicked"):
		if strings.Contains(failure, "register: apply") {
			return "state machine order"
		}
		if _, a, ok := strings.Cut(failure, "invariant violated: "); ok {
			a, _, _ = strings.Cut(a, "\n")
			return "core assertion: " + numberRE.ReplaceAllString(a, "N")
		}
		return "panic"
	case strings.HasPrefix(failure, "liveness"):
		return "liveness"
	case strings.HasPrefix(failure, "stability"):
		return "stability"
	}
	return "other"
}

// stablePhaseMillis is the fault-free start of every zoo run, in which no peer may return to
// election once a leader is established: with FIFO links, no loss and no crash, a learner
// that gives up its leader has received a message the protocol cannot produce (the
// ShouldNotBeTriggered family of shared/zab-bugs.md §1-2).
const stablePhaseMillis = 600

// runZooSeed runs one seed with bugs: a fault-free phase (stability), a fault phase, a heal
// (liveness) and the whole-run checks. It returns the failure ("" when none).
func runZooSeed(t *testing.T, seed uint64, b zooBug) string {
	voters := 3
	if seed%4 == 0 {
		voters = 5
	}
	faulty := faultyOptions(seed, voters, 0)
	faulty.bugs = b.bugs
	if b.adjust != nil {
		b.adjust(&faulty)
	}
	quiet := faulty
	quiet.lossPerMille, quiet.dupPerMille, quiet.reorder = 0, 0, false
	c := newCluster(t, seed, quiet)
	c.collect = true
	c.run(stablePhaseMillis)
	if c.failure == "" && c.stats.fallbacks > 0 {
		c.failure = "stability: a peer returned to election in a fault-free run: " + c.firstFallback
	}
	c.opt = faulty
	c.runFaults(3000)
	if c.failure == "" {
		c.heal()
		c.awaitProgress(livenessBoundTicks)
	}
	if c.failure == "" {
		c.run(c.now + 200)
		if v := c.check.Finish(); len(v) > 0 {
			c.failure = "ZAB invariant broken at the end of the run: " + v[0].String()
		}
	}
	return c.failure
}

func TestBugZooHarnessFindsEveryBug(t *testing.T) {
	var table []string
	for _, b := range zooBugs() {
		t.Run(b.name, func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(b.seedsMax); seed++ {
				if f := runZooSeed(t, seed, b); f != "" {
					first, _, _ := strings.Cut(f, "\n")
					table = append(table, fmt.Sprintf("%-60s seed %3d  %s", b.name, seed, detector(f)))
					t.Logf("found at seed %d by %s: %s", seed, detector(f), first)
					if got := detector(f); got != b.foundBy {
						t.Errorf("bug %q (%v): expected %s to find it first; seed %d was failed by %s: %s\nreproduce: go test ./zab -run 'TestBugZooHarnessFindsEveryBug'",
							b.name, b.bugs.Names(), b.foundBy, seed, got, first)
					}
					return
				}
			}
			t.Errorf("bug %q (%v) survived %d seeds: the harness's checks or faults miss it", b.name, b.bugs.Names(), b.seedsMax)
		})
	}
	t.Logf("in-package bug zoo:\n%s", strings.Join(table, "\n"))
}

// TestBugZooControl runs the zoo's seeds and fault mixes with every switch off: the fixed core
// must pass them all, so what the zoo finds is the bugs, not the harness.
func TestBugZooControl(t *testing.T) {
	seedList := seeds(t, 40) // ZABKIT_SEEDS=N for a longer control, -short for fewer
	mixes := []struct {
		name   string
		adjust func(*harnessOptions)
	}{{"default", nil}, {"slowDisks", slowDisks}, {"idleLoad", idleLoad}}
	for _, mix := range mixes {
		for _, seed := range seedList {
			if f := runZooSeed(t, seed, zooBug{adjust: mix.adjust}); f != "" {
				t.Fatalf("the fixed core failed zoo seed %d with fault mix %s (%s): %s\nreproduce: go test ./zab -run TestBugZooControl",
					seed, mix.name, detector(f), f)
			}
		}
	}
}
