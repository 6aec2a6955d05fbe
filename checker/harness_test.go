package checker

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// fakeZK is a one-server ZooKeeper built from zab/tree, with clients that record a History
// the way the simulator's clients will: every op with call and return times, watch events
// placed after the last reply, setWatches on reconnect. Its histories are correct by
// construction; the tests then break them one field at a time.
type fakeZK struct {
	t       *tree.Tree
	w       *tree.Watches
	h       History
	now     int64
	counter int64 // zxid counter in epoch 1
	clients map[int64]*fakeClient
}

// fakeClient is the client side of one session: its xid counter, last reply and the
// watches it would re-arm (ZKWatchManager's data/exist/child lists).
type fakeClient struct {
	client                      int
	xid                         int32
	lastXid                     int32
	lastZxid                    int64
	data, exist, child          map[string]bool
	persistent, persistentRecur map[string]bool
}

func newFakeZK() *fakeZK {
	return &fakeZK{t: tree.New(tree.Config{}), w: tree.NewWatches(), clients: map[int64]*fakeClient{}}
}

func (f *fakeZK) nextZxid() int64 {
	f.counter++
	return 1<<32 | f.counter
}

func (f *fakeZK) commit(req tree.Request) tree.Applied {
	txn := f.t.Prepare(req)
	a := f.t.Apply(req.Zxid, txn)
	f.h.Committed = append(f.h.Committed, CommittedTxn{Zxid: req.Zxid, Txn: txn})
	f.deliver(a.Events)
	return a
}

// deliver fires watch events to every session's client, which records them and drops the
// one-shot watches they consumed.
func (f *fakeZK) deliver(events []tree.Event) {
	for _, n := range f.w.Fire(events, func(int64) []wire.Id { return nil }) {
		c := f.clients[n.SessionID]
		f.h.Events = append(f.h.Events, WatchEvent{Client: c.client, Session: n.SessionID,
			Type: n.Event.Type, Path: n.Event.Path, LastZxid: c.lastZxid, AfterXid: c.lastXid, Time: f.now})
		c.consumed(n.Event)
	}
}

func (c *fakeClient) consumed(e wire.WatcherEvent) {
	switch e.Type {
	case wire.EventNodeCreated, wire.EventNodeDataChanged:
		delete(c.data, e.Path)
		delete(c.exist, e.Path)
	case wire.EventNodeChildrenChanged:
		delete(c.child, e.Path)
	case wire.EventNodeDeleted:
		delete(c.data, e.Path)
		delete(c.exist, e.Path)
		delete(c.child, e.Path)
	}
}

// connect opens a session for client and returns its id.
func (f *fakeZK) connect(client int) int64 {
	id := int64(0x100 + len(f.clients))
	f.commit(tree.Request{SessionID: id, Zxid: f.nextZxid(), Type: wire.OpCreateSession, TimeoutMs: 10000})
	c := &fakeClient{client: client, data: map[string]bool{}, exist: map[string]bool{},
		child: map[string]bool{}, persistent: map[string]bool{}, persistentRecur: map[string]bool{}}
	c.lastZxid = f.t.LastZxid()
	f.clients[id] = c
	f.h.Sessions = append(f.h.Sessions, SessionEvent{Client: client, Session: id, Kind: SessionEstablished, Time: f.now})
	f.now++
	return id
}

// expire ends a session as the leader's session tracker would.
func (f *fakeZK) expire(session int64) {
	f.w.RemoveSession(session)
	f.commit(tree.Request{SessionID: session, Zxid: f.nextZxid(), Type: wire.OpCloseSession})
	c := f.clients[session]
	f.h.Sessions = append(f.h.Sessions, SessionEvent{Client: c.client, Session: session, Kind: SessionExpired, Time: f.now})
	f.now++
}

// do runs one request of a session to its reply and returns the op's index in h.Ops.
func (f *fakeZK) do(session int64, q Request) int {
	c := f.clients[session]
	c.xid++
	o := Op{Client: c.client, Session: session, Xid: c.xid, Call: f.now, Request: q}
	f.now++
	switch {
	case isWrite(q.Type):
		a := f.commit(tree.Request{SessionID: session, Cxid: c.xid, Zxid: f.nextZxid(), TimeMs: f.now,
			Type: q.Type, Body: wireBody(q)})
		o.Err, o.Zxid = a.Err, a.Zxid
		o.Reply = replyOf(a.Body)
	case q.Type == wire.OpSync:
		o.Zxid = f.t.LastZxid()
	case q.Type == wire.OpRemoveWatches:
		o.Err = f.w.Check(session, q.Path, q.WatchType, true)
		o.Zxid = f.t.LastZxid()
		if o.Err == wire.ErrOK && q.WatchType != wire.WatcherChildren {
			delete(c.data, q.Path)
			delete(c.exist, q.Path)
		}
		if o.Err == wire.ErrOK && q.WatchType != wire.WatcherData {
			delete(c.child, q.Path)
		}
		if o.Err == wire.ErrOK && q.WatchType == wire.WatcherAny {
			// The Java client drops persistent watches only for Any (3.8.0
			// ZKWatchManager.removeWatcher): otherwise it re-registers them on reconnect.
			delete(c.persistent, q.Path)
			delete(c.persistentRecur, q.Path)
		}
	case q.Type == wire.OpAddWatch:
		o.Err = f.w.AddWatch(session, q.Path, q.WatchMode)
		o.Zxid = f.t.LastZxid()
		if q.WatchMode == wire.AddWatchPersistent {
			c.persistent[q.Path] = true
		} else {
			c.persistentRecur[q.Path] = true
		}
	default:
		body, err := f.t.Read(q.Type, wireBody(q), session, nil)
		o.Err, o.Zxid = err, f.t.LastZxid()
		if q.Watch {
			f.w.AfterRead(session, q.Type, q.Path, err)
			switch {
			case q.Type == wire.OpExists && err == wire.ErrNoNode:
				c.exist[q.Path] = true
			case (q.Type == wire.OpExists || q.Type == wire.OpGetData) && err == wire.ErrOK:
				c.data[q.Path] = true
			case err == wire.ErrOK:
				c.child[q.Path] = true
			}
		}
		switch b := body.(type) {
		case *wire.ExistsResponse:
			o.Reply.Stat = &b.Stat
		case *wire.GetDataResponse:
			o.Reply.Data, o.Reply.Stat = b.Data, &b.Stat
		case *wire.GetChildrenResponse:
			o.Reply.Children = b.Children
		case *wire.GetChildren2Response:
			o.Reply.Children, o.Reply.Stat = b.Children, &b.Stat
		case *wire.GetACLResponse:
			o.Reply.ACL, o.Reply.Stat = b.ACL, &b.Stat
		case *wire.GetAllChildrenNumberResponse:
			o.Reply.AllChildrenNumber = &b.TotalNumber
		case *wire.GetEphemeralsResponse:
			o.Reply.Children = b.Ephemerals
		case *wire.MultiResponse:
			for _, res := range b.Results {
				sub := Result{Err: res.Err}
				switch rb := res.Body.(type) {
				case *wire.GetDataResponse:
					sub.Data, sub.Stat = rb.Data, &rb.Stat
				case *wire.GetChildrenResponse:
					sub.Children = rb.Children
				}
				o.Reply.Results = append(o.Reply.Results, sub)
			}
		}
	}
	o.Return = f.now
	f.now++
	c.lastXid, c.lastZxid = o.Xid, o.Zxid
	f.h.Ops = append(f.h.Ops, o)
	return len(f.h.Ops) - 1
}

// reconnect drops the session's connection (and with it its server-side watches); the
// client comes back and re-arms its watches with setWatches2, which may replay events.
func (f *fakeZK) reconnect(session int64) int { return f.resume(session, -1) }

// reconnectLost is a reconnect whose setWatches the server applies, but the connection
// dies after the first keep replays: the rest and the reply are lost (ConnectionLoss), and
// the server-side watches go with the connection.
func (f *fakeZK) reconnectLost(session int64, keep int) int { return f.resume(session, keep) }

// resume is a reconnect that keeps every replay and the reply (keep < 0), or only the
// first keep replays.
func (f *fakeZK) resume(session int64, keep int) int {
	c := f.clients[session]
	f.w.RemoveSession(session)
	f.now += 5 // the handshake takes a while
	c.xid++
	o := Op{Client: c.client, Session: session, Xid: c.xid, Call: f.now,
		Request: Request{Type: wire.OpSetWatches2}}
	f.now++
	req := &wire.SetWatches2{RelativeZxid: c.lastZxid, DataWatches: sortedSet(c.data),
		ExistWatches: sortedSet(c.exist), ChildWatches: sortedSet(c.child),
		PersistentWatches: sortedSet(c.persistent), PersistentRecursiveWatches: sortedSet(c.persistentRecur)}
	for i, n := range f.w.SetWatches(f.t, session, req) {
		if keep >= 0 && i >= keep {
			break
		}
		f.h.Events = append(f.h.Events, WatchEvent{Client: c.client, Session: session,
			Type: n.Event.Type, Path: n.Event.Path, LastZxid: c.lastZxid, AfterXid: c.lastXid, Time: f.now})
		c.consumed(n.Event)
	}
	if keep >= 0 {
		f.w.RemoveSession(session)
		o.Err = wire.ErrConnectionLoss
	} else {
		o.Zxid = f.t.LastZxid()
		c.lastXid, c.lastZxid = o.Xid, o.Zxid
	}
	o.Return = f.now
	f.now++
	f.h.Ops = append(f.h.Ops, o)
	return len(f.h.Ops) - 1
}

// finish records the end of the run as the simulator's recorder does: every session the
// server still holds, except the disconnected ones, is connected and drained at the
// server's last zxid (the fake delivers events as it applies), and the server's ephemerals
// are its final state.
func (f *fakeZK) finish(disconnected ...int64) {
	last := f.t.LastZxid()
	rs := ReplicaState{Server: "fake", Zxid: last}
	for _, id := range f.t.Sessions() {
		for _, p := range f.t.GetEphemerals(id, "/").Ephemerals {
			rs.Ephemerals = append(rs.Ephemerals, Ephemeral{Path: p, Owner: id})
		}
		c, ok := f.clients[id]
		if !ok || slices.Contains(disconnected, id) {
			continue
		}
		f.h.Connected = append(f.h.Connected, ConnectedSession{Client: c.client, Session: id, Server: "fake",
			AppliedZxid: last, Time: f.now})
	}
	f.h.Replicas = append(f.h.Replicas, rs)
	f.now++
}

func sortedSet(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// wireBody is the request record of a history Request.
func wireBody(q Request) wire.Record {
	switch q.Type {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer:
		return &wire.CreateRequest{Path: q.Path, Data: q.Data, ACL: tree.OpenACL, Flags: q.Mode}
	case wire.OpDelete:
		return &wire.DeleteRequest{Path: q.Path, Version: q.Version}
	case wire.OpSetData:
		return &wire.SetDataRequest{Path: q.Path, Data: q.Data, Version: q.Version}
	case wire.OpCheck:
		return &wire.CheckVersionRequest{Path: q.Path, Version: q.Version}
	case wire.OpExists:
		return &wire.ExistsRequest{Path: q.Path, Watch: q.Watch}
	case wire.OpGetData:
		return &wire.GetDataRequest{Path: q.Path, Watch: q.Watch}
	case wire.OpGetChildren:
		return &wire.GetChildrenRequest{Path: q.Path, Watch: q.Watch}
	case wire.OpGetChildren2:
		return &wire.GetChildren2Request{Path: q.Path, Watch: q.Watch}
	case wire.OpMulti:
		m := &wire.MultiRequest{}
		for _, s := range q.Ops {
			m.Ops = append(m.Ops, wire.MultiOp{Type: s.Type, Body: wireBody(s)})
		}
		return m
	case wire.OpCloseSession:
		return nil
	case wire.OpGetACL, wire.OpGetAllChildrenNumber, wire.OpGetEphemerals, wire.OpMultiRead:
		return readRequest(q) // reads that set no watch: as the checker's own replay builds them
	}
	panic(fmt.Sprintf("wireBody: op %d", q.Type))
}

// Request constructors, to keep the scenarios readable.
func create(path, data string) Request {
	return Request{Type: wire.OpCreate, Path: path, Data: []byte(data)}
}
func createMode(path, data string, mode wire.CreateMode) Request {
	return Request{Type: wire.OpCreate, Path: path, Data: []byte(data), Mode: mode}
}
func setData(path, data string, version int32) Request {
	return Request{Type: wire.OpSetData, Path: path, Data: []byte(data), Version: version}
}
func del(path string, version int32) Request {
	return Request{Type: wire.OpDelete, Path: path, Version: version}
}
func getData(path string, watch bool) Request {
	return Request{Type: wire.OpGetData, Path: path, Watch: watch}
}
func exists(path string, watch bool) Request {
	return Request{Type: wire.OpExists, Path: path, Watch: watch}
}
func children(path string, watch bool) Request {
	return Request{Type: wire.OpGetChildren, Path: path, Watch: watch}
}
func syncOp(path string) Request   { return Request{Type: wire.OpSync, Path: path} }
func multi(ops ...Request) Request { return Request{Type: wire.OpMulti, Ops: ops} }
func checkVersion(path string, version int32) Request {
	return Request{Type: wire.OpCheck, Path: path, Version: version}
}
func removeWatches(path string, typ wire.WatcherType) Request {
	return Request{Type: wire.OpRemoveWatches, Path: path, WatchType: typ}
}
func addWatch(path string, mode wire.AddWatchMode) Request {
	return Request{Type: wire.OpAddWatch, Path: path, WatchMode: mode}
}

// requireOK fails with the report when a history that should pass does not.
func requireOK(t *testing.T, h *History) Report {
	t.Helper()
	r := Check(h, Config{VisualizationDir: t.TempDir()})
	require.True(t, r.OK(), "expected a correct history to pass every check, got:\n%s\nhistory:\n%s", r.String(), dumpHistory(h))
	return r
}

// requireViolation fails unless the report has a violation of check (and says which it got).
func requireViolation(t *testing.T, h *History, check string) Report {
	t.Helper()
	r := Check(h, Config{VisualizationDir: t.TempDir()})
	require.Contains(t, r.Failed(), check, "expected a %s violation; report:\n%s\nhistory:\n%s", check, r.String(), dumpHistory(h))
	return r
}

func dumpHistory(h *History) string {
	var b strings.Builder
	for _, o := range h.Ops {
		fmt.Fprintf(&b, "  op    %v\n", o)
	}
	for _, e := range h.Events {
		fmt.Fprintf(&b, "  event %v\n", e)
	}
	for _, c := range h.Committed {
		fmt.Fprintf(&b, "  txn   %s %s\n", formatZxid(c.Zxid), describeTxn(c.Txn))
	}
	return b.String()
}

// clone deep-copies the parts of a history the mutations touch.
func (h History) clone() *History {
	c := h
	c.Ops = slices.Clone(h.Ops)
	c.Events = slices.Clone(h.Events)
	c.Sessions = slices.Clone(h.Sessions)
	c.Committed = slices.Clone(h.Committed)
	c.Recipes = slices.Clone(h.Recipes)
	c.Connected = slices.Clone(h.Connected)
	c.Replicas = slices.Clone(h.Replicas)
	for i := range c.Replicas {
		c.Replicas[i].Ephemerals = slices.Clone(h.Replicas[i].Ephemerals)
	}
	return &c
}
