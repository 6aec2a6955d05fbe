package tree

import (
	"fmt"
	"slices"

	"github.com/zabkit/zabkit/zab/wire"
)

// View is a frozen copy of a tree's replicated state, taken by Freeze in time proportional to
// the ACL lists and sessions, not the znodes: its Snapshot returns exactly what the tree's
// Snapshot returned at the Freeze, however the tree changed since. The tree and its views
// share every znode that has not changed since; a change copies the node and its ancestors
// first (copy-on-write, as a persistent tree does), so nothing a View reads is ever written
// again and a host may serialize it on another goroutine while the tree goes on. ZooKeeper
// serializes a fuzzy snapshot of a changing tree instead, and repairs it by replaying the
// log from the snapshot's start; a View is exact at its zxid.
type View struct {
	root      *znode
	acls      [][]wire.ACL // by ACL slot, as at the Freeze
	sessions  []sessionTimeout
	lastZxid  int64
	digest    uint64
	nodeCount int
	extended  bool
}

type sessionTimeout struct {
	id        int64
	timeoutMs int32
}

// Freeze returns a View of the tree as it is now. From then on each znode that changes is
// copied once before its first change (with its ancestors and, for a parent, the list of its
// child pointers), until the next Freeze.
func (t *Tree) Freeze() *View {
	v := t.view()
	t.owned = make(map[*znode]struct{})
	return v
}

// LastZxid is the zxid of the last txn applied before the Freeze.
func (v *View) LastZxid() int64 { return v.lastZxid }

// view copies what a View holds besides the znodes: the ACL lists by slot (a slot may be
// reused for another list after the Freeze) and the sessions.
func (t *Tree) view() *View {
	v := &View{root: t.root, lastZxid: t.lastZxid, digest: t.digest, nodeCount: t.nodeCount,
		extended: t.cfg.ExtendedTypesEnabled}
	v.acls = make([][]wire.ACL, len(t.acls.entries))
	for slot, e := range t.acls.entries {
		v.acls[slot] = e.acl
	}
	v.sessions = make([]sessionTimeout, 0, len(t.sessions))
	for _, id := range t.Sessions() {
		v.sessions = append(v.sessions, sessionTimeout{id: id, timeoutMs: t.sessions[id].timeoutMs})
	}
	return v
}

// writable returns the node at path, ready to change: when the tree has been frozen, a node
// that may be shared with a View is replaced by a private copy, and so is every ancestor
// (each parent's child pointer must change to the copy). nil if there is no node at path.
func (t *Tree) writable(path string) *znode {
	if t.owned == nil {
		return t.lookup(path)
	}
	t.root = t.own(t.root)
	return t.walk(path, true)
}

func (t *Tree) mustWritable(path string) *znode {
	n := t.writable(path)
	if n == nil {
		panic(fmt.Sprintf("tree: invariant broken: node %q missing (last zxid %#x, %d nodes)",
			path, t.lastZxid, t.nodeCount))
	}
	return n
}

// own returns n if the tree owns it, else an owned copy whose child chunks are copies too
// (the chunks are what insert and remove write).
func (t *Tree) own(n *znode) *znode {
	if _, ok := t.owned[n]; ok {
		return n
	}
	c := *n
	c.children.chunks = make([][]*znode, len(n.children.chunks))
	for k, chunk := range n.children.chunks {
		c.children.chunks[k] = slices.Clone(chunk)
	}
	t.owned[&c] = struct{}{}
	if n == t.configNode {
		t.configNode = &c
	}
	return &c
}
