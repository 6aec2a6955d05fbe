package tree

import "github.com/zabkit/zabkit/zab/wire"

// Txn is a committed (or to-be-committed) change to the replicated state: what Prepare makes
// on the leader, what zab replicates as opaque bytes (Marshal), and what Apply executes on
// every replica. Like ZooKeeper's txns it is fully resolved: sequential names, fixed-up
// ACLs, new versions and the leader's timestamp are in it, so applying it needs no choice.
//
// Type is the request's op code (ZooKeeper's TxnHeader.type), which also decides the reply
// shape: OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL, OpDelete, OpDeleteContainer,
// OpSetData, OpSetACL, OpCheck (inside multi only), OpMulti, OpCreateSession,
// OpCloseSession, or OpError for a request that failed validation (it still consumes a zxid
// and its reply is ordered with the session's other replies).
type Txn struct {
	Type      wire.OpCode
	SessionID int64 // the requesting session; 0 for the leader's own deletes of containers
	Cxid      int32 // the request's xid, echoed in the reply
	TimeMs    int64 // leader wall clock when prepared: ctime/mtime of what it creates/changes

	Path    string     // create*, delete*, setData, setACL, check
	Data    []byte     // create*, setData (nil = null data)
	ACL     []wire.ACL // create*, setACL: already fixed up
	Owner   int64      // create*: raw ephemeralOwner (session id, container or TTL marker)
	Version int32      // setData: new version; setACL: new aversion; check: checked version
	// TimeoutMs is the negotiated timeout of OpCreateSession.
	TimeoutMs int32
	Err       wire.Err // OpError
	Ops       []Txn    // OpMulti: one sub-txn per op; a failed multi has only OpError subs
}

// Event is a watch trigger caused by an applied txn, in the order ZooKeeper's DataTree fires
// them. ACL is the list a receiving connection must be able to READ for the event to be
// delivered (ZOOKEEPER-4799: the changed node's ACL, the parent's for NodeChildrenChanged).
type Event struct {
	Type wire.EventType
	Path string
	ACL  []wire.ACL
}

// Applied is the outcome of applying one txn: the reply for the session that sent it (only
// the server holding that session's connection sends it) and the watch triggers to hand to
// each server's Watches.
type Applied struct {
	Zxid      int64
	SessionID int64
	Cxid      int32
	Type      wire.OpCode
	// Err is the reply header's err. A failed multi has Err 0 and per-op codes in Body.
	Err wire.Err
	// Body is the response record when Err is 0: *wire.CreateResponse (create),
	// *wire.Create2Response (create2, createContainer, createTTL), *wire.SetDataResponse,
	// *wire.SetACLResponse, *wire.MultiResponse, or nil (delete, sessions, deleteContainer).
	Body   wire.Record
	Events []Event
}
