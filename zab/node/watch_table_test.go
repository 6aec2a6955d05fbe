package node

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// TestDataWatchTableListsThisMembersDataWatches: the host's wchs, wchc and wchp read the
// data-watch table of the member's own sessions: getData and exists watches and addWatch's,
// not child watches; a session stays listed while its connection is open (ZooKeeper keeps the
// connection's empty watcher entry) and leaves with it.
func TestDataWatchTableListsThisMembersDataWatches(t *testing.T) {
	w := standalone(t)
	a, b := w.session(1), w.session(1)
	require.Equal(t, wire.ErrOK, a.do(wire.OpCreate, createReq("/w", "", wire.ModePersistent)).Header.Err)
	require.Equal(t, wire.ErrOK, a.do(wire.OpGetData, &wire.GetDataRequest{Path: "/w", Watch: true}).Header.Err)
	require.Equal(t, wire.ErrOK, a.do(wire.OpGetChildren, &wire.GetChildrenRequest{Path: "/w", Watch: true}).Header.Err)
	require.Equal(t, wire.ErrNoNode, b.do(wire.OpExists, &wire.ExistsRequest{Path: "/missing", Watch: true}).Header.Err)
	require.Equal(t, wire.ErrOK, b.do(wire.OpAddWatch, &wire.AddWatchRequest{Path: "/w", Mode: wire.AddWatchPersistent}).Header.Err)
	sa, sb := a.connect.SessionID, b.connect.SessionID
	want := []tree.WatchEntry{{SessionID: sa, Path: "/w"}, {SessionID: sb, Path: "/missing"}, {SessionID: sb, Path: "/w"}}
	if sb < sa {
		want = []tree.WatchEntry{{SessionID: sb, Path: "/missing"}, {SessionID: sb, Path: "/w"}, {SessionID: sa, Path: "/w"}}
	}
	got := w.member(1).n.DataWatchTable()
	require.Equal(t, want, got.Entries, "data-watch entries by session, then path (sessions %#x, %#x)", sa, sb)
	require.ElementsMatch(t, []int64{sa, sb}, got.Watchers, "both sessions watch data")

	// a's data watch fires; a stays a watcher until its connection closes.
	require.Equal(t, wire.ErrOK, b.do(wire.OpSetData, &wire.SetDataRequest{Path: "/w", Data: []byte("x"), Version: -1}).Header.Err)
	got = w.member(1).n.DataWatchTable()
	require.Equal(t, []tree.WatchEntry{{SessionID: sb, Path: "/missing"}, {SessionID: sb, Path: "/w"}}, got.Entries,
		"a's one-shot data watch fired, b's persistent one stays")
	require.ElementsMatch(t, []int64{sa, sb}, got.Watchers, "a keeps its (empty) watcher entry while connected")
	w.input(w.member(1), ClientClosed{Conn: a.conn})
	require.Equal(t, []int64{sb}, w.member(1).n.DataWatchTable().Watchers, "a's connection closed")
}
