package tree

import (
	"encoding/binary"
	"fmt"

	"github.com/zabkit/zabkit/zab/wire"
)

// aclTable interns ACL lists so that a znode holds a 4-byte reference instead of its own
// list, as ZooKeeper's ReferenceCountedACLCache does: in practice a tree holds a handful of
// distinct lists shared by millions of nodes. Entries are reference counted and their slots
// reused once unreferenced. Slot numbers depend on history, so snapshots renumber them
// (snapshot.go) to keep snapshot bytes a function of the tree alone.
type aclTable struct {
	entries []aclEntry
	byKey   map[string]uint32
	free    []uint32
}

type aclEntry struct {
	acl  []wire.ACL
	key  string // canonical encoding; "" marks a free slot
	hash uint64 // digest contribution of the list, see digest.go
	refs int64
}

func newACLTable() *aclTable {
	return &aclTable{byKey: make(map[string]uint32)}
}

// intern returns the slot of acl, adding it if new, and takes one reference.
func (t *aclTable) intern(acl []wire.ACL) uint32 {
	key := aclKey(acl)
	if slot, ok := t.byKey[key]; ok {
		t.entries[slot].refs++
		return slot
	}
	entry := aclEntry{acl: cloneACL(acl), key: key, hash: hashBytes([]byte(key)), refs: 1}
	var slot uint32
	if n := len(t.free); n > 0 {
		slot = t.free[n-1]
		t.free = t.free[:n-1]
		t.entries[slot] = entry
	} else {
		slot = uint32(len(t.entries))
		t.entries = append(t.entries, entry)
	}
	t.byKey[key] = slot
	return slot
}

// retain takes another reference to an interned slot.
func (t *aclTable) retain(slot uint32) {
	t.mustLive(slot)
	t.entries[slot].refs++
}

// release drops one reference and frees the slot when none is left.
func (t *aclTable) release(slot uint32) {
	t.mustLive(slot)
	e := &t.entries[slot]
	e.refs--
	if e.refs > 0 {
		return
	}
	delete(t.byKey, e.key)
	*e = aclEntry{}
	t.free = append(t.free, slot)
}

func (t *aclTable) get(slot uint32) []wire.ACL {
	t.mustLive(slot)
	return t.entries[slot].acl
}

func (t *aclTable) hashOf(slot uint32) uint64 {
	t.mustLive(slot)
	return t.entries[slot].hash
}

func (t *aclTable) mustLive(slot uint32) {
	if int(slot) >= len(t.entries) || t.entries[slot].refs <= 0 {
		panic(fmt.Sprintf("tree: ACL slot %d is not live (table has %d slots)", slot, len(t.entries)))
	}
}

// aclKey is the canonical encoding of an ACL list: count, then perms, scheme and id of each
// entry, length-prefixed. Order is kept: ZooKeeper returns the list in the order it stored.
func aclKey(acl []wire.ACL) string {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(acl)))
	for _, a := range acl {
		b = binary.BigEndian.AppendUint32(b, uint32(a.Perms))
		b = appendString(b, a.ID.Scheme)
		b = appendString(b, a.ID.ID)
	}
	return string(b)
}

func cloneACL(acl []wire.ACL) []wire.ACL {
	out := make([]wire.ACL, len(acl))
	copy(out, acl)
	return out
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
