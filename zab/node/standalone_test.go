package node

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// Transcript tests against one standalone member (a one-voter ensemble).

func standalone(t *testing.T) *world {
	w := newWorld(t, 1, worldOptions{members: 1})
	w.stable()
	return w
}

func TestHandshakeNegotiatesTimeoutAndPassword(t *testing.T) {
	w := standalone(t)
	for _, tc := range []struct {
		askMs, wantMs int32
	}{{1000, 1000}, {50, 200}, {60_000, 2000}} {
		c := w.dial(1, 0, nil, 0, tc.askMs)
		w.runUntil("connect", 5000, func() bool { return c.connect != nil })
		r := c.connect
		require.Equal(t, tc.wantMs, r.TimeoutMs, "timeout %d ms clamps to [2, 20] ticks of 100 ms", tc.askMs)
		require.Equal(t, uint64(1), uint64(r.SessionID)>>56, "session id carries the server id in its top byte")
		require.Equal(t, sessionPassword(r.SessionID), r.Passwd, "password derived from the id")
		require.True(t, r.HasReadOnly, "the response mirrors the request's readOnly byte")
	}
}

func TestSessionPasswordMatchesZooKeeper(t *testing.T) {
	// zk-protocol.md §2.5, checked against the JDK's java.util.Random.
	got := sessionPassword(0x1000000abcd0000)
	require.Equal(t, "29c1a79902465990af66c1981b3b90cd", fmtHex(got))
}

func fmtHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

func TestCreateGetSetDeleteTranscript(t *testing.T) {
	w := standalone(t)
	c := w.session(1)

	r := c.do(wire.OpCreate, createReq("/a", "one", wire.ModePersistent))
	require.Equal(t, wire.ErrOK, r.Header.Err)
	require.Equal(t, "/a", r.Body.(*wire.CreateResponse).Path)
	createZxid := r.Header.Zxid
	require.Equal(t, int64(w.member(1).n.LastApplied()), createZxid, "a write's reply carries its txn's zxid")

	r = c.do(wire.OpGetData, &wire.GetDataRequest{Path: "/a"})
	require.Equal(t, wire.ErrOK, r.Header.Err)
	got := r.Body.(*wire.GetDataResponse)
	require.Equal(t, "one", string(got.Data))
	require.Equal(t, createZxid, got.Stat.Czxid)

	r = c.do(wire.OpSetData, &wire.SetDataRequest{Path: "/a", Data: []byte("two"), Version: 0})
	require.Equal(t, wire.ErrOK, r.Header.Err)
	require.Equal(t, int32(1), r.Body.(*wire.SetDataResponse).Stat.Version)

	r = c.do(wire.OpSetData, &wire.SetDataRequest{Path: "/a", Data: []byte("x"), Version: 0})
	require.Equal(t, wire.ErrBadVersion, r.Header.Err, "stale version")
	require.Nil(t, r.Body, "an error reply has no body")

	r = c.do(wire.OpCreate, createReq("/a", "", wire.ModePersistent))
	require.Equal(t, wire.ErrNodeExists, r.Header.Err)

	r = c.do(wire.OpDelete, &wire.DeleteRequest{Path: "/a", Version: -1})
	require.Equal(t, wire.ErrOK, r.Header.Err)
	r = c.do(wire.OpExists, &wire.ExistsRequest{Path: "/a"})
	require.Equal(t, wire.ErrNoNode, r.Header.Err)
	require.Equal(t, int64(w.member(1).n.LastApplied()), r.Header.Zxid, "a read's reply carries the last applied zxid")
	require.False(t, c.closed, "no request closed the connection: %s", c.closeReason)
}

func TestPipelinedRequestsAnswerInOrderAndReadsSeeEarlierWrites(t *testing.T) {
	w := standalone(t)
	c := w.session(1)
	x1 := c.send(wire.OpCreate, createReq("/p", "v0", wire.ModePersistent))
	x2 := c.send(wire.OpGetData, &wire.GetDataRequest{Path: "/p"})
	x3 := c.send(wire.OpSetData, &wire.SetDataRequest{Path: "/p", Data: []byte("v1"), Version: -1})
	x4 := c.send(wire.OpGetData, &wire.GetDataRequest{Path: "/p"})
	x5 := c.send(wire.OpPing, nil)
	r5 := c.wait(x5) // the client's FIFO check already failed if any reply came out of order
	require.Equal(t, wire.ErrOK, c.find(x1).Header.Err)
	require.Equal(t, "v0", string(c.find(x2).Body.(*wire.GetDataResponse).Data), "a read waits behind its session's write")
	require.Equal(t, wire.ErrOK, c.find(x3).Header.Err)
	require.Equal(t, "v1", string(c.find(x4).Body.(*wire.GetDataResponse).Data))
	require.Equal(t, c.find(x4).Header.Zxid, r5.Header.Zxid, "ping reply carries the last applied zxid")
}

func TestWatchFiresBeforeTheReplyThatReflectsTheChange(t *testing.T) {
	w := standalone(t)
	watcher := w.session(1)
	writer := w.session(1)
	require.Equal(t, wire.ErrNoNode, watcher.do(wire.OpExists, &wire.ExistsRequest{Path: "/w", Watch: true}).Header.Err)
	require.Equal(t, wire.ErrOK, writer.do(wire.OpCreate, createReq("/w", "a", wire.ModePersistent)).Header.Err)
	r := watcher.do(wire.OpGetData, &wire.GetDataRequest{Path: "/w", Watch: true})
	require.Equal(t, "a", string(r.Body.(*wire.GetDataResponse).Data))
	events := watcher.events()
	require.Equal(t, []wire.WatcherEvent{{Type: wire.EventNodeCreated, State: wire.StateSyncConnected, Path: "/w"}}, events)
	requireEventBeforeReply(t, watcher, "/w", wire.EventNodeCreated, wire.OpGetData)

	// The writer holds a data watch that its own write fires: the event precedes the reply.
	require.Equal(t, wire.ErrOK, writer.do(wire.OpGetData, &wire.GetDataRequest{Path: "/w", Watch: true}).Header.Err)
	require.Equal(t, wire.ErrOK, writer.do(wire.OpSetData, &wire.SetDataRequest{Path: "/w", Data: []byte("b"), Version: -1}).Header.Err)
	requireEventBeforeReply(t, writer, "/w", wire.EventNodeDataChanged, wire.OpSetData)
	w.runFor(100)
	require.Len(t, watcher.events(), 2, "the watcher's getData watch fired once")

	// One-shot: a second change fires nothing for the writer.
	require.Equal(t, wire.ErrOK, writer.do(wire.OpSetData, &wire.SetDataRequest{Path: "/w", Data: []byte("c"), Version: -1}).Header.Err)
	require.Len(t, writer.events(), 1, "standard watches are one-shot")
}

// requireEventBeforeReply checks that the event arrived before the latest reply to op (the
// one that reflects the change).
func requireEventBeforeReply(t *testing.T, c *client, path string, typ wire.EventType, op wire.OpCode) {
	t.Helper()
	event, reply := -1, -1
	for i, f := range c.received {
		if f.isEvent() {
			if ev := f.reply.Body.(*wire.WatcherEvent); ev.Path == path && ev.Type == typ && event < 0 {
				event = i
			}
		} else if f.op == op {
			reply = i
		}
	}
	require.GreaterOrEqual(t, event, 0, "no %v event on %s; frames: %+v", typ, path, c.received)
	require.Less(t, event, reply, "the %v event on %s must precede the op %d reply reflecting it", typ, path, op)
}

func TestMultiAndSync(t *testing.T) {
	w := standalone(t)
	c := w.session(1)
	ok := c.do(wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
		{Type: wire.OpCreate, Body: createReq("/m", "", wire.ModePersistent)},
		{Type: wire.OpCreate, Body: createReq("/m/c", "x", wire.ModePersistent)},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/m", Data: []byte("y"), Version: 0}},
	}})
	require.Equal(t, wire.ErrOK, ok.Header.Err)
	require.Len(t, ok.Body.(*wire.MultiResponse).Results, 3)

	failed := c.do(wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
		{Type: wire.OpCreate, Body: createReq("/m2", "", wire.ModePersistent)},
		{Type: wire.OpDelete, Body: &wire.DeleteRequest{Path: "/nope", Version: -1}},
	}})
	require.Equal(t, wire.ErrOK, failed.Header.Err, "a failed multi replies err 0 with per-op results")
	res := failed.Body.(*wire.MultiResponse).Results
	require.Equal(t, wire.ErrOK, res[0].Err)
	require.Equal(t, wire.ErrNoNode, res[1].Err)
	require.Equal(t, wire.ErrNoNode, c.do(wire.OpExists, &wire.ExistsRequest{Path: "/m2"}).Header.Err, "multi is atomic")

	s := c.do(wire.OpSync, &wire.SyncRequest{Path: "/m"})
	require.Equal(t, wire.ErrOK, s.Header.Err)
	require.Equal(t, "/m", s.Body.(*wire.SyncResponse).Path, "sync echoes the path")
	require.Greater(t, s.Header.Zxid, failed.Header.Zxid, "sync is a round trip through the leader's pipeline")
}

func TestCloseSessionRepliesThenClosesAndDeletesEphemerals(t *testing.T) {
	w := standalone(t)
	owner := w.session(1)
	watcher := w.session(1)
	require.Equal(t, wire.ErrOK, owner.do(wire.OpCreate, createReq("/e", "", wire.ModeEphemeral)).Header.Err)
	require.Equal(t, wire.ErrOK, watcher.do(wire.OpExists, &wire.ExistsRequest{Path: "/e", Watch: true}).Header.Err)
	r := owner.do(wire.OpCloseSession, nil)
	require.Equal(t, wire.ErrOK, r.Header.Err)
	w.runFor(10)
	require.True(t, owner.closed, "closeSession closes the connection after the reply")
	require.Equal(t, wire.ErrNoNode, watcher.do(wire.OpExists, &wire.ExistsRequest{Path: "/e"}).Header.Err)
	require.Equal(t, []wire.WatcherEvent{{Type: wire.EventNodeDeleted, State: wire.StateSyncConnected, Path: "/e"}}, watcher.events())

	// Resuming the closed session gets the "expired" ConnectResponse.
	again := w.dial(1, owner.connect.SessionID, owner.connect.Passwd, owner.lastZxid, 1000)
	w.runUntil("refusal", 5000, func() bool { return again.connect != nil })
	require.Zero(t, again.connect.TimeoutMs)
	require.Zero(t, again.connect.SessionID)
	require.Equal(t, make([]byte, 16), again.connect.Passwd)
	require.True(t, again.closed)
}

func TestSessionExpiresWithoutPingsAndSurvivesWithThem(t *testing.T) {
	w := standalone(t)
	idle := w.session(1)   // 1000 ms timeout, never pings
	active := w.session(1) // pings every 300 ms
	require.Equal(t, wire.ErrOK, idle.do(wire.OpCreate, createReq("/idle", "", wire.ModeEphemeral)).Header.Err)
	require.Equal(t, wire.ErrOK, active.do(wire.OpCreate, createReq("/active", "", wire.ModeEphemeral)).Header.Err)
	for range 10 {
		active.do(wire.OpPing, nil)
		w.runFor(300)
	}
	require.True(t, idle.closed, "the idle session expired and its connection was closed")
	require.False(t, active.closed, "a pinging session lives: %s", active.closeReason)
	require.Equal(t, wire.ErrNoNode, active.do(wire.OpExists, &wire.ExistsRequest{Path: "/idle"}).Header.Err, "expiry deleted the ephemeral")
	require.Equal(t, wire.ErrOK, active.do(wire.OpExists, &wire.ExistsRequest{Path: "/active"}).Header.Err)

	again := w.dial(1, idle.connect.SessionID, idle.connect.Passwd, 0, 1000)
	w.runUntil("refusal", 5000, func() bool { return again.connect != nil })
	require.Zero(t, again.connect.SessionID, "an expired session cannot be resumed")
}

func TestHandshakeRefusals(t *testing.T) {
	w := standalone(t)
	c := w.session(1)
	c.do(wire.OpCreate, createReq("/z", "", wire.ModePersistent))

	wrong := w.dial(1, c.connect.SessionID, make([]byte, 16), 0, 1000)
	w.runFor(10)
	require.NotNil(t, wrong.connect)
	require.Zero(t, wrong.connect.TimeoutMs, "wrong password: the invalid-session response")
	require.True(t, wrong.closed)
	require.True(t, c.closed, "a resume closes the session's live connection before the password is checked (Apache 3.8.0)")

	ahead := w.dial(1, 0, nil, int64(zab.MakeZxid(9, 9)), 1000)
	w.runFor(10)
	require.Nil(t, ahead.connect, "a client that saw a newer zxid gets no response")
	require.True(t, ahead.closed)

	big := w.dial(1, 0, nil, 0, 1000)
	w.runFor(10)
	w.input(w.member(1), ClientFrame{Conn: big.conn, Payload: make([]byte, wire.FrameBytesMaxDefault+1)})
	require.True(t, big.closed, "an oversized frame closes the connection")
	require.Equal(t, "frame too large", big.closeReason)
}

func TestSetWatchesOnReconnectReplaysMissedChanges(t *testing.T) {
	w := standalone(t)
	c := w.session(1)
	require.Equal(t, wire.ErrOK, c.do(wire.OpCreate, createReq("/s", "a", wire.ModePersistent)).Header.Err)
	seen := c.lastZxid
	other := w.session(1)
	require.Equal(t, wire.ErrOK, other.do(wire.OpSetData, &wire.SetDataRequest{Path: "/s", Data: []byte("b"), Version: -1}).Header.Err)

	// The client reconnects with its session and re-arms its data watch on /s.
	re := w.dial(1, c.connect.SessionID, c.connect.Passwd, seen, 1000)
	w.runUntil("resume", 5000, func() bool { return re.connect != nil })
	require.Equal(t, c.connect.SessionID, re.connect.SessionID)
	require.True(t, c.closed, "resuming closes the session's previous connection")
	r := re.do(wire.OpSetWatches, &wire.SetWatches{RelativeZxid: seen, DataWatches: []string{"/s"}, ExistWatches: []string{"/new"}})
	require.Equal(t, wire.ErrOK, r.Header.Err)
	require.Equal(t, []wire.WatcherEvent{{Type: wire.EventNodeDataChanged, State: wire.StateSyncConnected, Path: "/s"}}, re.events())
	require.Equal(t, wire.ErrOK, other.do(wire.OpCreate, createReq("/new", "", wire.ModePersistent)).Header.Err)
	w.runFor(10)
	require.Len(t, re.events(), 2, "the re-armed exist watch fires")
	require.Equal(t, wire.EventNodeCreated, re.events()[1].Type)
}

func TestAuthAndACL(t *testing.T) {
	w := standalone(t)
	c := w.session(1)
	r := c.do(wire.OpAuth, &wire.AuthPacket{Scheme: "digest", Auth: []byte("alice:secret")})
	require.Equal(t, wire.ErrOK, r.Header.Err)
	require.Zero(t, r.Header.Zxid, "auth replies carry zxid 0")
	acl := []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth"}}}
	require.Equal(t, wire.ErrOK, c.do(wire.OpCreate, &wire.CreateRequest{Path: "/secret", ACL: acl}).Header.Err)
	stranger := w.session(1)
	require.Equal(t, wire.ErrNoAuth, stranger.do(wire.OpGetData, &wire.GetDataRequest{Path: "/secret"}).Header.Err)
	require.Equal(t, wire.ErrOK, c.do(wire.OpGetData, &wire.GetDataRequest{Path: "/secret"}).Header.Err)
	who := c.do(wire.OpWhoAmI, nil).Body.(*wire.WhoAmIResponse)
	require.Equal(t, []wire.ClientInfo{{AuthScheme: "digest", User: "alice"}, {AuthScheme: "ip", User: "10.0.0.1"}}, who.ClientInfo,
		"ids in Apache 3.8.0's hash-set order (tree.SortAuthIDs), not in the order they came")

	r = stranger.do(wire.OpAuth, &wire.AuthPacket{Scheme: "kerberos", Auth: []byte("x")})
	require.Equal(t, wire.ErrAuthFailed, r.Header.Err)
	require.True(t, stranger.closed, "an unknown auth scheme closes the connection")
}

func TestSnapshotsEverySnapCountAndRestart(t *testing.T) {
	w := newWorld(t, 3, worldOptions{members: 1, snapCount: 20})
	w.stable()
	c := w.session(1)
	for i := range 40 {
		require.Equal(t, wire.ErrOK, c.do(wire.OpCreate, createReq("/n"+string(rune('a'+i%26))+string(rune('a'+i/26)), "", wire.ModePersistent)).Header.Err)
	}
	m := w.member(1)
	require.GreaterOrEqual(t, m.snapshots, 1, "40 txns with snapCount 20 save a snapshot")
	require.NotZero(t, m.durable.snap.Zxid)
	digest := m.n.Tree().Digest()
	w.runFor(50)
	w.crash(m)
	w.restart(m)
	w.stable()
	require.Equal(t, digest, m.n.Tree().Digest(), "snapshot + log replay rebuild the same tree")
	c2 := w.session(1)
	require.Equal(t, wire.ErrOK, c2.do(wire.OpExists, &wire.ExistsRequest{Path: "/nab"}).Header.Err)
}

// TestApache380Answers pins what Apache ZooKeeper 3.8.0, the reference, answers where later
// releases differ (conformance TestTranscripts runs the same exchanges against it).
func TestApache380Answers(t *testing.T) {
	w := standalone(t)
	c := w.session(1)
	require.Equal(t, wire.ErrOK, c.do(wire.OpCreate, createReq("/a", "x", wire.ModePersistent)).Header.Err)

	sasl := c.do(wire.OpSASL, &wire.GetSASLRequest{Token: []byte("hello")})
	require.Equal(t, wire.ErrOK, sasl.Header.Err, "sasl without SASL configured")
	require.Equal(t, &wire.SetSASLResponse{}, sasl.Body, "a null token")
	require.False(t, c.closed, "the connection stays open after sasl")

	check := func(path string, version int32) *wire.CheckVersionRequest {
		return &wire.CheckVersionRequest{Path: path, Version: version}
	}
	require.Equal(t, wire.ErrNoNode, c.do(wire.OpCheck, check("/missing", -1)).Header.Err, "check of a missing node")
	require.Equal(t, wire.ErrBadVersion, c.do(wire.OpCheck, check("/a", 5)).Header.Err, "check with the wrong version")
	xid := c.send(wire.OpCheck, check("/a", 0))
	w.runFor(100)
	require.Nil(t, c.find(xid), "a check that passes gets no reply")
	c.inflight = c.inflight[:len(c.inflight)-1] // the client must not wait for it
	require.False(t, c.closed, "the connection stays open after an unanswered check")
	require.Equal(t, wire.ErrOK, c.do(wire.OpExists, &wire.ExistsRequest{Path: "/a"}).Header.Err, "requests behind it are answered")

	// deleteContainer (20) from a client: a delete frame retyped (AppendRequest refuses to
	// build it); the client reads the error reply as a delete's.
	c.xid++
	c.inflight = append(c.inflight, call{xid: c.xid, op: wire.OpDelete})
	frame := wire.AppendRequest(nil, wire.RequestHeader{Xid: c.xid, Type: wire.OpDelete}, &wire.DeleteRequest{Path: "/a", Version: -1})
	binary.BigEndian.PutUint32(frame[8:], uint32(wire.OpDeleteContainer))
	c.sendFrame(frame)
	require.Equal(t, wire.ErrBadArguments, c.wait(c.xid).Header.Err, "deleteContainer from a client")
	require.False(t, c.closed, "the connection stays open after deleteContainer")
	require.Equal(t, wire.ErrOK, c.do(wire.OpExists, &wire.ExistsRequest{Path: "/a"}).Header.Err, "the node is still there")

	// An unknown op code: Unimplemented with header zxid -1, then close.
	c.xid++
	c.inflight = append(c.inflight, call{xid: c.xid, op: wire.OpDelete})
	binary.BigEndian.PutUint32(frame[4:], uint32(c.xid))
	binary.BigEndian.PutUint32(frame[8:], 200)
	c.sendFrame(frame)
	unknown := c.wait(c.xid)
	require.Equal(t, wire.ReplyHeader{Xid: c.xid, Zxid: -1, Err: wire.ErrUnimplemented}, unknown.Header, "an unknown op code")
	require.True(t, c.closed, "an unknown op code closes the connection")
}
