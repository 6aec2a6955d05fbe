package wire

// This file holds every record of the client protocol as a plain struct whose fields are in
// wire order (zookeeper.jute, zk-protocol.md §2, §3.1, §4.1, §4.3, §8.1, §9.5, §10).
//
// Null conventions (zk-protocol.md §1.3):
//   - ustring: a null (-1) string decodes to "" and "" is always encoded with length 0, because
//     the server must never send a null string (go-zk reads the length as unsigned).
//   - buffer ([]byte): nil means null (-1) in both directions; a non-nil empty slice is length 0.
//     The reference server does send a null buffer (getData of a node created with null data).
//   - vector ([]T): in request records nil means null (-1); kazoo sends nulls for empty lists.
//     Response records never put a null vector on the wire: nil encodes as count 0, and a
//     null vector in a reply is a decode error (it would break go-zk).

// Record is a jute record: one of the structs of this package that travels as a request or
// response body. The codec methods are unexported so that only this package's records qualify.
type Record interface {
	encodeTo(e *Encoder)
	decodeFrom(d *Decoder)
}

// ConnectRequest is the first frame a client sends on a connection, without a RequestHeader
// (§2.1). Java, the C client and kazoo append the readOnly byte (45-byte body); go-zk does not
// (44 bytes). HasReadOnly records which form arrived so the response can mirror it.
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeoutMs       int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool // false: the 44-byte form without the readOnly byte
}

// ConnectResponse answers a ConnectRequest, without a ReplyHeader (§2.2). TimeoutMs = 0 and
// SessionID = 0 mean "session invalid or expired"; Passwd must be exactly 16 bytes.
// HasReadOnly must mirror the request's HasReadOnly (36- vs 37-byte body).
type ConnectResponse struct {
	ProtocolVersion int32
	TimeoutMs       int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool
}

// RequestHeader precedes every request after the handshake (§3.1).
type RequestHeader struct {
	Xid  int32
	Type OpCode
}

// ReplyHeader precedes every reply and notification after the handshake (§3.1).
type ReplyHeader struct {
	Xid  int32
	Zxid int64
	Err  Err
}

// CreateRequest is the body of create (1), create2 (15) and createContainer (19).
type CreateRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags CreateMode
}

// CreateTTLRequest is the body of createTTL (21).
type CreateTTLRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags CreateMode
	TTLMs int64
}

// CreateResponse answers create (1): the actual path, with any sequence suffix.
type CreateResponse struct {
	Path string
}

// Create2Response answers create2 (15), createContainer (19) and createTTL (21).
type Create2Response struct {
	Path string
	Stat Stat
}

// DeleteRequest is the body of delete (2). Version -1 matches any version.
type DeleteRequest struct {
	Path    string
	Version int32
}

// ExistsRequest is the body of exists (3).
type ExistsRequest struct {
	Path  string
	Watch bool
}

// ExistsResponse answers exists (3).
type ExistsResponse struct {
	Stat Stat
}

// GetDataRequest is the body of getData (4).
type GetDataRequest struct {
	Path  string
	Watch bool
}

// GetDataResponse answers getData (4) and reconfig (16). Data nil is a null buffer.
type GetDataResponse struct {
	Data []byte
	Stat Stat
}

// SetDataRequest is the body of setData (5). Version -1 matches any version.
type SetDataRequest struct {
	Path    string
	Data    []byte
	Version int32
}

// SetDataResponse answers setData (5).
type SetDataResponse struct {
	Stat Stat
}

// GetACLRequest is the body of getACL (6).
type GetACLRequest struct {
	Path string
}

// GetACLResponse answers getACL (6).
type GetACLResponse struct {
	ACL  []ACL
	Stat Stat
}

// SetACLRequest is the body of setACL (7). Version is compared with the node's aversion.
type SetACLRequest struct {
	Path    string
	ACL     []ACL
	Version int32
}

// SetACLResponse answers setACL (7).
type SetACLResponse struct {
	Stat Stat
}

// GetChildrenRequest is the body of getChildren (8).
type GetChildrenRequest struct {
	Path  string
	Watch bool
}

// GetChildrenResponse answers getChildren (8): child names, not paths.
type GetChildrenResponse struct {
	Children []string
}

// GetChildren2Request is the body of getChildren2 (12).
type GetChildren2Request struct {
	Path  string
	Watch bool
}

// GetChildren2Response answers getChildren2 (12): child names and the parent's Stat.
type GetChildren2Response struct {
	Children []string
	Stat     Stat
}

// GetAllChildrenNumberRequest is the body of getAllChildrenNumber (104).
type GetAllChildrenNumberRequest struct {
	Path string
}

// GetAllChildrenNumberResponse answers getAllChildrenNumber (104).
type GetAllChildrenNumberResponse struct {
	TotalNumber int32
}

// GetEphemeralsRequest is the body of getEphemerals (103).
type GetEphemeralsRequest struct {
	PrefixPath string
}

// GetEphemeralsResponse answers getEphemerals (103): full paths.
type GetEphemeralsResponse struct {
	Ephemerals []string
}

// SyncRequest is the body of sync (9).
type SyncRequest struct {
	Path string
}

// SyncResponse answers sync (9), echoing the request path.
type SyncResponse struct {
	Path string
}

// CheckVersionRequest is the body of check (13), used inside multi.
type CheckVersionRequest struct {
	Path    string
	Version int32
}

// MultiHeader precedes each op and each result of multi / multiRead, and terminates the list
// with Type -1, Done true, Err -1 (§10).
type MultiHeader struct {
	Type OpCode
	Done bool
	Err  Err
}

// MultiRequest is the body of multi (14) and multiRead (22): the ops in order.
type MultiRequest struct {
	Ops []MultiOp
}

// MultiOp is one op of a multi request. Body is, by Type:
// OpCreate, OpCreate2, OpCreateContainer → *CreateRequest; OpCreateTTL → *CreateTTLRequest;
// OpDelete → *DeleteRequest; OpSetData → *SetDataRequest; OpCheck → *CheckVersionRequest;
// OpGetChildren → *GetChildrenRequest; OpGetData → *GetDataRequest.
type MultiOp struct {
	Type OpCode
	Body Record
}

// MultiResponse is the body of a multi / multiRead reply: one result per op, in op order.
type MultiResponse struct {
	Results []MultiResult
}

// MultiResult is one result of a multi reply (§10.2). Body is, by Type:
// OpCreate → *CreateResponse; OpCreate2 → *Create2Response; OpSetData → *SetDataResponse;
// OpGetChildren → *GetChildrenResponse; OpGetData → *GetDataResponse; OpDelete, OpCheck → nil;
// OpError → nil, with Err the op's code (0 for an op rolled back before the failing one, -2
// RuntimeInconsistency after it). Err is 0 for every other Type.
type MultiResult struct {
	Type OpCode
	Err  Err
	Body Record
}

// ErrorResponse is the result record of a failed multi op, and the addWatch (106) reply body.
type ErrorResponse struct {
	Err Err
}

// AuthPacket is the body of auth (100). Type is 0 and ignored by the server.
type AuthPacket struct {
	Type   int32
	Scheme string
	Auth   []byte
}

// SetWatches is the body of setWatches (101), sent after a reconnect (§8.6).
type SetWatches struct {
	RelativeZxid int64
	DataWatches  []string
	ExistWatches []string
	ChildWatches []string
}

// SetWatches2 is the body of setWatches2 (105): SetWatches plus persistent watches.
type SetWatches2 struct {
	RelativeZxid               int64
	DataWatches                []string
	ExistWatches               []string
	ChildWatches               []string
	PersistentWatches          []string
	PersistentRecursiveWatches []string
}

// AddWatchRequest is the body of addWatch (106).
type AddWatchRequest struct {
	Path string
	Mode AddWatchMode
}

// CheckWatchesRequest is the body of checkWatches (17).
type CheckWatchesRequest struct {
	Path string
	Type WatcherType
}

// RemoveWatchesRequest is the body of removeWatches (18).
type RemoveWatchesRequest struct {
	Path string
	Type WatcherType
}

// ClientInfo is one auth identity of a connection, as whoAmI reports it.
type ClientInfo struct {
	AuthScheme string
	User       string
}

// WhoAmIResponse answers whoAmI (107).
type WhoAmIResponse struct {
	ClientInfo []ClientInfo
}

// WatcherEvent is the body of a notification (xid -1, zxid -1, err 0; §8.1).
type WatcherEvent struct {
	Type  EventType
	State int32
	Path  string
}

// ReconfigRequest is the body of reconfig (16). CurConfigID -1 is unconditional.
type ReconfigRequest struct {
	JoiningServers string
	LeavingServers string
	NewMembers     string
	CurConfigID    int64
}

// GetSASLRequest is the body of sasl (102).
type GetSASLRequest struct {
	Token []byte
}

// SetSASLResponse answers sasl (102).
type SetSASLResponse struct {
	Token []byte
}
