package checker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func z(epoch, counter uint32) uint64 { return uint64(epoch)<<32 | uint64(counter) }

func established(node uint64, epoch uint32, base uint64, zxids ...uint64) ZabEvent {
	return ZabEvent{Kind: ZabEstablished, Node: node, Epoch: epoch, Base: base, Zxids: zxids}
}

func proposed(node uint64, zxid uint64, txn string) ZabEvent {
	return ZabEvent{Kind: ZabProposed, Node: node, Zxid: zxid, Txn: []byte(txn)}
}

func delivered(node uint64, zxid uint64, txn string) ZabEvent {
	return ZabEvent{Kind: ZabDelivered, Node: node, Zxid: zxid, Txn: []byte(txn)}
}

// legalHistory: leader 1 of epoch 1 broadcasts a, b; nodes 1-3 deliver them; node 3 crashes
// and restores from a snapshot at a; leader 2 of epoch 2 (holding a, b) broadcasts c.
func legalHistory() []ZabEvent {
	return []ZabEvent{
		established(1, 1, 0),
		proposed(1, z(1, 1), "a"),
		proposed(1, z(1, 2), "b"),
		delivered(1, z(1, 1), "a"), delivered(1, z(1, 2), "b"),
		delivered(2, z(1, 1), "a"), delivered(2, z(1, 2), "b"),
		delivered(3, z(1, 1), "a"),
		{Kind: ZabCrashed, Node: 3},
		{Kind: ZabRestored, Node: 3, Zxid: z(1, 1)},
		{Kind: ZabTruncated, Node: 3, Zxids: []uint64{z(1, 3)}}, // never committed
		established(2, 2, 0, z(1, 1), z(1, 2)),
		proposed(2, z(2, 1), "c"),
		delivered(2, z(2, 1), "c"),
		delivered(3, z(1, 2), "b"), delivered(3, z(2, 1), "c"),
		delivered(1, z(2, 1), "c"),
	}
}

func TestZabCheckerAcceptsLegalHistory(t *testing.T) {
	require.Empty(t, CheckZab(legalHistory()), "a legal history must pass every check")
}

// A leader that finishes establishing epoch 2 only after epoch 3 committed a txn lacks that
// txn: LeaderLogCompleteness asks a new leader for the committed txns of older epochs only
// (shared/zab-bugs.md §1), so this is no CommittedLogDurability violation (it was one while
// the check took every committed txn: scenarios/bugzoo's serve-before-synced seed 6).
func TestZabCheckerAcceptsLateEstablishmentOfAnOlderEpoch(t *testing.T) {
	history := func(late ZabEvent) []ZabEvent {
		return []ZabEvent{
			established(1, 1, 0),
			proposed(1, z(1, 1), "a"),
			delivered(1, z(1, 1), "a"), delivered(3, z(1, 1), "a"),
			established(3, 3, 0, z(1, 1)),
			proposed(3, z(3, 1), "c"),
			delivered(3, z(3, 1), "c"),
			late,
		}
	}
	v := CheckZab(history(established(2, 2, 0, z(1, 1))))
	require.Empty(t, v, "expected no violation: the late leader of epoch 2 holds every committed txn of epoch 1; got %v", v)
	v = CheckZab(history(established(2, 2, 0)))
	require.Len(t, v, 1, "expected one violation: the late leader of epoch 2 lacks committed 1.1; got %v", v)
	require.Equal(t, CommittedLogDurability, v[0].Invariant, "got %v", v)
}

// TestZabCheckerCatchesEachViolation feeds hand-made broken histories, one per invariant, and
// requires the checker to report that invariant (a broken history often breaks several).
func TestZabCheckerCatchesEachViolation(t *testing.T) {
	base := []ZabEvent{
		established(1, 1, 0),
		proposed(1, z(1, 1), "a"),
		proposed(1, z(1, 2), "b"),
	}
	with := func(evs ...ZabEvent) []ZabEvent { return append(append([]ZabEvent{}, base...), evs...) }
	tests := []struct {
		name      string
		invariant string
		history   []ZabEvent
	}{
		{"two leaders establish one epoch", Leadership, with(established(2, 1, 0))},
		{"a non-leader broadcasts", Leadership, with(proposed(2, z(1, 3), "x"))},
		{"two nodes deliver different txns at one position", PrefixConsistency, with(
			proposed(1, z(1, 3), "c"),
			delivered(1, z(1, 1), "a"), delivered(1, z(1, 2), "b"),
			delivered(2, z(1, 1), "a"), delivered(2, z(1, 3), "c"))},
		{"a node delivers a txn nobody proposed", Integrity, with(delivered(1, z(1, 1), "forged"))},
		{"a zxid proposed with two values", Integrity, with(proposed(1, z(1, 2), "b2"))},
		{"a node delivers the same txn twice", TotalOrder, with(
			delivered(1, z(1, 1), "a"), delivered(1, z(1, 1), "a"))},
		{"two lives deliver a txn after different prefixes", TotalOrder, []ZabEvent{
			established(1, 1, 0), proposed(1, z(1, 1), "a"), established(2, 2, 0), proposed(2, z(2, 1), "c"),
			delivered(1, z(2, 1), "c"),
			delivered(2, z(1, 1), "a"), delivered(2, z(2, 1), "c"),
		}},
		{"a node skips an earlier txn of the same leader", LocalPrimaryOrder, with(
			delivered(1, z(1, 2), "b"))},
		{"a leader proposes out of zxid order", LocalPrimaryOrder, []ZabEvent{
			established(1, 1, 0), proposed(1, z(1, 2), "b"), proposed(1, z(1, 1), "a"),
		}},
		{"a node delivers an older epoch after a newer one", GlobalPrimaryOrder, []ZabEvent{
			established(1, 1, 0), proposed(1, z(1, 1), "a"),
			established(2, 2, 0), proposed(2, z(2, 1), "c"),
			delivered(3, z(2, 1), "c"), delivered(3, z(1, 1), "a"),
		}},
		{"a new leader broadcasts before delivering a committed older txn", PrimaryIntegrity, with(
			delivered(1, z(1, 1), "a"),
			established(2, 2, 0, z(1, 1)),
			proposed(2, z(2, 1), "c"))},
		{"an old txn delivered after the new leader broadcast without it", PrimaryIntegrity, []ZabEvent{
			established(1, 1, 0), proposed(1, z(1, 1), "a"),
			established(2, 2, 0), proposed(2, z(2, 1), "c"),
			delivered(3, z(1, 1), "a"),
		}},
		{"a committed txn is truncated", CommittedLogDurability, with(
			delivered(1, z(1, 1), "a"),
			ZabEvent{Kind: ZabTruncated, Node: 2, Zxids: []uint64{z(1, 1)}})},
		{"a leader is established without a committed txn (ZOOKEEPER-4643/4646)", CommittedLogDurability, with(
			delivered(1, z(1, 1), "a"), delivered(1, z(1, 2), "b"),
			established(2, 2, 0, z(1, 1)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := CheckZab(tt.history)
			var names []string
			for _, x := range v {
				names = append(names, x.Invariant)
			}
			assert.Contains(t, names, tt.invariant, "expected a %s violation; got %v", tt.invariant, v)
		})
	}
}

// invariantsAt feeds history to a fresh checker and returns the invariants the checker
// reported at the last event, and those reported before it.
func invariantsAt(history []ZabEvent) (last, before []string) {
	c := NewZabChecker()
	for i, e := range history {
		n := len(c.Violations())
		c.Observe(e)
		for _, v := range c.Violations()[n:] {
			if i == len(history)-1 {
				last = append(last, v.Invariant)
			} else {
				before = append(before, v.Invariant)
			}
		}
	}
	return last, before
}

// Agreement is checked in Observe, from events alone. It is implied by PrefixConsistency
// (two prefixes of one sequence are ordered by inclusion), so a delivery that breaks it
// breaks PrefixConsistency too; a restore can break it with nothing else.
func TestZabCheckerCatchesAgreementViolation(t *testing.T) {
	base := []ZabEvent{
		established(1, 1, 0),
		proposed(1, z(1, 1), "a"), proposed(1, z(1, 2), "b"), proposed(1, z(1, 3), "c"),
		delivered(1, z(1, 1), "a"), delivered(1, z(1, 2), "b"),
	}
	with := func(evs ...ZabEvent) []ZabEvent { return append(append([]ZabEvent{}, base...), evs...) }
	tests := []struct {
		name           string
		history        []ZabEvent
		atLast, before []string
	}{
		{"node 2 delivers c where node 1 delivered b: each lacks what the other has",
			with(delivered(2, z(1, 1), "a"), delivered(2, z(1, 3), "c")),
			[]string{LocalPrimaryOrder, PrefixConsistency, Agreement}, nil},
		{"node 3 restores a state holding b while node 2's life holds c instead",
			with(delivered(2, z(1, 1), "a"), delivered(2, z(1, 3), "c"), ZabEvent{Kind: ZabRestored, Node: 3, Zxid: z(1, 2)}),
			[]string{Agreement}, []string{LocalPrimaryOrder, PrefixConsistency, Agreement}},
		{"lives of different lengths on one sequence agree",
			with(delivered(2, z(1, 1), "a"), ZabEvent{Kind: ZabCrashed, Node: 1}, ZabEvent{Kind: ZabRestored, Node: 1, Zxid: z(1, 1)},
				delivered(2, z(1, 2), "b"), delivered(2, z(1, 3), "c")),
			nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last, before := invariantsAt(tt.history)
			assert.Equal(t, tt.atLast, last, "invariants reported at the last event (expected %v, got %v)", tt.atLast, last)
			assert.Equal(t, tt.before, before, "invariants reported before the last event (expected %v, got %v)", tt.before, before)
		})
	}
}

func TestZabCheckerRestoreOfUndeliveredStateIsIntegrityViolation(t *testing.T) {
	v := CheckZab([]ZabEvent{{Kind: ZabRestored, Node: 1, Zxid: z(3, 3)}})
	require.NotEmpty(t, v)
	assert.Equal(t, Integrity, v[0].Invariant)
}
