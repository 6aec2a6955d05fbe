package node

import (
	"encoding/binary"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// client is a minimal ZooKeeper client on one connection: it keeps the FIFO of outstanding
// requests to decode replies (as the Java client does, it fails on an out-of-order xid) and
// records every frame it receives in arrival order.
type client struct {
	w           *world
	conn        ConnID
	member      zab.PeerID
	closed      bool
	closeReason string

	connect  *wire.ConnectResponse
	xid      int32
	inflight []call
	received []frame
	lastZxid int64
}

type call struct {
	xid int32
	op  wire.OpCode
}

// frame is one received reply or notification.
type frame struct {
	op    wire.OpCode // the request's op; 0 for a notification
	reply wire.Reply
}

func (f frame) isEvent() bool { return f.reply.Header.Xid == wire.XidNotification }

// dial opens a connection to a member and sends the ConnectRequest.
func (w *world) dial(id zab.PeerID, sessionID int64, passwd []byte, lastZxid int64, timeoutMs int32) *client {
	w.nextConn++
	c := &client{w: w, conn: w.nextConn, member: id}
	w.clients[c.conn] = c
	m := w.member(id)
	w.input(m, ClientConnected{Conn: c.conn, Remote: "10.0.0.1"})
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	req := &wire.ConnectRequest{LastZxidSeen: lastZxid, TimeoutMs: timeoutMs, SessionID: sessionID,
		Passwd: passwd, HasReadOnly: true}
	if !c.closed {
		c.sendFrame(wire.AppendConnectRequest(nil, req))
	}
	return c
}

// session opens a new session on a member and waits for the handshake.
func (w *world) session(id zab.PeerID) *client {
	w.t.Helper()
	c := w.dial(id, 0, nil, 0, 1000)
	w.runUntil("connect response", 5_000, func() bool { return c.connect != nil || c.closed })
	require.NotNil(w.t, c.connect, "member %d must answer the handshake (closed: %q, seed %d)", id, c.closeReason, w.seed)
	require.NotZero(w.t, c.connect.SessionID, "new session must get an id (seed %d)", w.seed)
	return c
}

func (c *client) sendFrame(f []byte) {
	c.w.input(c.w.member(c.member), ClientFrame{Conn: c.conn, Payload: f[4:]})
}

// send sends a request and returns its xid without waiting.
func (c *client) send(op wire.OpCode, body wire.Record) int32 {
	c.xid++
	xid := c.xid
	if op == wire.OpPing {
		xid = wire.XidPing
	}
	c.inflight = append(c.inflight, call{xid: xid, op: op})
	c.sendFrame(wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: op}, body))
	return xid
}

// do sends a request and waits for its reply.
func (c *client) do(op wire.OpCode, body wire.Record) wire.Reply {
	c.w.t.Helper()
	xid := c.send(op, body)
	return c.wait(xid)
}

func (c *client) wait(xid int32) wire.Reply {
	c.w.t.Helper()
	var got *wire.Reply
	c.w.runUntil("reply", 10_000, func() bool {
		got = c.find(xid)
		return got != nil || c.closed
	})
	require.NotNil(c.w.t, got, "no reply to xid %d (connection closed: %q, seed %d)", xid, c.closeReason, c.w.seed)
	return *got
}

func (c *client) find(xid int32) *wire.Reply {
	for i := len(c.received) - 1; i >= 0; i-- {
		if f := c.received[i]; !f.isEvent() && f.reply.Header.Xid == xid {
			return &f.reply
		}
	}
	return nil
}

func (c *client) events() []wire.WatcherEvent {
	var evs []wire.WatcherEvent
	for _, f := range c.received {
		if f.isEvent() {
			evs = append(evs, *f.reply.Body.(*wire.WatcherEvent))
		}
	}
	return evs
}

func (c *client) receive(b []byte) {
	t := c.w.t
	require.GreaterOrEqual(t, len(b), 4, "frame without length prefix")
	require.Equal(t, int(binary.BigEndian.Uint32(b)), len(b)-4, "frame length prefix")
	payload := b[4:]
	if c.connect == nil {
		r, err := wire.DecodeConnectResponse(payload)
		require.NoError(t, err, "first frame must be a ConnectResponse (seed %d)", c.w.seed)
		c.connect = &r
		return
	}
	if int32(binary.BigEndian.Uint32(payload)) == wire.XidNotification {
		r, err := wire.DecodeReply(payload, 0)
		require.NoError(t, err)
		c.received = append(c.received, frame{reply: r})
		return
	}
	require.NotEmpty(t, c.inflight, "reply %x with no request outstanding (seed %d)", payload, c.w.seed)
	head := c.inflight[0]
	c.inflight = c.inflight[1:]
	r, err := wire.DecodeReply(payload, head.op)
	require.NoError(t, err, "reply to op %d must decode (seed %d)", head.op, c.w.seed)
	require.Equal(t, head.xid, r.Header.Xid, "xid out of order: replies must follow request order (seed %d)", c.w.seed)
	if r.Header.Zxid > 0 {
		require.GreaterOrEqual(t, r.Header.Zxid, c.lastZxid, "reply zxid went backwards (seed %d)", c.w.seed)
		c.lastZxid = r.Header.Zxid
	}
	c.received = append(c.received, frame{op: head.op, reply: r})
}

// Request helpers.

func createReq(path string, data string, mode wire.CreateMode) *wire.CreateRequest {
	return &wire.CreateRequest{Path: path, Data: []byte(data), ACL: []wire.ACL{{Perms: wire.PermAll,
		ID: wire.Id{Scheme: "world", ID: "anyone"}}}, Flags: mode}
}
