package node

import (
	"bytes"
	"errors"
	"slices"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

type connState uint8

const (
	connAwaitConnect connState = iota + 1 // no ConnectRequest yet
	connHandshake                         // createSession or revalidate at the leader
	connOpen                              // ConnectResponse sent
)

// conn is one client connection on this member.
type conn struct {
	id       ConnID
	state    connState
	openedAt zab.Time
	auth     []wire.Id // "ip" and what auth packets added, in tree.SortAuthIDs order

	hasReadOnly bool // mirror the request's form in the ConnectResponse (§2.2)
	session     int64
	timeoutMs   int32
	seq         uint64 // last sequence number used on the stream

	early [][]byte // frames received during the handshake, processed after it
	queue []*item  // requests in arrival order; replies leave from the head only
	// answeredAt is when the leader last answered one of its forwarded requests: a deep
	// pipeline waiting behind a busy leader is making progress, not lost.
	answeredAt zab.Time
}

type itemKind uint8

const (
	itemLocal     itemKind = iota + 1 // executed when it reaches the head (reads, pings, ...)
	itemForwarded                     // answered when its txn applies
	itemRefused                       // a request wire refused: error reply and/or close
)

// item is one request waiting for its turn in the connection's FIFO (zk-protocol.md §3.3).
type item struct {
	kind   itemKind
	req    wire.Request
	refuse *wire.RequestError
	seq    uint64
	sentAt zab.Time
	// reply is the encoded answer of a forwarded request, set when its txn applied.
	done       bool
	reply      []byte
	closeAfter string
}

func (n *Node) stream(c *conn) Stream {
	return Stream{Server: n.cfg.ID, Incarnation: n.incarnation, Conn: c.id}
}

func (n *Node) sessionConn(session int64) *conn {
	if id, ok := n.sessions[session]; ok {
		return n.conns[id]
	}
	return nil
}

func (n *Node) clientConnected(id ConnID, remote string) {
	if _, dup := n.conns[id]; dup {
		n.assertf(false, "connection %d reported twice", id)
	}
	switch {
	case !n.serve.serving:
		// ZooKeeper refuses clients while it is not running ("ZooKeeperServer not running").
		n.emit(CloseClient{Conn: id, Reason: "server not serving"})
		return
	case len(n.conns) >= n.cfg.ConnectionsMax:
		n.emit(CloseClient{Conn: id, Reason: "too many connections"})
		return
	}
	n.conns[id] = &conn{id: id, state: connAwaitConnect, openedAt: n.now,
		auth: []wire.Id{{Scheme: "ip", ID: remote}}}
	if n.nextTickAt <= n.now {
		n.nextTickAt = n.now + zab.Time(n.cfg.TickMillis)
	}
}

func (n *Node) clientFrame(id ConnID, payload []byte) {
	c := n.conns[id]
	if c == nil {
		return // closed by us; the host may still hold frames read before the close
	}
	if len(payload) > n.cfg.FrameBytesMax {
		n.closeConn(c, "frame too large") // NIOServerCnxn: "Len error", no reply
		return
	}
	if c.session != 0 && c.state == connOpen {
		n.touchLocal(c)
	}
	switch c.state {
	case connAwaitConnect:
		n.connect(c, payload)
	case connHandshake:
		if len(c.early) >= n.cfg.RequestsPerConnectionMax {
			n.closeConn(c, "too many requests during the handshake")
			return
		}
		c.early = append(c.early, bytes.Clone(payload))
	case connOpen:
		n.request(c, payload)
	}
}

// connect runs the handshake (ZooKeeperServer.processConnectRequest, zk-protocol.md §2.3).
func (n *Node) connect(c *conn, payload []byte) {
	req, err := wire.DecodeConnectRequest(payload)
	if err != nil {
		n.closeConn(c, "malformed ConnectRequest")
		return
	}
	if zab.Zxid(req.LastZxidSeen) > n.lastApplied {
		// The client saw a newer state elsewhere: it must try another server, or it would go
		// back in time (single system image).
		n.closeConn(c, "client has seen a zxid this server has not applied")
		return
	}
	c.hasReadOnly = req.HasReadOnly
	c.timeoutMs = n.negotiateTimeout(req.TimeoutMs)
	c.state = connHandshake
	c.seq = 1
	if req.SessionID == 0 {
		c.session = n.nextSessionID()
		n.forward(c, Forward{Kind: ForwardCreateSession, Seq: 1, Session: c.session, TimeoutMs: c.timeoutMs})
		return
	}
	// The session's previous connection on this member goes, with its watches (the client
	// re-arms them with setWatches) — before the password is checked, as in Apache ZooKeeper
	// 3.8.0's processConnectRequest, so a resume with a wrong password closes the live
	// connection too (conformance TestTranscripts).
	if old := n.sessionConn(req.SessionID); old != nil {
		n.closeConn(old, "session resumed on another connection")
	}
	if !bytes.Equal(req.Passwd, sessionPassword(req.SessionID)) {
		n.refuseSession(c)
		return
	}
	c.session = req.SessionID
	n.forward(c, Forward{Kind: ForwardRevalidate, Seq: 1, Session: c.session, TimeoutMs: c.timeoutMs})
}

func (n *Node) negotiateTimeout(askedMs int32) int32 {
	lo := n.cfg.MinSessionTimeoutTicks * n.cfg.TickMillis
	hi := n.cfg.MaxSessionTimeoutTicks * n.cfg.TickMillis
	return int32(min(max(int64(askedMs), lo), hi))
}

// refuseSession sends the ConnectResponse every client reads as "session expired"
// (timeout 0, session 0, 16 zero bytes: zk-protocol.md §2.4) and closes.
func (n *Node) refuseSession(c *conn) {
	n.emit(ClientSend{Conn: c.id, Frame: wire.AppendConnectResponse(nil, &wire.ConnectResponse{
		Passwd: make([]byte, 16), HasReadOnly: c.hasReadOnly})})
	c.session = 0
	n.closeConn(c, "session expired or invalid")
}

// established completes the handshake: the session is alive and this stream owns it.
func (n *Node) established(c *conn) {
	c.state = connOpen
	if old := n.sessionConn(c.session); old != nil && old != c {
		n.closeConn(old, "session resumed on another connection")
	}
	n.sessions[c.session] = c.id
	n.emit(ClientSend{Conn: c.id, Frame: wire.AppendConnectResponse(nil, &wire.ConnectResponse{
		TimeoutMs: c.timeoutMs, SessionID: c.session, Passwd: sessionPassword(c.session),
		HasReadOnly: c.hasReadOnly})})
	n.touchLocal(c)
	// Frames pipelined behind the ConnectRequest are processed by settle, outside any zab
	// step, since they may lead to a proposal.
}

// isWrite says whether op goes through the leader: writes, closeSession, sync, and check
// (13) outside multi, which ZooKeeper's learners forward and its leader prepares like a
// write.
func isWrite(op wire.OpCode) bool {
	switch op {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL, wire.OpDelete,
		wire.OpSetData, wire.OpSetACL, wire.OpMulti, wire.OpCloseSession, wire.OpSync, wire.OpCheck:
		return true
	}
	return false
}

// request queues one request frame of an open connection. Writes leave for the leader at
// once (pipelined, in order on the stream); everything is answered from the queue's head.
func (n *Node) request(c *conn, payload []byte) {
	if len(c.queue) >= n.cfg.RequestsPerConnectionMax {
		n.closeConn(c, "too many pending requests")
		return
	}
	// Decoded records may alias the payload, and a request may wait in the queue while the
	// host reuses its read buffer.
	payload = bytes.Clone(payload)
	req, err := wire.DecodeRequest(payload)
	var it *item
	switch {
	case err != nil:
		var re *wire.RequestError
		if !errors.As(err, &re) {
			re = &wire.RequestError{Close: true, Cause: err}
		}
		it = &item{kind: itemRefused, refuse: re}
	case n.cfg.Bugs.SyncWithoutQuorum && n.serve.leading && req.Header.Type == wire.OpSync:
		it = &item{kind: itemLocal, req: req} // ZOOKEEPER-1675: the rule is a quorum round (a sync txn)
	case isWrite(req.Header.Type):
		c.seq++
		it = &item{kind: itemForwarded, req: req, seq: c.seq, sentAt: n.now}
	default:
		it = &item{kind: itemLocal, req: req}
	}
	c.queue = append(c.queue, it)
	if it.kind == itemForwarded {
		n.forward(c, Forward{Kind: ForwardRequest, Seq: it.seq, Session: c.session,
			Auth: slices.Clone(c.auth), Payload: payload})
	}
	if n.conns[c.id] == c {
		n.drain(c)
	}
}

// forward sends a request to the leader on the connection's stream; the leader answers
// with a txn (seen when it applies), a Revalidated or a Refused.
func (n *Node) forward(c *conn, f Forward) {
	if n.serve.leading {
		if ans, ok := n.lead(n.serve.epoch, n.stream(c), f); ok {
			n.answered(ans)
		}
		return
	}
	n.emit(SendPeer{Message: Message{Kind: KindForward, From: n.cfg.ID, To: n.serve.leader,
		Epoch: n.serve.epoch, Stream: n.stream(c), Forward: f}})
}

// answered handles the leader's direct answer to a forward of one of our streams.
func (n *Node) answered(m Message) {
	if m.Stream.Server != n.cfg.ID || m.Stream.Incarnation != n.incarnation {
		return
	}
	c := n.conns[m.Stream.Conn]
	if c == nil {
		return
	}
	switch m.Kind {
	case KindRefused:
		n.closeConn(c, "leader refused request: "+m.Reason)
	case KindRevalidated:
		if c.state != connHandshake || m.Seq != 1 {
			return
		}
		if m.Valid {
			n.established(c)
		} else {
			n.refuseSession(c)
		}
	}
}

// answer prepares the reply to a request of c whose txn just applied. Txns of one stream
// apply in stream order (the leader takes them in order), so it is c's oldest unanswered
// forwarded request.
func (n *Node) answer(c *conn, a appliedTxn) {
	if c.state == connHandshake {
		n.assertf(a.txn.Origin.Seq == 1 && !a.txn.Sync, "handshake of connection %d answered by txn %v of seq %d",
			c.id, a.zxid, a.txn.Origin.Seq)
		if a.result.Err != wire.ErrOK || a.txn.Tree.Type != wire.OpCreateSession {
			n.refuseSession(c)
			return
		}
		n.established(c)
		return
	}
	var it *item
	for _, q := range c.queue {
		if q.kind == itemForwarded && !q.done {
			it = q
			break
		}
	}
	n.assertf(it != nil && it.seq == a.txn.Origin.Seq, "txn %v answers seq %d of connection %d out of order",
		a.zxid, a.txn.Origin.Seq, c.id)
	it.done = true
	c.answeredAt = n.now
	h := wire.ReplyHeader{Xid: it.req.Header.Xid, Zxid: int64(a.zxid), Err: a.result.Err}
	op := it.req.Header.Type
	switch {
	case a.txn.Sync:
		it.reply = wire.AppendReply(nil, op, h, &wire.SyncResponse{Path: it.req.Body.(*wire.SyncRequest).Path})
	case h.Err != wire.ErrOK:
		it.reply = wire.AppendReply(nil, op, h, nil)
		if h.Err == wire.ErrSessionExpired {
			it.closeAfter = "session expired"
		}
	case op == wire.OpCheck:
		// A check outside multi that passes gets no reply at all from Apache ZooKeeper 3.8.0
		// (its FinalRequestProcessor has no case for it); the connection stays open.
		it.reply = nil
	default:
		it.reply = wire.AppendReply(nil, op, h, a.result.Body)
	}
	if a.txn.Tree.Type == wire.OpCloseSession {
		it.closeAfter = "session closed by the client"
	}
}

// settle runs at the end of every Handle: frames that waited for a handshake are processed,
// then every connection answers from its queue's head. Draining only after every delivery
// of the step means a reply never goes out before the watch events of txns applied in the
// same step (a read answered now sees all of them).
func (n *Node) settle() {
	for _, id := range sortedKeys(n.conns) {
		c := n.conns[id]
		for c != nil && c.state == connOpen && len(c.early) > 0 && n.conns[id] == c {
			f := c.early[0]
			c.early = c.early[1:]
			n.request(c, f)
		}
	}
	for _, id := range sortedKeys(n.conns) {
		if c := n.conns[id]; c != nil {
			n.drain(c)
		}
	}
}

// drain answers the connection's requests from the head while they can be answered.
func (n *Node) drain(c *conn) {
	for len(c.queue) > 0 && n.conns[c.id] == c && c.state == connOpen {
		it := c.queue[0]
		switch it.kind {
		case itemForwarded:
			if !it.done {
				return
			}
			if it.reply != nil {
				n.emit(ClientSend{Conn: c.id, Frame: it.reply})
			}
			if it.closeAfter != "" {
				n.closeConn(c, it.closeAfter)
				return
			}
		case itemRefused:
			if it.refuse.Reply != wire.ErrOK {
				h := wire.ReplyHeader{Xid: it.refuse.Header.Xid, Zxid: int64(n.lastApplied), Err: it.refuse.Reply}
				if it.refuse.Reply == wire.ErrUnimplemented {
					h.Zxid = -1 // UnimplementedRequestProcessor's reply header
				}
				n.emit(ClientSend{Conn: c.id, Frame: wire.AppendReply(nil, it.refuse.Header.Type, h, nil)})
			}
			if it.refuse.Close {
				n.closeConn(c, "undecodable request")
				return
			}
		case itemLocal:
			if !n.execute(c, it.req) {
				return
			}
		}
		c.queue[0] = nil
		c.queue = c.queue[1:]
	}
}

// closeConn closes a connection: the host closes the socket after the frames sent before.
func (n *Node) closeConn(c *conn, reason string) {
	n.emit(CloseClient{Conn: c.id, Reason: reason})
	n.dropConn(c)
}

// dropConn forgets a connection; its session's watches die with it (they belong to the
// connection in ZooKeeper; the client re-arms them with setWatches).
func (n *Node) dropConn(c *conn) {
	delete(n.conns, c.id)
	if c.session != 0 && n.sessions[c.session] == c.id {
		delete(n.sessions, c.session)
		n.watches.RemoveSession(c.session)
	}
}

// expireConns closes connections stuck in the handshake, or whose oldest forwarded request
// got no answer in time while no other one was answered either (lost with the network or
// the leader: the outcome is unknown, as for any ZooKeeper client whose connection drops).
// A pipeline deeper than the leader clears in ForwardTimeoutTicks keeps its connection as
// long as answers keep coming.
func (n *Node) expireConns() {
	connectLimit := n.now - zab.Time(n.cfg.ConnectTimeoutTicks*n.cfg.TickMillis)
	forwardLimit := n.now - zab.Time(n.cfg.ForwardTimeoutTicks*n.cfg.TickMillis)
	for _, id := range sortedKeys(n.conns) {
		c := n.conns[id]
		if c.state != connOpen {
			if c.openedAt <= connectLimit {
				n.closeConn(c, "handshake timed out")
			}
			continue
		}
		for _, it := range c.queue {
			if it.kind == itemForwarded && !it.done {
				if max(it.sentAt, c.answeredAt) <= forwardLimit {
					n.closeConn(c, "forwarded request timed out")
				}
				break
			}
		}
	}
}
