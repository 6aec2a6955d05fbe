package checker

import (
	"fmt"
	"math"
	"strings"

	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// History is everything a run recorded that the client-level oracles judge (Check). It is
// host-neutral: plain values in virtual time, filled by whatever drove the clients (the
// simulator, a test, a replay of the daemon's trace).
//
// Recording rules the checks rely on:
//   - Xids are unique and increasing per session, across reconnects (the Java and go-zk
//     clients keep one counter per handle), and every request the client sends has one,
//     setWatches included (the C client's fixed -8 would not order it). addAuth may keep
//     its reserved -4: the order checks leave out the replies ZooKeeper gives zxid 0.
//   - Replies arrive in xid order (FIFO, zk-protocol.md §3.3), so a session's known-outcome
//     Ops sorted by Xid are its replies in arrival order.
//   - Events holds each session's watch events in the order that session received them.
//   - Committed is the committed txn order as some server applied it, zxids increasing,
//     from the first txn on: the checks replay it into a fresh zab/tree to know the state
//     at every zxid. It should be complete (taken after the run heals): an unknown-outcome
//     write missing from it is taken never to have happened.
//   - Reads are replayed without auth ids (as world:anyone), and watch events are not
//     ACL-filtered, so checked workloads keep what they read and watch world-readable.
//   - Connected and Replicas are taken when the run ends, after a quiet period (see their
//     types); a recorder that cannot take them leaves them empty and the checks that need
//     them are skipped.
type History struct {
	Ops       []Op
	Events    []WatchEvent
	Sessions  []SessionEvent
	Committed []CommittedTxn
	Recipes   []RecipeEvent
	// Connected lists the sessions still connected at the end of the run. Without it, an
	// event owed after a session's last reply cannot be told from one still in flight.
	Connected []ConnectedSession
	// Replicas are the servers' own final states, the oracle for the ephemerals no read
	// happened to look at.
	Replicas []ReplicaState
}

// Op is one client request: its call, and its reply or the lack of one.
type Op struct {
	// Client identifies the simulated client process (zero-based; porcupine's ClientId).
	Client  int
	Session int64
	// Xid is the request's xid (cxid in the txn the leader makes of it). addAuth (OpAuth)
	// may keep the wire's reserved XidAuth (-4, the Java client's) or take an ordinary one
	// (go-zookeeper's): the checks leave it out of the session's order either way.
	Xid int32
	// Call and Return are virtual times. Return is ignored when Unknown: an operation
	// whose fate the client never learned stays open-ended (porcupine Return = MaxInt64).
	Call, Return int64
	Request
	// Unknown: no reply arrived (the connection dropped, the request timed out). Err and
	// Zxid and Reply mean nothing then.
	Unknown bool
	// Err is the reply header's err (ErrOK on success).
	Err wire.Err
	// Zxid is the reply header's zxid: the txn's zxid for a write, the serving server's
	// last applied zxid for a read or sync. The errors a client library makes up itself
	// (ConnectionLoss, OperationTimeout, RequestTimeout, and SessionExpired for requests
	// pending when it learns of the expiry) carry no server zxid; the checks treat them
	// like Unknown. ZooKeeper answers some requests with zxid 0, outside its request
	// pipeline: addAuth (record it as Type OpAuth, Zxid 0, Err as replied), SASL, and a
	// write its eager ACL check refuses (NoAuth or InvalidACL at zxid 0). Such a zxid is no
	// server state; the session order checks skip these replies (zxidZero).
	Zxid  int64
	Reply Reply
}

// Request is what the client asked for: the fields its op code uses.
type Request struct {
	Type    wire.OpCode
	Path    string
	Data    []byte          // create*, setData
	Version int32           // setData, delete, check: expected version, -1 = any
	Mode    wire.CreateMode // create*
	// Watch is the watch flag of exists, getData, getChildren, getChildren2.
	Watch bool
	// WatchMode is addWatch's mode.
	WatchMode wire.AddWatchMode
	// WatchType is removeWatches' watcher type.
	WatchType wire.WatcherType
	// Ops are a multi's sub-requests (create*, delete, setData, check), in order.
	Ops []Request
}

// Reply is what came back, in the fields the op code fills.
type Reply struct {
	Data []byte     // getData
	Stat *wire.Stat // exists, getData, getChildren2, setData, create2*, getACL
	// Children are getChildren's and getChildren2's names, and getEphemerals' full paths of
	// the session's ephemerals (any order).
	Children []string
	Path     string   // create*: the created path (sequential suffix included)
	Results  []Result // multi, multiRead: one per sub-request
	// ACL is getACL's list; nil when the recorder left it out (then it is not compared).
	ACL []wire.ACL
	// AllChildrenNumber is getAllChildrenNumber's count; nil when the recorder left it out.
	AllChildrenNumber *int32
}

// Result is one sub-result of a multi or multiRead reply. Err is the sub-op's code: for a
// multi, ErrOK for an op that applied, the failing op's code, and ErrOK /
// ErrRuntimeInconsistency for the others of a failed multi (zk-protocol.md §10.3); for a
// multiRead, each read's own code. A field the recorder left out (nil) is not compared.
type Result struct {
	Err      wire.Err
	Path     string     // create*
	Stat     *wire.Stat // setData, create2*, multiRead's getData
	Data     []byte     // multiRead's getData
	Children []string   // multiRead's getChildren (any order)
}

// WatchEvent is one watch notification a session received.
type WatchEvent struct {
	Client  int
	Session int64
	Type    wire.EventType
	Path    string
	// LastZxid is the zxid of the last reply the session received before this event, and
	// AfterXid that reply's xid (0 if none): notifications carry no zxid (-1), so this is
	// how the checker places the event among the session's replies.
	LastZxid int64
	AfterXid int32
	Time     int64
}

// SessionEventKind is a session lifecycle step as the client saw it.
type SessionEventKind uint8

const (
	// SessionEstablished: the connect handshake of a new session succeeded.
	SessionEstablished SessionEventKind = iota + 1
	// SessionExpired: the ensemble told the client its session is gone.
	SessionExpired
	// SessionClosed: the client's closeSession was answered.
	SessionClosed
)

func (k SessionEventKind) String() string {
	switch k {
	case SessionEstablished:
		return "established"
	case SessionExpired:
		return "expired"
	case SessionClosed:
		return "closed"
	}
	return fmt.Sprintf("SessionEventKind(%d)", uint8(k))
}

// SessionEvent is one session lifecycle step.
type SessionEvent struct {
	Client  int
	Session int64
	Kind    SessionEventKind
	Time    int64
}

// ConnectedSession says a session's connection was up and drained when the run ended:
// the recorder sampled AppliedZxid from the server holding the connection once no request
// of the session was outstanding, then let the run go on for longer than any message takes
// to arrive, and kept the record only because the client was still on that same
// connection and session at the end. A server sends a watch event as it applies the
// triggering txn (ZooKeeper's DataTree fires the watches inside the apply, zk-protocol.md
// §8.4-8.5), so every event that server owed the session for a txn up to AppliedZxid has
// reached the client: one still missing then was lost, not late.
type ConnectedSession struct {
	Client  int
	Session int64
	Server  string // for reports
	// AppliedZxid is the last zxid whose watch events the server had already sent: for
	// zab/node, LastApplied (a txn reaches it when delivered, after firing its watches),
	// not its tree's LastZxid, which runs ahead between apply and delivery.
	AppliedZxid int64
	Time        int64 // when AppliedZxid was sampled
}

// ReplicaState is what one server's own tree held when the run ended, after the quiet
// period: the zxid its tree is at (zab/tree's LastZxid) and every ephemeral znode in it
// with its owner (GetEphemerals of each session the tree holds). A server whose tree keeps an ephemeral of a
// closed session (zab-bugs.md Z08, Z29, Z31) agrees with no reply if no client reads that
// znode, and with every other replica if they share the bug; it disagrees with this.
type ReplicaState struct {
	Server     string
	Zxid       int64
	Ephemerals []Ephemeral // any order
}

// Ephemeral is one ephemeral znode and the session that owns it.
type Ephemeral struct {
	Path  string
	Owner int64
}

// CommittedTxn is one txn of the committed order, as applied.
type CommittedTxn struct {
	Zxid int64
	Txn  tree.Txn
}

// RecipeEventKind is a step of a lock or leader-election recipe.
type RecipeEventKind uint8

const (
	// RecipeAcquired: the client concluded it holds the lock, or leads the election, from
	// a reply with zxid Zxid that showed its Node as the lowest sequence child.
	RecipeAcquired RecipeEventKind = iota + 1
	// RecipeReleased: the client gave the lock / leadership up (deleted Node; Zxid is the
	// reply's zxid).
	RecipeReleased
)

func (k RecipeEventKind) String() string {
	switch k {
	case RecipeAcquired:
		return "acquired"
	case RecipeReleased:
		return "released"
	}
	return fmt.Sprintf("RecipeEventKind(%d)", uint8(k))
}

// RecipeEvent is one step of a lock or election recipe built from ephemeral-sequential
// znodes. Recipe names one lock or one election (e.g. "lock /locks/a").
type RecipeEvent struct {
	Recipe  string
	Kind    RecipeEventKind
	Client  int
	Session int64
	Node    string // the client's ephemeral-sequential znode
	Zxid    int64
	Time    int64
}

// opReturnUnknown is porcupine's return time of an operation that never returned.
const opReturnUnknown = math.MaxInt64

// isWrite reports whether the op code becomes a txn at the leader.
func isWrite(t wire.OpCode) bool {
	switch t {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL,
		wire.OpDelete, wire.OpSetData, wire.OpSetACL, wire.OpMulti, wire.OpCloseSession:
		return true
	}
	return false
}

func isCreate(t wire.OpCode) bool {
	switch t {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		return true
	}
	return false
}

func isSequential(m wire.CreateMode) bool {
	return m == wire.ModePersistentSequential || m == wire.ModeEphemeralSequential ||
		m == wire.ModePersistentSequentialWithTTL
}

func isEphemeral(m wire.CreateMode) bool {
	return m == wire.ModeEphemeral || m == wire.ModeEphemeralSequential
}

// outcomeUnknown reports whether a reply leaves a write's fate open: no reply, or an
// error the client library makes up for every pending request when the connection or the
// session is lost (the request may have been committed before).
func (o *Op) outcomeUnknown() bool {
	if o.Unknown {
		return true
	}
	switch o.Err {
	case wire.ErrConnectionLoss, wire.ErrOperationTimeout, wire.ErrRequestTimeout,
		wire.ErrSessionExpired:
		return true
	}
	return false
}

// String prints the op on one line for reports.
func (o Op) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client %d session %#x xid %d [%d,", o.Client, o.Session, o.Xid, o.Call)
	if o.Unknown {
		b.WriteString("?] ")
	} else {
		fmt.Fprintf(&b, "%d] ", o.Return)
	}
	b.WriteString(o.Request.String())
	if o.Unknown {
		b.WriteString(" -> unknown")
		return b.String()
	}
	fmt.Fprintf(&b, " -> zxid %s err %d", formatZxid(o.Zxid), o.Err)
	if o.Err == wire.ErrOK {
		b.WriteString(o.Reply.String())
	}
	return b.String()
}

// String prints the request like a call.
func (r Request) String() string {
	switch {
	case r.Type == wire.OpMulti || r.Type == wire.OpMultiRead:
		subs := make([]string, len(r.Ops))
		for i, s := range r.Ops {
			subs[i] = s.String()
		}
		return opName(r.Type) + "(" + strings.Join(subs, ", ") + ")"
	case isCreate(r.Type):
		return fmt.Sprintf("%s(%q, %q, mode %d)", opName(r.Type), r.Path, r.Data, r.Mode)
	case r.Type == wire.OpSetData:
		return fmt.Sprintf("setData(%q, %q, v%d)", r.Path, r.Data, r.Version)
	case r.Type == wire.OpDelete || r.Type == wire.OpCheck:
		return fmt.Sprintf("%s(%q, v%d)", opName(r.Type), r.Path, r.Version)
	case r.Type == wire.OpAddWatch:
		return fmt.Sprintf("addWatch(%q, mode %d)", r.Path, r.WatchMode)
	case r.Watch:
		return fmt.Sprintf("%s(%q, watch)", opName(r.Type), r.Path)
	}
	return fmt.Sprintf("%s(%q)", opName(r.Type), r.Path)
}

// String prints the filled reply fields.
func (r Reply) String() string {
	var b strings.Builder
	if r.Path != "" {
		fmt.Fprintf(&b, " path %q", r.Path)
	}
	if r.Data != nil {
		fmt.Fprintf(&b, " data %q", r.Data)
	}
	if r.Stat != nil {
		fmt.Fprintf(&b, " stat{mzxid %s version %d cversion %d pzxid %s}",
			formatZxid(r.Stat.Mzxid), r.Stat.Version, r.Stat.Cversion, formatZxid(r.Stat.Pzxid))
	}
	if r.Children != nil {
		fmt.Fprintf(&b, " children %q", r.Children)
	}
	if r.ACL != nil {
		fmt.Fprintf(&b, " acl %+v", r.ACL)
	}
	if r.AllChildrenNumber != nil {
		fmt.Fprintf(&b, " all-children %d", *r.AllChildrenNumber)
	}
	for i, res := range r.Results {
		fmt.Fprintf(&b, " [%d: err %d%s]", i, res.Err,
			Reply{Path: res.Path, Stat: res.Stat, Data: res.Data, Children: res.Children}.String())
	}
	return b.String()
}

func (e WatchEvent) String() string {
	return fmt.Sprintf("client %d session %#x t=%d event %s(%q) after xid %d (zxid %s)",
		e.Client, e.Session, e.Time, eventName(e.Type), e.Path, e.AfterXid, formatZxid(e.LastZxid))
}

func (e SessionEvent) String() string {
	return fmt.Sprintf("client %d session %#x t=%d %v", e.Client, e.Session, e.Time, e.Kind)
}

func (e RecipeEvent) String() string {
	return fmt.Sprintf("%s: client %d session %#x t=%d %v %q at zxid %s",
		e.Recipe, e.Client, e.Session, e.Time, e.Kind, e.Node, formatZxid(e.Zxid))
}

func (c ConnectedSession) String() string {
	return fmt.Sprintf("client %d session %#x t=%d connected to %s at zxid %s",
		c.Client, c.Session, c.Time, c.Server, formatZxid(c.AppliedZxid))
}

func formatZxid(z int64) string { return FormatZxid(uint64(z)) }

func opName(t wire.OpCode) string {
	switch t {
	case wire.OpCreate:
		return "create"
	case wire.OpCreate2:
		return "create2"
	case wire.OpCreateContainer:
		return "createContainer"
	case wire.OpCreateTTL:
		return "createTTL"
	case wire.OpDelete:
		return "delete"
	case wire.OpExists:
		return "exists"
	case wire.OpGetData:
		return "getData"
	case wire.OpSetData:
		return "setData"
	case wire.OpGetACL:
		return "getACL"
	case wire.OpSetACL:
		return "setACL"
	case wire.OpGetChildren:
		return "getChildren"
	case wire.OpGetChildren2:
		return "getChildren2"
	case wire.OpSync:
		return "sync"
	case wire.OpCheck:
		return "check"
	case wire.OpMulti:
		return "multi"
	case wire.OpRemoveWatches:
		return "removeWatches"
	case wire.OpSetWatches:
		return "setWatches"
	case wire.OpSetWatches2:
		return "setWatches2"
	case wire.OpAddWatch:
		return "addWatch"
	case wire.OpCloseSession:
		return "closeSession"
	case wire.OpMultiRead:
		return "multiRead"
	case wire.OpGetEphemerals:
		return "getEphemerals"
	case wire.OpGetAllChildrenNumber:
		return "getAllChildrenNumber"
	case wire.OpAuth:
		return "addAuth"
	case wire.OpSASL:
		return "sasl"
	}
	return fmt.Sprintf("op%d", int32(t))
}

func eventName(t wire.EventType) string {
	switch t {
	case wire.EventNodeCreated:
		return "NodeCreated"
	case wire.EventNodeDeleted:
		return "NodeDeleted"
	case wire.EventNodeDataChanged:
		return "NodeDataChanged"
	case wire.EventNodeChildrenChanged:
		return "NodeChildrenChanged"
	}
	return fmt.Sprintf("Event(%d)", int32(t))
}
