package zab

import (
	"fmt"
	"slices"
	"sort"
)

// Peer is one ensemble member's ZAB state machine. It is not safe for concurrent use: one
// host goroutine (or the simulator) calls Handle and NextDeadline.
type Peer struct {
	cfg    Config
	voter  bool
	quorum int // a majority of Voters

	now   Time
	role  Role
	phase Phase

	// acceptedEpoch and currentEpoch are the latest values handed to the host for writing.
	acceptedEpoch Epoch
	currentEpoch  Epoch
	log           txnLog
	committed     Zxid // last txn applied to the state machine
	persist       persistQueue
	// snapZxid is the zxid of the newest snapshot handed to the host; snapPersistID the
	// persist that writes it while it is not known durable (0: none pending); snapCommits
	// counts the txns committed since (for SnapshotEveryTxns).
	snapZxid      Zxid
	snapPersistID uint64
	snapCommits   int

	// advertised is the vote this peer reports while not LOOKING: the leader it follows or
	// is, and that leader's epoch once known (ZOOKEEPER-1732: never a stale election epoch).
	advertised Vote
	el         election
	ld         *leaderState
	ln         *learnerState

	out []Output
}

// NewPeer starts a peer from the durable state the host recovered. It starts LOOKING; the
// first Handle call (any input) sends its first votes.
func NewPeer(cfg Config, recovered Recovered) (*Peer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := recovered.validate(); err != nil {
		return nil, err
	}
	cfg.Voters = slices.Clone(cfg.Voters)
	cfg.Observers = slices.Clone(cfg.Observers)
	slices.Sort(cfg.Voters)
	slices.Sort(cfg.Observers)
	p := &Peer{
		cfg:           cfg,
		voter:         slices.Contains(cfg.Voters, cfg.ID),
		quorum:        len(cfg.Voters)/2 + 1,
		acceptedEpoch: recovered.AcceptedEpoch,
		currentEpoch:  recovered.CurrentEpoch,
		log:           newTxnLog(recovered.SnapshotZxid, recovered.Log),
		committed:     recovered.SnapshotZxid,
		snapZxid:      recovered.SnapshotZxid,
	}
	if cfg.Bugs.QuorumOffByOne {
		p.quorum = len(cfg.Voters) / 2 // a half is not a majority: two quorums need not meet
	}
	p.persist.durableLogEnd = p.log.last()
	p.persist.acceptedEpoch, p.persist.currentEpoch = recovered.AcceptedEpoch, recovered.CurrentEpoch
	return p, nil
}

// ID is this peer's server id.
func (p *Peer) ID() PeerID { return p.cfg.ID }

// Role is the peer's current role; zero before the first Handle call.
func (p *Peer) Role() Role { return p.role }

// Phase is the peer's current ZAB phase.
func (p *Peer) Phase() Phase { return p.phase }

// Established reports whether the peer is a leader whose epoch a quorum has acknowledged.
func (p *Peer) Established() bool { return p.role == Leading && p.ld != nil && p.ld.established }

// Epoch is the epoch of the leader this peer leads or follows (zero while unknown).
func (p *Peer) Epoch() Epoch { return p.advertised.Epoch }

// LastLogged is the zxid of the last txn this peer logged (or its snapshot).
func (p *Peer) LastLogged() Zxid { return p.log.last() }

// Committed is the zxid of the last txn applied to the state machine.
func (p *Peer) Committed() Zxid { return p.committed }

// History returns the logged history: the snapshot zxid it starts after and the logged zxids.
func (p *Peer) History() (base Zxid, zxids []Zxid) {
	zxids = make([]Zxid, len(p.log.entries))
	for i, t := range p.log.entries {
		zxids[i] = t.Zxid
	}
	return p.log.base, zxids
}

// Handle feeds one input at time now and returns the outputs the host must execute.
// Time never goes backwards.
func (p *Peer) Handle(now Time, in Input) []Output {
	p.assertState(now >= p.now, "time went backwards: %d after %d", now, p.now)
	p.now = now
	p.out = nil
	if p.role == 0 {
		p.becomeLooking("start")
	}
	switch in := in.(type) {
	case Tick:
		p.tick()
	case Receive:
		p.receive(in.Message)
	case Propose:
		p.propose(in.Data)
	case Persisted:
		p.persisted(in.ID)
	default:
		panic(fmt.Sprintf("zab: unknown input %T", in))
	}
	p.trimLog()
	p.checkInvariants()
	out := p.out
	p.out = nil
	return out
}

// NextDeadline is the earliest time at which a Tick has work to do.
func (p *Peer) NextDeadline() Time {
	switch {
	case p.role == 0:
		return p.now
	case p.role == Looking:
		d := p.el.resendAt
		if p.el.finalizeAt != 0 && p.el.finalizeAt < d {
			d = p.el.finalizeAt
		}
		return d
	case p.ld != nil:
		if p.ld.commitAt != 0 {
			return min(p.ld.pingAt, p.ld.deadline, p.ld.commitAt)
		}
		return min(p.ld.pingAt, p.ld.deadline)
	case p.ln != nil:
		return p.ln.nextDeadline(p)
	}
	return p.now + Time(p.cfg.TickMillis)
}

func (p *Peer) tick() {
	switch {
	case p.role == Looking:
		p.tickElection()
	case p.ld != nil:
		p.tickLeader()
	case p.ln != nil:
		p.tickLearner()
	}
}

func (p *Peer) receive(m Message) {
	if m.To != p.cfg.ID || !p.isMember(m.From) || m.From == p.cfg.ID {
		return
	}
	if m.Type == MsgNotification {
		p.onNotification(m)
		return
	}
	switch {
	case p.ld != nil:
		p.leaderReceive(m)
	case p.ln != nil:
		p.learnerReceive(m)
	}
}

func (p *Peer) tickMillis(ticks int64) Time { return Time(ticks * p.cfg.TickMillis) }

func (p *Peer) isMember(id PeerID) bool {
	return p.isVoter(id) || slices.Contains(p.cfg.Observers, id)
}

func (p *Peer) isVoter(id PeerID) bool {
	_, ok := slices.BinarySearch(p.cfg.Voters, id)
	return ok
}

func (p *Peer) send(m Message) {
	m.From = p.cfg.ID
	p.out = append(p.out, Send{Message: m})
}

func (p *Peer) emit(o Output) { p.out = append(p.out, o) }

func (p *Peer) setState(role Role, phase Phase, reason string) {
	p.role, p.phase = role, phase
	p.emit(StateChanged{Role: role, Phase: phase, Epoch: p.advertised.Epoch, Leader: p.advertised.Leader, Reason: reason})
}

// becomeLooking drops any leadership or learner session and starts a new election round.
// The vote it sends carries the last LOGGED zxid (ZOOKEEPER-2845): a peer that returns to
// election without crashing must not hide logged txns behind its applied state.
func (p *Peer) becomeLooking(reason string) {
	p.ld, p.ln = nil, nil
	p.advertised = Vote{}
	p.setState(Looking, Election, reason)
	p.startElection()
}

// commitUpTo applies every logged txn up to z, in order.
func (p *Peer) commitUpTo(z Zxid) {
	if z <= p.committed {
		return
	}
	p.assertState(p.log.contains(z), "commit of %v, which is not logged", z)
	batch := p.log.after(p.committed)
	batch = batch[:sort.Search(len(batch), func(i int) bool { return batch[i].Zxid > z })]
	if p.cfg.Bugs.CommitOutOfOrder {
		batch = slices.Clone(batch) // mutation: the newest committed txn is applied first
		slices.Reverse(batch)
	}
	if t, ok := p.log.get(p.committed); ok && p.cfg.Bugs.CommitRedeliversLast {
		batch = append([]Txn{t}, batch...) // mutation: the batch starts at the commit point, inclusive
	}
	if p.ld != nil && p.cfg.Bugs.InitialHistoryLate {
		batch = slices.Clone(batch) // mutation: the leader's own epoch first, its initial history after
		older := func(t Txn) int {
			if t.Zxid.Epoch() == p.ld.epoch {
				return 0
			}
			return 1
		}
		slices.SortStableFunc(batch, func(a, b Txn) int { return older(a) - older(b) })
	}
	for _, t := range batch {
		p.cfg.StateMachine.Apply(t.Zxid, t.Data)
		p.emit(Deliver{Txn: t})
	}
	p.committed = z
	p.snapCommits += len(batch)
	p.maybeSnapshot()
}

// maybeSnapshot writes a snapshot of the state machine once SnapshotEveryTxns txns were
// committed above the previous one. The snapshot holds committed txns only, so it is taken
// at the commit point, labelled with it, in the same step (ZOOKEEPER-3104).
func (p *Peer) maybeSnapshot() {
	if p.cfg.SnapshotsByHost || p.snapPersistID != 0 || p.committed == p.snapZxid ||
		p.snapCommits < p.cfg.SnapshotEveryTxns && !p.buggify(BuggifySnapshotNow) {
		return
	}
	p.snapZxid, p.snapCommits = p.committed, 0
	p.snapPersistID = p.issue(Persist{Snapshot: &Snapshot{Zxid: p.committed, Data: p.cfg.StateMachine.Snapshot()}})
}

// trimLog bounds the memory the log holds, whatever the host does about snapshots: once
// 2*DiffTxnsMax committed txns (or 2*DiffBytesMax bytes of txns) are in memory it drops all
// committed txns but the newest that fit in DiffTxnsMax and DiffBytesMax, as ZooKeeper keeps
// only commitLogCount committed proposals in its committedLog. A learner whose log ends
// among those gets a DIFF; one further behind gets SNAP, taken from the state machine,
// which is never older than the log. The dropped txns stay on disk until the host purges
// them behind a durable snapshot, and the trimmed point stays committed, so a sync stream
// that repeats txns up to it is confirmed without logging them again (settled). Trimming
// runs at the end of Handle, never while a step walks the log; it copies what it keeps, at
// most once per DiffTxnsMax commits or DiffBytesMax bytes.
func (p *Peer) trimLog() {
	i, ok := p.log.index(p.committed)
	if ok && i > 0 && p.buggify(BuggifyTrimLog) {
		p.log.rebase(p.log.entries[i-1].Zxid) // keep the newest committed txn only
		return
	}
	if !ok || i+1 < 2*p.cfg.DiffTxnsMax && p.log.dataBytes < 2*p.cfg.DiffBytesMax {
		return
	}
	keep, bytes := 0, 0
	for j := i; j >= 0 && keep < p.cfg.DiffTxnsMax; j-- {
		if bytes += len(p.log.entries[j].Data); bytes > p.cfg.DiffBytesMax {
			break
		}
		keep++
	}
	if i-keep >= 0 {
		p.log.rebase(p.log.entries[i-keep].Zxid)
	}
}

// settled is the point up to which this peer's history is committed and out of the log's
// hands: the newest snapshot or the trimmed base, whichever is later. A sync stream's txns
// up to it are confirmed, not logged again.
func (p *Peer) settled() Zxid { return max(p.snapZxid, p.log.base) }

// Retained reports what the peer holds of its txn log in memory: the number of txns and the
// sum of their data bytes. Under an endless write load it stays below 2*DiffTxnsMax txns
// and about 2*DiffBytesMax bytes of committed txns, plus the uncommitted ones (at most
// InFlightTxnsMax on a leader).
func (p *Peer) Retained() (txns, dataBytes int) { return len(p.log.entries), p.log.dataBytes }

func (p *Peer) checkInvariants() {
	p.assertState(p.currentEpoch <= p.acceptedEpoch, "currentEpoch %d > acceptedEpoch %d", p.currentEpoch, p.acceptedEpoch)
	p.assertState(p.committed <= p.log.last(), "committed %v beyond last logged %v", p.committed, p.log.last())
	p.assertState(p.committed >= p.log.base, "committed %v below snapshot %v", p.committed, p.log.base)
	p.assertState(p.snapZxid <= p.committed, "snapshot %v above the commit point %v", p.snapZxid, p.committed)
	if p.ld != nil && p.ld.established {
		p.assertState(p.log.last().Epoch() <= p.ld.epoch, "leader of epoch %d logged %v", p.ld.epoch, p.log.last())
	}
}

func (p *Peer) describe() string {
	s := fmt.Sprintf("id=%d role=%v phase=%v now=%d acceptedEpoch=%d currentEpoch=%d base=%v last=%v committed=%v logLen=%d persist(issued=%d durable=%d durableEnd=%v) advertised=%+v",
		p.cfg.ID, p.role, p.phase, p.now, p.acceptedEpoch, p.currentEpoch, p.log.base, p.log.last(),
		p.committed, len(p.log.entries), p.persist.issued, p.persist.durable, p.persist.durableLogEnd, p.advertised)
	if p.ld != nil {
		s += fmt.Sprintf(" leader{epoch=%d chosen=%v discovered=%v established=%v learners=%d}",
			p.ld.epoch, p.ld.epochChosen, p.ld.discovered, p.ld.established, len(p.ld.learners))
	}
	if p.ln != nil {
		s += fmt.Sprintf(" learner{leader=%d epoch=%d phase=%d target=%v}", p.ln.leader, p.ln.epoch, p.ln.phase, p.ln.commitTarget)
	}
	return s
}
