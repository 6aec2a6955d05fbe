package zab

import "errors"

// Output is one effect the host must carry out, in the order Handle returned them.
type Output interface{ isOutput() }

// Send asks the host to send a message now.
type Send struct{ Message Message }

// Persist asks the host for one durable write, executed in this order: install Snapshot (it
// replaces the snapshot; logged txns up to its zxid may go, the ones above it stay), cut the
// log after TruncateAfter when Truncate is set,
// append Entries, write acceptedEpoch and currentEpoch. Once all of it is durable the host
// sends the After messages, in order, and reports Persisted{ID}. Persists are executed and
// become durable in ID order; a crash may lose any suffix of them that was not reported.
type Persist struct {
	ID               uint64
	Snapshot         *Snapshot
	Truncate         bool
	TruncateAfter    Zxid
	Entries          []Txn
	SetAcceptedEpoch bool
	AcceptedEpoch    Epoch
	SetCurrentEpoch  bool
	CurrentEpoch     Epoch
	After            []Message
}

// Deliver reports a committed txn that the peer has just applied to Config.StateMachine.
// Deliveries come in strict zxid order.
type Deliver struct{ Txn Txn }

// Restored reports that the peer replaced its state machine with a leader's snapshot taken at
// Zxid (SNAP sync). Deliveries continue after Zxid.
type Restored struct{ Zxid Zxid }

// StateChanged reports a new role or phase. Leader is the peer being followed or led
// (zero while LOOKING). A Leading peer entering Broadcast is an established leader.
type StateChanged struct {
	Role   Role
	Phase  Phase
	Epoch  Epoch
	Leader PeerID
	Reason string
}

// Proposed answers an accepted Propose with the zxid the txn got.
type Proposed struct{ Zxid Zxid }

// Rejected answers a Propose the peer cannot take.
type Rejected struct{ Err error }

func (Send) isOutput()         {}
func (Persist) isOutput()      {}
func (Deliver) isOutput()      {}
func (Restored) isOutput()     {}
func (StateChanged) isOutput() {}
func (Proposed) isOutput()     {}
func (Rejected) isOutput()     {}

// Reasons for Rejected.
var (
	ErrNotLeader = errors.New("zab: not an established leader")
	ErrBusy      = errors.New("zab: too many proposals in flight")
	ErrTooLarge  = errors.New("zab: txn too large")
)
