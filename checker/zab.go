// Package checker holds zabkit's oracles: checks over recorded runs that decide whether a
// history is legal. This file and its zab*.go siblings check the ZAB safety invariants of
// shared/zab-bugs.md §1-2 over a stream of protocol events.
//
// The ZAB checks import nothing from the module (the client-level checks beside them use
// zab/tree and zab/wire to replay histories; no check imports a host): zxids are plain uint64
// (epoch in the high 32 bits) and txns plain bytes, so the in-package zab harness, the
// whole-server simulator and the daemon's trace replays can all feed them. How a host maps zab's outputs to events (the
// zab harness, zab/harness_test.go, does exactly this):
//   - zab.Proposed{Zxid} for the data it was asked to propose -> ZabProposed;
//   - zab.Deliver -> ZabDelivered; zab.Restored -> ZabRestored;
//   - zab.StateChanged{Role: Leading, Phase: Broadcast} -> ZabEstablished with the
//     leader's Peer.History() at that moment;
//   - a Persist whose Truncate (or a future snapshot install) removes logged txns from the
//     node's written log -> ZabTruncated with the removed zxids;
//   - a crash -> ZabCrashed; a restart -> ZabRestored at the durable snapshot's zxid (0 for
//     none), before the restarted peer's first output.
//
// Feed every event to one ZabChecker as it happens (Observe reports the first bad step) and
// call Finish at the end of the run.
package checker

import "fmt"

// ZabEventKind names one kind of protocol event.
type ZabEventKind uint8

const (
	// ZabProposed: leader Node broadcast txn Txn with zxid Zxid (in epoch Zxid>>32).
	ZabProposed ZabEventKind = iota + 1
	// ZabDelivered: Node applied committed txn Txn with zxid Zxid to its state machine.
	ZabDelivered
	// ZabRestored: Node's state machine was replaced by the committed state up to Zxid
	// (zero: the empty state): a snapshot installed by SNAP sync or loaded at restart.
	ZabRestored
	// ZabEstablished: Node became the established leader of Epoch (a quorum acked
	// NEWLEADER); its initial history is everything up to Base plus Zxids.
	ZabEstablished
	// ZabTruncated: Node removed Zxids from its log (TRUNC, or a SNAP replacing the log).
	ZabTruncated
	// ZabCrashed: Node crashed; everything in its memory is gone.
	ZabCrashed
)

func (k ZabEventKind) String() string {
	switch k {
	case ZabProposed:
		return "proposed"
	case ZabDelivered:
		return "delivered"
	case ZabRestored:
		return "restored"
	case ZabEstablished:
		return "established"
	case ZabTruncated:
		return "truncated"
	case ZabCrashed:
		return "crashed"
	}
	return fmt.Sprintf("ZabEventKind(%d)", uint8(k))
}

// ZabEvent is one recorded protocol event; each kind uses the fields its comment names.
type ZabEvent struct {
	Kind  ZabEventKind
	Time  int64 // the recorder's clock, for reports only
	Node  uint64
	Epoch uint32
	Zxid  uint64
	Txn   []byte
	Base  uint64
	Zxids []uint64
}

func (e ZabEvent) String() string {
	return fmt.Sprintf("t=%d node=%d %v epoch=%d zxid=%s txn=%q base=%s zxids=%d",
		e.Time, e.Node, e.Kind, e.Epoch, FormatZxid(e.Zxid), e.Txn, FormatZxid(e.Base), len(e.Zxids))
}

// FormatZxid prints a zxid as epoch.counter.
func FormatZxid(z uint64) string { return fmt.Sprintf("%d.%d", z>>32, uint32(z)) }

// Invariant names, as in shared/zab-bugs.md §1-2.
const (
	Leadership             = "Leadership"
	PrefixConsistency      = "PrefixConsistency"
	Integrity              = "Integrity"
	Agreement              = "Agreement"
	TotalOrder             = "TotalOrder"
	LocalPrimaryOrder      = "LocalPrimaryOrder"
	GlobalPrimaryOrder     = "GlobalPrimaryOrder"
	PrimaryIntegrity       = "PrimaryIntegrity"
	CommittedLogDurability = "CommittedLogDurability"
)

// ZabViolation is one broken invariant: which, at which event (index into the stream) and why.
type ZabViolation struct {
	Invariant string
	Event     int
	Detail    string
}

func (v ZabViolation) String() string {
	return fmt.Sprintf("%s violated at event %d: %s", v.Invariant, v.Event, v.Detail)
}

// zabViolationsMax bounds the violations kept: the first ones are the informative ones.
const zabViolationsMax = 100

// CheckZab runs every ZAB invariant over a recorded stream and returns the violations.
func CheckZab(events []ZabEvent) []ZabViolation {
	c := NewZabChecker()
	for _, e := range events {
		c.Observe(e)
	}
	return c.Finish()
}
