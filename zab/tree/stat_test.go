package tree

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

func TestFreshTreeSystemNodes(t *testing.T) {
	tr := New(Config{})
	cases := []struct {
		path string
		stat wire.Stat
		acl  []wire.ACL
	}{
		{"/", wire.Stat{NumChildren: 1, Cversion: -1}, OpenACL},
		{"/zookeeper", wire.Stat{NumChildren: 2, Cversion: -2}, OpenACL},
		{"/zookeeper/quota", wire.Stat{}, OpenACL},
		{"/zookeeper/config", wire.Stat{Aversion: -1}, ReadACL},
	}
	for _, c := range cases {
		got, err := tr.GetData(c.path, nil)
		require.Equal(t, wire.ErrOK, err, "getData %s on a fresh tree", c.path)
		assert.Equal(t, c.stat, got.Stat, "Stat of %s on a fresh tree (zk-protocol.md §5.2)", c.path)
		assert.NotNil(t, got.Data, "%s has empty, not null, data", c.path)
		acl, err := tr.GetACL(c.path, nil)
		require.Equal(t, wire.ErrOK, err)
		assert.Equal(t, c.acl, acl.ACL, "ACL of %s", c.path)
	}
	n, err := tr.GetAllChildrenNumber("/", nil)
	require.Equal(t, wire.ErrOK, err)
	assert.Equal(t, int32(3), n.TotalNumber, "a fresh server counts 3 nodes under /")
	assert.Equal(t, 4, tr.NodeCount())
}

func TestStatTransitions(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(0x100)

	// create /a at zxid z: czxid = mzxid = pzxid = z, ctime = mtime = now.
	got := h.create(0x100, "/a", []byte("hello"), wire.ModePersistent)
	require.Equal(t, wire.ErrOK, got.Err)
	z := got.Zxid
	a := wire.Stat{Czxid: z, Mzxid: z, Pzxid: z, Ctime: h.now, Mtime: h.now, DataLength: 5}
	assert.Equal(t, a, got.Body.(*wire.Create2Response).Stat, "Stat of a new node")
	assert.Equal(t, a, h.stat("/a"))
	root := h.stat("/")
	assert.Equal(t, wire.Stat{NumChildren: 2, Cversion: 0, Pzxid: z}, root, "/ after its first create: cversion -1 → 0")

	// A child create bumps the parent's cversion and pzxid, not mzxid/version.
	child := h.create(0x100, "/a/b", nil, wire.ModePersistent)
	require.Equal(t, wire.ErrOK, child.Err)
	a.Cversion, a.NumChildren, a.Pzxid = 1, 1, child.Zxid
	assert.Equal(t, a, h.stat("/a"), "parent after child create")
	assert.Equal(t, int32(0), h.stat("/a/b").DataLength, "null data has length 0")

	// setData on the child: the parent does not change.
	set := h.write(0x100, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a/b", Data: []byte("xy"), Version: 0})
	require.Equal(t, wire.ErrOK, set.Err)
	assert.Equal(t, a, h.stat("/a"), "child setData leaves the parent alone")
	b := h.stat("/a/b")
	assert.Equal(t, wire.Stat{Czxid: child.Zxid, Mzxid: set.Zxid, Pzxid: child.Zxid, Ctime: h.now - 1000,
		Mtime: h.now, Version: 1, DataLength: 2}, b)
	assert.Equal(t, b, set.Body.(*wire.SetDataResponse).Stat)

	// setACL: aversion only.
	acl := h.write(0x100, nil, wire.OpSetACL, &wire.SetACLRequest{Path: "/a/b", ACL: ReadACL, Version: 0})
	require.Equal(t, wire.ErrOK, acl.Err)
	b.Aversion = 1
	assert.Equal(t, b, h.stat("/a/b"), "setACL bumps aversion only")
	assert.Empty(t, acl.Events, "setACL fires no watch")

	// Delete the child: numChildren -1, reported cversion +1, pzxid = delete zxid.
	del := h.write(0x100, nil, wire.OpDelete, &wire.DeleteRequest{Path: "/a/b", Version: -1})
	require.Equal(t, wire.ErrOK, del.Err)
	a.Cversion, a.NumChildren, a.Pzxid = 2, 0, del.Zxid
	assert.Equal(t, a, h.stat("/a"), "parent after child delete: cversion = 2*creates - numChildren")

	// Sequential suffix comes from the raw create counter (1), not the cversion (2).
	seq := h.create(0x100, "/a/s-", nil, wire.ModePersistentSequential)
	require.Equal(t, wire.ErrOK, seq.Err)
	assert.Equal(t, "/a/s-0000000001", seq.Body.(*wire.Create2Response).Path)
	assert.Equal(t, int32(3), h.stat("/a").Cversion)

	// Ephemeral owner is reported; container owner is hidden.
	eph := h.create(0x100, "/e", nil, wire.ModeEphemeral)
	require.Equal(t, wire.ErrOK, eph.Err)
	assert.Equal(t, int64(0x100), h.stat("/e").EphemeralOwner)
	cont := h.write(0x100, nil, wire.OpCreateContainer, &wire.CreateRequest{Path: "/c", ACL: OpenACL, Flags: wire.ModeContainer})
	require.Equal(t, wire.ErrOK, cont.Err)
	assert.Equal(t, int64(0), h.stat("/c").EphemeralOwner, "containers report ephemeralOwner 0")

	// Multi: every op shares one zxid and one time.
	multi := h.write(0x100, nil, wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/m", ACL: OpenACL}},
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/m/1", ACL: OpenACL}},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/m", Data: []byte("z"), Version: -1}},
	}})
	require.Equal(t, wire.ErrOK, multi.Err)
	m := h.stat("/m")
	assert.Equal(t, wire.Stat{Czxid: multi.Zxid, Mzxid: multi.Zxid, Pzxid: multi.Zxid, Ctime: h.now, Mtime: h.now,
		Version: 1, Cversion: 1, DataLength: 1, NumChildren: 1}, m)
}

func TestCversionWrapsAndSequentialSuffixGoesNegative(t *testing.T) {
	// Java's %010d of a negative int has a sign and no extra padding beyond width 10.
	h := newHarness(t, Config{})
	h.openSession(1)
	h.mustCreate(1, "/q", wire.ModePersistent)
	n := h.tree.lookup("/q")
	n.creates = 2147483647 // white-box: skip 2^31 creates
	h.tree.digest = 0      // digest no longer meaningful in this test
	p := h.mustCreate(1, "/q/x", wire.ModePersistentSequential)
	assert.Equal(t, "/q/x2147483647", p)
	p = h.mustCreate(1, "/q/x", wire.ModePersistentSequential)
	assert.Equal(t, "/q/x-2147483648", p)
	assert.Equal(t, int32(0), h.stat("/q").Cversion, "creates = -2^31+1: 2*creates wraps to 2, minus 2 children, as Java int arithmetic does")
}

func TestVersionSkipsMinusOne(t *testing.T) {
	// ZOOKEEPER-4743: after wrapping to -2 the next version is 0, never -1 ("any version").
	h := newHarness(t, Config{})
	h.openSession(1)
	h.mustCreate(1, "/v", wire.ModePersistent)
	n := h.tree.lookup("/v")
	h.tree.digest -= h.tree.nodeHash("/v", n)
	n.version, n.aversion = -2, -2 // white-box: skip 2^32-2 writes
	h.tree.digest += h.tree.nodeHash("/v", n)
	set := h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/v", Version: -2})
	require.Equal(t, wire.ErrOK, set.Err)
	assert.Equal(t, int32(0), set.Body.(*wire.SetDataResponse).Stat.Version)
	acl := h.write(1, nil, wire.OpSetACL, &wire.SetACLRequest{Path: "/v", ACL: OpenACL, Version: -2})
	require.Equal(t, wire.ErrOK, acl.Err)
	assert.Equal(t, int32(0), acl.Body.(*wire.SetACLResponse).Stat.Aversion)
	max := h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/v", Version: 0})
	assert.Equal(t, int32(1), max.Body.(*wire.SetDataResponse).Stat.Version)
}

func TestVerifyCatchesDrift(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(1)
	h.mustCreate(1, "/a", wire.ModePersistent)
	h.mustCreate(1, "/e", wire.ModeEphemeral)
	require.NoError(t, h.tree.Verify())
	h.tree.lookup("/a").data = []byte("changed behind the digest's back")
	assert.ErrorContains(t, h.tree.Verify(), "digest")
	h3 := newHarness(t, Config{})
	h3.tree.dataBytes++
	assert.ErrorContains(t, h3.tree.Verify(), "approximate data size")
	h2 := newHarness(t, Config{})
	h2.openSession(1)
	h2.mustCreate(1, "/e", wire.ModeEphemeral)
	delete(h2.tree.sessions[1].ephemerals, "/e")
	assert.ErrorContains(t, h2.tree.Verify(), "ephemerals")
}

// TestMonitoringCounts follows mntr's zk_approximate_data_size (path plus data bytes of every
// node, DataTree.getNodeSize) and zk_ephemerals_count through creates, setData, deletes, a
// session close and a snapshot round trip.
func TestMonitoringCounts(t *testing.T) {
	h := newHarness(t, Config{})
	// "/" + "/zookeeper" + "/zookeeper/quota" + "/zookeeper/config" (ZooKeeper also counts
	// the root's "" key, which adds nothing).
	fresh := int64(1 + 10 + 16 + 17)
	require.Equal(t, fresh, h.tree.ApproximateDataSize(), "a fresh standalone tree")
	require.Equal(t, 0, h.tree.EphemeralCount())

	h.openSession(7)
	h.create(7, "/a", []byte("xyz"), wire.ModePersistent)
	h.create(7, "/a/e", []byte("12345"), wire.ModeEphemeral)
	assert.Equal(t, fresh+2+3+4+5, h.tree.ApproximateDataSize(), "after creating /a (3 bytes) and /a/e (5 bytes)")
	assert.Equal(t, 1, h.tree.EphemeralCount())

	h.write(7, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Data: []byte("x"), Version: -1})
	assert.Equal(t, fresh+2+1+4+5, h.tree.ApproximateDataSize(), "after shrinking /a's data to 1 byte")

	restored, err := Restore(Config{}, h.tree.Snapshot())
	require.NoError(t, err)
	assert.Equal(t, h.tree.ApproximateDataSize(), restored.ApproximateDataSize(), "a restored tree counts the same")
	assert.Equal(t, 1, restored.EphemeralCount())

	h.closeSession(7)
	assert.Equal(t, fresh+2+1, h.tree.ApproximateDataSize(), "the session's ephemeral went with it")
	assert.Equal(t, 0, h.tree.EphemeralCount())
	require.NoError(t, h.tree.Verify())
}

// TestConfigNodeStat pins /zookeeper/config's Stat as Apache ZooKeeper 3.8.0 reports it. A
// standalone server never writes it (all zero but aversion -1). A quorum peer writes its
// configuration with ZKDatabase.initConfigInZKDatabase: setData(version -1, mzxid = the
// configuration's version, 0 for a static zoo.cfg, mtime = the peer's wall clock) when it
// starts and whenever it syncs with a leader; that mtime is the server's own, so it changes
// neither the digest nor the snapshot bytes.
func TestConfigNodeStat(t *testing.T) {
	members := []byte("server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\nversion=0")
	cases := []struct {
		name      string
		cfg       Config
		writtenMs int64 // 0: ConfigWritten not called
		want      wire.Stat
	}{
		{"standalone", Config{}, 0, wire.Stat{Aversion: -1}},
		{"quorum peer before it wrote its configuration", Config{DynamicConfig: members}, 0,
			wire.Stat{Version: -1, Aversion: -1, DataLength: int32(len(members))}},
		{"quorum peer that wrote its configuration", Config{DynamicConfig: members}, 1_700_000_000_123,
			wire.Stat{Mtime: 1_700_000_000_123, Version: -1, Aversion: -1, DataLength: int32(len(members))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := New(c.cfg)
			digest, snapshot := tr.Digest(), tr.Snapshot()
			if c.writtenMs != 0 {
				tr.ConfigWritten(c.writtenMs)
			}
			got, err := tr.GetData("/zookeeper/config", nil)
			require.Equal(t, wire.ErrOK, err, "getData /zookeeper/config on a fresh tree")
			assert.Equal(t, c.want, got.Stat, "Stat of /zookeeper/config (DynamicConfig %q, ConfigWritten(%d))",
				c.cfg.DynamicConfig, c.writtenMs)
			exists, err := tr.Exists("/zookeeper/config", nil)
			require.Equal(t, wire.ErrOK, err, "exists /zookeeper/config on a fresh tree")
			assert.Equal(t, c.want, exists.Stat, "exists reports the same Stat as getData")
			assert.Equal(t, digest, tr.Digest(), "ConfigWritten is server-local: the digest must not move")
			assert.Equal(t, snapshot, tr.Snapshot(), "ConfigWritten is server-local: the snapshot bytes must not move")

			restored, rerr := Restore(c.cfg, snapshot)
			require.NoError(t, rerr, "restore the fresh tree's snapshot (cfg %+v)", c.cfg)
			again, err := restored.GetData("/zookeeper/config", nil)
			require.Equal(t, wire.ErrOK, err, "getData /zookeeper/config after Restore")
			want := c.want
			want.Mtime = 0
			assert.Equal(t, want, again.Stat, "a restored tree keeps version and data, and has no mtime until its server writes the configuration again")
			assert.Equal(t, c.cfg.DynamicConfig == nil, len(again.Data) == 0, "restored data %q", again.Data)
		})
	}
}
