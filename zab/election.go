package zab

// Fast leader election (ZooKeeper's FastLeaderElection). Each LOOKING voter proposes a vote,
// adopts any better vote it hears in its round and ends the round once a quorum of voters
// agrees with it and no better vote arrived for a short finalize wait. A LOOKING peer also
// learns an existing leader from the replies of FOLLOWING/LEADING peers. Election is only a
// liveness device: discovery re-checks that the elected leader's history is the newest of a
// quorum, so a bad election costs a round, never safety.

// Vote proposes Leader, whose last logged zxid is Zxid and whose currentEpoch is Epoch.
type Vote struct {
	Leader PeerID
	Zxid   Zxid
	Epoch  Epoch
}

// Beats reports whether v is ahead of o in the vote order (Epoch, Zxid, Leader). The id
// tie-break applies only when both the epoch and the zxid are equal: without that guard the
// relation has cycles and elections can split or never end (ZOOKEEPER-1419). Exported for
// checkers of vote monotonicity (SandTable's NoVoteCircle).
func (v Vote) Beats(o Vote) bool {
	if v.Epoch != o.Epoch {
		return v.Epoch > o.Epoch
	}
	if v.Zxid != o.Zxid {
		return v.Zxid > o.Zxid
	}
	return v.Leader > o.Leader
}

// beatsBuggy is ZooKeeper's predicate before ZOOKEEPER-1419: the id tie-break lacks the
// "same epoch" guard, so a vote with a lower epoch, an equal zxid and a higher id wins.
func (v Vote) beatsBuggy(o Vote) bool {
	return v.Epoch > o.Epoch || (v.Epoch == o.Epoch && v.Zxid > o.Zxid) || (v.Zxid == o.Zxid && v.Leader > o.Leader)
}

// better is the vote order this peer uses.
func (p *Peer) better(v, o Vote) bool {
	if p.cfg.Bugs.VoteTieBreakIgnoresEpoch {
		return v.beatsBuggy(o) // ZOOKEEPER-1419
	}
	return v.Beats(o)
}

type notice struct {
	vote  Vote
	round uint64
	state Role
}

type election struct {
	round uint64
	vote  Vote
	// votes holds this round's votes of LOOKING voters (self included); outside holds the
	// reports of FOLLOWING/LEADING voters, whatever their round.
	votes      map[PeerID]notice
	outside    map[PeerID]notice
	finalizeAt Time // when a quorum agreeing with vote may end the round; 0: not pending
	resendAt   Time
}

func (p *Peer) selfVote() Vote {
	return Vote{Leader: p.cfg.ID, Zxid: p.lastZxidToReport(), Epoch: p.currentEpoch}
}

// lastZxidToReport is the zxid a peer reports in votes, FOLLOWERINFO and ACKEPOCH: its last
// LOGGED txn, never its last applied one (ZOOKEEPER-2845), so that a leader elected on it
// holds every txn a quorum logged and a learner's uncommitted txns get cut.
func (p *Peer) lastZxidToReport() Zxid {
	if p.cfg.Bugs.AdvertiseLastApplied {
		return p.committed // ZOOKEEPER-2845
	}
	return p.log.last()
}

func (p *Peer) startElection() {
	p.el.round++
	p.el.votes = map[PeerID]notice{}
	p.el.outside = map[PeerID]notice{}
	p.el.finalizeAt = 0
	p.el.vote = Vote{}
	if p.voter {
		p.el.vote = p.selfVote()
		p.el.votes[p.cfg.ID] = notice{vote: p.el.vote, round: p.el.round, state: Looking}
	}
	p.broadcastVote()
	if p.voter && len(p.cfg.Voters) == 1 {
		p.decide(p.el.vote, "single voter")
	}
}

// resendMillis is how long a LOOKING peer waits before repeating its vote: two ticks plus a
// jitter of up to one tick drawn from Config.Rand, so peers that lost their votes at the
// same moment do not keep colliding.
func (p *Peer) resendMillis() Time {
	jitter := Time(p.cfg.Rand.Uint64() % uint64(p.cfg.TickMillis))
	if p.buggify(BuggifyResendLate) {
		jitter = Time(p.cfg.TickMillis - 1) // the longest wait the jitter can draw
	}
	return p.tickMillis(2) + jitter
}

func (p *Peer) broadcastVote() {
	for _, id := range p.cfg.Voters {
		if id != p.cfg.ID {
			p.sendVote(id)
		}
	}
	p.el.resendAt = p.now + p.resendMillis()
}

func (p *Peer) sendVote(to PeerID) {
	v, state := p.el.vote, Looking
	if p.role != Looking {
		v, state = p.advertised, p.role
	}
	p.send(Message{Type: MsgNotification, To: to, Leader: v.Leader, Zxid: v.Zxid, Epoch: v.Epoch,
		Round: p.el.round, State: state})
}

func (p *Peer) tickElection() {
	if p.el.finalizeAt != 0 && p.now >= p.el.finalizeAt {
		p.el.finalizeAt = 0
		if p.agrees(p.el.votes, p.el.vote, true) {
			p.decide(p.el.vote, "quorum agreed and finalize wait passed")
			return
		}
	}
	if p.now >= p.el.resendAt {
		p.broadcastVote()
	}
}

func (p *Peer) onNotification(m Message) {
	n := notice{vote: Vote{Leader: m.Leader, Zxid: m.Zxid, Epoch: m.Epoch}, round: m.Round, state: m.State}
	if n.state == 0 || n.state == Observing {
		return
	}
	if p.role != Looking {
		// Tell a LOOKING peer whom we follow or lead, so it can join (ZooKeeper answers only
		// LOOKING senders; answering the others would make peers echo each other forever).
		if n.state == Looking {
			p.sendVote(m.From)
		}
		return
	}
	fromVoter := p.isVoter(m.From)
	if !fromVoter || !p.voter {
		if !fromVoter {
			// A LOOKING observer: it learns nothing from a LOOKING voter, but the answer keeps
			// the round numbers flowing. Its own vote never counts.
			if n.state == Looking && p.voter {
				p.sendVote(m.From)
			}
			return
		}
		// This peer is an observer: it joins a leader that a quorum of voters reports.
		if n.state != Looking {
			p.el.outside[m.From] = n
			if p.agrees(p.el.outside, n.vote, false) && p.leaderConfirmed(p.el.outside, n.vote.Leader, n.round) {
				p.el.round = n.round
				p.decide(n.vote, "voters report an established leader")
			}
		}
		return
	}
	switch n.state {
	case Looking:
		switch {
		case n.round > p.el.round:
			p.el.round = n.round
			p.el.votes = map[PeerID]notice{}
			p.el.vote = p.selfVote()
			if p.better(n.vote, p.el.vote) {
				p.el.vote = n.vote
			}
			p.el.votes[p.cfg.ID] = notice{vote: p.el.vote, round: p.el.round, state: Looking}
			p.el.finalizeAt = 0
			p.broadcastVote()
		case n.round < p.el.round:
			p.sendVote(m.From)
			return
		case p.better(n.vote, p.el.vote):
			p.el.vote = n.vote
			p.el.votes[p.cfg.ID] = notice{vote: p.el.vote, round: p.el.round, state: Looking}
			p.el.finalizeAt = 0
			p.broadcastVote()
		}
		p.el.votes[m.From] = n
		if p.agrees(p.el.votes, p.el.vote, true) {
			if len(p.el.votes) == len(p.cfg.Voters) {
				p.decide(p.el.vote, "every voter agreed")
				return
			}
			if p.el.finalizeAt == 0 {
				// ZooKeeper's finalizeWait: give a better vote a moment to arrive.
				p.el.finalizeAt = p.now + p.tickMillis(1)
			}
		} else {
			p.el.finalizeAt = 0
		}
	case Following, Leading:
		if n.round == p.el.round {
			p.el.votes[m.From] = n
			if p.agrees(p.el.votes, n.vote, true) && p.leaderConfirmed(p.el.votes, n.vote.Leader, n.round) {
				p.decide(n.vote, "quorum of this round follows the leader")
				return
			}
		}
		p.el.outside[m.From] = n
		if p.agrees(p.el.outside, n.vote, false) && p.leaderConfirmed(p.el.outside, n.vote.Leader, n.round) {
			p.el.round = n.round
			p.decide(n.vote, "voters report an established leader")
		}
	}
}

// agrees reports whether a quorum of voters in reports backs v. Votes of LOOKING rounds must
// match exactly; reports of FOLLOWING/LEADING peers match on leader and epoch only, since
// their zxids move on with the broadcast.
func (p *Peer) agrees(reports map[PeerID]notice, v Vote, exact bool) bool {
	n := 0
	for _, id := range p.cfg.Voters {
		r, ok := reports[id]
		if !ok {
			continue
		}
		if r.vote == v || (!exact && r.vote.Leader == v.Leader && r.vote.Epoch == v.Epoch) {
			n++
		}
	}
	return n >= p.quorum
}

// leaderConfirmed is ZooKeeper's checkLeader: a peer may follow another only if that peer
// itself reports LEADING, and may lead only if the decision comes from its own round.
func (p *Peer) leaderConfirmed(reports map[PeerID]notice, leader PeerID, round uint64) bool {
	if leader == p.cfg.ID {
		return round == p.el.round
	}
	r, ok := reports[leader]
	return ok && r.state == Leading
}

func (p *Peer) decide(v Vote, reason string) {
	p.advertised = v
	p.el.finalizeAt = 0
	switch {
	case v.Leader == p.cfg.ID:
		p.assertState(p.voter, "observer elected itself")
		p.becomeLeader(reason)
	default:
		p.becomeLearner(v.Leader, reason)
	}
}
