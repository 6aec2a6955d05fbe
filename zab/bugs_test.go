package zab

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// Transcript tests of the bug switches: each drives one peer message by message through the
// exchange where the rule lives and shows the rule broken with the switch on, and kept with
// it off. (The fuzzer finding each bug is in bugzoo_test.go and scenarios/bugzoo.)

func TestBugsNamesListEverySwitch(t *testing.T) {
	require.False(t, Bugs{}.Any(), "the zero Bugs has no switch on")
	require.Empty(t, Bugs{}.Names())
	typ := reflect.TypeOf(Bugs{})
	require.Len(t, Bugs{}.switches(), typ.NumField(), "Bugs.switches must list every field")
	for i := 0; i < typ.NumField(); i++ {
		var b Bugs
		reflect.ValueOf(&b).Elem().Field(i).SetBool(true)
		require.True(t, b.Any(), "field %s", typ.Field(i).Name)
		require.Equal(t, []string{typ.Field(i).Name}, b.Names(), "Names must name the field that is on")
	}
	require.Equal(t, []string{"DiffByRange", "CommitOutOfOrder"}, Bugs{DiffByRange: true, CommitOutOfOrder: true}.Names())
}

// applied records the order txns are applied in, without judging it (register panics on
// disorder, which would hide what the transcript is about).
type applied struct{ zxids []Zxid }

func (a *applied) Apply(z Zxid, _ []byte)    { a.zxids = append(a.zxids, z) }
func (a *applied) Snapshot() []byte          { return nil }
func (a *applied) Restore(data []byte) error { a.zxids = nil; return nil }

func newBuggyPeer(t *testing.T, id PeerID, recovered Recovered, bugs Bugs) (*Peer, *applied) {
	t.Helper()
	sm := &applied{}
	p, err := NewPeer(Config{ID: id, Voters: []PeerID{1, 2, 3}, TickMillis: 10, InitLimitTicks: 10,
		SyncLimitTicks: 5, Rand: splitRand{rand.New(rand.NewPCG(1, uint64(id)))}, StateMachine: sm, Bugs: bugs}, recovered)
	require.NoError(t, err)
	return p, sm
}

// learnerRun drives peer 1 as a follower of leader 3 in epoch 1 and records its outputs.
type learnerRun struct {
	t    *testing.T
	p    *Peer
	sm   *applied
	info Message
	now  Time
}

func startLearner(t *testing.T, recovered Recovered, bugs Bugs) *learnerRun {
	p, sm := newBuggyPeer(t, 1, recovered, bugs)
	r := &learnerRun{t: t, p: p, sm: sm, now: 2}
	r.info = followLeader3(t, p)
	return r
}

func (r *learnerRun) recv(m Message) []Output {
	r.now++
	m.From, m.To, m.Session = 3, 1, r.info.Session
	if m.Epoch == 0 {
		m.Epoch = 1
	}
	return r.p.Handle(r.now, Receive{Message: m})
}

func (r *learnerRun) durable(ws ...Persist) []Output {
	r.now++
	return r.p.Handle(r.now, Persisted{ID: ws[len(ws)-1].ID})
}

// acceptEpoch takes LEADERINFO(1) and makes acceptedEpoch durable.
func (r *learnerRun) acceptEpoch() {
	ws := persists(r.recv(Message{Type: MsgLeaderInfo}))
	require.Len(r.t, ws, 1)
	r.durable(ws...)
}

// syncDiff1 runs DIFF from 0, PROPOSAL(0.1), NEWLEADER(0.1) and returns every output.
func (r *learnerRun) syncDiff1() (header, proposal, newLeader []Output) {
	r.acceptEpoch()
	header = r.recv(Message{Type: MsgDiff})
	proposal = r.recv(Message{Type: MsgProposal, Zxid: zx(0, 1), Data: []byte("a")})
	newLeader = r.recv(Message{Type: MsgNewLeader, Zxid: zx(0, 1)})
	return header, proposal, newLeader
}

func hasSend(out []Output, typ MessageType) bool {
	for _, m := range sends(out) {
		if m.Type == typ {
			return true
		}
	}
	return false
}

func TestBugAckNewLeaderBeforeSynced(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := startLearner(t, Recovered{}, Bugs{AckNewLeaderBeforeSynced: on})
		_, _, nl := r.syncDiff1()
		require.Equal(t, on, hasSend(nl, MsgAckNewLeader),
			"bug=%v: ACKNEWLEADER sent on NEWLEADER while the synced txn 0.1 is not durable (ZOOKEEPER-4646)", on)
	}
}

func TestBugCurrentEpochBeforeSynced(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := startLearner(t, Recovered{}, Bugs{CurrentEpochBeforeSynced: on})
		header, proposal, _ := r.syncDiff1()
		ws := append(persists(header), persists(proposal)...)
		require.NotEmpty(t, ws)
		require.Equal(t, on, ws[0].SetCurrentEpoch,
			"bug=%v: the first write of the sync stream is currentEpoch=1, ahead of the txn 0.1 it vouches for (ZOOKEEPER-4643): %+v", on, ws)
	}
}

func TestBugAckBeforeDurable(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := startLearner(t, Recovered{}, Bugs{AckBeforeDurable: on})
		_, proposal, _ := r.syncDiff1()
		r.durable(persists(proposal)...)
		out := r.recv(Message{Type: MsgProposal, Zxid: zx(1, 1), PrevZxid: zx(0, 1), Data: []byte("b")})
		require.Equal(t, on, hasSend(out, MsgAck), "bug=%v: broadcast-phase ACK of 1.1 sent before its append is durable (ZOOKEEPER-4882)", on)
		ws := persists(out)
		require.Len(t, ws, 1)
		require.Equal(t, !on, len(ws[0].After) == 1, "bug=%v: the ACK rides on the append only without the bug", on)
	}
}

func TestBugSettlePendingAtNewLeader(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := startLearner(t, Recovered{}, Bugs{SettlePendingAtNewLeader: on})
		r.syncDiff1()
		want := Zxid(0)
		if on {
			want = zx(0, 1)
		}
		require.Equal(t, want, r.p.Committed(), "bug=%v: committed point after NEWLEADER with 0.1 still outstanding", on)
		out := r.recv(Message{Type: MsgCommit, Zxid: zx(0, 1)})
		var delivered []Zxid
		for _, o := range out {
			if d, ok := o.(Deliver); ok {
				delivered = append(delivered, d.Txn.Zxid)
			}
		}
		if on {
			require.Empty(t, delivered, "bug on: the COMMIT of 0.1 finds nothing pending (ZOOKEEPER-4394), so 0.1 is never applied")
			require.Empty(t, r.sm.zxids)
		} else {
			require.Equal(t, []Zxid{zx(0, 1)}, delivered, "bug off: COMMIT(0.1) applies 0.1")
		}
	}
}

func TestBugTruncCutsTarget(t *testing.T) {
	rec := Recovered{AcceptedEpoch: 1, CurrentEpoch: 1, Log: txns(zx(1, 1), zx(1, 2), zx(1, 3))}
	for _, on := range []bool{false, true} {
		r := startLearner(t, rec, Bugs{TruncCutsTarget: on})
		ws := persists(r.recv(Message{Type: MsgLeaderInfo, Epoch: 2}))
		require.Len(t, ws, 1)
		r.durable(ws...)
		out := r.recv(Message{Type: MsgTrunc, Epoch: 2, Zxid: zx(1, 2)})
		ws = persists(out)
		require.Len(t, ws, 1)
		require.True(t, ws[0].Truncate)
		want := zx(1, 2)
		if on {
			want = zx(1, 1)
		}
		require.Equal(t, want, ws[0].TruncateAfter, "bug=%v: TRUNC(1.2) cuts after (ZOOKEEPER-1156)", on)
	}
}

func TestBugAdvertiseLastApplied(t *testing.T) {
	rec := Recovered{AcceptedEpoch: 1, CurrentEpoch: 1, Log: txns(zx(1, 1))}
	for _, on := range []bool{false, true} {
		r := startLearner(t, rec, Bugs{AdvertiseLastApplied: on})
		want := zx(1, 1)
		if on {
			want = 0
		}
		require.Equal(t, want, r.info.Zxid, "bug=%v: FOLLOWERINFO of a peer that logged 1.1 but applied nothing (ZOOKEEPER-2845)", on)
	}
}

func TestBugStaleVoteEpoch(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := startLearner(t, Recovered{}, Bugs{StaleVoteEpoch: on})
		r.acceptEpoch()
		r.now++
		out := r.p.Handle(r.now, Receive{Message: Message{Type: MsgNotification, From: 2, To: 1, Leader: 2, Round: 9, State: Looking}})
		ms := sends(out)
		require.Len(t, ms, 1, "a follower answers a LOOKING peer with its report")
		want := Epoch(1)
		if on {
			want = 0
		}
		require.Equal(t, want, ms[0].Epoch, "bug=%v: epoch a follower of the epoch-1 leader reports (ZOOKEEPER-1732)", on)
	}
}

func TestBugCommitOutOfOrder(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := startLearner(t, Recovered{}, Bugs{CommitOutOfOrder: on})
		_, proposal, _ := r.syncDiff1()
		epochWrite := persists(r.durable(persists(proposal)...))
		require.Len(t, epochWrite, 1)
		r.durable(epochWrite...)
		r.recv(Message{Type: MsgUpToDate})
		a := persists(r.recv(Message{Type: MsgProposal, Zxid: zx(1, 1), PrevZxid: zx(0, 1), Data: []byte("b")}))
		r.durable(a...)
		r.recv(Message{Type: MsgCommit, Zxid: zx(1, 1)})
		want := []Zxid{zx(0, 1), zx(1, 1)}
		if on {
			want = []Zxid{zx(1, 1), zx(0, 1)}
		}
		require.Equal(t, want, r.sm.zxids, "bug=%v: order the committed batch is applied in", on)
	}
}

func TestBugVoteTieBreakIgnoresEpoch(t *testing.T) {
	hi := Vote{Leader: 1, Zxid: zx(1, 5), Epoch: 2}
	lo := Vote{Leader: 3, Zxid: zx(1, 5), Epoch: 1}
	require.True(t, hi.Beats(lo))
	require.False(t, lo.Beats(hi), "the fixed order is antisymmetric")
	require.True(t, hi.beatsBuggy(lo) && lo.beatsBuggy(hi), "ZOOKEEPER-1419's predicate: each vote beats the other (a cycle)")
	for _, on := range []bool{false, true} {
		p, _ := newBuggyPeer(t, 1, Recovered{AcceptedEpoch: 2, CurrentEpoch: 2, Log: txns(zx(1, 5))}, Bugs{VoteTieBreakIgnoresEpoch: on})
		p.Handle(0, Tick{})
		out := p.Handle(1, Receive{Message: Message{Type: MsgNotification, From: 3, To: 1, Leader: 3, Zxid: zx(1, 5), Epoch: 1, Round: 1, State: Looking}})
		adopted := false
		for _, m := range sends(out) {
			adopted = adopted || m.Leader == 3
		}
		require.Equal(t, on, adopted, "bug=%v: peer 1 (epoch 2) switches its vote to peer 3 (epoch 1, same zxid, higher id)", on)
	}
}

// leaderRun drives peer 3 to lead epoch 1 with peer 1 synced; peer 2 stays out.
type leaderRun struct {
	t   *testing.T
	p   *Peer
	now Time
	ses map[PeerID]uint64
}

func startLeader(t *testing.T, recovered Recovered, bugs Bugs) *leaderRun {
	p, _ := newBuggyPeer(t, 3, recovered, bugs)
	r := &leaderRun{t: t, p: p, ses: map[PeerID]uint64{1: 11, 2: 22}}
	p.Handle(0, Tick{})
	last := p.LastLogged()
	p.Handle(1, Receive{Message: Message{Type: MsgNotification, From: 1, To: 3, Leader: 3, Zxid: last,
		Epoch: recovered.CurrentEpoch, Round: 1, State: Looking}})
	r.now = 100
	p.Handle(r.now, Tick{}) // the finalize wait passed
	require.Equal(t, Leading, p.Role(), "peer 3 leads")
	return r
}

func (r *leaderRun) recv(m Message) []Output {
	r.now++
	m.To, m.Session = 3, r.ses[m.From]
	return r.p.Handle(r.now, Receive{Message: m})
}

func (r *leaderRun) durableAll(out []Output) []Output {
	ws := persists(out)
	if len(ws) == 0 {
		return nil
	}
	r.now++
	return r.p.Handle(r.now, Persisted{ID: ws[len(ws)-1].ID})
}

// register runs FOLLOWERINFO and ACKEPOCH for learner id whose log ends at last and
// returns the leader's outputs after the ACKEPOCH (the sync stream, once discovery ended).
func (r *leaderRun) register(id PeerID, accepted, current Epoch, last Zxid) []Output {
	out := r.recv(Message{Type: MsgFollowerInfo, From: id, AcceptedEpoch: accepted, Zxid: last})
	if ws := persists(out); len(ws) > 0 {
		out = r.durableAll(out) // the leader's acceptedEpoch: LEADERINFO goes out
	}
	require.True(r.t, hasSend(out, MsgLeaderInfo), "LEADERINFO to %d: %v", id, types(sends(out)))
	e := r.p.Epoch()
	return r.recv(Message{Type: MsgAckEpoch, From: id, Epoch: e, CurrentEpoch: current, Zxid: last, Flags: FlagCounted})
}

func syncHeader(out []Output, to PeerID) Message {
	for _, m := range sends(out) {
		if m.To == to && (m.Type == MsgDiff || m.Type == MsgTrunc || m.Type == MsgSnap) {
			return m
		}
	}
	return Message{}
}

func TestBugDiffByRange(t *testing.T) {
	// The leader holds 1.1 and 1.3; the learner's last, 1.2, was never in the leader's log.
	rec := Recovered{AcceptedEpoch: 1, CurrentEpoch: 1, Log: txns(zx(1, 1), zx(1, 3))}
	for _, on := range []bool{false, true} {
		r := startLeader(t, rec, Bugs{DiffByRange: on})
		out := r.register(1, 1, 1, zx(1, 2))
		h := syncHeader(out, 1)
		if on {
			require.Equal(t, MsgDiff, h.Type, "bug on: DIFF, since 1.1 <= 1.2 <= 1.3 (ZOOKEEPER-1154): %v", h)
			require.Equal(t, zx(1, 2), h.Zxid)
		} else {
			require.Equal(t, MsgTrunc, h.Type, "bug off: TRUNC to the last common zxid: %v", h)
			require.Equal(t, zx(1, 1), h.Zxid)
		}
	}
}

// establish brings learner 1 through sync and NEWLEADER ack so the epoch is established.
func (r *leaderRun) establish(bugs Bugs) {
	out := r.register(1, 0, 0, 0)
	r.durableAll(out) // the leader's currentEpoch
	e := r.p.Epoch()
	r.recv(Message{Type: MsgAckNewLeader, From: 1, Epoch: e, Zxid: r.p.LastLogged()})
	require.True(r.t, r.p.Established(), "epoch established with learner 1 (bugs %v)", bugs.Names())
}

func TestBugProposeOnlyToSynced(t *testing.T) {
	for _, on := range []bool{false, true} {
		bugs := Bugs{ProposeOnlyToSynced: on}
		r := startLeader(t, Recovered{}, bugs)
		r.establish(bugs)
		out := r.register(2, 0, 0, 0)
		require.True(t, hasSend(out, MsgNewLeader), "learner 2 is sent its sync stream and NEWLEADER")
		r.now++
		out = r.p.Handle(r.now, Propose{Data: []byte("x")})
		to := map[PeerID]bool{}
		for _, m := range sends(out) {
			if m.Type == MsgProposal {
				to[m.To] = true
			}
		}
		require.True(t, to[1], "the synced learner gets the proposal")
		require.Equal(t, !on, to[2], "bug=%v: learner 2, sent NEWLEADER but not yet acked, gets the proposal (protocol-spec issue 1)", on)
	}
}

func TestBugLeaderAckBeforePersist(t *testing.T) {
	for _, on := range []bool{false, true} {
		bugs := Bugs{LeaderAckBeforePersist: on}
		r := startLeader(t, Recovered{}, bugs)
		r.establish(bugs)
		r.now++
		r.p.Handle(r.now, Propose{Data: []byte("x")}) // the leader's append is not durable
		z := r.p.LastLogged()
		out := r.recv(Message{Type: MsgAck, From: 1, Epoch: r.p.Epoch(), Zxid: z})
		require.Equal(t, on, hasSend(out, MsgCommit),
			"bug=%v: %v committed on the follower's ack alone while the leader's own copy is not durable", on, z)
	}
}

func TestBugQuorumOffByOne(t *testing.T) {
	for _, on := range []bool{false, true} {
		p, _ := newBuggyPeer(t, 3, Recovered{}, Bugs{QuorumOffByOne: on})
		p.Handle(0, Tick{})
		p.Handle(1, Receive{Message: Message{Type: MsgNotification, From: 1, To: 3, Leader: 3, Round: 1, State: Looking}})
		out := p.Handle(100, Tick{})
		require.Equal(t, Leading, p.Role())
		chose := false
		for _, w := range persists(out) {
			chose = chose || w.SetAcceptedEpoch
		}
		require.Equal(t, on, chose, "bug=%v: a leader with no registered follower picks an epoch (one of three voters taken as a quorum)", on)
	}
}

func TestBugCommitRedeliversLast(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := startLearner(t, Recovered{}, Bugs{CommitRedeliversLast: on})
		_, proposal, _ := r.syncDiff1()
		epochWrite := persists(r.durable(persists(proposal)...))
		require.Len(t, epochWrite, 1)
		r.durable(epochWrite...)
		r.recv(Message{Type: MsgUpToDate, Zxid: zx(0, 1)})
		require.Equal(t, []Zxid{zx(0, 1)}, r.sm.zxids, "bug=%v: UPTODATE(0.1) applies 0.1", on)
		a := persists(r.recv(Message{Type: MsgProposal, Zxid: zx(1, 1), PrevZxid: zx(0, 1), Data: []byte("b")}))
		r.durable(a...)
		r.recv(Message{Type: MsgCommit, Zxid: zx(1, 1)})
		want := []Zxid{zx(0, 1), zx(1, 1)}
		if on {
			want = []Zxid{zx(0, 1), zx(0, 1), zx(1, 1)}
		}
		require.Equal(t, want, r.sm.zxids, "bug=%v: txns applied after COMMIT(1.1), the last committed being 0.1", on)
	}
}

func TestBugProposalBufferReused(t *testing.T) {
	for _, on := range []bool{false, true} {
		bugs := Bugs{ProposalBufferReused: on}
		r := startLeader(t, Recovered{}, bugs)
		r.establish(bugs)
		r.now++
		var first Message
		for _, m := range sends(r.p.Handle(r.now, Propose{Data: []byte("x")})) {
			if m.Type == MsgProposal {
				first = m
			}
		}
		require.Equal(t, "x", string(first.Data), "the first PROPOSAL carries its txn")
		r.now++
		r.p.Handle(r.now, Propose{Data: []byte("yz")})
		want := "x"
		if on {
			want = "y"
		}
		require.Equal(t, want, string(first.Data), "bug=%v: the first txn's bytes after the second proposal", on)
	}
}

func TestBugInitialHistoryLate(t *testing.T) {
	for _, on := range []bool{false, true} {
		bugs := Bugs{InitialHistoryLate: on}
		r := startLeader(t, Recovered{AcceptedEpoch: 1, CurrentEpoch: 1, Log: txns(zx(1, 1))}, bugs)
		sm := r.p.cfg.StateMachine.(*applied)
		r.establish(bugs)
		want := []Zxid{zx(1, 1)}
		if on {
			want = nil
		}
		require.Equal(t, want, sm.zxids, "bug=%v: applied once the epoch is established with the initial history 1.1", on)
		r.now++
		r.durableAll(r.p.Handle(r.now, Propose{Data: []byte("x")}))
		r.recv(Message{Type: MsgAck, From: 1, Epoch: r.p.Epoch(), Zxid: zx(2, 1)})
		want = []Zxid{zx(1, 1), zx(2, 1)}
		if on {
			want = []Zxid{zx(2, 1), zx(1, 1)}
		}
		require.Equal(t, want, sm.zxids, "bug=%v: applied once 2.1 is committed", on)
	}
}
