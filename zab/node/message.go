package node

import (
	"fmt"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// Kind names a message between members. zab's own traffic travels as KindZab; the rest is
// the node's: ZooKeeper's REQUEST, REVALIDATE and the session touches a learner's PING
// carries, as separate messages so zab.Message stays opaque to them.
type Kind uint8

const (
	// KindZab carries a zab.Message in Zab.
	KindZab Kind = iota + 1
	// KindForward (member → leader) carries a connection's request on its Stream: Forward.
	KindForward
	// KindRevalidated (leader → member) answers a ForwardRevalidate: Stream, Seq, Valid.
	KindRevalidated
	// KindRefused (leader → member) says the leader will not take the request Stream/Seq;
	// the member closes that connection (the request's outcome: not applied).
	KindRefused
	// KindTouch (member → leader) says these sessions showed activity since the last touch.
	KindTouch
	kindEnd
)

func (k Kind) String() string {
	switch k {
	case KindZab:
		return "ZAB"
	case KindForward:
		return "FORWARD"
	case KindRevalidated:
		return "REVALIDATED"
	case KindRefused:
		return "REFUSED"
	case KindTouch:
		return "TOUCH"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Stream names one client connection on one member incarnation: the requests of a
// connection travel on it, numbered 1, 2, ... so the leader takes them in order, exactly
// once, and only from the stream that owns the session.
type Stream struct {
	Server      zab.PeerID
	Incarnation uint64 // drawn at New, so connection ids of a restarted member are new streams
	Conn        ConnID
}

// ForwardKind says what a Forward asks for.
type ForwardKind uint8

const (
	// ForwardCreateSession opens Session with TimeoutMs (a createSession txn).
	ForwardCreateSession ForwardKind = iota + 1
	// ForwardRevalidate resumes Session on this stream with TimeoutMs (ZooKeeper's
	// REVALIDATE): the leader answers whether it is alive and makes the stream its owner.
	ForwardRevalidate
	// ForwardRequest is a client write, closeSession or sync: Payload is the request frame.
	ForwardRequest
	forwardKindEnd
)

// Forward is one request forwarded to the leader.
type Forward struct {
	Kind      ForwardKind
	Seq       uint64
	Session   int64
	TimeoutMs int32
	Auth      []wire.Id // the connection's auth ids (ip first), for ACL checks in Prepare
	Payload   []byte
}

// Touch refreshes one session on the leader with its negotiated timeout.
type Touch struct {
	Session   int64
	TimeoutMs int32
}

// Message is one member-to-member message. Epoch is the epoch the sender follows or leads:
// node traffic of another epoch is ignored (zab traffic carries its own).
type Message struct {
	Kind     Kind
	From, To zab.PeerID
	Epoch    zab.Epoch

	Zab     zab.Message // KindZab
	Stream  Stream      // KindForward, KindRevalidated, KindRefused
	Forward Forward     // KindForward
	Seq     uint64      // KindRevalidated, KindRefused
	Valid   bool        // KindRevalidated
	Reason  string      // KindRefused
	Touches []Touch     // KindTouch
}

func (m Message) String() string {
	switch m.Kind {
	case KindZab:
		return m.Zab.String()
	case KindForward:
		return fmt.Sprintf("%d->%d %v epoch=%d stream=%d/%x/%d seq=%d kind=%d session=%#x len=%d",
			m.From, m.To, m.Kind, m.Epoch, m.Stream.Server, m.Stream.Incarnation, m.Stream.Conn,
			m.Forward.Seq, m.Forward.Kind, m.Forward.Session, len(m.Forward.Payload))
	case KindTouch:
		return fmt.Sprintf("%d->%d %v epoch=%d sessions=%d", m.From, m.To, m.Kind, m.Epoch, len(m.Touches))
	}
	return fmt.Sprintf("%d->%d %v epoch=%d stream=%d/%x/%d seq=%d valid=%v reason=%q",
		m.From, m.To, m.Kind, m.Epoch, m.Stream.Server, m.Stream.Incarnation, m.Stream.Conn, m.Seq, m.Valid, m.Reason)
}

// wrapZab turns zab's message into a node message.
func wrapZab(m zab.Message) Message {
	return Message{Kind: KindZab, From: m.From, To: m.To, Zab: m}
}
