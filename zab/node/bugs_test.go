package node

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// Transcript tests of the client-level bug switches: each runs the exchange where the rule
// lives with the switch off (the rule holds) and on (the rule is broken). The zoo's hunts
// with simulated clients live in sim/zk.

func TestBugsNamesListEverySwitch(t *testing.T) {
	require.False(t, Bugs{}.Any(), "the zero Bugs has no switch on")
	require.Empty(t, Bugs{}.Names())
	typ := reflect.TypeOf(Bugs{})
	bools := 0
	for i := 0; i < typ.NumField(); i++ {
		if typ.Field(i).Type.Kind() != reflect.Bool {
			continue
		}
		bools++
		var b Bugs
		reflect.ValueOf(&b).Elem().Field(i).SetBool(true)
		require.True(t, b.Any(), "field %s", typ.Field(i).Name)
		require.Equal(t, []string{typ.Field(i).Name}, b.Names(), "Names must name the field that is on")
	}
	require.Len(t, Bugs{}.switches(), bools, "Bugs.switches must list every bool field")
}

func TestZabBugsCountAndReachThePeer(t *testing.T) {
	cfg := Config{Bugs: Bugs{WatchFiredTwice: true, Zab: zab.Bugs{DiffByRange: true}}}
	require.True(t, cfg.AnyBugs())
	require.Equal(t, []string{"WatchFiredTwice", "Zab.DiffByRange"}, cfg.Bugs.Names())
	onlyZab := Config{Bugs: Bugs{Zab: zab.Bugs{AckBeforeDurable: true}}}
	require.True(t, onlyZab.AnyBugs(), "a zab switch alone must make the daemon refuse to start")
	require.Equal(t, zab.Bugs{AckBeforeDurable: true}, onlyZab.zabConfig(nil).Bugs, "zab's switches reach zab.Config")
	require.False(t, (&Config{}).AnyBugs())
}

// bugCases runs body once with the switch off and once with it on.
func bugCases(t *testing.T, set func(*Bugs), body func(t *testing.T, on bool, bugs Bugs)) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("switch=%v", on), func(t *testing.T) {
			var b Bugs
			if on {
				set(&b)
			}
			body(t, on, b)
		})
	}
}

func withBugs(b Bugs) func(*Config) { return func(c *Config) { c.Bugs = b } }

func TestBugWatchFiredTwice(t *testing.T) {
	bugCases(t, func(b *Bugs) { b.WatchFiredTwice = true }, func(t *testing.T, on bool, bugs Bugs) {
		w := newWorld(t, 1, worldOptions{members: 1, configure: withBugs(bugs)})
		w.stable()
		watcher, writer := w.session(1), w.session(1)
		require.Equal(t, wire.ErrNoNode, watcher.do(wire.OpExists, &wire.ExistsRequest{Path: "/w", Watch: true}).Header.Err)
		require.Equal(t, wire.ErrOK, writer.do(wire.OpCreate, createReq("/w", "a", wire.ModePersistent)).Header.Err)
		w.runFor(100)
		created := wire.WatcherEvent{Type: wire.EventNodeCreated, State: wire.StateSyncConnected, Path: "/w"}
		want := []wire.WatcherEvent{created}
		if on {
			want = append(want, created) // broken: the one-shot watch fired twice
		}
		require.Equal(t, want, watcher.events())
	})
}

func TestBugWatchEventAfterReply(t *testing.T) {
	bugCases(t, func(b *Bugs) { b.WatchEventAfterReply = true }, func(t *testing.T, on bool, bugs Bugs) {
		w := newWorld(t, 1, worldOptions{members: 1, configure: withBugs(bugs)})
		w.stable()
		c := w.session(1)
		require.Equal(t, wire.ErrOK, c.do(wire.OpCreate, createReq("/w", "a", wire.ModePersistent)).Header.Err)
		require.Equal(t, wire.ErrOK, c.do(wire.OpGetData, &wire.GetDataRequest{Path: "/w", Watch: true}).Header.Err)
		c.received = nil
		// The session's own write fires its data watch: the event must precede the reply.
		set := c.do(wire.OpSetData, &wire.SetDataRequest{Path: "/w", Data: []byte("b"), Version: -1})
		require.Equal(t, wire.ErrOK, set.Header.Err)
		w.runFor(100)
		require.Len(t, c.received, 2, "one reply and one event: %+v", c.received)
		if !on {
			requireEventBeforeReply(t, c, "/w", wire.EventNodeDataChanged, wire.OpSetData)
			return
		}
		require.False(t, c.received[0].isEvent(), "broken: the setData reply (zxid %#x) comes first", set.Header.Zxid)
		require.True(t, c.received[1].isEvent(), "broken: the NodeDataChanged event follows the reply")
	})
}

// TestBugServeBeforeSynced holds a restarted follower in SYNCHRONIZATION (UPTODATE, COMMIT
// and PING from the leader are lost) and resumes a session on it.
func TestBugServeBeforeSynced(t *testing.T) {
	bugCases(t, func(b *Bugs) { b.ServeBeforeSynced = true }, func(t *testing.T, on bool, bugs Bugs) {
		w := newWorld(t, 21, worldOptions{members: 3, configure: withBugs(bugs)})
		leader := w.stable()
		var f *member
		for _, m := range w.members {
			if m != leader {
				f = m
				break
			}
		}
		s := w.session(leader.id)
		created := s.do(wire.OpCreate, createReq("/x", "v", wire.ModePersistent))
		require.Equal(t, wire.ErrOK, created.Header.Err)
		w.runFor(200)
		w.crash(f)
		w.drop = func(m Message) bool {
			if m.Kind != KindZab || m.From != leader.id || m.To != f.id {
				return false
			}
			switch m.Zab.Type {
			case zab.MsgUpToDate, zab.MsgCommit, zab.MsgPing:
				return true
			}
			return false
		}
		w.restart(f)
		w.runUntil("restarted follower synchronizing", 5_000, func() bool {
			return f.n.Peer().Role() == zab.Following && f.n.Peer().Phase() == zab.Synchronization
		})
		w.runFor(50) // the sync stream and NEWLEADER arrive; UPTODATE never does
		require.Equal(t, zab.Synchronization, f.n.Peer().Phase(), "the follower must still be synchronizing")

		c := w.dial(f.id, s.connect.SessionID, s.connect.Passwd, 0, 1000)
		w.runUntil("handshake answered or refused", 500, func() bool { return c.connect != nil || c.closed })
		if !on {
			require.True(t, c.closed, "a member that is not synced must refuse clients")
			require.Equal(t, "server not serving", c.closeReason)
			return
		}
		require.NotNil(t, c.connect, "broken: the synchronizing member resumed the session (closed: %q)", c.closeReason)
		r := c.do(wire.OpGetData, &wire.GetDataRequest{Path: "/x"})
		require.Equal(t, zab.Synchronization, f.n.Peer().Phase(), "the read was served before UPTODATE")
		require.Equal(t, wire.ErrNoNode, r.Header.Err,
			"broken: the read misses /x, committed at %#x before the member even restarted", created.Header.Zxid)
		require.Less(t, r.Header.Zxid, created.Header.Zxid, "the reply's zxid shows the stale state")
	})
}

// TestBugSyncWithoutQuorum cuts the leader off from both followers and asks it for a sync
// (ZOOKEEPER-1675's scenario; TestSyncOnPartitionedLeaderNeverCompletes is the fixed rule).
func TestBugSyncWithoutQuorum(t *testing.T) {
	bugCases(t, func(b *Bugs) { b.SyncWithoutQuorum = true }, func(t *testing.T, on bool, bugs Bugs) {
		w := newWorld(t, 15, worldOptions{members: 3, configure: withBugs(bugs)})
		leader := w.stable()
		c := w.session(leader.id)
		require.Equal(t, wire.ErrOK, c.do(wire.OpCreate, createReq("/x", "v", wire.ModePersistent)).Header.Err)
		for _, o := range w.members {
			if o != leader {
				w.cut[[2]zab.PeerID{leader.id, o.id}] = true
				w.cut[[2]zab.PeerID{o.id, leader.id}] = true
			}
		}
		xid := c.send(wire.OpSync, &wire.SyncRequest{Path: "/"})
		w.runUntil("sync answered or the old leader drops its clients", 5000, func() bool { return c.find(xid) != nil || c.closed })
		if !on {
			require.Nil(t, c.find(xid), "a leader without a quorum must not answer sync")
			return
		}
		r := c.find(xid)
		require.NotNil(t, r, "broken: the cut-off leader answered sync")
		require.Equal(t, wire.ErrOK, r.Header.Err)
		require.True(t, leader.n.Leading(), "answered while the leader still believed it leads, with no follower reachable")
	})
}

// TestBugEphemeralAfterClose pipelines an ephemeral create behind the session's closeSession
// and looks at what the leader proposed (ZOOKEEPER-1208, Z28).
func TestBugEphemeralAfterClose(t *testing.T) {
	bugCases(t, func(b *Bugs) { b.EphemeralAfterClose = true }, func(t *testing.T, on bool, bugs Bugs) {
		w := newWorld(t, 1, worldOptions{members: 1, configure: withBugs(bugs)})
		w.stable()
		c := w.session(1)
		m := w.member(1)
		before := len(m.pending) // look only at what the two requests make the leader propose
		c.send(wire.OpCloseSession, nil)
		c.send(wire.OpCreate, createReq("/e", "", wire.ModeEphemeral))
		var proposed []Txn
		for _, p := range m.pending[before:] {
			for _, e := range p.p.Write.Entries {
				x, err := DecodeTxn(e.Data)
				require.NoError(t, err)
				proposed = append(proposed, x)
			}
		}
		require.Len(t, proposed, 2, "the leader proposes the close and then the create's outcome")
		require.Equal(t, wire.OpCloseSession, proposed[0].Tree.Type)
		if !on {
			require.Equal(t, wire.OpError, proposed[1].Tree.Type, "a create behind a prepared close must fail")
			require.Equal(t, wire.ErrSessionExpired, proposed[1].Tree.Err)
			w.runFor(200)
			require.NoError(t, m.n.Tree().Verify(), "the tree stays consistent")
			return
		}
		require.Equal(t, wire.OpCreate, proposed[1].Tree.Type, "broken: the create is accepted after the close")
		require.Equal(t, c.connect.SessionID, proposed[1].Tree.Owner, "broken: an ephemeral of the closing session")
		// Applying the ephemeral after its session's close: zab/tree refuses to keep an orphan
		// and stops the replica (ZooKeeper kept the orphan: the ephemeral outlived its session).
		require.PanicsWithValue(t, fmt.Sprintf("tree: invariant broken: ephemeral %q at zxid %#x owned by unknown session %#x",
			"/e", int64(m.n.Peer().LastLogged()), c.connect.SessionID), func() { w.runFor(200) })
	})
}
