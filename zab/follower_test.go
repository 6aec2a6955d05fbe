package zab

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Direct tests of one follower peer: the persist/ack path that ZOOKEEPER-4643, -4646, -3911
// and -4685 got wrong, driven message by message.

func newTestPeer(t *testing.T, id PeerID, recovered Recovered) *Peer {
	t.Helper()
	p, err := NewPeer(Config{ID: id, Voters: []PeerID{1, 2, 3}, TickMillis: 10, InitLimitTicks: 10,
		SyncLimitTicks: 5, Rand: splitRand{rand.New(rand.NewPCG(1, uint64(id)))}, StateMachine: &register{}}, recovered)
	require.NoError(t, err)
	return p
}

func sends(out []Output) []Message {
	var ms []Message
	for _, o := range out {
		if s, ok := o.(Send); ok {
			ms = append(ms, s.Message)
		}
	}
	return ms
}

func persists(out []Output) []Persist {
	var ps []Persist
	for _, o := range out {
		if w, ok := o.(Persist); ok {
			ps = append(ps, w)
		}
	}
	return ps
}

func types(ms []Message) []MessageType {
	var ts []MessageType
	for _, m := range ms {
		ts = append(ts, m.Type)
	}
	return ts
}

// followLeader3 brings peer 1 to FOLLOWING leader 3 and returns its FOLLOWERINFO.
func followLeader3(t *testing.T, p *Peer) Message {
	p.Handle(0, Tick{})
	p.Handle(1, Receive{Message{Type: MsgNotification, From: 3, To: 1, Leader: 3, Epoch: 0, Round: 1, State: Leading}})
	out := p.Handle(2, Receive{Message{Type: MsgNotification, From: 2, To: 1, Leader: 3, Epoch: 0, Round: 1, State: Following}})
	ms := sends(out)
	require.Equal(t, []MessageType{MsgFollowerInfo}, types(ms), "a follower registers with the reported leader")
	require.Equal(t, Following, p.Role())
	return ms[0]
}

func TestFollowerAcksNewLeaderOnlyAfterSyncedTxnsAndEpochAreDurable(t *testing.T) {
	p := newTestPeer(t, 1, Recovered{})
	info := followLeader3(t, p)
	from3 := func(m Message) Message { m.From, m.To, m.Session, m.Epoch = 3, 1, info.Session, 1; return m }

	out := p.Handle(3, Receive{from3(Message{Type: MsgLeaderInfo})})
	require.Empty(t, sends(out), "ACKEPOCH must wait for acceptedEpoch to be durable")
	ws := persists(out)
	require.Len(t, ws, 1)
	require.True(t, ws[0].SetAcceptedEpoch, "LEADERINFO persists acceptedEpoch")
	require.Equal(t, []MessageType{MsgAckEpoch}, types(ws[0].After), "ACKEPOCH rides on that write")
	p.Handle(4, Persisted{ID: ws[0].ID})

	p.Handle(5, Receive{from3(Message{Type: MsgDiff, Zxid: 0})})
	out = p.Handle(6, Receive{from3(Message{Type: MsgProposal, Zxid: zx(0, 1), PrevZxid: 0, Data: []byte("a")})})
	txnWrite := persists(out)
	require.Len(t, txnWrite, 1)
	require.Empty(t, txnWrite[0].After, "no ACK for a sync-phase txn before NEWLEADER is acked (ZOOKEEPER-4685)")

	out = p.Handle(7, Receive{from3(Message{Type: MsgNewLeader, Zxid: zx(0, 1)})})
	require.Empty(t, sends(out), "no ACK of NEWLEADER before the synced txns are durable (ZOOKEEPER-4646, -3911)")
	require.Empty(t, persists(out), "no currentEpoch write before the synced txns are durable (ZOOKEEPER-4643)")

	// A proposal of the new epoch arrives before the synced txn is durable.
	out = p.Handle(8, Receive{from3(Message{Type: MsgProposal, Zxid: zx(1, 1), PrevZxid: zx(0, 1), Data: []byte("b")})})
	early := persists(out)
	require.Len(t, early, 1)
	require.Empty(t, early[0].After, "its ACK must not overtake the NEWLEADER ack (ZOOKEEPER-4685)")

	out = p.Handle(9, Persisted{ID: txnWrite[0].ID})
	require.Empty(t, sends(out), "acks leave only with a durable write")
	epochWrite := persists(out)
	require.Len(t, epochWrite, 1, "the synced txn is durable: now currentEpoch is written")
	require.True(t, epochWrite[0].SetCurrentEpoch)
	require.Equal(t, Epoch(1), epochWrite[0].CurrentEpoch)
	require.Empty(t, epochWrite[0].Entries)
	require.Equal(t, []MessageType{MsgAckNewLeader, MsgAck}, types(epochWrite[0].After),
		"the NEWLEADER ack, then the ack of the early proposal, ride on the currentEpoch write")
	require.Equal(t, zx(1, 1), epochWrite[0].After[1].Zxid)

	// From now on each proposal's ACK rides on its own append.
	out = p.Handle(10, Receive{from3(Message{Type: MsgProposal, Zxid: zx(1, 2), PrevZxid: zx(1, 1), Data: []byte("c")})})
	late := persists(out)
	require.Len(t, late, 1)
	require.Equal(t, []MessageType{MsgAck}, types(late[0].After))
	require.Empty(t, sends(out))
}

// A peer that falls back to election without crashing votes with its last LOGGED zxid, not
// its last applied one (ZOOKEEPER-2845): the uncommitted txn must be truncated by the next
// leader, not hidden from it.
func TestLookingPeerAdvertisesLastLoggedZxid(t *testing.T) {
	c := startQuiet(t, quietOptions(3, 0), nil)
	l := c.leader()
	require.NotNil(t, l)
	c.isolate(l.id)
	c.handle(l, Propose{Data: []byte("never committed")})
	require.Equal(t, zx(1, 1), l.peer.LastLogged())
	c.keepSent, c.sent = true, nil
	c.run(c.now + Time(20*c.opt.tickMillis))
	require.Equal(t, Looking, l.peer.Role(), "an isolated leader steps down within syncLimit")
	require.Equal(t, Zxid(0), l.peer.Committed(), "nothing was committed")
	var votes []Message
	for _, m := range c.sent {
		if m.From == l.id && m.Type == MsgNotification && m.Leader == l.id {
			votes = append(votes, m)
		}
	}
	require.NotEmpty(t, votes, "the old leader votes for itself")
	for _, v := range votes {
		require.Equal(t, zx(1, 1), v.Zxid, "vote %v must carry the last logged zxid", v)
	}
}

// Observers never count: with two of three voters gone, two observers cannot keep a leader
// established or let it commit.
func TestObserversNeverCountInQuorums(t *testing.T) {
	c := startQuiet(t, quietOptions(3, 2), nil)
	l := c.leader()
	require.NotNil(t, l)
	for _, id := range []PeerID{1, 2} {
		if id != l.id {
			c.isolate(id)
		}
	}
	if l.id != 3 {
		c.isolate(3)
	}
	before := l.peer.Committed()
	c.handle(l, Propose{Data: []byte("x")})
	c.run(c.now + Time(20*c.opt.tickMillis))
	require.Equal(t, before, l.peer.Committed(), "observers' acks must not commit anything")
	require.NotEqual(t, Leading, l.peer.Role(), "a leader backed only by observers must step down")
	for _, id := range []PeerID{4, 5} {
		require.NotEqual(t, Leading, c.nodes[id].peer.Role(), "observer %d must never lead", id)
	}
	c.finish()
}
