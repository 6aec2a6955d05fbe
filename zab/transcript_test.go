package zab

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Transcript tests: small ensembles on a perfect network (1 ms links, 1 ms disks, no
// clients unless a test proposes) whose message exchanges are compared line by line with
// the protocol as the ZAB paper and ZooKeeper's Zab1.0 wiki describe it.

func quietOptions(voters, observers int) harnessOptions {
	o := defaultOptions(voters, observers)
	o.latencyMin, o.latencyMax, o.diskMin, o.diskMax = 1, 1, 1, 1
	o.proposeEveryMillis = 0
	return o
}

// txns builds a log of the given zxids; each txn's bytes name its zxid.
func txns(zxids ...Zxid) []Txn {
	out := make([]Txn, len(zxids))
	for i, z := range zxids {
		out[i] = Txn{Zxid: z, Data: []byte("t" + z.String())}
	}
	return out
}

func zx(e Epoch, c uint32) Zxid { return MakeZxid(e, c) }

// transcriptLine renders a message the way the expected transcripts spell it.
func transcriptLine(m Message) string {
	s := fmt.Sprintf("%d->%d %v", m.From, m.To, m.Type)
	switch m.Type {
	case MsgLeaderInfo, MsgAckNewLeader:
		s += fmt.Sprintf(" epoch=%d", m.Epoch)
	case MsgAckEpoch:
		s += fmt.Sprintf(" currentEpoch=%d last=%v counted=%v", m.CurrentEpoch, m.Zxid, m.Flags&FlagCounted != 0)
	case MsgDiff, MsgTrunc, MsgSnap, MsgNewLeader, MsgUpToDate, MsgAck, MsgCommit:
		s += " " + m.Zxid.String()
	case MsgProposal, MsgInform:
		s += fmt.Sprintf(" %v prev=%v", m.Zxid, m.PrevZxid)
	}
	return s
}

// exchange returns the transcript of messages between leader and learner, without election
// notifications and pings.
func exchange(c *cluster, leader, learner PeerID) []string {
	var out []string
	for _, m := range c.sent {
		if m.Type == MsgNotification || m.Type == MsgPing {
			continue
		}
		if (m.From == leader && m.To == learner) || (m.From == learner && m.To == leader) {
			out = append(out, transcriptLine(m))
		}
	}
	return out
}

func requireTranscript(t *testing.T, c *cluster, leader, learner PeerID, want string) {
	t.Helper()
	got := strings.Join(exchange(c, leader, learner), "\n")
	want = strings.TrimSpace(strings.ReplaceAll(want, "\t", ""))
	require.Equal(t, want, got, "exchange between leader %d and learner %d (seed %d)", leader, learner, c.seed)
}

func startQuiet(t *testing.T, opt harnessOptions, disks map[PeerID]simDisk) *cluster {
	c := newClusterWithDisks(t, 1, opt, disks)
	c.keepSent = true
	c.run(c.now + Time(40*opt.tickMillis))
	c.finish()
	return c
}

// TestElectionPicksNewestHistory: votes are ordered by (currentEpoch, last logged zxid, id),
// the epoch first (a peer that accepted a later NEWLEADER wins over a longer older log).
func TestElectionPicksNewestHistory(t *testing.T) {
	tests := []struct {
		name   string
		disks  map[PeerID]simDisk
		leader PeerID
	}{
		{"empty ensemble: highest id", nil, 3},
		{"longest log of the newest epoch", map[PeerID]simDisk{
			1: {acceptedEpoch: 2, currentEpoch: 2, log: txns(zx(2, 1), zx(2, 2), zx(2, 3))},
			2: {acceptedEpoch: 2, currentEpoch: 2, log: txns(zx(2, 1))},
			3: {acceptedEpoch: 2, currentEpoch: 2, log: txns(zx(2, 1), zx(2, 2))},
		}, 1},
		{"currentEpoch beats a longer log", map[PeerID]simDisk{
			1: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2), zx(1, 3))},
			2: {acceptedEpoch: 2, currentEpoch: 2, log: txns(zx(1, 1))},
			3: {acceptedEpoch: 2, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2))},
		}, 2},
		{"acceptedEpoch alone does not count", map[PeerID]simDisk{
			1: {acceptedEpoch: 5, currentEpoch: 1, log: txns(zx(1, 1))},
			2: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2))},
			3: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1))},
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startQuiet(t, quietOptions(3, 0), tt.disks)
			l := c.leader()
			require.NotNil(t, l, "no leader established")
			require.Equal(t, tt.leader, l.id, "elected leader")
			for _, id := range c.ids {
				if id != l.id {
					require.Equal(t, Following, c.nodes[id].peer.Role(), "node %d", id)
					require.Equal(t, Broadcast, c.nodes[id].peer.Phase(), "node %d", id)
				}
			}
		})
	}
}

// TestSyncDiff: a follower one txn behind gets DIFF from its last zxid, the missing
// proposal, NEWLEADER; it acks NEWLEADER (after the txn and currentEpoch are durable) and
// the leader, established, commits the initial history and sends UPTODATE with its commit
// point. A follower already up to date gets an empty DIFF.
func TestSyncDiff(t *testing.T) {
	c := startQuiet(t, quietOptions(3, 0), map[PeerID]simDisk{
		1: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2))},
		2: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2), zx(1, 3))},
		3: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2), zx(1, 3))},
	})
	requireTranscript(t, c, 3, 1, `
		1->3 FOLLOWERINFO
		3->1 LEADERINFO epoch=2
		1->3 ACKEPOCH currentEpoch=1 last=1.2 counted=true
		3->1 DIFF 1.2
		3->1 PROPOSAL 1.3 prev=1.2
		3->1 NEWLEADER 1.3
		1->3 ACKNEWLEADER epoch=2
		3->1 COMMIT 1.3
		3->1 UPTODATE 1.3`)
	requireTranscript(t, c, 3, 2, `
		2->3 FOLLOWERINFO
		3->2 LEADERINFO epoch=2
		2->3 ACKEPOCH currentEpoch=1 last=1.3 counted=true
		3->2 DIFF 1.3
		3->2 NEWLEADER 1.3
		2->3 ACKNEWLEADER epoch=2
		3->2 COMMIT 1.3
		3->2 UPTODATE 1.3`)
	for _, id := range c.ids {
		require.Equal(t, zx(1, 3), c.nodes[id].sm.last(), "node %d applied the whole initial history", id)
		require.Equal(t, Epoch(2), c.nodes[id].durable.currentEpoch, "node %d durable currentEpoch", id)
	}
}

// TestSyncTrunc: a follower holding txns of an old epoch that the new leader lacks (never
// committed) is told to truncate to the last common zxid, then gets the leader's txns.
func TestSyncTrunc(t *testing.T) {
	c := startQuiet(t, quietOptions(3, 0), map[PeerID]simDisk{
		1: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2), zx(1, 3), zx(1, 4))},
		2: {acceptedEpoch: 2, currentEpoch: 2, log: txns(zx(1, 1), zx(1, 2), zx(2, 1))},
		3: {acceptedEpoch: 2, currentEpoch: 2, log: txns(zx(1, 1), zx(1, 2), zx(2, 1))},
	})
	requireTranscript(t, c, 3, 1, `
		1->3 FOLLOWERINFO
		3->1 LEADERINFO epoch=3
		1->3 ACKEPOCH currentEpoch=1 last=1.4 counted=true
		3->1 TRUNC 1.2
		3->1 PROPOSAL 2.1 prev=1.2
		3->1 NEWLEADER 2.1
		1->3 ACKNEWLEADER epoch=3
		3->1 COMMIT 2.1
		3->1 UPTODATE 2.1`)
	require.Equal(t, txns(zx(1, 1), zx(1, 2), zx(2, 1)), c.nodes[1].durable.log, "node 1's durable log after TRUNC")
}

// TestSyncSnap: a follower behind the leader's snapshot gets SNAP (the state machine bytes
// at the leader's commit point) and the txns after it.
func TestSyncSnap(t *testing.T) {
	reg := register{}
	reg.Apply(zx(1, 1), []byte("t1.1"))
	reg.Apply(zx(1, 2), []byte("t1.2"))
	leaderDisk := simDisk{acceptedEpoch: 1, currentEpoch: 1, snap: Snapshot{Zxid: zx(1, 2), Data: reg.Snapshot()}, log: txns(zx(1, 3))}
	c := startQuiet(t, quietOptions(3, 0), map[PeerID]simDisk{
		1: {},
		2: leaderDisk,
		3: leaderDisk,
	})
	requireTranscript(t, c, 3, 1, `
		1->3 FOLLOWERINFO
		3->1 LEADERINFO epoch=2
		1->3 ACKEPOCH currentEpoch=0 last=0.0 counted=true
		3->1 SNAP 1.2
		3->1 PROPOSAL 1.3 prev=1.2
		3->1 NEWLEADER 1.3
		1->3 ACKNEWLEADER epoch=2
		3->1 COMMIT 1.3
		3->1 UPTODATE 1.3`)
	require.Equal(t, []Zxid{zx(1, 1), zx(1, 2), zx(1, 3)}, c.nodes[1].sm.zxids, "node 1's state machine after SNAP")
	require.Equal(t, zx(1, 2), c.nodes[1].durable.snap.Zxid, "node 1's durable snapshot")
}

// TestSyncSnapWhenDiffExceedsDiffBytesMax: a DIFF of two 4-byte txns is more than
// DiffBytesMax=6 bytes, so the leader sends SNAP (its state machine, here still empty, since
// a new leader commits its initial history only once established) and its whole log.
func TestSyncSnapWhenDiffExceedsDiffBytesMax(t *testing.T) {
	opt := quietOptions(3, 0)
	opt.diffBytesMax = 6
	c := startQuiet(t, opt, map[PeerID]simDisk{
		1: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1))},
		2: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2), zx(1, 3))},
		3: {acceptedEpoch: 1, currentEpoch: 1, log: txns(zx(1, 1), zx(1, 2), zx(1, 3))},
	})
	requireTranscript(t, c, 3, 1, `
		1->3 FOLLOWERINFO
		3->1 LEADERINFO epoch=2
		1->3 ACKEPOCH currentEpoch=1 last=1.1 counted=true
		3->1 SNAP 0.0
		3->1 PROPOSAL 1.1 prev=0.0
		3->1 PROPOSAL 1.2 prev=1.1
		3->1 PROPOSAL 1.3 prev=1.2
		3->1 NEWLEADER 1.3
		1->3 ACKNEWLEADER epoch=2
		3->1 COMMIT 1.3
		3->1 UPTODATE 1.3`)
	require.Equal(t, zx(1, 3), c.nodes[1].sm.last(), "node 1 applied the whole initial history")
}

// TestBroadcastPipeline: proposals go to every follower at once, each follower ACKs once
// its copy is durable, and COMMIT follows a quorum, in zxid order.
func TestBroadcastPipeline(t *testing.T) {
	c := startQuiet(t, quietOptions(3, 0), nil)
	l := c.leader()
	require.NotNil(t, l)
	c.sent = nil
	c.handle(l, Propose{Data: []byte("a")})
	c.handle(l, Propose{Data: []byte("b")})
	c.run(c.now + 20)
	requireTranscript(t, c, l.id, 1, `
		3->1 PROPOSAL 1.1 prev=0.0
		3->1 PROPOSAL 1.2 prev=1.1
		1->3 ACK 1.1
		1->3 ACK 1.2
		3->1 COMMIT 1.1
		3->1 COMMIT 1.2`)
	for _, id := range c.ids {
		require.Equal(t, []Zxid{zx(1, 1), zx(1, 2)}, c.nodes[id].sm.zxids, "node %d applied", id)
	}
	c.finish()
}

// TestObserverGetsInformNotProposal: an observer syncs like a follower but never counts,
// and receives committed txns as INFORM, never PROPOSAL or COMMIT.
func TestObserverGetsInformNotProposal(t *testing.T) {
	c := startQuiet(t, quietOptions(3, 1), nil)
	l := c.leader()
	require.NotNil(t, l)
	require.Equal(t, Observing, c.nodes[4].peer.Role())
	requireTranscript(t, c, l.id, 4, `
		4->3 FOLLOWERINFO
		3->4 LEADERINFO epoch=1
		4->3 ACKEPOCH currentEpoch=0 last=0.0 counted=false
		3->4 DIFF 0.0
		3->4 NEWLEADER 0.0
		4->3 ACKNEWLEADER epoch=1
		3->4 UPTODATE 0.0`)
	c.sent = nil
	c.handle(l, Propose{Data: []byte("a")})
	c.run(c.now + 20)
	requireTranscript(t, c, l.id, 4, `3->4 INFORM 1.1 prev=0.0`)
	require.Equal(t, []Zxid{zx(1, 1)}, c.nodes[4].sm.zxids, "observer applied")
	c.finish()
}

// TestProposeRejectedUnlessEstablishedLeader: nothing is dropped silently.
func TestProposeRejectedUnlessEstablishedLeader(t *testing.T) {
	c := startQuiet(t, quietOptions(3, 0), nil)
	out := c.nodes[1].peer.Handle(c.now, Propose{Data: []byte("x")})
	require.Equal(t, []Output{Rejected{Err: ErrNotLeader}}, out, "a follower must reject a proposal")
	l := c.leader()
	out = l.peer.Handle(c.now, Propose{Data: make([]byte, 2<<20)})
	require.Equal(t, []Output{Rejected{Err: ErrTooLarge}}, out, "an oversized txn must be rejected")
}

// TestElectionTranscript: three empty peers start together. Each votes for itself; each
// adopts the better vote it hears (same epoch and zxid, so the higher id) and re-broadcasts
// it; peer 2 sees all three agree on 3 and follows at once, peer 3 leads. A LOOKING peer's
// late notification is answered by FOLLOWING/LEADING peers with whom they back, and the
// leader advertises the new epoch once chosen (ZOOKEEPER-1732).
func TestElectionTranscript(t *testing.T) {
	c := startQuiet(t, quietOptions(3, 0), nil)
	var got []string
	for _, m := range c.sent {
		if m.Type == MsgNotification {
			got = append(got, fmt.Sprintf("%d->%d vote=%d/%v/%d round=%d %v", m.From, m.To, m.Leader, m.Zxid, m.Epoch, m.Round, m.State))
		}
	}
	want := `
		1->2 vote=1/0.0/0 round=1 LOOKING
		1->3 vote=1/0.0/0 round=1 LOOKING
		2->1 vote=2/0.0/0 round=1 LOOKING
		2->3 vote=2/0.0/0 round=1 LOOKING
		3->1 vote=3/0.0/0 round=1 LOOKING
		3->2 vote=3/0.0/0 round=1 LOOKING
		1->2 vote=2/0.0/0 round=1 LOOKING
		1->3 vote=2/0.0/0 round=1 LOOKING
		1->2 vote=3/0.0/0 round=1 LOOKING
		1->3 vote=3/0.0/0 round=1 LOOKING
		2->1 vote=3/0.0/0 round=1 LOOKING
		2->3 vote=3/0.0/0 round=1 LOOKING
		2->1 vote=3/0.0/0 round=1 FOLLOWING
		2->1 vote=3/0.0/0 round=1 FOLLOWING
		1->2 vote=3/0.0/0 round=1 FOLLOWING
		3->2 vote=3/0.0/1 round=1 LEADING`
	require.Equal(t, strings.TrimSpace(strings.ReplaceAll(want, "\t", "")), strings.Join(got, "\n"))
	require.Equal(t, PeerID(3), c.leader().id)
}

// TestObserverFollowsLowerEpochAfterFailedAttempt: an observer synced with epoch 2, then
// accepted epoch 7 from a leader attempt that failed; the voters settle on epoch 3. Its acks
// promise nothing, so it follows epoch 3 (ZooKeeper's shared Learner code would refuse it
// and wait for an epoch of at least 7), and its writes stay what the store accepts:
// acceptedEpoch stays 7, currentEpoch rises from 2 to 3.
func TestObserverFollowsLowerEpochAfterFailedAttempt(t *testing.T) {
	voter := simDisk{acceptedEpoch: 2, currentEpoch: 2, log: txns(zx(2, 1))}
	disks := map[PeerID]simDisk{1: voter, 2: voter, 3: voter,
		4: {acceptedEpoch: 7, currentEpoch: 2, log: txns(zx(2, 1))}}
	c := startQuiet(t, quietOptions(3, 1), disks)
	require.NotNil(t, c.leader())
	require.Equal(t, Epoch(3), c.leader().peer.Epoch(), "the voters' epoch: one above their acceptedEpoch 2")
	obs := c.nodes[4]
	require.Equal(t, Observing, obs.peer.Role())
	require.Equal(t, Broadcast, obs.peer.Phase())
	require.Equal(t, Epoch(7), obs.durable.acceptedEpoch, "the observer never lowers acceptedEpoch")
	require.Equal(t, Epoch(3), obs.durable.currentEpoch, "currentEpoch follows the synced epoch, upwards")
	requireTranscript(t, c, 3, 4, `
		4->3 FOLLOWERINFO
		3->4 LEADERINFO epoch=3
		4->3 ACKEPOCH currentEpoch=2 last=2.1 counted=false
		3->4 DIFF 2.1
		3->4 NEWLEADER 2.1
		4->3 ACKNEWLEADER epoch=3
		3->4 UPTODATE 2.1`)
}

// TestObserverRefusesEpochBelowItsSyncedHistory drives an observer message by message. It
// synced with epoch 3 (currentEpoch 3) when a stale leader of epoch 2, not yet timed out,
// offers LEADERINFO 2: following it would take the observer's history back and write
// currentEpoch 2 after 3, which zab/storage refuses (ErrEpochOrder). The observer returns to
// election instead and writes nothing; offered epoch 3 again it follows, and its only epoch
// write is currentEpoch 3 once the sync is durable.
func TestObserverRefusesEpochBelowItsSyncedHistory(t *testing.T) {
	for _, tc := range []struct {
		leaderEpoch Epoch
		follows     bool
	}{{2, false}, {3, true}} {
		t.Run(fmt.Sprintf("LEADERINFO epoch=%d", tc.leaderEpoch), func(t *testing.T) {
			p, err := NewPeer(Config{ID: 4, Voters: []PeerID{1, 2, 3}, Observers: []PeerID{4}, TickMillis: 10,
				InitLimitTicks: 10, SyncLimitTicks: 5, Rand: splitRand{newSeedRand(1)}, StateMachine: &register{}},
				Recovered{AcceptedEpoch: 7, CurrentEpoch: 3, Log: txns(zx(3, 1))})
			require.NoError(t, err)
			p.Handle(0, Tick{})
			for i, from := range []PeerID{3, 2} {
				state := Following
				if from == 3 {
					state = Leading
				}
				p.Handle(Time(1+i), Receive{Message{Type: MsgNotification, From: from, To: 4, Leader: 3,
					Epoch: tc.leaderEpoch, Round: 1, State: state}})
			}
			require.Equal(t, Observing, p.Role(), "voters report leader 3 established")
			var written []Persist
			now := Time(10)
			session := p.ln.session // the registration's nonce, which its FOLLOWERINFO carried
			recvS := func(m Message) []Output {
				now++
				m.From, m.To, m.Epoch, m.Session = 3, 4, tc.leaderEpoch, session
				out := p.Handle(now, Receive{Message: m})
				written = append(written, persists(out)...)
				return out
			}
			out := recvS(Message{Type: MsgLeaderInfo})
			if !tc.follows {
				require.Equal(t, Looking, p.Role(), "LEADERINFO 2 below currentEpoch 3: back to election")
				require.False(t, hasSend(out, MsgAckEpoch), "no ACKEPOCH for a leader we will not follow")
				require.Empty(t, written, "nothing is written")
				return
			}
			require.True(t, hasSend(out, MsgAckEpoch), "equal epoch: a plain ACKEPOCH")
			recvS(Message{Type: MsgDiff, Zxid: zx(3, 1)})
			recvS(Message{Type: MsgNewLeader, Zxid: zx(3, 1)})
			require.Len(t, written, 1, "one write: currentEpoch")
			require.True(t, written[0].SetCurrentEpoch)
			require.False(t, written[0].SetAcceptedEpoch)
			require.Equal(t, Epoch(3), written[0].CurrentEpoch, "currentEpoch 3 again, never lower")
		})
	}
}
