package tree

import (
	"fmt"
	"slices"

	"github.com/zabkit/zabkit/zab/wire"
)

// Apply applies a committed txn at zxid on this replica (DataTree.processTxn) and returns the
// reply for the requesting session and the watch triggers, in firing order. zxids must grow.
// Every replica applying the same txns in the same order reaches the same tree, digest and
// snapshot bytes. A txn that cannot apply (a parent missing, a node already there) means
// Prepare and Apply disagree or the log is corrupt: it panics with the state.
func (t *Tree) Apply(zxid int64, txn Txn) Applied {
	if zxid <= t.lastZxid {
		panic(fmt.Sprintf("tree: Apply at zxid %#x after %#x", zxid, t.lastZxid))
	}
	out := Applied{Zxid: zxid, SessionID: txn.SessionID, Cxid: txn.Cxid, Type: txn.Type}
	switch txn.Type {
	case wire.OpCreateSession:
		t.addSession(txn.SessionID, txn.TimeoutMs)
	case wire.OpCloseSession:
		t.closeSession(zxid, txn.SessionID, &out.Events)
	case wire.OpError:
		out.Err = txn.Err
	case wire.OpMulti:
		out.Body = t.applyMulti(zxid, &txn, &out.Events)
	default:
		res := t.applyOp(zxid, txn.TimeMs, &txn, &out.Events)
		out.Body = res.Body
	}
	t.lastZxid = zxid
	t.pending.appliedThrough(zxid)
	if t.pending.zxid < zxid {
		t.pending.zxid = zxid
	}
	return out
}

func (t *Tree) applyMulti(zxid int64, txn *Txn, events *[]Event) *wire.MultiResponse {
	results := make([]wire.MultiResult, 0, len(txn.Ops))
	failed := slices.ContainsFunc(txn.Ops, func(x Txn) bool { return x.Type == wire.OpError })
	if failed {
		for _, sub := range txn.Ops {
			if sub.Type != wire.OpError {
				panic(fmt.Sprintf("tree: failed multi at zxid %#x mixes error and op %d", zxid, sub.Type))
			}
			results = append(results, wire.MultiResult{Type: wire.OpError, Err: sub.Err})
		}
		return &wire.MultiResponse{Results: results}
	}
	// A create2 sub-op was prepared as a create (MultiCreateOp), so its result is a create
	// result, path only, as Apache ZooKeeper 3.8.0's.
	for i := range txn.Ops {
		results = append(results, t.applyOp(zxid, txn.TimeMs, &txn.Ops[i], events))
	}
	return &wire.MultiResponse{Results: results}
}

// applyOp applies one create/delete/setData/setACL/check and returns its multi-style result;
// the top-level reply uses its Body.
func (t *Tree) applyOp(zxid, timeMs int64, x *Txn, events *[]Event) wire.MultiResult {
	switch x.Type {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		slot := t.acls.intern(x.ACL)
		n := t.createNode(x.Path, slices.Clone(x.Data), slot, x.Owner, zxid, timeMs)
		t.trackReapable(x.Path, n.owner)
		parentPath, _, _ := splitPath(x.Path)
		parent := t.mustLookup(parentPath)
		*events = append(*events,
			Event{Type: wire.EventNodeCreated, Path: x.Path, ACL: t.acls.get(n.acl)},
			Event{Type: wire.EventNodeChildrenChanged, Path: parentPath, ACL: t.acls.get(parent.acl)})
		if x.Type == wire.OpCreate {
			return wire.MultiResult{Type: wire.OpCreate, Body: &wire.CreateResponse{Path: x.Path}}
		}
		return wire.MultiResult{Type: wire.OpCreate2,
			Body: &wire.Create2Response{Path: x.Path, Stat: t.stat(n)}}
	case wire.OpDelete, wire.OpDeleteContainer:
		t.deleteWithEvents(zxid, x.Path, events)
		return wire.MultiResult{Type: wire.OpDelete}
	case wire.OpSetData:
		n := t.mustLookup(x.Path)
		if x.Version != nextVersion(n.version) {
			panic(fmt.Sprintf("tree: setData %q at zxid %#x to version %d, node is at %d",
				x.Path, zxid, x.Version, n.version))
		}
		n = t.setNodeData(x.Path, slices.Clone(x.Data), x.Version, zxid, timeMs)
		*events = append(*events, Event{Type: wire.EventNodeDataChanged, Path: x.Path, ACL: t.acls.get(n.acl)})
		return wire.MultiResult{Type: wire.OpSetData,
			Body: &wire.SetDataResponse{Stat: t.stat(n)}}
	case wire.OpSetACL:
		n := t.setNodeACL(x.Path, t.acls.intern(x.ACL), x.Version)
		return wire.MultiResult{Type: wire.OpSetACL,
			Body: &wire.SetACLResponse{Stat: t.stat(n)}}
	case wire.OpCheck:
		t.mustLookup(x.Path)
		return wire.MultiResult{Type: wire.OpCheck}
	}
	panic(fmt.Sprintf("tree: Apply of txn type %d at zxid %#x", x.Type, zxid))
}

// deleteWithEvents deletes a node and records NodeDeleted for it and NodeChildrenChanged for
// its parent (DataTree.deleteNode); the deleted node's ACL filters the first.
func (t *Tree) deleteWithEvents(zxid int64, path string, events *[]Event) {
	n := t.mustLookup(path)
	acl := t.acls.get(n.acl)
	t.deleteNode(path, zxid)
	t.untrackReapable(path, n.owner)
	parentPath, _, _ := splitPath(path)
	parent := t.mustLookup(parentPath)
	*events = append(*events,
		Event{Type: wire.EventNodeDeleted, Path: path, ACL: acl},
		Event{Type: wire.EventNodeChildrenChanged, Path: parentPath, ACL: t.acls.get(parent.acl)})
}

// closeSession deletes the session's ephemerals in Apache's order (closeOrder) and forgets the
// session, in one txn (DataTree.killSession). An unknown session is a no-op: expiry and close can race.
func (t *Tree) closeSession(zxid, id int64, events *[]Event) {
	s := t.sessions[id]
	if s == nil {
		return
	}
	for _, path := range t.closeOrder(s) {
		t.deleteWithEvents(zxid, path, events)
	}
	delete(t.sessions, id)
	t.digest -= sessionHash(id, s.timeoutMs)
}
