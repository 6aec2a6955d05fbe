package tree

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// harness drives a tree the way the leader and zab do: Prepare at the next zxid, replicate
// the txn as bytes, Apply the decoded txn.
type harness struct {
	t    testing.TB
	tree *Tree
	zxid int64
	now  int64
}

func newHarness(t testing.TB, cfg Config) *harness {
	return &harness{t: t, tree: New(cfg), now: 1_700_000_000_000}
}

func (h *harness) request(session int64, auth []wire.Id, typ wire.OpCode, body wire.Record) Request {
	h.zxid++
	h.now += 1000
	return Request{SessionID: session, Cxid: int32(h.zxid), Zxid: h.zxid, TimeMs: h.now, Auth: auth, Type: typ, Body: body}
}

func (h *harness) applyBytes(zxid int64, txn Txn) Applied {
	h.t.Helper()
	decoded, err := UnmarshalTxn(txn.Marshal())
	require.NoError(h.t, err, "txn %+v must survive Marshal/Unmarshal", txn)
	return h.tree.Apply(zxid, decoded)
}

func (h *harness) write(session int64, auth []wire.Id, typ wire.OpCode, body wire.Record) Applied {
	h.t.Helper()
	req := h.request(session, auth, typ, body)
	return h.applyBytes(req.Zxid, h.tree.Prepare(req))
}

func (h *harness) openSession(id int64) {
	h.t.Helper()
	req := h.request(id, nil, wire.OpCreateSession, nil)
	req.TimeoutMs = 30000
	got := h.applyBytes(req.Zxid, h.tree.Prepare(req))
	require.Equal(h.t, wire.ErrOK, got.Err, "createSession %#x", id)
}

func (h *harness) closeSession(id int64) Applied {
	h.t.Helper()
	return h.write(id, nil, wire.OpCloseSession, nil)
}

func (h *harness) create(session int64, path string, data []byte, mode wire.CreateMode) Applied {
	h.t.Helper()
	return h.write(session, nil, wire.OpCreate2, &wire.CreateRequest{Path: path, Data: data, ACL: OpenACL, Flags: mode})
}

func (h *harness) mustCreate(session int64, path string, mode wire.CreateMode) string {
	h.t.Helper()
	got := h.create(session, path, []byte("x"), mode)
	require.Equal(h.t, wire.ErrOK, got.Err, "create %s", path)
	return got.Body.(*wire.Create2Response).Path
}

func (h *harness) stat(path string) wire.Stat {
	h.t.Helper()
	resp, err := h.tree.Exists(path, nil)
	require.Equal(h.t, wire.ErrOK, err, "exists %s", path)
	return resp.Stat
}
