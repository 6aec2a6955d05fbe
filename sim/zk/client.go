package zk

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
	"github.com/zabkit/zabkit/zab/wire"
)

// client is one simulated ZooKeeper client process, behaving as the Java client and go-zk
// do (zk-protocol.md §2, §3, §8.6, §13): it connects to a random server, pings every third
// of the session timeout and drops a connection that stays silent for two thirds of it; on
// connection loss every outstanding request fails with ConnectionLoss (its outcome unknown)
// and it reconnects to another server with its session id, password and last zxid, then
// re-arms its watches with setWatches; an invalid ConnectResponse is SessionExpired, after
// which it starts a new session. Requests made while disconnected wait for the next
// connection, as in the Java client's outgoing queue.
//
// The client is sim-side code driven by its host: deliveries come through Handle, timers
// are the host's After (void if it were ever crashed).
type client struct {
	c    *Cluster
	idx  int
	name string
	host *sim.Host[connMsg, struct{}]
	rng  *rand.Rand

	session   int64
	passwd    []byte
	timeoutMs int32 // negotiated
	lastZxid  int64 // the highest reply zxid of the session
	xid       int32 // one counter per client, across sessions and reconnects
	// lastReplyXid is the xid of the session's last server reply, to place watch events.
	lastReplyXid int32

	conn       *clientConn
	connN      uint64
	lastServer string
	queued     []*call // made while not connected, sent after the next handshake
	watches    watchTable

	work *workload
	// connected counts handshakes, and lastReplyAt is when the last server reply arrived
	// (liveness).
	connected   int
	lastReplyAt time.Duration
}

// clientConn is the client end of one connection.
type clientConn struct {
	id      uint64
	server  string
	open    bool // the ConnectResponse arrived
	outSeq  uint64
	order   *hostio.InOrder[connMsg]
	pending []*call // sent, awaiting their replies, in order
	heardAt time.Duration
	sentAt  time.Duration
	newSess bool // the handshake asks for a new session
}

// call is one request of the client: what it asks, and what to do with the answer.
type call struct {
	req  checker.Request
	xid  int32
	op   int // index of the recorded op; -1 for pings
	done func(res result)
	// body, when set, is sent instead of the one encodeRequest makes from req (auth: the
	// history's Request has no fields for it).
	body wire.Record
}

// encode is the call's op code and wire body.
func (k *call) encode() (wire.OpCode, wire.Record) {
	if k.body != nil {
		return k.req.Type, k.body
	}
	return encodeRequest(k.req)
}

// result is what a call came back with: a server reply or an error the client made up.
type result struct {
	err   wire.Err
	zxid  int64
	reply checker.Reply
}

// watchTable is the client's registered watches, as the server holds them for the
// connection: standard data watches (getData, or exists on a znode), exist watches (exists
// on a missing znode) and child watches, which fire once; persistent and persistent
// recursive watches (addWatch), which stay.
type watchTable struct {
	data, exist, child    map[string]bool
	persistent, recursive map[string]bool
}

func newWatchTable() watchTable {
	return watchTable{data: map[string]bool{}, exist: map[string]bool{}, child: map[string]bool{},
		persistent: map[string]bool{}, recursive: map[string]bool{}}
}

func (t watchTable) empty() bool {
	return len(t.data)+len(t.exist)+len(t.child)+len(t.persistent)+len(t.recursive) == 0
}

// clientRequestsMax bounds a client's outstanding requests (a workload bug otherwise).
const clientRequestsMax = 64

func newClient(c *Cluster, idx int) *client {
	cl := &client{c: c, idx: idx, name: ClientName(idx), rng: c.world.Stream("client/" + ClientName(idx)), watches: newWatchTable()}
	cl.work = newWorkload(cl)
	return cl
}

// Handle takes one packet of a connection; the client never needs ticks of its own.
func (cl *client) Handle(_ int64, m connMsg) []struct{} {
	cl.receive(m)
	return nil
}

// NextDeadline: the client's timers are host timers.
func (cl *client) NextDeadline() (int64, bool) { return 0, false }

func (cl *client) program() sim.Program[connMsg, struct{}] {
	return sim.Program[connMsg, struct{}]{
		Boot: func(h *sim.Host[connMsg, struct{}]) sim.Machine[connMsg, struct{}] {
			cl.host = h
			return cl
		},
		Message: func(_ string, payload any) connMsg { return payload.(connMsg) },
		Tick:    func() connMsg { return connMsg{} },
		Execute: func(*sim.Host[connMsg, struct{}], struct{}) {},
	}
}

func (cl *client) now() time.Duration { return cl.c.world.Now() }

func (cl *client) after(d time.Duration, f func()) { cl.host.After(d, f) }

// start connects for the first time, at a random moment of the first tick.
func (cl *client) start() {
	cl.after(time.Duration(cl.rng.Int64N(cl.c.opts.TickMillis*int64(time.Millisecond))), cl.connect)
}

func (cl *client) readTimeout() time.Duration {
	t := cl.timeoutMs
	if t == 0 || (cl.conn != nil && !cl.conn.open) {
		t = cl.c.opts.SessionTimeoutMs
	}
	return time.Duration(t) * time.Millisecond * 2 / 3
}

// connect opens a connection to a random server other than the last one, and sends the
// ConnectRequest for the current session (or a new one).
func (cl *client) connect() {
	if cl.conn != nil {
		return
	}
	names := ServerNames(cl.c.opts.Voters + cl.c.opts.Observers)
	if len(names) > 1 {
		names = slices.DeleteFunc(names, func(n string) bool { return n == cl.lastServer })
	}
	server := names[cl.rng.IntN(len(names))]
	cl.connN++
	cc := &clientConn{id: uint64(cl.idx+1)<<40 | cl.connN, server: server, order: hostio.NewInOrder[connMsg](1),
		heardAt: cl.now(), newSess: cl.session == 0}
	cl.conn, cl.lastServer = cc, server
	passwd := cl.passwd
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	req := &wire.ConnectRequest{LastZxidSeen: cl.lastZxid, TimeoutMs: cl.c.opts.SessionTimeoutMs,
		SessionID: cl.session, Passwd: passwd, HasReadOnly: true}
	cl.send(cc, connOpen, wire.AppendConnectRequest(nil, req)[4:])
	cl.after(cl.readTimeout(), func() {
		if cl.conn == cc && !cc.open {
			cl.lose(cc, "handshake timed out")
		}
	})
}

func (cl *client) send(cc *clientConn, kind connKind, frame []byte) {
	cc.outSeq++
	cc.sentAt = cl.now()
	cl.host.Send(cc.server, connMsg{conn: cc.id, seq: cc.outSeq, sentAt: cl.now(), kind: kind, frame: frame}, len(frame)+connMsgHeaderBytes)
}

// receive restores the connection's order and handles what is deliverable.
func (cl *client) receive(m connMsg) {
	cc := cl.conn
	if cc == nil || m.conn != cc.id {
		return // a connection this client gave up
	}
	ready, early := cc.order.Accept(m.packet())
	if early {
		seq := m.seq
		cl.after(hostio.GapWait(m.sentAt, cl.c.opts.Link.Latency.Tail, cl.now()), func() {
			if cl.conn == cc && cc.order.Missing(seq) {
				cl.c.stats.ConnBreaks++
				cl.lose(cc, "connection broke (lost packet)")
			}
		})
	}
	for _, p := range ready {
		if cl.conn != cc {
			return
		}
		msg := p.Body
		cc.heardAt = cl.now()
		switch msg.kind {
		case connClose:
			cl.lose(cc, "closed by the server")
		case connFrame:
			if !cc.open {
				cl.handshake(cc, msg.frame)
			} else {
				cl.frame(cc, msg.frame)
			}
		}
	}
}

// handshake takes the ConnectResponse.
func (cl *client) handshake(cc *clientConn, payload []byte) {
	r, err := wire.DecodeConnectResponse(payload)
	if err != nil {
		cl.c.fail(FailProtocol, "%s: ConnectResponse from %s does not decode: %v", cl.name, cc.server, err)
		return
	}
	if r.SessionID == 0 || r.TimeoutMs <= 0 {
		// The session is gone (zk-protocol.md §2.4): Expired for the application, and a
		// new session on the next connection.
		cl.expired()
		cl.lose(cc, "session expired")
		return
	}
	cl.host.Note(fmt.Sprintf("connected to %s: session %#x timeout %dms", cc.server, r.SessionID, r.TimeoutMs))
	if cc.newSess {
		cl.session, cl.passwd, cl.lastZxid, cl.lastReplyXid = r.SessionID, r.Passwd, 0, 0
		cl.c.rec.h.Sessions = append(cl.c.rec.h.Sessions, checker.SessionEvent{Client: cl.idx, Session: r.SessionID,
			Kind: checker.SessionEstablished, Time: int64(cl.now())})
		cl.c.stats.Sessions++
	} else if r.SessionID != cl.session {
		cl.c.fail(FailProtocol, "%s: resumed session %#x on %s, got session %#x", cl.name, cl.session, cc.server, r.SessionID)
		return
	}
	cl.timeoutMs = r.TimeoutMs
	cc.open = true
	cl.connected++
	cl.pingLoop(cc)
	if !cl.watches.empty() {
		cl.setWatches(cc)
	}
	queued := cl.queued
	cl.queued = nil
	for _, k := range queued {
		cl.transmit(cc, k)
	}
	cl.work.connected()
}

// pingLoop pings every third of the session timeout when nothing else was sent, and drops
// the connection when nothing was heard for two thirds of it (the Java client's timers).
func (cl *client) pingLoop(cc *clientConn) {
	step := time.Duration(cl.timeoutMs) * time.Millisecond / 6
	var loop func()
	loop = func() {
		if cl.conn != cc {
			return
		}
		now := cl.now()
		if now-cc.heardAt >= cl.readTimeout() {
			cl.lose(cc, "read timeout")
			return
		}
		if now-cc.sentAt >= time.Duration(cl.timeoutMs)*time.Millisecond/3 {
			cl.transmit(cc, &call{req: checker.Request{Type: wire.OpPing}, op: -1})
		}
		cl.after(step, loop)
	}
	cl.after(step, loop)
}

// setWatches re-arms every registered watch on the new connection, relative to the last
// zxid seen (zk-protocol.md §8.6): setWatches2 when there are persistent watches, as the
// Java client does. It goes first, before any queued request.
func (cl *client) setWatches(cc *clientConn) {
	t := cl.watches
	if len(t.persistent)+len(t.recursive) == 0 {
		body := &wire.SetWatches{RelativeZxid: cl.lastZxid,
			DataWatches: sortedSet(t.data), ExistWatches: sortedSet(t.exist), ChildWatches: sortedSet(t.child)}
		cl.transmitBody(cc, &call{req: checker.Request{Type: wire.OpSetWatches}, done: func(result) {}}, wire.OpSetWatches, body)
		return
	}
	body := &wire.SetWatches2{RelativeZxid: cl.lastZxid,
		DataWatches: sortedSet(t.data), ExistWatches: sortedSet(t.exist), ChildWatches: sortedSet(t.child),
		PersistentWatches: sortedSet(t.persistent), PersistentRecursiveWatches: sortedSet(t.recursive)}
	cl.transmitBody(cc, &call{req: checker.Request{Type: wire.OpSetWatches2}, done: func(result) {}}, wire.OpSetWatches2, body)
}

// do makes a request: sent now if connected, else when the next handshake completes.
func (cl *client) do(req checker.Request, done func(result)) {
	k := &call{req: req, done: done}
	if cl.conn != nil && cl.conn.open {
		cl.transmit(cl.conn, k)
		return
	}
	if len(cl.queued) >= clientRequestsMax {
		panic(fmt.Sprintf("zk: %s queued %d requests while disconnected", cl.name, len(cl.queued)))
	}
	cl.queued = append(cl.queued, k)
}

func (cl *client) transmit(cc *clientConn, k *call) {
	op, body := k.encode()
	cl.transmitBody(cc, k, op, body)
}

// transmitBody numbers the request, records its call and sends it.
func (cl *client) transmitBody(cc *clientConn, k *call, op wire.OpCode, body wire.Record) {
	if len(cc.pending) >= clientRequestsMax {
		panic(fmt.Sprintf("zk: %s has %d requests outstanding", cl.name, len(cc.pending)))
	}
	switch op {
	case wire.OpPing:
		k.xid = wire.XidPing
	case wire.OpAuth:
		// Auth travels with the Java client's reserved xid, outside the session's xid
		// order; ZooKeeperServer.processPacket answers it at once with zxid 0. The history
		// records it so (checker.Op: Type OpAuth, Xid XidAuth), and the checks leave such a
		// reply out of the session order.
		k.xid = wire.XidAuth
		k.op = cl.c.rec.call(checker.Op{Client: cl.idx, Session: cl.session, Xid: k.xid, Call: int64(cl.now()),
			Request: k.req, Unknown: true})
	default:
		cl.xid++
		k.xid = cl.xid
		k.op = cl.c.rec.call(checker.Op{Client: cl.idx, Session: cl.session, Xid: k.xid, Call: int64(cl.now()),
			Request: k.req, Unknown: true})
	}
	cc.pending = append(cc.pending, k)
	cl.send(cc, connFrame, wire.AppendRequest(nil, wire.RequestHeader{Xid: k.xid, Type: op}, body)[4:])
}

// frame handles one frame after the handshake: a notification or the reply to the oldest
// outstanding request (FIFO, zk-protocol.md §3.3: an xid out of order is a server bug).
func (cl *client) frame(cc *clientConn, payload []byte) {
	if len(payload) >= 4 && int32(binary.BigEndian.Uint32(payload)) == wire.XidNotification {
		r, err := wire.DecodeReply(payload, wire.OpNotification)
		if err != nil {
			cl.c.fail(FailProtocol, "%s: notification from %s does not decode: %v", cl.name, cc.server, err)
			return
		}
		cl.event(*r.Body.(*wire.WatcherEvent))
		return
	}
	if len(cc.pending) == 0 {
		cl.c.fail(FailProtocol, "%s: a reply from %s with no request outstanding: %x", cl.name, cc.server, payload)
		return
	}
	k := cc.pending[0]
	cc.pending = cc.pending[1:]
	// The xid comes first, before the body is decoded as the head request's reply (as the
	// Java client's SendThread does): another request's reply is out of order, not garbled.
	if len(payload) >= 4 {
		if xid := int32(binary.BigEndian.Uint32(payload)); xid != k.xid {
			cl.c.fail(FailProtocol, "%s: reply xid %d from %s, expected %d: replies out of request order", cl.name, xid, cc.server, k.xid)
			return
		}
	}
	op, _ := k.encode()
	r, err := wire.DecodeReply(payload, op)
	if err != nil {
		cl.c.fail(FailProtocol, "%s: reply to %v from %s does not decode: %v", cl.name, k.req, cc.server, err)
		return
	}
	if k.op < 0 {
		return // a ping
	}
	res := result{err: r.Header.Err, zxid: r.Header.Zxid}
	if k.req.Type == wire.OpAuth {
		// Recorded as replied, and nothing else: the Java client takes no lastZxid from a
		// zxid of 0 (ClientCnxn.readResponse), and the reply, answered outside the
		// request pipeline, places no watch event (lastReplyXid).
		o := cl.c.rec.op(k.op)
		o.Unknown, o.Return, o.Err, o.Zxid = false, int64(cl.now()), res.err, res.zxid
		k.done(res)
		return
	}
	if r.Header.Err == wire.ErrOK {
		res.reply = replyOf(r.Body)
	}
	cl.lastZxid = max(cl.lastZxid, r.Header.Zxid)
	cl.lastReplyXid = k.xid
	cl.lastReplyAt = cl.now()
	o := cl.c.rec.op(k.op)
	o.Unknown, o.Return, o.Err, o.Zxid, o.Reply = false, int64(cl.now()), res.err, res.zxid, res.reply
	cl.c.stats.Replies++
	cl.arm(k.req, res.err)
	if k.req.Type == wire.OpCloseSession && res.err == wire.ErrOK {
		cl.c.rec.h.Sessions = append(cl.c.rec.h.Sessions, checker.SessionEvent{Client: cl.idx, Session: cl.session,
			Kind: checker.SessionClosed, Time: int64(cl.now())})
		cl.endSession()
		cl.lose(cc, "session closed") // the server closes it too; the next one opens a new session
	}
	k.done(res)
}

// arm registers the watch a successful read set, as the server did (zk-protocol.md §8.3).
func (cl *client) arm(req checker.Request, err wire.Err) {
	if req.Type == wire.OpAddWatch && err == wire.ErrOK {
		if req.WatchMode == wire.AddWatchPersistentRecursive {
			cl.watches.recursive[req.Path] = true
		} else {
			cl.watches.persistent[req.Path] = true
		}
		return
	}
	if req.Type == wire.OpRemoveWatches && err == wire.ErrOK {
		// The server dropped the session's watches of that type on the path. The client's
		// table drops the standard ones of the type, and the persistent ones only for Any:
		// ZooKeeper 3.8.0's ZKWatchManager.removeWatcher keeps a persistent watch whose
		// data or child half was removed, so setWatches2 re-arms it whole after a
		// reconnect (it names persistent watches by path only), as the checker models.
		if req.WatchType == wire.WatcherData || req.WatchType == wire.WatcherAny {
			delete(cl.watches.data, req.Path)
			delete(cl.watches.exist, req.Path)
		}
		if req.WatchType == wire.WatcherChildren || req.WatchType == wire.WatcherAny {
			delete(cl.watches.child, req.Path)
		}
		if req.WatchType == wire.WatcherAny && cl.c.opts.bug != bugKeepPersistentOnRemoveAny {
			delete(cl.watches.persistent, req.Path)
			delete(cl.watches.recursive, req.Path)
		}
		return
	}
	if !req.Watch {
		return
	}
	switch {
	case req.Type == wire.OpExists && err == wire.ErrOK, req.Type == wire.OpGetData && err == wire.ErrOK:
		cl.watches.data[req.Path] = true
	case req.Type == wire.OpExists && err == wire.ErrNoNode:
		cl.watches.exist[req.Path] = true
	case (req.Type == wire.OpGetChildren || req.Type == wire.OpGetChildren2) && err == wire.ErrOK:
		cl.watches.child[req.Path] = true
	}
}

// event records a watch notification and consumes the watches it fired.
func (cl *client) event(ev wire.WatcherEvent) {
	cl.c.rec.h.Events = append(cl.c.rec.h.Events, checker.WatchEvent{Client: cl.idx, Session: cl.session,
		Type: ev.Type, Path: ev.Path, LastZxid: cl.lastZxid, AfterXid: cl.lastReplyXid, Time: int64(cl.now())})
	cl.c.stats.WatchEvents++
	if ev.Path == HotPath {
		cl.c.stats.HotEvents++
	}
	switch ev.Type {
	case wire.EventNodeCreated, wire.EventNodeDataChanged:
		delete(cl.watches.data, ev.Path)
		delete(cl.watches.exist, ev.Path)
	case wire.EventNodeChildrenChanged:
		delete(cl.watches.child, ev.Path)
	case wire.EventNodeDeleted:
		delete(cl.watches.data, ev.Path)
		delete(cl.watches.exist, ev.Path)
		delete(cl.watches.child, ev.Path)
	}
	cl.work.event(ev)
}

// lose gives the connection up: the server is told (best effort, like a FIN that may be
// lost), every outstanding request fails with ConnectionLoss, and the client reconnects
// after a short random backoff.
func (cl *client) lose(cc *clientConn, reason string) {
	if cl.conn != cc {
		return
	}
	cl.conn = nil
	cl.send(cc, connClose, nil)
	cl.c.stats.ConnLosses++
	cl.host.Note(fmt.Sprintf("lost connection to %s: %s (%d requests outstanding)", cc.server, reason, len(cc.pending)))
	pending := cc.pending
	cc.pending = nil
	for _, k := range pending {
		if k.op < 0 {
			continue
		}
		o := cl.c.rec.op(k.op)
		// A client-made error: the outcome stays unknown to the checker.
		o.Unknown, o.Return, o.Err = false, int64(cl.now()), wire.ErrConnectionLoss
		if k.req.Type == wire.OpCloseSession {
			cl.endSession() // the close may or may not have happened: the session is abandoned
		}
	}
	for _, k := range pending {
		if k.done != nil {
			k.done(result{err: wire.ErrConnectionLoss})
		}
	}
	backoff := time.Duration(cl.rng.Int64N(cl.c.opts.TickMillis*int64(time.Millisecond) + 1))
	cl.after(backoff, cl.connect)
}

// expired handles an invalid ConnectResponse: the application sees Expired, the watches
// die with the session, and requests waiting for a connection fail with SessionExpired.
func (cl *client) expired() {
	if cl.session == 0 {
		return
	}
	cl.c.rec.h.Sessions = append(cl.c.rec.h.Sessions, checker.SessionEvent{Client: cl.idx, Session: cl.session,
		Kind: checker.SessionExpired, Time: int64(cl.now())})
	cl.c.stats.Expired++
	if r := cl.work.recipe; r != nil && r.held && !r.over {
		cl.c.stats.HoldersExpired++
	}
	cl.host.Note(fmt.Sprintf("session %#x expired", cl.session))
	cl.endSession()
}

// endSession forgets the session: the next connection asks for a new one.
func (cl *client) endSession() {
	cl.session, cl.passwd, cl.lastZxid, cl.lastReplyXid = 0, nil, 0, 0
	cl.watches = newWatchTable()
	queued := cl.queued
	cl.queued = nil
	for _, k := range queued {
		k.done(result{err: wire.ErrSessionExpired})
	}
	cl.work.sessionEnded()
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
