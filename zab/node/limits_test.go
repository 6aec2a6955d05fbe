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
		{"proposals in flight at the leader", func(c *Config) { c.ProposalsInFlightMax = 2 }, func(w *world) *client {
			c := w.session(1)
			for range 3 {
				c.send(wire.OpCreate, createReq("/q", "", wire.ModePersistentSequential))
			}
			return c
		}, "leader refused request: too many proposals in flight"},
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
