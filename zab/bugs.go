package zab

// Bugs re-introduces real ZooKeeper/ZAB bugs, and a few mutations of our own, into the core,
// so that the bug zoo (scenarios/bugzoo) can show the fuzzer and the checks find each one.
// Every switch is off by default and breaks exactly one rule, with a one-line branch at the
// place the rule lives (search for the field name). Catalog entries (Z01, P1, ...) refer to
// shared/zab-bugs.md. A production host must refuse to start when Any() is true.
type Bugs struct {
	// AckNewLeaderBeforeSynced: the learner acks NEWLEADER as soon as NEWLEADER arrives,
	// before the txns of the sync stream (and currentEpoch) are durable (ZOOKEEPER-4646, Z18;
	// also ZOOKEEPER-3911, Z15).
	AckNewLeaderBeforeSynced bool
	// CurrentEpochBeforeSynced: the learner writes currentEpoch when the sync stream starts,
	// ahead of the txns it is about to receive, so a crash can leave a disk whose epoch names
	// a history it lacks (ZOOKEEPER-4643, Z17).
	CurrentEpochBeforeSynced bool
	// AdvertiseLastApplied: a peer reports its last applied zxid instead of its last logged
	// one in votes, FOLLOWERINFO and ACKEPOCH (ZOOKEEPER-2845, Z11).
	AdvertiseLastApplied bool
	// DiffByRange: the leader sends DIFF whenever the learner's last zxid lies numerically
	// inside its log, whether or not the log holds it, so no TRUNC cuts the learner's
	// divergent txns (ZOOKEEPER-1154, Z01).
	DiffByRange bool
	// VoteTieBreakIgnoresEpoch: the election's server-id tie-break fires on equal zxids even
	// when the epochs differ, so votes are not totally ordered (ZOOKEEPER-1419, Z26).
	VoteTieBreakIgnoresEpoch bool
	// ProposeOnlyToSynced: the leader sends new proposals only to learners that acked
	// NEWLEADER, not to every learner it sent NEWLEADER (protocol-spec issue 1, P1).
	ProposeOnlyToSynced bool
	// AckBeforeDurable: in broadcast, a follower acks a proposal when it logs it, before the
	// write is durable (ZOOKEEPER-4882, Z23: acknowledged though the disk lost it).
	AckBeforeDurable bool
	// SettlePendingAtNewLeader: at NEWLEADER the learner treats every txn it received as
	// settled, committed or not, so those committed later are never applied there
	// (ZOOKEEPER-4394, Z16).
	SettlePendingAtNewLeader bool
	// TruncCutsTarget: TRUNC(z) also removes z itself, an off-by-one in the cut
	// (ZOOKEEPER-1156, Z02).
	TruncCutsTarget bool
	// StaleVoteEpoch: a learner keeps advertising the epoch of its election vote instead of
	// the epoch of the leader it synced with, so a newcomer cannot match the reports of the
	// ensemble (ZOOKEEPER-1732/-1818, Z27).
	StaleVoteEpoch bool

	// Mutations of our own.

	// QuorumOffByOne: a quorum is half the voters, not a strict majority.
	QuorumOffByOne bool
	// LeaderAckBeforePersist: the leader counts its own logged txns towards a quorum before
	// they are durable.
	LeaderAckBeforePersist bool
	// CommitOutOfOrder: a peer applies a batch of newly committed txns newest first.
	CommitOutOfOrder bool
	// CommitRedeliversLast: a commit batch starts at the last committed txn instead of
	// after it, an off-by-one that applies that txn a second time.
	CommitRedeliversLast bool
	// ProposalBufferReused: the leader logs and sends a proposal's data in one buffer that
	// it reuses for the next proposal (the Go aliasing bug of keeping a pooled or decoder
	// buffer past its lifetime), so a txn is applied with a later txn's bytes.
	ProposalBufferReused bool
	// InitialHistoryLate: a new leader applies the initial history it synced (older
	// epochs' txns) only when its own epoch's first txns commit, and after them: the ZAB
	// paper's phase 3 delivers the initial history before any new proposal.
	InitialHistoryLate bool
}

// Any reports whether any bug switch is on. The daemon refuses to start if so.
func (b Bugs) Any() bool { return len(b.Names()) > 0 }

// Names lists the switches that are on, in declaration order.
func (b Bugs) Names() []string { return SwitchesOn(b.switches()) }

// BugSwitch is one named bug switch: zab/node lists its own switches with it, so both
// packages name the switches that are on the same way.
type BugSwitch struct {
	Name string
	On   bool
}

// SwitchesOn lists the names of the switches that are on, in the order given.
func SwitchesOn(switches []BugSwitch) []string {
	var names []string
	for _, s := range switches {
		if s.On {
			names = append(names, s.Name)
		}
	}
	return names
}

// switches lists every field (a test keeps this list complete).
func (b Bugs) switches() []BugSwitch {
	return []BugSwitch{
		{"AckNewLeaderBeforeSynced", b.AckNewLeaderBeforeSynced},
		{"CurrentEpochBeforeSynced", b.CurrentEpochBeforeSynced},
		{"AdvertiseLastApplied", b.AdvertiseLastApplied},
		{"DiffByRange", b.DiffByRange},
		{"VoteTieBreakIgnoresEpoch", b.VoteTieBreakIgnoresEpoch},
		{"ProposeOnlyToSynced", b.ProposeOnlyToSynced},
		{"AckBeforeDurable", b.AckBeforeDurable},
		{"SettlePendingAtNewLeader", b.SettlePendingAtNewLeader},
		{"TruncCutsTarget", b.TruncCutsTarget},
		{"StaleVoteEpoch", b.StaleVoteEpoch},
		{"QuorumOffByOne", b.QuorumOffByOne},
		{"LeaderAckBeforePersist", b.LeaderAckBeforePersist},
		{"CommitOutOfOrder", b.CommitOutOfOrder},
		{"CommitRedeliversLast", b.CommitRedeliversLast},
		{"ProposalBufferReused", b.ProposalBufferReused},
		{"InitialHistoryLate", b.InitialHistoryLate},
	}
}
