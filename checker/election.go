package checker

import "fmt"

// The election checks see what the log invariants cannot: the steps of fast leader election
// and the roles peers take. They are fed host-neutral events, one per LOOKING notification a
// voter sends and per role change, like the ZAB checker (zab.go says how a host maps zab's
// outputs: a zab.Send of a LOOKING voter's notification -> ElectionVoted; zab.StateChanged
// -> ElectionRole; a crash -> ElectionCrashed).

// ElectionEventKind names one kind of election event.
type ElectionEventKind uint8

const (
	// ElectionVoted: voter Node, LOOKING, sent a notification of Vote in election Round.
	ElectionVoted ElectionEventKind = iota + 1
	// ElectionRole: Node's role or phase changed: Looking (it entered election), Broadcast
	// (it leads or follows in broadcast), Reason (why, for reports).
	ElectionRole
	// ElectionCrashed: Node crashed; its next life starts a fresh election.
	ElectionCrashed
)

// ElectionVote is a vote as fast leader election orders it: by epoch, then zxid, then the
// proposed leader's id (ZOOKEEPER-1419 guards the id tie-break by equal epochs).
type ElectionVote struct {
	Epoch  uint32
	Zxid   uint64
	Leader uint64
}

// Beats reports whether v is ahead of o in the vote order. It is the checker's own copy of
// zab.Vote.Beats on purpose: an oracle that borrowed the core's comparison would agree with
// a broken one.
func (v ElectionVote) Beats(o ElectionVote) bool {
	if v.Epoch != o.Epoch {
		return v.Epoch > o.Epoch
	}
	if v.Zxid != o.Zxid {
		return v.Zxid > o.Zxid
	}
	return v.Leader > o.Leader
}

func (v ElectionVote) String() string {
	return fmt.Sprintf("(epoch %d, zxid %s, leader %d)", v.Epoch, FormatZxid(v.Zxid), v.Leader)
}

// ElectionEvent is one recorded election event; each kind uses the fields its comment names.
type ElectionEvent struct {
	Kind      ElectionEventKind
	Time      int64 // the recorder's clock, for reports only
	Node      uint64
	Round     uint64
	Vote      ElectionVote
	Looking   bool
	Broadcast bool
	Reason    string
}

// ElectionChecks selects the election invariants to check.
type ElectionChecks struct {
	// NoVoteCircle: within one round of one election (LOOKING until it decides), a voter's
	// vote only moves up in the vote order (SandTable's NoVoteCircle, zab-bugs.md §2).
	NoVoteCircle bool
	// Stable: no node falls from BROADCAST back to election. Only sound on runs without
	// faults (no crash, no loss, no partition, no disk fault): there, such a fall means a
	// peer received a message the protocol cannot produce (ShouldNotBeTriggered,
	// zab-bugs.md §1).
	Stable bool
}

// Election invariant names.
const (
	NoVoteCircle = "NoVoteCircle"
	Stability    = "Stability"
)

// ElectionChecker checks the selected election invariants incrementally: Observe checks
// each event as it comes, so a simulator can stop at the first bad step.
type ElectionChecker struct {
	checks     ElectionChecks
	n          int // events observed
	nodes      map[uint64]*electionNode
	violations []ZabViolation
}

// electionNode is what the checks remember of one life of a node.
type electionNode struct {
	broadcast bool // in BROADCAST
	round     uint64
	vote      ElectionVote
	voted     bool // vote is this round's latest
}

// NewElectionChecker returns a checker of the selected invariants.
func NewElectionChecker(checks ElectionChecks) *ElectionChecker {
	return &ElectionChecker{checks: checks, nodes: map[uint64]*electionNode{}}
}

// Violations returns the violations found so far.
func (c *ElectionChecker) Violations() []ZabViolation { return c.violations }

// Observe checks one event and returns the violations it adds.
func (c *ElectionChecker) Observe(e ElectionEvent) []ZabViolation {
	c.n++
	before := len(c.violations)
	n := c.nodes[e.Node]
	if n == nil {
		n = &electionNode{}
		c.nodes[e.Node] = n
	}
	switch e.Kind {
	case ElectionVoted:
		if c.checks.NoVoteCircle && n.voted && e.Round == n.round && e.Vote != n.vote && !e.Vote.Beats(n.vote) {
			c.fail(NoVoteCircle, "node %d moved its round-%d vote down from %v to %v", e.Node, e.Round, n.vote, e.Vote)
		}
		n.round, n.vote, n.voted = e.Round, e.Vote, true
	case ElectionRole:
		if c.checks.Stable && e.Looking && n.broadcast {
			c.fail(Stability, "node %d fell from BROADCAST to election in a fault-free run: %s", e.Node, e.Reason)
		}
		n.broadcast = e.Broadcast
		if !e.Looking {
			n.voted = false // the election ended; the next may reuse a round number
		}
	case ElectionCrashed:
		delete(c.nodes, e.Node)
	default:
		c.fail(Integrity, "unknown election event kind %d", e.Kind)
	}
	return c.violations[before:]
}

func (c *ElectionChecker) fail(inv, format string, args ...any) {
	if len(c.violations) < zabViolationsMax {
		c.violations = append(c.violations, ZabViolation{Invariant: inv, Event: c.n - 1, Detail: fmt.Sprintf(format, args...)})
	}
}
