package conformance

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
)

// StepKind says what a Step does to its session.
type StepKind int

// Step kinds.
const (
	// StepConnect opens the session: a new session on a fresh connection.
	StepConnect StepKind = iota
	// StepRequest sends one request built from the Step's fields.
	StepRequest
	// StepRaw sends a request frame zab/wire would refuse to build (an opcode that is unknown,
	// internal, or only valid inside multi), made by retyping a known request.
	StepRaw
	// StepDisconnect closes the TCP connection without closeSession; the session lives on.
	StepDisconnect
	// StepReconnect resumes the session on a new connection (ConnectRequest with its id and
	// password), optionally with a wrong password or a lastZxidSeen ahead of the server.
	StepReconnect
	// StepExpire drops the connection, waits until the session must have expired and tries to
	// resume it.
	StepExpire
)

// DataKind selects the data of a create or setData.
type DataKind int

// Data kinds.
const (
	DataText      DataKind = iota // Step.Text
	DataNull                      // a null buffer (-1)
	DataAtLimit                   // as much data as fits a frame of exactly jute.maxbuffer bytes
	DataPastLimit                 // one byte more: the server must close the connection
)

// Step is one action of a differential sequence. Paths starting with "~" are relative to the
// run's private prefix node, so runs never see each other's nodes; other paths are absolute
// (system nodes, malformed paths).
type Step struct {
	Session int
	Kind    StepKind
	Op      wire.OpCode // StepRequest: the request; StepRaw: the op code put on the wire
	Path    string
	Data    DataKind
	Text    string
	Version int32
	Flags   wire.CreateMode
	TTLMs   int64
	ACL     string // a key of ACLs
	Watch   bool
	Mode    int32 // addWatch mode; checkWatches/removeWatches watcher type
	// Auth is "scheme:credentials" for auth (100); AuthXidNormal sends it with an ordinary
	// xid as go-zookeeper/zk does instead of -4 as Java, C and kazoo do (§3.2).
	Auth          string
	AuthXidNormal bool
	Sub           []Step     // multi / multiRead sub-ops (Kind StepRequest)
	Lists         [][]string // setWatches(2) path lists: data, exist, child[, persistent, recursive]
	// StepConnect: requested session timeout and the 45-byte (Java) vs 44-byte (go-zk) form.
	TimeoutMs    int32
	ReadOnlyByte bool
	// StepReconnect variants.
	BadPassword bool
	FutureZxid  bool
	// GuardWatchModeOverlap (set by Without for "watch-mode-overlap") makes the runner leave
	// the step out if, when its turn comes, it would register a second watch mode on a path
	// and table where its session still holds another (runner.modes).
	GuardWatchModeOverlap bool
}

// Digest returns the digest id of "user:password", as DigestAuthenticationProvider computes
// it: user:BASE64(SHA1("user:password")) (zk-protocol.md §9.3).
func Digest(userPassword string) string {
	user, _, _ := strings.Cut(userPassword, ":")
	sum := sha1.Sum([]byte(userPassword))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// ACLs are the ACL lists steps name: valid ones of every scheme, and each way a list is
// invalid (§9.3, §9.4).
var ACLs = map[string][]wire.ACL{
	"open":       {{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}},
	"read":       {{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}},
	"creator":    {{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth", ID: ""}}},
	"bob":        {{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: Digest("bob:secret")}}},
	"bob-rc":     {{Perms: wire.PermRead | wire.PermCreate, ID: wire.Id{Scheme: "digest", ID: Digest("bob:secret")}}},
	"bob+read":   {{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: Digest("bob:secret")}}, {Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}},
	"ip-local":   {{Perms: wire.PermAll, ID: wire.Id{Scheme: "ip", ID: "127.0.0.1"}}},
	"ip-net":     {{Perms: wire.PermAll, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/8"}}},
	"ip-bad":     {{Perms: wire.PermAll, ID: wire.Id{Scheme: "ip", ID: "300.1.1.1"}}},
	"world-bad":  {{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "nobody"}}},
	"scheme-bad": {{Perms: wire.PermAll, ID: wire.Id{Scheme: "foo", ID: "bar"}}},
	"digest-bad": {{Perms: wire.PermAll, ID: wire.Id{Scheme: "digest", ID: "bob"}}},
	"super":      {{Perms: wire.PermAll, ID: wire.Id{Scheme: "super", ID: ""}}},
	"dup":        {{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}, {Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}},
	"empty":      {},
	"null":       nil,
}

// GoString is String, so that rapid's report of the drawn sequence reads as steps.
func (s Step) GoString() string { return s.String() }

// String renders a step for transcripts and rapid's failure output.
func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "s%d ", s.Session)
	switch s.Kind {
	case StepConnect:
		fmt.Fprintf(&b, "connect timeout=%dms readOnlyByte=%t", s.TimeoutMs, s.ReadOnlyByte)
	case StepDisconnect:
		b.WriteString("disconnect")
	case StepReconnect:
		b.WriteString("reconnect")
		if s.BadPassword {
			b.WriteString(" bad-password")
		}
		if s.FutureZxid {
			b.WriteString(" lastZxidSeen-ahead")
		}
	case StepExpire:
		b.WriteString("expire")
	case StepRaw:
		fmt.Fprintf(&b, "raw-op %d %q", s.Op, s.Path)
	case StepRequest:
		b.WriteString(s.requestString())
	}
	return b.String()
}

func (s Step) requestString() string {
	name := opName(s.Op)
	data := func() string {
		switch s.Data {
		case DataNull:
			return "null"
		case DataAtLimit:
			return "<max-frame>"
		case DataPastLimit:
			return "<max-frame+1>"
		}
		return fmt.Sprintf("%q", s.Text)
	}
	switch s.Op {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		out := fmt.Sprintf("%s %q data=%s acl=%s flags=%d", name, s.Path, data(), s.ACL, s.Flags)
		if s.Op == wire.OpCreateTTL {
			out += fmt.Sprintf(" ttl=%d", s.TTLMs)
		}
		return out
	case wire.OpDelete, wire.OpCheck:
		return fmt.Sprintf("%s %q version=%d", name, s.Path, s.Version)
	case wire.OpExists, wire.OpGetData, wire.OpGetChildren, wire.OpGetChildren2:
		return fmt.Sprintf("%s %q watch=%t", name, s.Path, s.Watch)
	case wire.OpSetData:
		return fmt.Sprintf("%s %q data=%s version=%d", name, s.Path, data(), s.Version)
	case wire.OpSetACL:
		return fmt.Sprintf("%s %q acl=%s version=%d", name, s.Path, s.ACL, s.Version)
	case wire.OpAddWatch:
		return fmt.Sprintf("%s %q mode=%d", name, s.Path, s.Mode)
	case wire.OpCheckWatches, wire.OpRemoveWatches:
		return fmt.Sprintf("%s %q type=%d", name, s.Path, s.Mode)
	case wire.OpAuth:
		return fmt.Sprintf("%s %q normalXid=%t", name, s.Auth, s.AuthXidNormal)
	case wire.OpMulti, wire.OpMultiRead:
		var subs []string
		for _, sub := range s.Sub {
			subs = append(subs, sub.requestString())
		}
		return fmt.Sprintf("%s [%s]", name, strings.Join(subs, "; "))
	case wire.OpSetWatches, wire.OpSetWatches2:
		return fmt.Sprintf("%s relativeZxid=last-seen lists=%q", name, s.Lists)
	case wire.OpWhoAmI, wire.OpCloseSession:
		return name
	}
	return fmt.Sprintf("%s %q", name, s.Path)
}

// opName names an op code as ZooDefs.OpCode does.
func opName(op wire.OpCode) string {
	names := map[wire.OpCode]string{
		wire.OpCreate: "create", wire.OpDelete: "delete", wire.OpExists: "exists", wire.OpGetData: "getData",
		wire.OpSetData: "setData", wire.OpGetACL: "getACL", wire.OpSetACL: "setACL",
		wire.OpGetChildren: "getChildren", wire.OpSync: "sync", wire.OpPing: "ping",
		wire.OpGetChildren2: "getChildren2", wire.OpCheck: "check", wire.OpMulti: "multi",
		wire.OpCreate2: "create2", wire.OpReconfig: "reconfig", wire.OpCheckWatches: "checkWatches",
		wire.OpRemoveWatches: "removeWatches", wire.OpCreateContainer: "createContainer",
		wire.OpDeleteContainer: "deleteContainer", wire.OpCreateTTL: "createTTL",
		wire.OpMultiRead: "multiRead", wire.OpAuth: "auth", wire.OpSetWatches: "setWatches",
		wire.OpSASL: "sasl", wire.OpGetEphemerals: "getEphemerals",
		wire.OpGetAllChildrenNumber: "getAllChildrenNumber", wire.OpSetWatches2: "setWatches2",
		wire.OpAddWatch: "addWatch", wire.OpWhoAmI: "whoAmI", wire.OpCreateSession: "createSession",
		wire.OpCloseSession: "closeSession", wire.OpError: "error",
	}
	if n, ok := names[op]; ok {
		return n
	}
	return fmt.Sprintf("op%d", op)
}

// resolve turns a step path into the path sent: "~" becomes the run prefix.
func resolve(prefix, path string) string {
	if strings.HasPrefix(path, "~") {
		return prefix + path[1:]
	}
	return path
}

// body builds the request record of a request step (or sub-op). dataLen is the size of the
// data for DataAtLimit/DataPastLimit, computed by the caller from the frame overhead.
func (s Step) body(prefix string, dataLen int, lastZxid int64) wire.Record {
	path := resolve(prefix, s.Path)
	var data []byte
	switch s.Data {
	case DataText:
		data = []byte(s.Text)
	case DataAtLimit, DataPastLimit:
		data = make([]byte, dataLen)
		for i := range data {
			data[i] = byte('a' + i%26)
		}
	}
	acl := ACLs[s.ACL]
	switch s.Op {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer:
		return &wire.CreateRequest{Path: path, Data: data, ACL: acl, Flags: s.Flags}
	case wire.OpCreateTTL:
		return &wire.CreateTTLRequest{Path: path, Data: data, ACL: acl, Flags: s.Flags, TTLMs: s.TTLMs}
	case wire.OpDelete:
		return &wire.DeleteRequest{Path: path, Version: s.Version}
	case wire.OpCheck:
		return &wire.CheckVersionRequest{Path: path, Version: s.Version}
	case wire.OpExists:
		return &wire.ExistsRequest{Path: path, Watch: s.Watch}
	case wire.OpGetData:
		return &wire.GetDataRequest{Path: path, Watch: s.Watch}
	case wire.OpSetData:
		return &wire.SetDataRequest{Path: path, Data: data, Version: s.Version}
	case wire.OpGetACL:
		return &wire.GetACLRequest{Path: path}
	case wire.OpSetACL:
		return &wire.SetACLRequest{Path: path, ACL: acl, Version: s.Version}
	case wire.OpGetChildren:
		return &wire.GetChildrenRequest{Path: path, Watch: s.Watch}
	case wire.OpGetChildren2:
		return &wire.GetChildren2Request{Path: path, Watch: s.Watch}
	case wire.OpSync:
		return &wire.SyncRequest{Path: path}
	case wire.OpGetEphemerals:
		return &wire.GetEphemeralsRequest{PrefixPath: path}
	case wire.OpGetAllChildrenNumber:
		return &wire.GetAllChildrenNumberRequest{Path: path}
	case wire.OpAddWatch:
		return &wire.AddWatchRequest{Path: path, Mode: wire.AddWatchMode(s.Mode)}
	case wire.OpCheckWatches:
		return &wire.CheckWatchesRequest{Path: path, Type: wire.WatcherType(s.Mode)}
	case wire.OpRemoveWatches:
		return &wire.RemoveWatchesRequest{Path: path, Type: wire.WatcherType(s.Mode)}
	case wire.OpAuth:
		scheme, cred, _ := strings.Cut(s.Auth, ":")
		return &wire.AuthPacket{Scheme: scheme, Auth: []byte(cred)}
	case wire.OpReconfig:
		return &wire.ReconfigRequest{JoiningServers: "server.9=127.0.0.1:1:2;3", CurConfigID: -1}
	case wire.OpSASL:
		return &wire.GetSASLRequest{Token: []byte("x")}
	case wire.OpSetWatches, wire.OpSetWatches2:
		lists := make([][]string, 5)
		for i := range lists {
			if i < len(s.Lists) {
				for _, p := range s.Lists[i] {
					lists[i] = append(lists[i], resolve(prefix, p))
				}
			}
			if lists[i] == nil {
				lists[i] = []string{}
			}
		}
		if s.Op == wire.OpSetWatches {
			return &wire.SetWatches{RelativeZxid: lastZxid, DataWatches: lists[0], ExistWatches: lists[1], ChildWatches: lists[2]}
		}
		return &wire.SetWatches2{RelativeZxid: lastZxid, DataWatches: lists[0], ExistWatches: lists[1],
			ChildWatches: lists[2], PersistentWatches: lists[3], PersistentRecursiveWatches: lists[4]}
	case wire.OpMulti, wire.OpMultiRead:
		m := &wire.MultiRequest{}
		for _, sub := range s.Sub {
			m.Ops = append(m.Ops, wire.MultiOp{Type: sub.Op, Body: sub.body(prefix, 0, lastZxid)})
		}
		return m
	}
	return nil // whoAmI, closeSession
}

// frame encodes a request step as one frame with the given xid. Data at the limit is sized
// from the frame overhead so that the payload is exactly frameBytesMax (or one byte more).
func (s Step) frame(prefix string, xid int32, lastZxid int64, frameBytesMax int) []byte {
	h := wire.RequestHeader{Xid: xid, Type: s.Op}
	if s.Kind == StepRaw {
		// Retype a request with the same layout: check (13) is path + version like delete;
		// any other raw op carries a path-only body.
		var b []byte
		if s.Op == wire.OpCheck {
			b = wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: wire.OpDelete},
				&wire.DeleteRequest{Path: resolve(prefix, s.Path), Version: s.Version})
		} else {
			b = wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: wire.OpSync},
				&wire.SyncRequest{Path: resolve(prefix, s.Path)})
		}
		binary.BigEndian.PutUint32(b[8:12], uint32(s.Op)) // after length and xid
		return b
	}
	if s.Data == DataAtLimit || s.Data == DataPastLimit {
		overhead := len(wire.AppendRequest(nil, h, s.body(prefix, 0, lastZxid))) - 4
		n := frameBytesMax - overhead
		if s.Data == DataPastLimit {
			n++
		}
		return wire.AppendRequest(nil, h, s.body(prefix, n, lastZxid))
	}
	return wire.AppendRequest(nil, h, s.body(prefix, 0, lastZxid))
}
