// Package wire is the ZooKeeper client protocol: records, op codes, error codes, watch
// event types and their jute encoding, exactly as Apache ZooKeeper 3.8 puts them on the wire.
// See shared/zk-protocol.md for the facts each constant comes from.
//
// A host reads frames with FrameReader (or CutFrame over its own buffer), decodes the first
// with DecodeConnectRequest and every later one with DecodeRequest, whose *RequestError says
// which error to reply and whether to close. Replies go out with AppendConnectResponse,
// AppendReply and AppendNotification; clients (the simulator's, tests) use AppendRequest,
// DecodeReply and DecodeConnectResponse. Nothing here panics on input bytes, and decoding a
// payload of n bytes allocates at most DecodeBytesMax(n) = max(n, 0xfffff) + 0xfffff bytes
// (budget.go); the Append functions panic only when handed a body that is not the op's
// record, a caller bug.
package wire

// OpCode identifies a request type (ZooDefs.OpCode).
type OpCode int32

// Op codes of the client protocol (zk-protocol.md §4.2).
const (
	OpNotification         OpCode = 0
	OpCreate               OpCode = 1
	OpDelete               OpCode = 2
	OpExists               OpCode = 3
	OpGetData              OpCode = 4
	OpSetData              OpCode = 5
	OpGetACL               OpCode = 6
	OpSetACL               OpCode = 7
	OpGetChildren          OpCode = 8
	OpSync                 OpCode = 9
	OpPing                 OpCode = 11
	OpGetChildren2         OpCode = 12
	OpCheck                OpCode = 13
	OpMulti                OpCode = 14
	OpCreate2              OpCode = 15
	OpReconfig             OpCode = 16
	OpCheckWatches         OpCode = 17
	OpRemoveWatches        OpCode = 18
	OpCreateContainer      OpCode = 19
	OpDeleteContainer      OpCode = 20
	OpCreateTTL            OpCode = 21
	OpMultiRead            OpCode = 22
	OpAuth                 OpCode = 100
	OpSetWatches           OpCode = 101
	OpSASL                 OpCode = 102
	OpGetEphemerals        OpCode = 103
	OpGetAllChildrenNumber OpCode = 104
	OpSetWatches2          OpCode = 105
	OpAddWatch             OpCode = 106
	OpWhoAmI               OpCode = 107
	OpCreateSession        OpCode = -10
	OpCloseSession         OpCode = -11
	OpError                OpCode = -1
)

// Err is a ZooKeeper error code (KeeperException.Code), carried in ReplyHeader.err and in
// multi results. Only codes the reference server sends may ever be put on the wire
// (zk-protocol.md §7.2: an unknown code breaks the Java client and kazoo).
type Err int32

// Error codes (zk-protocol.md §7.1).
const (
	ErrOK                           Err = 0
	ErrSystemError                  Err = -1
	ErrRuntimeInconsistency         Err = -2
	ErrDataInconsistency            Err = -3
	ErrConnectionLoss               Err = -4
	ErrMarshallingError             Err = -5
	ErrUnimplemented                Err = -6
	ErrOperationTimeout             Err = -7
	ErrBadArguments                 Err = -8
	ErrUnknownSession               Err = -12
	ErrNewConfigNoQuorum            Err = -13
	ErrReconfigInProgress           Err = -14
	ErrAPIError                     Err = -100
	ErrNoNode                       Err = -101
	ErrNoAuth                       Err = -102
	ErrBadVersion                   Err = -103
	ErrNoChildrenForEphemerals      Err = -108
	ErrNodeExists                   Err = -110
	ErrNotEmpty                     Err = -111
	ErrSessionExpired               Err = -112
	ErrInvalidCallback              Err = -113
	ErrInvalidACL                   Err = -114
	ErrAuthFailed                   Err = -115
	ErrSessionMoved                 Err = -118
	ErrNotReadOnly                  Err = -119
	ErrEphemeralOnLocalSession      Err = -120
	ErrNoWatcher                    Err = -121
	ErrRequestTimeout               Err = -122
	ErrReconfigDisabled             Err = -123
	ErrSessionClosedRequireSASLAuth Err = -124
	ErrQuotaExceeded                Err = -125
	ErrThrottledOp                  Err = -127
)

// Special xids (zk-protocol.md §3.2).
const (
	XidNotification int32 = -1
	XidPing         int32 = -2
	XidAuth         int32 = -4
	XidSetWatches   int32 = -8
)

// EventType is a watch event's type (Watcher.Event.EventType). The server sends only 1..4.
type EventType int32

// Event types (zk-protocol.md §8.2).
const (
	EventNone                   EventType = -1
	EventNodeCreated            EventType = 1
	EventNodeDeleted            EventType = 2
	EventNodeDataChanged        EventType = 3
	EventNodeChildrenChanged    EventType = 4
	EventDataWatchRemoved       EventType = 5
	EventChildWatchRemoved      EventType = 6
	EventPersistentWatchRemoved EventType = 7
)

// StateSyncConnected is the only KeeperState the server puts in a WatcherEvent.
const StateSyncConnected int32 = 3

// WatcherType selects watches in checkWatches / removeWatches.
type WatcherType int32

// Watcher types (zk-protocol.md §8.2).
const (
	WatcherChildren WatcherType = 1
	WatcherData     WatcherType = 2
	WatcherAny      WatcherType = 3
)

// AddWatchMode is the mode of an addWatch request.
type AddWatchMode int32

// AddWatch modes (zk-protocol.md §8.2).
const (
	AddWatchPersistent          AddWatchMode = 0
	AddWatchPersistentRecursive AddWatchMode = 1
)

// CreateMode is the flags field of a create request (zk-protocol.md §6.1).
type CreateMode int32

// Create modes.
const (
	ModePersistent                  CreateMode = 0
	ModeEphemeral                   CreateMode = 1
	ModePersistentSequential        CreateMode = 2
	ModeEphemeralSequential         CreateMode = 3
	ModeContainer                   CreateMode = 4
	ModePersistentWithTTL           CreateMode = 5
	ModePersistentSequentialWithTTL CreateMode = 6
)

// Perms are ACL permission bits (ZooDefs.Perms, zk-protocol.md §9.2).
type Perms int32

// Permission bits.
const (
	PermRead   Perms = 1
	PermWrite  Perms = 2
	PermCreate Perms = 4
	PermDelete Perms = 8
	PermAdmin  Perms = 16
	PermAll    Perms = 31
)

// Id names an identity under an auth scheme, e.g. {"digest", "user:base64(sha1)"}.
type Id struct {
	Scheme string
	ID     string
}

// ACL grants Perms to an Id.
type ACL struct {
	Perms Perms
	ID    Id
}

// Stat is the 68-byte znode status record, in wire order (zk-protocol.md §5.1).
type Stat struct {
	Czxid          int64
	Mzxid          int64
	Ctime          int64
	Mtime          int64
	Version        int32
	Cversion       int32
	Aversion       int32
	EphemeralOwner int64
	DataLength     int32
	NumChildren    int32
	Pzxid          int64
}
