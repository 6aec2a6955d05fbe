package node

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// configStat reads /zookeeper/config through a client session on member id.
func configStat(t *testing.T, w *world, id zab.PeerID) wire.Stat {
	t.Helper()
	r := w.session(id).do(wire.OpGetData, &wire.GetDataRequest{Path: "/zookeeper/config"})
	require.Equal(t, wire.ErrOK, r.Header.Err, "getData /zookeeper/config on member %d (seed %d)", id, w.seed)
	return r.Body.(*wire.GetDataResponse).Stat
}

// TestConfigNodeMtimeIsWhenTheMemberWroteItsConfiguration: a quorum peer of ZooKeeper 3.8
// writes its configuration into /zookeeper/config with its own clock when it starts and each
// time it syncs with a leader as a learner (ZKDatabase.initConfigInZKDatabase), so clients
// see version -1 and that mtime; the leader keeps its mtime while a learner re-syncs. The
// mtime is the member's own, so the members' digests still agree.
func TestConfigNodeMtimeIsWhenTheMemberWroteItsConfiguration(t *testing.T) {
	members := []byte("server.1=a:2888:3888:participant\nserver.2=b:2888:3888:participant\nserver.3=c:2888:3888:participant\nversion=0")
	w := newWorld(t, 21, worldOptions{members: 3, configure: func(c *Config) { c.Tree.DynamicConfig = members }})
	leader := w.stable()
	f := w.follower()
	require.NotNil(t, f, "a serving follower (seed %d)", w.seed)
	leaderBefore := configStat(t, w, leader.id)
	want := wire.Stat{Mtime: leaderBefore.Mtime, Version: -1, Aversion: -1, DataLength: int32(len(members))}
	require.Equal(t, want, leaderBefore, "the leader's /zookeeper/config: version -1, czxid = mzxid = ctime = 0 (seed %d)", w.seed)

	w.crash(f)
	w.runFor(3000)
	restartedAt := w.now
	w.restart(f)
	w.stable()
	syncedBy := w.now
	got := configStat(t, w, f.id)
	require.Equal(t, int32(-1), got.Version, "a restarted member's /zookeeper/config has version -1 (seed %d)", w.seed)
	require.True(t, got.Mtime >= int64(restartedAt) && got.Mtime <= int64(syncedBy),
		"a restarted member's /zookeeper/config mtime is when it synced: want in [%d, %d], got %d (seed %d)",
		restartedAt, syncedBy, got.Mtime, w.seed)
	require.Equal(t, leaderBefore, configStat(t, w, leader.id),
		"the leader does not rewrite its configuration when a learner syncs (seed %d)", w.seed)
	requireDigestsAgree(t, w)
}

// TestStandaloneConfigNodeIsNeverWritten: a standalone server (no DynamicConfig) never writes
// /zookeeper/config, as ZooKeeperServerMain does not: empty data, version 0, mtime 0.
func TestStandaloneConfigNodeIsNeverWritten(t *testing.T) {
	w := newWorld(t, 22, worldOptions{members: 1})
	w.runFor(1000)
	leader := w.stable()
	require.Equal(t, wire.Stat{Aversion: -1}, configStat(t, w, leader.id),
		"a standalone server's /zookeeper/config (seed %d)", w.seed)
}
