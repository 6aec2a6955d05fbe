package tree

import "encoding/binary"

// The tree digest is the wrapping sum of one 64-bit hash per znode and per session, so it
// can be kept up to date incrementally: every mutation subtracts the old hash of each node
// it touches and adds the new one (ZooKeeper 3.6+ keeps a digest the same way, as a sum of
// per-node CRCs, DigestCalculator). Two replicas that applied the same txns have the same
// digest; comparing it after every txn catches divergence at the txn that caused it.

const (
	fnvOffset64 uint64 = 14695981039346656037
	fnvPrime64  uint64 = 1099511628211
)

// hasher is FNV-1a, finished with murmur3's fmix64 so that the sum of many hashes stays
// well distributed.
type hasher uint64

func newHasher() hasher { return hasher(fnvOffset64) }

// bytes mixes 8 bytes per step (FNV-1a over 64-bit words, then bytewise for the tail):
// hashing every znode's data on every change must stay cheap.
func (h *hasher) bytes(b []byte) {
	x := uint64(*h) ^ uint64(len(b))
	for len(b) >= 8 {
		x ^= binary.LittleEndian.Uint64(b)
		x *= fnvPrime64
		x ^= x >> 29
		b = b[8:]
	}
	for _, c := range b {
		x ^= uint64(c)
		x *= fnvPrime64
	}
	*h = hasher(x)
}

func (h *hasher) string(s string) {
	x := uint64(*h)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= fnvPrime64
	}
	*h = hasher(x)
}

func (h *hasher) u64(v uint64) {
	x := (uint64(*h) ^ v) * fnvPrime64
	*h = hasher(x ^ x>>29)
}

func (h hasher) sum() uint64 {
	x := uint64(h)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func hashBytes(b []byte) uint64 {
	h := newHasher()
	h.bytes(b)
	return h.sum()
}

// nodeHash covers everything observable about the node at path: data (null distinct from
// empty), every stored Stat field, the child count and the ACL list's content.
func (t *Tree) nodeHash(path string, n *znode) uint64 {
	h := newHasher()
	h.string(path)
	h.u64(0)
	if n.data == nil {
		h.u64(1)
	} else {
		h.u64(2)
		h.bytes(n.data)
	}
	h.u64(uint64(n.czxid))
	h.u64(uint64(n.mzxid))
	h.u64(uint64(n.pzxid))
	h.u64(uint64(n.ctime))
	h.u64(uint64(n.mtime))
	h.u64(uint64(n.owner))
	h.u64(uint64(uint32(n.version))<<32 | uint64(uint32(n.creates)))
	h.u64(uint64(uint32(n.aversion))<<32 | uint64(uint32(n.children.len())))
	h.u64(t.acls.hashOf(n.acl))
	return h.sum()
}

func sessionHash(id int64, timeoutMs int32) uint64 {
	h := newHasher()
	h.u64(0x5e55)
	h.u64(uint64(id))
	h.u64(uint64(uint32(timeoutMs)))
	return h.sum()
}

// Digest is the current digest of the whole replicated state (znodes and sessions).
func (t *Tree) Digest() uint64 { return t.digest }
