package checker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func voted(node, round uint64, epoch uint32, zxid, leader uint64) ElectionEvent {
	return ElectionEvent{Kind: ElectionVoted, Node: node, Round: round,
		Vote: ElectionVote{Epoch: epoch, Zxid: zxid, Leader: leader}}
}

func looking(node uint64) ElectionEvent {
	return ElectionEvent{Kind: ElectionRole, Node: node, Looking: true, Reason: "test"}
}

func broadcasting(node uint64) ElectionEvent {
	return ElectionEvent{Kind: ElectionRole, Node: node, Broadcast: true}
}

func syncing(node uint64) ElectionEvent { return ElectionEvent{Kind: ElectionRole, Node: node} }

// legalElections: node 1 raises its vote twice in round 1, leads; node 2 follows; node 1
// crashes and its next life votes lower in the same round number; node 2 later elects again
// in round 1 (a round number may repeat after an election ends) with a lower vote.
func legalElections() []ElectionEvent {
	return []ElectionEvent{
		looking(1), looking(2),
		voted(1, 1, 1, z(1, 3), 1), voted(2, 1, 1, z(1, 3), 2),
		voted(1, 1, 1, z(1, 3), 2), // a higher id, same epoch and zxid
		voted(1, 1, 1, z(1, 3), 2), // the same vote again
		syncing(1), syncing(2), broadcasting(1), broadcasting(2),
		{Kind: ElectionCrashed, Node: 1},
		looking(1), voted(1, 1, 1, z(1, 2), 1),
		broadcasting(1),
	}
}

func TestElectionCheckerAcceptsLegalElections(t *testing.T) {
	c := NewElectionChecker(ElectionChecks{NoVoteCircle: true, Stable: true})
	for i, e := range legalElections() {
		require.Empty(t, c.Observe(e), "event %d (%+v) of a legal history", i, e)
	}
}

func TestElectionCheckerCatchesEachViolation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks ElectionChecks
		events []ElectionEvent
		want   string
	}{
		{"a vote moves down within a round", ElectionChecks{NoVoteCircle: true},
			[]ElectionEvent{looking(1), voted(1, 4, 2, z(2, 5), 1), voted(1, 4, 2, z(2, 4), 3)}, NoVoteCircle},
		{"a lower epoch wins by id (ZOOKEEPER-1419's circle)", ElectionChecks{NoVoteCircle: true},
			[]ElectionEvent{looking(2), voted(2, 1, 3, z(2, 7), 1), voted(2, 1, 2, z(2, 7), 3)}, NoVoteCircle},
		{"a broadcasting node falls back to election", ElectionChecks{Stable: true},
			[]ElectionEvent{looking(1), syncing(1), broadcasting(1), looking(1)}, Stability},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewElectionChecker(tc.checks)
			var got []ZabViolation
			for _, e := range tc.events {
				got = append(got, c.Observe(e)...)
			}
			require.Len(t, got, 1, "expected one %s violation, got %v", tc.want, got)
			require.Equal(t, tc.want, got[0].Invariant, "%v", got[0])
			require.Equal(t, len(tc.events)-1, got[0].Event, "the violation names the last event")
			require.Contains(t, got[0].String(), tc.want+" violated", "reports name the invariant")

			off := NewElectionChecker(ElectionChecks{})
			for _, e := range tc.events {
				require.Empty(t, off.Observe(e), "with the check off, %s is not reported", tc.want)
			}
		})
	}
}

// A round number that repeats after the election ended, or in a new life, starts afresh.
func TestElectionCheckerForgetsEndedElections(t *testing.T) {
	for _, end := range []ElectionEvent{syncing(1), {Kind: ElectionCrashed, Node: 1}} {
		c := NewElectionChecker(ElectionChecks{NoVoteCircle: true})
		c.Observe(looking(1))
		c.Observe(voted(1, 1, 2, z(2, 9), 3))
		c.Observe(end)
		c.Observe(looking(1))
		require.Empty(t, c.Observe(voted(1, 1, 1, z(1, 1), 1)), "after %+v, round 1 is a new election", end)
		require.Len(t, c.Observe(voted(1, 1, 1, z(1, 1), 0)), 1, "but within it the vote still may not move down")
	}
}

// An event of a kind the checker does not know is reported whatever checks are on: it
// would otherwise be skipped silently.
func TestElectionCheckerRefusesUnknownEvents(t *testing.T) {
	c := NewElectionChecker(ElectionChecks{})
	got := c.Observe(ElectionEvent{Kind: 99, Node: 1})
	require.Len(t, got, 1, "an unknown kind is one violation, got %v", got)
	require.Equal(t, Integrity, got[0].Invariant, "%v", got[0])
	require.Equal(t, got, c.Violations(), "Violations returns what Observe reported")
}
