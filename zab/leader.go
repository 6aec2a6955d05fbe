package zab

import (
	"slices"
	"sort"
)

// The leader side of discovery, synchronization and broadcast (ZooKeeper's Leader and
// LearnerHandler, the paper's phases 1-3 for the prospective leader).

type handlePhase uint8

const (
	hInfo           handlePhase = iota + 1 // FOLLOWERINFO received; LEADERINFO not sent yet
	hEpochSent                             // LEADERINFO sent; waiting for ACKEPOCH
	hEpochAcked                            // ACKEPOCH received; waiting for the discovery quorum
	hNewLeaderSent                         // sync stream and NEWLEADER sent
	hNewLeaderAcked                        // synced; counts in broadcast quorums (voters only)
)

// learnerHandle is the leader's view of one learner's registration (one Session).
type learnerHandle struct {
	id            PeerID
	observer      bool
	session       uint64
	phase         handlePhase
	acceptedEpoch Epoch
	counted       bool // its ACKEPOCH counts towards the discovery quorum
	lastZxid      Zxid // reported in ACKEPOCH
	newLeaderZxid Zxid
	acked         Zxid // durable on the learner (cumulative)
	logged        Zxid // last logged txn the learner reported in its previous ping
	loggedLimit   Zxid // what the learner should have had by then
	lastHeard     Time
}

type leaderState struct {
	epoch          Epoch
	epochChosen    bool
	epochPersistID uint64
	epochDurable   bool
	discovered     bool
	currentEpochID uint64 // persist of currentEpoch=epoch: the leader's own NEWLEADER ack
	established    bool
	learners       map[PeerID]*learnerHandle
	deadline       Time // initLimit for establishing the epoch
	pingAt         Time
	commitAt       Time   // commits are held back until then (BuggifyCommitLate); 0: none held
	proposalBuf    []byte // only Bugs.ProposalBufferReused uses it
}

func (p *Peer) becomeLeader(reason string) {
	p.ld = &leaderState{
		learners: map[PeerID]*learnerHandle{},
		deadline: p.now + p.tickMillis(p.cfg.InitLimitTicks),
		pingAt:   p.now + p.tickMillis(1),
	}
	p.setState(Leading, Discovery, reason)
	p.maybeChooseEpoch()
}

// handles returns the learner handles sorted by id, so no map order reaches an output.
func (p *Peer) handles() []*learnerHandle {
	hs := make([]*learnerHandle, 0, len(p.ld.learners))
	for _, h := range p.ld.learners {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].id < hs[j].id })
	return hs
}

// countVoters counts the leader plus the voting learners for which ok holds.
func (p *Peer) countVoters(ok func(h *learnerHandle) bool) int {
	n := 1
	for _, h := range p.ld.learners {
		if !h.observer && ok(h) {
			n++
		}
	}
	return n
}

// maybeChooseEpoch picks the new epoch once a quorum of voters registered: one above every
// acceptedEpoch among them. The leader persists it as its own acceptedEpoch before telling
// anyone (ZOOKEEPER-1291).
func (p *Peer) maybeChooseEpoch() {
	ld := p.ld
	if ld.epochChosen || p.countVoters(func(*learnerHandle) bool { return true }) < p.quorum {
		return
	}
	e := p.acceptedEpoch
	for _, h := range ld.learners {
		if !h.observer && h.acceptedEpoch > e {
			e = h.acceptedEpoch
		}
	}
	e++
	p.assertState(e != 0, "epoch space exhausted")
	ld.epoch, ld.epochChosen = e, true
	p.acceptedEpoch = e
	p.advertised.Epoch = e
	ld.epochPersistID = p.issue(Persist{SetAcceptedEpoch: true, AcceptedEpoch: e})
}

func (p *Peer) leaderPersisted() {
	ld := p.ld
	if ld.epochChosen && !ld.epochDurable && p.persist.durable >= ld.epochPersistID {
		ld.epochDurable = true
		for _, h := range p.handles() {
			if h.phase == hInfo {
				p.sendLeaderInfo(h)
			}
		}
		p.maybeDiscovered()
	}
	p.checkEstablished()
	p.tryCommit()
}

func (p *Peer) sendLeaderInfo(h *learnerHandle) {
	h.phase = hEpochSent
	p.send(Message{Type: MsgLeaderInfo, To: h.id, Epoch: p.ld.epoch, Session: h.session})
}

func (p *Peer) leaderReceive(m Message) {
	ld := p.ld
	if m.Type == MsgFollowerInfo {
		p.onFollowerInfo(m)
		return
	}
	h, ok := ld.learners[m.From]
	if !ok || h.session != m.Session || (ld.epochChosen && m.Epoch != ld.epoch) {
		return // an earlier registration, another leader's epoch, or no registration at all
	}
	h.lastHeard = p.now
	switch m.Type {
	case MsgAckEpoch:
		p.onAckEpoch(h, m)
	case MsgAckNewLeader:
		p.onAckNewLeader(h, m)
	case MsgAck, MsgPing:
		if h.phase == hNewLeaderAcked && !h.observer && m.Zxid > h.acked && m.Zxid <= p.log.last() {
			h.acked = m.Zxid
			p.tryCommit()
		}
		if m.Type == MsgPing {
			p.repairLearner(h, m.PrevZxid)
		}
	}
}

func (p *Peer) onFollowerInfo(m Message) {
	ld := p.ld
	observer := m.Flags&FlagObserver != 0
	if observer == p.isVoter(m.From) {
		return // the learner's idea of its membership disagrees with ours
	}
	if ld.epochChosen && !observer && m.AcceptedEpoch > ld.epoch {
		// The voter promised a later epoch to another would-be leader and will never ack
		// ours; ZooKeeper leaves it out until this leader fails. Step down instead, so the
		// next election picks an epoch every voter can follow.
		p.becomeLooking("a voter accepted a later epoch")
		return
	}
	if h, ok := ld.learners[m.From]; ok && h.session == m.Session {
		if h.phase == hEpochSent {
			p.sendLeaderInfo(h) // a repeat: our LEADERINFO may have been lost
		}
		return
	}
	// A new registration replaces the old one: the learner restarted or re-synced, so what
	// it acknowledged before no longer counts.
	h := &learnerHandle{id: m.From, observer: observer, session: m.Session, phase: hInfo,
		acceptedEpoch: m.AcceptedEpoch, lastHeard: p.now}
	ld.learners[m.From] = h
	if !ld.epochChosen {
		p.maybeChooseEpoch()
		return
	}
	if ld.epochDurable {
		p.sendLeaderInfo(h)
	}
}

func (p *Peer) onAckEpoch(h *learnerHandle, m Message) {
	ld := p.ld
	if h.phase != hEpochSent {
		return
	}
	h.counted = m.Flags&FlagCounted != 0 && !h.observer
	h.lastZxid = m.Zxid
	h.phase = hEpochAcked
	if h.counted && !ld.discovered {
		// The new leader must hold the newest history of its quorum: a follower with a later
		// (currentEpoch, last zxid) may have txns the leader lacks, so give up the round
		// (ZooKeeper's waitForEpochAck; the paper takes the best history instead).
		if m.CurrentEpoch > p.currentEpoch || (m.CurrentEpoch == p.currentEpoch && m.Zxid > p.log.last()) {
			p.becomeLooking("a follower has a newer history")
			return
		}
	}
	if ld.discovered {
		p.startSync(h)
		return
	}
	p.maybeDiscovered()
}

// maybeDiscovered ends discovery once a quorum acknowledged the epoch: the leader's log is
// the initial history of the epoch. The leader writes currentEpoch (its log is durable first,
// persists being ordered); that write is its own NEWLEADER ack.
func (p *Peer) maybeDiscovered() {
	ld := p.ld
	if ld.discovered || !ld.epochDurable ||
		p.countVoters(func(h *learnerHandle) bool { return h.counted && h.phase >= hEpochAcked }) < p.quorum {
		return
	}
	ld.discovered = true
	p.currentEpoch = ld.epoch
	ld.currentEpochID = p.issue(Persist{SetCurrentEpoch: true, CurrentEpoch: ld.epoch})
	p.setState(Leading, Synchronization, "epoch acknowledged by a quorum")
	for _, h := range p.handles() {
		if h.phase == hEpochAcked {
			p.startSync(h)
		}
	}
}

type syncMode uint8

const (
	syncDiff syncMode = iota + 1
	syncTrunc
	syncSnap
)

// chooseSync picks how to bring a learner whose log ends at z to the leader's history:
//   - DIFF when z is a point of the leader's history: membership, not a numeric range
//     (ZOOKEEPER-1154);
//   - TRUNC to t when z is not, and t, the leader's greatest zxid below z, is of z's epoch:
//     the learner's txns of one epoch form a prefix of that epoch's leader's proposals, so it
//     holds t and everything it holds above t was never committed;
//   - SNAP otherwise, or when the DIFF would be longer than DiffTxnsMax or DiffBytesMax.
func (p *Peer) chooseSync(z Zxid) (syncMode, Zxid) {
	mode, from := syncSnap, p.committed
	member := p.log.contains(z)
	if p.cfg.Bugs.DiffByRange {
		member = z >= p.log.base && z <= p.log.last() // ZOOKEEPER-1154: a range is not membership
	}
	if member {
		mode, from = syncDiff, z
	} else if t, ok := p.log.lastBefore(z); ok && t.Epoch() == z.Epoch() && t >= p.log.base {
		mode, from = syncTrunc, t
	}
	if diff := p.log.above(from); mode != syncSnap && (len(diff) > p.cfg.DiffTxnsMax || sumDataBytes(diff) > p.cfg.DiffBytesMax) {
		mode, from = syncSnap, p.committed
	}
	if mode != syncSnap && p.buggify(BuggifySyncSnap) {
		mode, from = syncSnap, p.committed
	}
	return mode, from
}

// startSync sends the learner its sync stream: the DIFF/TRUNC/SNAP header, every txn of the
// leader's log after the sync point, and NEWLEADER. From then on the learner gets every
// broadcast message, even before it acks NEWLEADER (protocol-spec issue 1: proposals sent
// only to acked learners leave holes).
func (p *Peer) startSync(h *learnerHandle) {
	mode, from := p.chooseSync(h.lastZxid)
	base := Message{To: h.id, Epoch: p.ld.epoch, Session: h.session, Zxid: from}
	switch mode {
	case syncDiff:
		base.Type = MsgDiff
	case syncTrunc:
		base.Type = MsgTrunc
	case syncSnap:
		base.Type = MsgSnap
		base.Data = p.cfg.StateMachine.Snapshot()
	}
	p.send(base)
	prev := from
	for _, t := range p.log.above(from) {
		p.send(Message{Type: MsgProposal, To: h.id, Epoch: p.ld.epoch, Session: h.session,
			Zxid: t.Zxid, PrevZxid: prev, Data: t.Data})
		prev = t.Zxid
	}
	h.newLeaderZxid = p.log.last()
	h.phase = hNewLeaderSent
	p.send(Message{Type: MsgNewLeader, To: h.id, Epoch: p.ld.epoch, Session: h.session, Zxid: h.newLeaderZxid})
}

func (p *Peer) onAckNewLeader(h *learnerHandle, m Message) {
	if h.phase != hNewLeaderSent || m.Zxid != h.newLeaderZxid {
		return
	}
	h.phase = hNewLeaderAcked
	h.acked = h.newLeaderZxid
	if p.ld.established {
		p.sendUpToDate(h)
		p.tryCommit()
		return
	}
	p.checkEstablished()
}

// checkEstablished makes the epoch established once a quorum of voters, the leader's own
// durable currentEpoch included, acked NEWLEADER. Only then may the leader commit the
// initial history, propose, or tell learners UPTODATE.
func (p *Peer) checkEstablished() {
	ld := p.ld
	if ld.established || !ld.discovered || p.persist.durable < ld.currentEpochID ||
		p.countVoters(func(h *learnerHandle) bool { return h.phase == hNewLeaderAcked }) < p.quorum {
		return
	}
	ld.established = true
	p.setState(Leading, Broadcast, "NEWLEADER acked by a quorum")
	p.tryCommit()
	for _, h := range p.handles() {
		if h.phase == hNewLeaderAcked {
			p.sendUpToDate(h)
		}
	}
}

// sendUpToDate carries the leader's commit point, not the learner's NEWLEADER zxid
// (protocol-spec issue 3): txns committed while the learner synced are committed by it too.
func (p *Peer) sendUpToDate(h *learnerHandle) {
	p.send(Message{Type: MsgUpToDate, To: h.id, Epoch: p.ld.epoch, Session: h.session, Zxid: p.committed})
}

// tryCommit commits, in zxid order, everything a quorum of voters holds durably: the
// leader's own durable log end and each synced follower's cumulative ack.
func (p *Peer) tryCommit() {
	ld := p.ld
	if !ld.established {
		return
	}
	own := p.persist.durableLogEnd
	if p.cfg.Bugs.LeaderAckBeforePersist {
		own = p.log.last() // mutation: the leader's own ack does not wait for its disk
	}
	acks := []Zxid{own}
	for _, h := range ld.learners {
		if !h.observer && h.phase == hNewLeaderAcked {
			acks = append(acks, h.acked)
		}
	}
	if len(acks) < p.quorum {
		return
	}
	slices.Sort(acks)
	c := acks[len(acks)-p.quorum]
	if c <= p.committed || p.now < ld.commitAt {
		return // nothing new, or commits are held back until commitAt (BuggifyCommitLate)
	}
	if p.cfg.Bugs.InitialHistoryLate && c.Epoch() != ld.epoch {
		return // mutation: the initial history waits for the epoch's first commit
	}
	ld.commitAt = 0
	if p.log.after(p.committed)[0].Zxid.Epoch() == ld.epoch && p.buggify(BuggifyCommitLate) {
		ld.commitAt = p.now + p.tickMillis(1)
		return
	}
	from := p.committed
	p.commitUpTo(c)
	for _, h := range p.handles() {
		if h.phase < hNewLeaderSent {
			continue
		}
		if !h.observer {
			p.send(Message{Type: MsgCommit, To: h.id, Epoch: ld.epoch, Session: h.session, Zxid: c})
			continue
		}
		prev := from
		for _, t := range p.log.after(from) {
			if t.Zxid > c {
				break
			}
			p.send(Message{Type: MsgInform, To: h.id, Epoch: ld.epoch, Session: h.session,
				Zxid: t.Zxid, PrevZxid: prev, Data: t.Data})
			prev = t.Zxid
		}
	}
}

func (p *Peer) propose(data []byte) {
	ld := p.ld
	switch {
	case ld == nil || !ld.established:
		p.emit(Rejected{Err: ErrNotLeader})
		return
	case len(data) > p.cfg.TxnBytesMax:
		p.emit(Rejected{Err: ErrTooLarge})
		return
	case len(p.log.after(p.committed)) >= p.cfg.InFlightTxnsMax,
		len(p.log.after(p.committed)) >= 2 && p.buggify(BuggifyBusy):
		p.emit(Rejected{Err: ErrBusy})
		return
	}
	last := p.log.last()
	z := MakeZxid(ld.epoch, 1)
	if last.Epoch() == ld.epoch {
		if last.Counter() == ^uint32(0) {
			// ZooKeeper forces a new election when the counter would wrap.
			p.emit(Rejected{Err: ErrNotLeader})
			p.becomeLooking("zxid counter exhausted")
			return
		}
		z = last + 1
	}
	if p.cfg.Bugs.ProposalBufferReused {
		ld.proposalBuf = append(ld.proposalBuf[:0], data...) // mutation: aliased by every earlier txn
		data = ld.proposalBuf
	}
	t := Txn{Zxid: z, Data: data}
	p.log.append(t)
	p.issue(Persist{Entries: []Txn{t}})
	p.emit(Proposed{Zxid: z})
	for _, h := range p.handles() {
		recipient := h.phase >= hNewLeaderSent
		if p.cfg.Bugs.ProposeOnlyToSynced {
			recipient = h.phase == hNewLeaderAcked // protocol-spec issue 1
		}
		if !h.observer && recipient {
			p.send(Message{Type: MsgProposal, To: h.id, Epoch: ld.epoch, Session: h.session,
				Zxid: z, PrevZxid: last, Data: data})
		}
	}
}

func (p *Peer) tickLeader() {
	ld := p.ld
	if p.now >= ld.pingAt && p.buggify(BuggifyPingLate) {
		ld.pingAt = p.now + p.tickMillis(1) // this round is skipped
	}
	if p.now >= ld.pingAt {
		for _, h := range p.handles() {
			if h.phase >= hNewLeaderSent {
				p.send(Message{Type: MsgPing, To: h.id, Epoch: ld.epoch, Session: h.session, Zxid: p.committed})
			}
		}
		ld.pingAt = p.now + p.tickMillis(1)
	}
	if !ld.established {
		if p.now >= ld.deadline {
			p.becomeLooking("epoch not established within initLimit")
		}
		return
	}
	// A leader that has not heard from a quorum within syncLimit steps down, so that a
	// partitioned leader stops claiming the epoch (ZooKeeper's syncedAckSet check).
	heardSince := p.now - p.tickMillis(p.cfg.SyncLimitTicks)
	if p.countVoters(func(h *learnerHandle) bool {
		return h.phase == hNewLeaderAcked && h.lastHeard > heardSince
	}) < p.quorum {
		p.becomeLooking("lost contact with a quorum")
		return
	}
	ld.deadline = p.now + p.tickMillis(1)
	if ld.commitAt != 0 && p.now >= ld.commitAt {
		ld.commitAt = 0
		p.tryCommit()
	}
}

// repairLearner resends what a synced learner is missing when its ping answer shows no
// progress since the previous answer, although by then it should have had more (so what it
// misses is not merely in flight): the uncommitted proposals for a follower, the committed
// txns for an observer. A lost message then costs a tick or two, not the session. At most
// DiffTxnsMax txns and DiffBytesMax bytes go per ping.
func (p *Peer) repairLearner(h *learnerHandle, logged Zxid) {
	limit := p.log.last()
	if h.observer {
		limit = p.committed
	}
	stalled := logged == h.logged && logged < h.loggedLimit
	h.logged, h.loggedLimit = logged, limit
	if h.phase != hNewLeaderAcked || !stalled || !p.log.contains(logged) {
		return
	}
	prev, bytes, txnsMax := logged, 0, p.cfg.DiffTxnsMax
	if p.buggify(BuggifyRepairOne) {
		txnsMax = 1
	}
	for i, t := range p.log.after(logged) {
		if bytes += len(t.Data); t.Zxid > limit || i == txnsMax || i > 0 && bytes > p.cfg.DiffBytesMax {
			break
		}
		typ := MsgProposal
		if h.observer {
			typ = MsgInform
		}
		p.send(Message{Type: typ, To: h.id, Epoch: p.ld.epoch, Session: h.session, Zxid: t.Zxid, PrevZxid: prev, Data: t.Data})
		prev = t.Zxid
	}
}
