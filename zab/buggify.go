package zab

// Buggify is FoundationDB's BUGGIFY for the core: at each named site the peer asks whether
// to take a path that is legal but rare (a snapshot at an odd moment, a SNAP where a DIFF
// would do, a late ping, a held-back COMMIT or ACK, a follower that gives up on its leader
// early), so that a simulation reaches the rare paths of the protocol far more often than
// real timing ever would. The simulator passes sim.NewBuggify, which activates each site
// for a whole run with probability 1/4 and then fires an active site with probability 1/4
// each time it is asked. Config.Buggify is nil in production: a nil hook never fires, and
// the daemon never sets one.
//
// Every site only does what the protocol already allows: the checkers must pass with every
// site firing. Each site's constant says why it is legal. The hook must be deterministic
// (drawn from the seed): the core asks it in a deterministic order.
type Buggify interface {
	// Fire reports whether to take the rare path at site this time.
	Fire(site string) bool
}

// The sites of package zab. A site is named "zab.<what>"; the names reach the host's
// settings and reports, never the protocol.
const (
	// BuggifySnapshotNow: a peer that takes its own snapshots (not Config.SnapshotsByHost)
	// snapshots right after a commit, whatever SnapshotEveryTxns says. Legal: it is the
	// periodic snapshot, taken at the commit point and labelled with it in the same step
	// (ZOOKEEPER-3104), only earlier; it is a Persist ordered with the log writes.
	BuggifySnapshotNow = "zab.snapshot-now"
	// BuggifySyncSnap: the leader sends SNAP to a learner it could bring up to date with
	// DIFF or TRUNC. Legal: SNAP of the leader's state machine followed by every txn of its
	// log above it is what any learner too far behind gets (chooseSync's DiffTxnsMax case);
	// the learner's logged txns above the snapshot are confirmed or cut by the stream.
	BuggifySyncSnap = "zab.sync-snap"
	// BuggifyTrimLog: the peer trims its in-memory log down to its newest committed txn at
	// the end of a step, so learners a few txns behind get SNAP. Legal: trimLog drops only
	// committed txns that stay on disk, exactly as it does with DiffTxnsMax 1.
	BuggifyTrimLog = "zab.trim-log"
	// BuggifyRepairOne: a ping repair resends one txn instead of a whole window. Legal: the
	// repair is a retransmission the learner could have lost again; the next stalled ping
	// answer asks for the rest.
	BuggifyRepairOne = "zab.repair-one"
	// BuggifyBusy: the leader refuses a proposal with ErrBusy once two are in flight, an
	// in-flight window of 2 instead of InFlightTxnsMax. Legal: the refusal is explicit, the
	// txn never got a zxid. zab/node never passes this site on: it sizes zab's window above
	// its own so zab never refuses it, and narrows its own window instead.
	BuggifyBusy = "zab.busy"
	// BuggifyGiveUpEarly: a learner entering broadcast gives up on its leader after two
	// ticks of silence instead of syncLimit, so one lost or skipped ping round starts an
	// election while its leader still counts it as a follower. Legal: a peer may return to
	// election at any time; only availability suffers, since the epoch rules, not the
	// timeout, keep histories safe. (One tick would be legal too, but with pings every tick
	// an idle follower would then time out at almost every ping.)
	BuggifyGiveUpEarly = "zab.give-up-early"
	// BuggifyPingLate: the leader skips a ping round, so learners hear from it a tick later.
	// Legal: pings are heartbeats and repairs; silence is judged against syncLimit, and a
	// learner that times out only returns to election.
	BuggifyPingLate = "zab.ping-late"
	// BuggifyResendLate: a LOOKING peer repeats its vote after the longest wait its jitter
	// allows (three ticks less a millisecond). Legal: that wait is one the jitter can draw.
	BuggifyResendLate = "zab.resend-late"
	// BuggifyCommitLate: the leader holds back a commit of its own epoch's txns, and every
	// commit after it, for a tick. Legal: committing later than a quorum allows never
	// commits anything a quorum does not hold; COMMITs and the leader's own deliveries still
	// go out in zxid order. Never the initial history: a leader delivers the txns of earlier
	// epochs before it broadcasts in its own (ZAB's primary integrity; zab/node prepares new
	// txns against that applied state), so it commits them the moment it is established.
	BuggifyCommitLate = "zab.commit-late"
	// BuggifyAckLate: a follower leaves the ACK off a proposal's append (the append itself is
	// persisted as usual). Legal: ACKs are cumulative and durable-gated; the follower's next
	// ACK or its answer to the next ping (which carries its durable point) acknowledges the
	// txn a little later, never before it is on disk.
	BuggifyAckLate = "zab.ack-late"
)

// BuggifySites lists zab's sites, for hosts that report which are active in a run.
func BuggifySites() []string {
	return []string{BuggifySnapshotNow, BuggifySyncSnap, BuggifyTrimLog, BuggifyRepairOne, BuggifyBusy,
		BuggifyGiveUpEarly, BuggifyPingLate, BuggifyResendLate, BuggifyCommitLate, BuggifyAckLate}
}

// buggify asks the hook at site; without one (production) it never fires.
func (p *Peer) buggify(site string) bool {
	return p.cfg.Buggify != nil && p.cfg.Buggify.Fire(site)
}
