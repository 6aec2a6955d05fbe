package tree

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// Prepare sees earlier prepared-but-unapplied txns, as PrepRequestProcessor sees
// outstandingChanges.
func TestPrepareSeesOutstandingChanges(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(1)
	r1 := h.request(1, nil, wire.OpCreate, &wire.CreateRequest{Path: "/q", ACL: OpenACL})
	t1 := h.tree.Prepare(r1)
	r2 := h.request(1, nil, wire.OpCreate, &wire.CreateRequest{Path: "/q/j-", ACL: OpenACL, Flags: wire.ModePersistentSequential})
	t2 := h.tree.Prepare(r2)
	r3 := h.request(1, nil, wire.OpCreate, &wire.CreateRequest{Path: "/q/j-", ACL: OpenACL, Flags: wire.ModePersistentSequential})
	t3 := h.tree.Prepare(r3)
	r4 := h.request(1, nil, wire.OpCreate, &wire.CreateRequest{Path: "/q", ACL: OpenACL})
	t4 := h.tree.Prepare(r4)
	assert.Equal(t, "/q/j-0000000000", t2.Path, "the parent created by an unapplied txn is visible")
	assert.Equal(t, "/q/j-0000000001", t3.Path, "sequence numbers advance across unapplied txns")
	assert.Equal(t, Txn{Type: wire.OpError, SessionID: 1, Cxid: r4.Cxid, TimeMs: r4.TimeMs, Err: wire.ErrNodeExists}, t4)
	assert.Positive(t, h.tree.Outstanding())
	for _, p := range []struct {
		zxid int64
		txn  Txn
	}{{r1.Zxid, t1}, {r2.Zxid, t2}, {r3.Zxid, t3}, {r4.Zxid, t4}} {
		h.applyBytes(p.zxid, p.txn)
	}
	assert.Equal(t, 0, h.tree.Outstanding(), "applied changes are no longer outstanding")
	assert.Equal(t, int32(2), h.stat("/q").NumChildren)
}

// ZOOKEEPER-1208: once a session's close is prepared, nothing of that session may be
// ordered after it, and the close deletes ephemerals created by still-unapplied txns.
func TestCloseSessionAfterOutstandingEphemeral(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(1)
	rc := h.request(1, nil, wire.OpCreate, &wire.CreateRequest{Path: "/e", ACL: OpenACL, Flags: wire.ModeEphemeral})
	tc := h.tree.Prepare(rc)
	rx := h.request(1, nil, wire.OpCloseSession, nil)
	tx := h.tree.Prepare(rx)
	rl := h.request(1, nil, wire.OpCreate, &wire.CreateRequest{Path: "/late", ACL: OpenACL, Flags: wire.ModeEphemeral})
	tl := h.tree.Prepare(rl)
	assert.Equal(t, wire.ErrSessionExpired, tl.Err, "a write after a prepared close is refused")
	h.applyBytes(rc.Zxid, tc)
	closed := h.applyBytes(rx.Zxid, tx)
	h.applyBytes(rl.Zxid, tl)
	assert.Equal(t, []Event{
		{Type: wire.EventNodeDeleted, Path: "/e", ACL: OpenACL},
		{Type: wire.EventNodeChildrenChanged, Path: "/", ACL: OpenACL},
	}, closed.Events)
	_, err := h.tree.Exists("/e", nil)
	assert.Equal(t, wire.ErrNoNode, err, "the ephemeral died with its session")
	assert.Empty(t, h.tree.Sessions())
}

func TestResetDropsOutstandingChanges(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(1)
	lost := h.tree.Prepare(h.request(1, nil, wire.OpCreate, &wire.CreateRequest{Path: "/lost", ACL: OpenACL}))
	require.Equal(t, wire.OpCreate, lost.Type)
	h.tree.Reset()
	assert.Equal(t, 0, h.tree.Outstanding())
	again := h.write(1, nil, wire.OpCreate, &wire.CreateRequest{Path: "/lost", ACL: OpenACL})
	assert.Equal(t, wire.ErrOK, again.Err, "after Reset the lost create no longer shadows the tree")
}

func TestPrepareRequiresGrowingZxids(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(1)
	req := h.request(1, nil, wire.OpCloseSession, nil)
	req.Zxid = h.tree.LastZxid()
	assert.Panics(t, func() { h.tree.Prepare(req) }, "a zxid at or below the applied one is a caller bug")
	assert.Panics(t, func() { h.tree.Apply(h.tree.LastZxid(), Txn{Type: wire.OpCloseSession}) })
}
