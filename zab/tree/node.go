package tree

import (
	"math"

	"github.com/zabkit/zabkit/zab/wire"
)

// znode is one node of the tree, laid out to keep per-node overhead small (the target is at
// most 200 bytes beyond data and name for a million nodes): 128 bytes here, plus one pointer
// in the parent's childList. ZooKeeper keeps a DataNode, a StatPersisted, a full path string
// and a hash-map entry per node; this keeps neither the path nor a map entry, and finds a
// node by binary search of each level's sorted children.
type znode struct {
	name     string    // last path component; "" for the root
	data     []byte    // nil is ZooKeeper's null data (sent back as a -1 buffer)
	children childList // in name order: deterministic without sorting on read

	czxid, mzxid, pzxid int64
	ctime, mtime        int64

	// owner is StatPersisted.ephemeralOwner as ZooKeeper stores it: a session id for a
	// session ephemeral, containerOwner for a container, ttlOwnerBits|ttl for a TTL node,
	// 0 for a persistent node (EphemeralType.java).
	owner int64

	version  int32
	creates  int32 // children ever created; reported cversion is 2*creates-numChildren
	aversion int32
	acl      uint32 // slot in the tree's aclTable
}

// Ephemeral-owner markers of EphemeralType.java.
const (
	containerOwner int64  = math.MinInt64 // 0x8000000000000000
	ttlOwnerBits   uint64 = 0xff << 56    // extended type byte; type bits 0 = TTL
	ttlMaxMs       int64  = 1<<40 - 1     // EphemeralType.MAX_EXTENDED_SERVER_ID bits
)

// nodeKind is what an ephemeralOwner value encodes.
type nodeKind uint8

const (
	kindPersistent nodeKind = iota
	kindEphemeral
	kindContainer
	kindTTL
)

func ownerKind(owner int64, extendedTypes bool) nodeKind {
	switch {
	case owner == 0:
		return kindPersistent
	case owner == containerOwner:
		return kindContainer
	case extendedTypes && uint64(owner)&ttlOwnerBits == ttlOwnerBits && uint64(owner)>>40&0xffff == 0:
		return kindTTL
	default:
		return kindEphemeral
	}
}

func ttlOwner(ttlMs int64) int64 { return int64(ttlOwnerBits | uint64(ttlMs)) }

func ownerTTLMs(owner int64) int64 { return int64(uint64(owner) & uint64(ttlMaxMs)) }

// clientOwner is the ephemeralOwner a client sees: containers and TTL nodes report 0
// (DataNode.getClientEphemeralOwner).
func clientOwner(owner int64, extendedTypes bool) int64 {
	if k := ownerKind(owner, extendedTypes); k == kindContainer || k == kindTTL {
		return 0
	}
	return owner
}

// cversion is the reported child version: creates + deletes of direct children, computed
// from the raw create counter as DataNode.copyStat does (int32 arithmetic wraps like Java).
func cversion(creates int32, numChildren int) int32 {
	return creates*2 - int32(numChildren)
}

func (n *znode) stat(extendedTypes bool) wire.Stat {
	numChildren := n.children.len()
	return wire.Stat{
		Czxid:          n.czxid,
		Mzxid:          n.mzxid,
		Ctime:          n.ctime,
		Mtime:          n.mtime,
		Version:        n.version,
		Cversion:       cversion(n.creates, numChildren),
		Aversion:       n.aversion,
		EphemeralOwner: clientOwner(n.owner, extendedTypes),
		DataLength:     int32(len(n.data)),
		NumChildren:    int32(numChildren),
		Pzxid:          n.pzxid,
	}
}

// child finds the direct child called name.
func (n *znode) child(name string) *znode {
	c, _, _ := n.children.find(name)
	return c
}
