package zab

// The learner side (ZooKeeper's Learner, Follower and Observer): register with the elected
// leader, accept its epoch, take the sync stream, then follow the broadcast.

type learnerPhase uint8

const (
	lDiscovery  learnerPhase = iota + 1 // FOLLOWERINFO sent, waiting for LEADERINFO
	lSync                               // ACKEPOCH sent (or waiting on its persist), no header yet
	lSyncStream                         // DIFF/TRUNC/SNAP received, taking txns
	lSynced                             // NEWLEADER received: log equals the leader's prefix
	lBroadcast                          // UPTODATE received
)

type learnerState struct {
	leader  PeerID
	session uint64
	epoch   Epoch
	phase   learnerPhase
	// newLeaderZxid is where NEWLEADER said the synced history ends; nlWaitID is the persist
	// that must be durable before currentEpoch may be written; ackQueued says the
	// currentEpoch write carrying the NEWLEADER ack was issued.
	newLeaderZxid Zxid
	// cursor is the last txn known to match the leader's history; once synced it is the
	// last logged txn.
	cursor       Zxid
	nlWaitID     uint64
	ackQueued    bool
	commitTarget Zxid
	deadline     Time
	lastHeard    Time
	resendAt     Time
	// silenceMillis is how long the leader may stay silent in broadcast: syncLimit, or less
	// under BuggifyGiveUpEarly.
	silenceMillis Time
}

func (p *Peer) becomeLearner(leader PeerID, reason string) {
	role := Following
	if !p.voter {
		role = Observing
	}
	p.ln = &learnerState{
		leader:        leader,
		session:       p.cfg.Rand.Uint64(),
		phase:         lDiscovery,
		deadline:      p.now + p.tickMillis(p.cfg.InitLimitTicks),
		lastHeard:     p.now,
		silenceMillis: p.tickMillis(p.cfg.SyncLimitTicks),
	}
	p.setState(role, Discovery, reason)
	p.sendFollowerInfo()
}

func (p *Peer) sendFollowerInfo() {
	var flags uint8
	if !p.voter {
		flags = FlagObserver
	}
	p.send(Message{Type: MsgFollowerInfo, To: p.ln.leader, Session: p.ln.session,
		AcceptedEpoch: p.acceptedEpoch, Zxid: p.lastZxidToReport(), Flags: flags})
	p.ln.resendAt = p.now + p.tickMillis(1)
}

func (ln *learnerState) nextDeadline(p *Peer) Time {
	switch {
	case ln.phase == lDiscovery:
		return min(ln.resendAt, ln.deadline)
	case ln.phase < lBroadcast:
		return ln.deadline
	}
	return ln.lastHeard + ln.silenceMillis
}

func (p *Peer) tickLearner() {
	ln := p.ln
	switch {
	case ln.phase < lBroadcast && p.now >= ln.deadline:
		p.becomeLooking("not synchronized within initLimit")
	case ln.phase == lBroadcast && p.now >= ln.lastHeard+ln.silenceMillis:
		p.becomeLooking("leader silent for syncLimit") // or for two ticks: BuggifyGiveUpEarly
	case ln.phase == lDiscovery && p.now >= ln.resendAt:
		p.sendFollowerInfo()
	}
}

func (p *Peer) learnerReceive(m Message) {
	ln := p.ln
	if m.From != ln.leader || m.Session != ln.session {
		return
	}
	if m.Type == MsgLeaderInfo {
		p.onLeaderInfo(m)
		return
	}
	if ln.phase < lSync || m.Epoch != ln.epoch {
		return
	}
	ln.lastHeard = p.now
	switch m.Type {
	case MsgDiff, MsgTrunc, MsgSnap:
		p.onSyncHeader(m)
	case MsgProposal:
		p.onProposal(m)
	case MsgNewLeader:
		p.onNewLeader(m)
	case MsgCommit:
		p.raiseCommitTarget(m.Zxid)
	case MsgUpToDate:
		if ln.ackQueued && ln.phase == lSynced {
			ln.phase = lBroadcast
			if p.buggify(BuggifyGiveUpEarly) {
				ln.silenceMillis = p.tickMillis(min(2, p.cfg.SyncLimitTicks))
			}
			p.setState(p.role, Broadcast, "UPTODATE")
		}
		p.raiseCommitTarget(m.Zxid)
	case MsgInform:
		p.onInform(m)
	case MsgPing:
		// The leader's ping carries its commit point; our answer carries our durable point
		// and our last logged txn. So a lost COMMIT or ACK is made good within a tick, and a
		// lost PROPOSAL or INFORM is sent again, instead of stalling the pipeline.
		var durable Zxid
		if ln.ackQueued && p.voter {
			durable = p.persist.durableLogEnd
		}
		var logged Zxid
		if ln.phase >= lSynced {
			logged = ln.cursor
		}
		p.send(Message{Type: MsgPing, To: ln.leader, Epoch: ln.epoch, Session: ln.session, Zxid: durable, PrevZxid: logged})
		p.raiseCommitTarget(m.Zxid)
	}
}

// onLeaderInfo accepts the new epoch. A learner acks a given epoch at most once with a
// counted ACKEPOCH: acking it again for a second leader of the same epoch could let two
// leaders establish it. The counted ack leaves only after acceptedEpoch is durable.
func (p *Peer) onLeaderInfo(m Message) {
	ln := p.ln
	if ln.phase != lDiscovery {
		return
	}
	e := m.Epoch
	ack := Message{Type: MsgAckEpoch, To: ln.leader, Epoch: e, Session: ln.session,
		CurrentEpoch: p.currentEpoch, Zxid: p.lastZxidToReport()}
	switch {
	case e > p.acceptedEpoch:
		p.acceptedEpoch = e
		if p.voter {
			ack.Flags = FlagCounted
		}
		p.issue(Persist{SetAcceptedEpoch: true, AcceptedEpoch: e, After: []Message{ack}})
	case e == p.acceptedEpoch:
		p.send(ack)
	case !p.voter && e >= p.currentEpoch:
		// ZooKeeper's Learner.registerWithLeader, which its Observer shares, refuses any
		// epoch below acceptedEpoch, and observers persist both epochs as followers do. But an
		// observer's acks never count, so an epoch it accepted from a failed attempt promised
		// nothing: it follows the leader the voters settled on, even one of a lower epoch,
		// instead of waiting (possibly forever) for a leader of that epoch. Its acceptedEpoch
		// stays; its currentEpoch will rise to e at NEWLEADER.
		p.send(ack)
	default:
		// A voter below its promise, or an observer offered an epoch below the history it
		// already synced (a stale leader not yet timed out): following it would take the
		// observer's history back, and write a currentEpoch below the durable one, which
		// the store refuses.
		p.becomeLooking("leader proposed an epoch below our acceptedEpoch (observer: below our currentEpoch)")
		return
	}
	ln.epoch, ln.phase, ln.lastHeard = e, lSync, p.now
	if !p.cfg.Bugs.StaleVoteEpoch { // ZOOKEEPER-1732: advertise the epoch we follow
		p.advertised.Epoch = e
	}
	p.setState(p.role, Synchronization, "LEADERINFO accepted")
}

func (p *Peer) onSyncHeader(m Message) {
	ln := p.ln
	if ln.phase != lSync {
		return
	}
	switch m.Type {
	case MsgDiff:
		// Never mark the DIFF point as reached before its txns arrive (ZOOKEEPER-2355): the
		// header only checks that the leader's idea of our log is right.
		if p.log.last() != m.Zxid {
			p.becomeLooking("DIFF from a zxid that is not our last")
			return
		}
	case MsgTrunc:
		if !p.log.contains(m.Zxid) {
			p.becomeLooking("TRUNC to a zxid we do not hold")
			return
		}
		cut := m.Zxid
		if p.cfg.Bugs.TruncCutsTarget {
			cut, _ = p.log.lastBefore(m.Zxid) // ZOOKEEPER-1156: the cut also takes the target
		}
		p.truncateAfter(cut)
	case MsgSnap:
		if m.Zxid < p.settled() {
			// A new leader's state machine may lag its log (it commits its initial history
			// only once established), so its snapshot can be older than our settled history.
			// That holds only committed txns, which every leader's history contains: keep our
			// state, and take the stream's txns up to it as confirmed (see onProposal).
			break
		}
		if err := p.cfg.StateMachine.Restore(m.Data); err != nil {
			p.becomeLooking("SNAP does not restore: " + err.Error())
			return
		}
		// The snapshot replaces the log up to its zxid. Logged txns above it stay for now:
		// they may be committed, and dropping them before the leader's copies are durable
		// would let one crash lose a committed txn. The sync stream that follows confirms
		// them one by one, and cuts the log where it diverges or where the leader's history
		// ends, so no uncommitted txn survives behind the snapshot (ZOOKEEPER-2832).
		p.log.rebase(m.Zxid)
		p.committed = m.Zxid
		p.emit(Restored{Zxid: m.Zxid})
		p.snapZxid, p.snapCommits = m.Zxid, 0
		p.snapPersistID = p.issue(Persist{Snapshot: &Snapshot{Zxid: m.Zxid, Data: m.Data}})
	}
	ln.cursor = m.Zxid
	ln.phase = lSyncStream
	if p.cfg.Bugs.CurrentEpochBeforeSynced {
		// ZOOKEEPER-4643: the epoch is written before the synced txns it vouches for.
		p.currentEpoch = ln.epoch
		p.issue(Persist{SetCurrentEpoch: true, CurrentEpoch: ln.epoch})
	}
}

// truncateAfter cuts the log after z. Committed txns are never cut.
func (p *Peer) truncateAfter(z Zxid) {
	if z >= p.log.last() {
		return
	}
	p.assertState(z >= p.committed, "truncation after %v would cut committed txns up to %v", z, p.committed)
	p.log.truncateAfter(z)
	p.issue(Persist{Truncate: true, TruncateAfter: z})
}

// onProposal takes the next txn of the leader's history, which must chain to the cursor (the
// last txn confirmed to match the leader's). A txn we already hold at that place is
// confirmed without logging it again (a repeat: protocol-spec issue 2); a different one
// means our log diverged there, so it is cut before the leader's txn is appended.
func (p *Peer) onProposal(m Message) {
	ln := p.ln
	if ln.phase < lSyncStream {
		return
	}
	if m.Zxid <= ln.cursor {
		return // a duplicate of a txn already confirmed
	}
	if m.PrevZxid != ln.cursor || (ln.phase >= lSynced && m.Zxid.Epoch() != ln.epoch) {
		p.becomeLooking("PROPOSAL does not chain to our last txn")
		return
	}
	ln.cursor = m.Zxid
	if m.Zxid <= p.settled() {
		return // inside our snapshot or trimmed committed history: see onSyncHeader's SNAP case
	}
	if m.PrevZxid < p.settled() {
		p.becomeLooking("sync stream skips over our settled history")
		return
	}
	if t, ok := p.log.get(m.Zxid); ok && string(t.Data) == string(m.Data) {
		if next := p.log.after(m.PrevZxid); len(next) > 0 && next[0].Zxid == m.Zxid {
			return
		}
	}
	p.truncateAfter(m.PrevZxid)
	p.appendTxn(Txn{Zxid: m.Zxid, Data: m.Data})
}

// appendTxn logs a txn. Once the NEWLEADER ack is queued, the proposal's ACK rides on the
// append's persist and so leaves only when the txn is durable, after the NEWLEADER ack
// (ZOOKEEPER-4685). Before that, the currentEpoch write acks it.
func (p *Peer) appendTxn(t Txn) {
	p.log.append(t)
	w := Persist{Entries: []Txn{t}}
	if p.ln.ackQueued && p.voter && !p.buggify(BuggifyAckLate) {
		w.After = []Message{{Type: MsgAck, To: p.ln.leader, Epoch: p.ln.epoch, Session: p.ln.session, Zxid: t.Zxid}}
	}
	if p.cfg.Bugs.AckBeforeDurable {
		p.sendNow(&w) // ZOOKEEPER-4882: acknowledged before it is on disk
	}
	p.issue(w)
	p.applyCommits()
}

func (p *Peer) onNewLeader(m Message) {
	ln := p.ln
	if ln.phase != lSyncStream {
		return
	}
	if ln.cursor != m.Zxid {
		p.becomeLooking("NEWLEADER zxid differs from the end of the sync stream")
		return
	}
	// Whatever we hold beyond the leader's history was never committed.
	p.truncateAfter(m.Zxid)
	ln.phase = lSynced
	ln.newLeaderZxid = m.Zxid
	ln.nlWaitID = p.persist.issued
	p.learnerPersisted()
	p.applyCommits()
	if p.cfg.Bugs.SettlePendingAtNewLeader {
		p.committed = max(p.committed, m.Zxid) // ZOOKEEPER-4394: outstanding txns taken as settled, never applied
	}
}

// learnerPersisted writes currentEpoch once every txn of the sync stream is durable, and
// attaches the NEWLEADER ack to that write. Waiting for Persisted (instead of queueing the
// epoch write behind the txns) keeps the rule even for a host that batches or reorders
// independent files: currentEpoch can never name a history the disk does not hold
// (ZOOKEEPER-4643), and the ack never precedes durability (ZOOKEEPER-4646, -3911).
func (p *Peer) learnerPersisted() {
	ln := p.ln
	waiting := p.persist.durable < ln.nlWaitID && !p.cfg.Bugs.AckNewLeaderBeforeSynced // ZOOKEEPER-4646
	if ln.phase < lSynced || ln.ackQueued || waiting {
		return
	}
	ln.ackQueued = true
	p.currentEpoch = ln.epoch
	after := []Message{{Type: MsgAckNewLeader, To: ln.leader, Epoch: ln.epoch, Session: ln.session, Zxid: ln.newLeaderZxid}}
	if p.voter && p.log.last() > ln.newLeaderZxid {
		after = append(after, Message{Type: MsgAck, To: ln.leader, Epoch: ln.epoch, Session: ln.session, Zxid: p.log.last()})
	}
	w := Persist{SetCurrentEpoch: true, CurrentEpoch: ln.epoch, After: after}
	if p.cfg.Bugs.AckNewLeaderBeforeSynced {
		p.sendNow(&w) // ZOOKEEPER-4646: the ack leaves before the history it acks is durable
	}
	p.issue(w)
}

// sendNow sends a persist's After messages at once instead of once it is durable: only the
// bug switches that break durability-before-ack do this.
func (p *Peer) sendNow(w *Persist) {
	for _, m := range w.After {
		p.send(m)
	}
	w.After = nil
}

// onInform gives an observer a committed txn.
func (p *Peer) onInform(m Message) {
	if p.voter || p.ln.phase < lSynced {
		return
	}
	if m.Zxid > p.ln.cursor {
		if m.PrevZxid != p.ln.cursor {
			p.becomeLooking("INFORM does not chain to our last txn")
			return
		}
		p.ln.cursor = m.Zxid
		p.appendTxn(Txn{Zxid: m.Zxid, Data: m.Data})
	}
	p.raiseCommitTarget(m.Zxid)
}

func (p *Peer) raiseCommitTarget(z Zxid) {
	if z > p.ln.commitTarget {
		p.ln.commitTarget = z
	}
	p.applyCommits()
}

// applyCommits applies what the leader declared committed, once our log is known to equal
// the leader's prefix (after NEWLEADER): before that a commit point could cover txns of a
// diverged log that the sync stream is about to replace.
func (p *Peer) applyCommits() {
	ln := p.ln
	if ln.phase < lSynced {
		return
	}
	p.commitUpTo(min(ln.commitTarget, p.log.last()))
}
