package zab

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/checker"
)

// Each ZAB invariant of the checker (shared/zab-bugs.md §1) shown catching a deliberately
// broken core: a table of core mutations (Config.Bugs switches) and the invariant that must
// be the first the checker reports. The state machine is lenient (it applies in any order),
// so a mis-ordering core is judged by the checker, not by the test register's own panic; and
// a core assertion or a liveness failure that fires first fails the row, so the row proves
// the named check, not merely that something noticed. Agreement is implied by
// PrefixConsistency (checker.ZabChecker), so no core can break it first: its row requires it
// at the same event as the PrefixConsistency violation (also shown from events alone by the
// checker's TestZabCheckerCatchesAgreementViolation).

// mutant is one core mutation, the invariant it must break first, one that must be broken
// at the same event when set, and how many seeds the fault mix may take to show it.
type mutant struct {
	name      string
	bugs      Bugs
	invariant string
	along     string
	seedsMax  int
}

func mutants() []mutant {
	return []mutant{
		{"quorum off by one: two halves establish one epoch", Bugs{QuorumOffByOne: true}, checker.Leadership, "", 10},
		{"ZOOKEEPER-4394 settle pending at NEWLEADER", Bugs{SettlePendingAtNewLeader: true}, checker.PrefixConsistency, checker.Agreement, 10},
		{"proposal buffer reused: a txn applied with a later txn's bytes", Bugs{ProposalBufferReused: true}, checker.Integrity, "", 10},
		{"commit batch redelivers the last committed txn", Bugs{CommitRedeliversLast: true}, checker.TotalOrder, "", 10},
		{"commit batch applied newest first", Bugs{CommitOutOfOrder: true}, checker.LocalPrimaryOrder, "", 10},
		{"initial history applied after the new epoch's txns", Bugs{InitialHistoryLate: true}, checker.GlobalPrimaryOrder, "", 10},
		{"ZOOKEEPER-1154 DIFF by numeric range", Bugs{DiffByRange: true}, checker.PrimaryIntegrity, "", 10},
		{"ZOOKEEPER-1156 TRUNC cuts its target", Bugs{TruncCutsTarget: true}, checker.CommittedLogDurability, "", 10},
	}
}

// runMutantSeed runs one seed of the fault mix (faults, heal, liveness, the end-of-run
// checks) with bugs switched on and a lenient state machine. It returns the violations the
// checker reported at the first event it rejected (or at Finish), and the run's failure
// ("" when none).
func runMutantSeed(t *testing.T, seed uint64, bugs Bugs) ([]checker.ZabViolation, string) {
	voters := 3
	if seed%4 == 0 {
		voters = 5
	}
	opt := faultyOptions(seed, voters, 0)
	opt.bugs, opt.lenientRegister = bugs, true
	c := newCluster(t, seed, opt)
	c.collect = true
	c.runFaults(3000)
	if c.failure == "" {
		c.heal()
		c.awaitProgress(livenessBoundTicks)
	}
	if c.failure == "" {
		c.run(c.now + 200)
		if v := c.check.Finish(); len(v) > 0 {
			c.broken = v
			c.failure = "ZAB invariant broken at the end of the run: " + v[0].String()
		}
	}
	return c.broken, c.failure
}

func TestEachInvariantCatchesABrokenCore(t *testing.T) {
	caught := map[string]bool{}
	for _, m := range mutants() {
		t.Run(m.name, func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(m.seedsMax); seed++ {
				broken, failure := runMutantSeed(t, seed, m.bugs)
				if failure == "" {
					continue
				}
				first, _, _ := strings.Cut(failure, "\n")
				var names []string
				for _, v := range broken {
					names = append(names, v.Invariant)
				}
				reproduce := fmt.Sprintf("reproduce: go test ./zab -run 'TestEachInvariantCatchesABrokenCore' (mutation %v, seed %d)", m.bugs.Names(), seed)
				require.NotEmpty(t, broken, "mutation %v: expected the checker to report %s first; the run failed outside the checker at seed %d: %s\n%s",
					m.bugs.Names(), m.invariant, seed, first, reproduce)
				require.Equal(t, m.invariant, broken[0].Invariant, "mutation %v: expected %s to be the first invariant broken; seed %d broke %v: %s\n%s",
					m.bugs.Names(), m.invariant, seed, names, first, reproduce)
				if m.along != "" {
					require.Contains(t, names, m.along, "mutation %v: expected %s along with %s at seed %d's first bad event; got %v\n%s",
						m.bugs.Names(), m.along, m.invariant, seed, names, reproduce)
					caught[m.along] = true
				}
				control, controlFailure := runMutantSeed(t, seed, Bugs{})
				require.Empty(t, controlFailure, "seed %d fails without the mutation too (%v): the row would not show the mutation\n%s", seed, control, reproduce)
				caught[m.invariant] = true
				t.Logf("seed %d: %v at the first bad event; %s", seed, names, first)
				return
			}
			t.Errorf("mutation %v went unnoticed on %d seeds: expected the checker to report %s", m.bugs.Names(), m.seedsMax, m.invariant)
		})
	}
	for _, inv := range []string{checker.Leadership, checker.PrefixConsistency, checker.Agreement, checker.Integrity, checker.TotalOrder,
		checker.LocalPrimaryOrder, checker.GlobalPrimaryOrder, checker.PrimaryIntegrity, checker.CommittedLogDurability} {
		require.True(t, caught[inv], "no mutation showed %s catching a broken core", inv)
	}
}
