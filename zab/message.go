package zab

import "fmt"

// MessageType names a peer message. The names follow ZooKeeper's quorum packets.
type MessageType uint8

const (
	// MsgNotification is a fast-leader-election vote: Leader, Zxid and Epoch are the proposed
	// leader's id, last logged zxid and currentEpoch; Round is the sender's election round;
	// State is the sender's Role.
	MsgNotification MessageType = iota + 1
	// MsgFollowerInfo opens discovery (the paper's CEPOCH): AcceptedEpoch, FlagObserver.
	MsgFollowerInfo
	// MsgLeaderInfo proposes the new epoch (NEWEPOCH): Epoch.
	MsgLeaderInfo
	// MsgAckEpoch answers LEADERINFO: CurrentEpoch and the last logged Zxid; FlagCounted
	// unless the learner had already accepted this epoch (it may ack an epoch only once).
	MsgAckEpoch
	// MsgDiff starts a sync that sends the txns after Zxid.
	MsgDiff
	// MsgTrunc starts a sync that first cuts the learner's log after Zxid.
	MsgTrunc
	// MsgSnap starts a sync from the state machine snapshot Data taken at Zxid.
	MsgSnap
	// MsgProposal carries txn Data with Zxid, chained to PrevZxid (the txn before it).
	MsgProposal
	// MsgNewLeader ends the sync stream: the learner's history now ends at Zxid.
	MsgNewLeader
	// MsgAckNewLeader says the synced history up to Zxid and currentEpoch=Epoch are durable.
	MsgAckNewLeader
	// MsgUpToDate: the epoch is established; commit up to Zxid (the leader's commit point).
	MsgUpToDate
	// MsgAck: every txn up to Zxid is durable on the sender (cumulative).
	MsgAck
	// MsgCommit: every txn up to Zxid is committed (cumulative).
	MsgCommit
	// MsgInform gives an observer a committed txn: Zxid, PrevZxid, Data.
	MsgInform
	// MsgPing is the leader's heartbeat, echoed by learners.
	MsgPing
	msgTypeEnd
)

var messageTypeNames = [...]string{"", "NOTIFICATION", "FOLLOWERINFO", "LEADERINFO", "ACKEPOCH",
	"DIFF", "TRUNC", "SNAP", "PROPOSAL", "NEWLEADER", "ACKNEWLEADER", "UPTODATE", "ACK", "COMMIT",
	"INFORM", "PING"}

func (t MessageType) String() string {
	if t > 0 && t < msgTypeEnd {
		return messageTypeNames[t]
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// Message flags.
const (
	FlagObserver uint8 = 1 << iota // FOLLOWERINFO from an observer
	FlagCounted                    // ACKEPOCH that counts towards the discovery quorum
	flagsAll     = FlagObserver | FlagCounted
)

// Message is one peer-to-peer message. Like raftpb.Message it is one struct for every type;
// each type uses the fields its comment names. Session ties every post-election message to
// one learner registration, so messages of an earlier registration (a restart, a re-sync)
// are ignored instead of being mistaken for current ones.
type Message struct {
	Type     MessageType
	From, To PeerID
	Epoch    Epoch
	Zxid     Zxid
	PrevZxid Zxid
	Session  uint64
	// Election fields.
	Round  uint64
	Leader PeerID
	State  Role
	// Discovery fields.
	AcceptedEpoch Epoch
	CurrentEpoch  Epoch
	Flags         uint8
	Data          []byte
}

func (m Message) String() string {
	switch m.Type {
	case MsgNotification:
		return fmt.Sprintf("%d->%d %v leader=%d zxid=%v epoch=%d round=%d state=%v",
			m.From, m.To, m.Type, m.Leader, m.Zxid, m.Epoch, m.Round, m.State)
	case MsgFollowerInfo:
		return fmt.Sprintf("%d->%d %v acceptedEpoch=%d flags=%d session=%x",
			m.From, m.To, m.Type, m.AcceptedEpoch, m.Flags, m.Session)
	case MsgAckEpoch:
		return fmt.Sprintf("%d->%d %v epoch=%d currentEpoch=%d zxid=%v flags=%d",
			m.From, m.To, m.Type, m.Epoch, m.CurrentEpoch, m.Zxid, m.Flags)
	case MsgProposal, MsgInform:
		return fmt.Sprintf("%d->%d %v epoch=%d zxid=%v prev=%v len=%d",
			m.From, m.To, m.Type, m.Epoch, m.Zxid, m.PrevZxid, len(m.Data))
	}
	return fmt.Sprintf("%d->%d %v epoch=%d zxid=%v", m.From, m.To, m.Type, m.Epoch, m.Zxid)
}
