package node

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// Every limit refuses explicitly: the connection is closed with a reason, never left hanging.
func TestLimitsCloseWithAReason(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(*Config)
		run       func(w *world) *client
		reason    string
	}{
		{"connections", func(c *Config) { c.ConnectionsMax = 2 }, func(w *world) *client {
			w.session(1)
			w.session(1)
			return w.dial(1, 0, nil, 0, 1000)
		}, "too many connections"},
		{"requests queued on one connection", func(c *Config) { c.RequestsPerConnectionMax = 3 }, func(w *world) *client {
			c := w.session(1)
			for range 4 { // no world step in between: the writes cannot commit yet
				c.send(wire.OpCreate, createReq("/q", "", wire.ModePersistentSequential))
			}
			return c
		}, "too many pending requests"},
		{"requests waiting for the leader's window", func(c *Config) { c.ProposalsInFlightMax = 1 }, func(w *world) *client {
			c := w.session(1)
			// One in flight, 32 × ProposalsInFlightMax waiting, and one more.
			for range 1 + 32 + 1 {
				c.send(wire.OpCreate, createReq("/q", "", wire.ModePersistentSequential))
			}
			return c
		}, "leader refused request: too many requests waiting for the proposal window"},
		{"silent connection", nil, func(w *world) *client {
			w.nextConn++
			c := &client{w: w, conn: w.nextConn, member: 1}
			w.clients[c.conn] = c
			w.input(w.member(1), ClientConnected{Conn: c.conn, Remote: "10.0.0.3"})
			w.runFor(1200)
			return c
		}, "handshake timed out"},
		{"malformed handshake", nil, func(w *world) *client {
			w.nextConn++
			c := &client{w: w, conn: w.nextConn, member: 1}
			w.clients[c.conn] = c
			w.input(w.member(1), ClientConnected{Conn: c.conn, Remote: "10.0.0.3"})
			w.input(w.member(1), ClientFrame{Conn: c.conn, Payload: []byte{1, 2, 3}})
			return c
		}, "malformed ConnectRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 5, worldOptions{members: 1, configure: tc.configure})
			w.stable()
			c := tc.run(w)
			require.True(t, c.closed, "the connection is closed")
			require.Equal(t, tc.reason, c.closeReason)
		})
	}
}

func TestNotServingRefusesClients(t *testing.T) {
	w := newWorld(t, 6, worldOptions{members: 3})
	leader := w.stable()
	for _, m := range w.members {
		if m != leader {
			w.crash(m)
		}
	}
	w.runUntil("leader steps down without a quorum", 5000, func() bool { return !leader.n.Serving() })
	c := w.dial(leader.id, 0, nil, 0, 1000)
	require.True(t, c.closed)
	require.Equal(t, "server not serving", c.closeReason)
	require.Nil(t, c.connect, "nothing is sent to a refused client")
	require.NotEqual(t, zab.Leading, leader.n.Peer().Role())
}

// A frame under the limit can name the "auth" scheme in many ACLs; with a long digest id each
// expands into a large txn. The leader refuses it instead of proposing a txn zab must refuse.
func TestRequestThatExpandsPastTheTxnLimitIsRefused(t *testing.T) {
	w := newWorld(t, 7, worldOptions{members: 1, configure: func(c *Config) { c.FrameBytesMax = 64 << 10 }})
	w.stable()
	c := w.session(1)
	user := make([]byte, 30<<10)
	for i := range user {
		user[i] = 'u'
	}
	require.Equal(t, wire.ErrOK, c.do(wire.OpAuth, &wire.AuthPacket{Scheme: "digest", Auth: append(user, ":pw"...)}).Header.Err)
	var ops []wire.MultiOp
	for i := range 200 {
		ops = append(ops, wire.MultiOp{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/x" + string(rune('a'+i%26)),
			ACL: []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth"}}}}})
	}
	c.send(wire.OpMulti, &wire.MultiRequest{Ops: ops})
	w.runFor(100)
	require.True(t, c.closed)
	require.Equal(t, "leader refused request: request too large once its ACLs are expanded", c.closeReason)
	other := w.session(1)
	require.Equal(t, wire.ErrOK, other.do(wire.OpSync, &wire.SyncRequest{Path: "/"}).Header.Err, "the member keeps serving")
}

// A full proposal window makes requests wait at the leader, in arrival order, instead of
// closing their connections (ZooKeeper throttles a loaded server, it does not drop valid
// requests): pipelines on the leader and on a follower far deeper than the window are all
// answered, in order, on connections that stay open.
func TestFullWindowMakesRequestsWait(t *testing.T) {
	w := newWorld(t, 8, worldOptions{members: 3, configure: func(c *Config) { c.ProposalsInFlightMax = 4 }})
	leader := w.stable()
	clients := []*client{w.session(leader.id), w.session(w.follower().id)}
	const depth = 60 // 2 × 60 is far above the window of 4, within the 32 × 4 that may wait
	for range depth {
		for _, c := range clients {
			c.send(wire.OpCreate, createReq("/q", "", wire.ModePersistentSequential))
		}
	}
	w.runUntil("every pipelined create answered", 60_000, func() bool {
		for _, c := range clients {
			if !c.closed && len(c.received) < depth {
				return false
			}
		}
		return true
	})
	for i, c := range clients {
		require.False(t, c.closed, "client %d (member %d) must stay connected, closed: %q (seed %d)", i, c.member, c.closeReason, w.seed)
		require.Len(t, c.received, depth, "client %d gets one reply per request", i)
		for j, f := range c.received {
			require.Equal(t, wire.ErrOK, f.reply.Header.Err, "client %d reply %d", i, j)
			require.Equal(t, int32(j+1), f.reply.Header.Xid, "client %d replies in request order", i)
		}
	}
	require.Positive(t, w.stats.windowWaits, "requests must have waited for the window, or this test tests nothing")
	require.Zero(t, leader.n.Stats().ForwardsWaiting, "nothing is left waiting once every request is answered")
}

// The forward timeout detects a request lost with the leader or the network, not a deep
// pipeline behind a busy leader: a connection whose oldest request is older than
// ForwardTimeoutTicks keeps going while the leader keeps answering it.
func TestDeepPipelineThatKeepsGettingAnswersIsNotTimedOut(t *testing.T) {
	w := newWorld(t, 9, worldOptions{members: 3, configure: func(c *Config) {
		c.ProposalsInFlightMax = 4
		c.ForwardTimeoutTicks = 1 // 100 ms: the pipeline below takes far longer to clear
	}})
	w.stable()
	c := w.session(w.follower().id)
	start := w.now
	const depth = 120 // within the 32 × 4 that may wait
	for range depth {
		c.send(wire.OpCreate, createReq("/q", "", wire.ModePersistentSequential))
	}
	w.runUntil("every pipelined create answered", 60_000, func() bool { return c.closed || len(c.received) == depth })
	require.False(t, c.closed, "the connection must stay open, closed: %q (seed %d)", c.closeReason, w.seed)
	require.Greater(t, w.now-start, zab.Time(2*100), "the pipeline (%d ms) must outlast the forward timeout, or this test tests nothing", w.now-start)
}
