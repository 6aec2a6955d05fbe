package tree

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
)

// Snapshot layout (all integers big-endian):
//
//	magic "ZKTS", format byte, extendedTypes byte, last zxid
//	ACL lists: count, then each list (as in txns), numbered by first use in node order
//	sessions: count, then (id, timeoutMs) by increasing id
//	nodes: depth-first, children in name order: name, data (-1 = null), czxid, mzxid,
//	       pzxid, ctime, mtime, owner, version, creates, aversion, ACL number, child count
//	digest, then CRC-32C of everything before it
//
// Nothing in it depends on history that the tree does not show (ACL slots are renumbered,
// maps are sorted), so equal trees give equal bytes, and the bytes of a restored tree equal
// the snapshot it came from.

var snapshotMagic = [4]byte{'Z', 'K', 'T', 'S'}

const snapshotFormat byte = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot returns the deterministic snapshot bytes of the replicated state (znodes,
// sessions, last applied zxid). Outstanding changes are leader state and are not included.
func (t *Tree) Snapshot() []byte { return t.view().Snapshot() }

// Snapshot returns the snapshot bytes of the tree as it was at the Freeze. It only reads
// what no later change of the tree writes, so it may run on another goroutine.
func (v *View) Snapshot() []byte {
	// Number ACL slots by first use in node order (numbered is indexed by slot: slots are
	// dense, and a slice lookup per node is what keeps this step short). size adds up the
	// exact encoding, so the buffer is allocated once: growing it by appends copied the
	// snapshot several times over, inside the node's Handle step (BenchmarkSnapshotStall).
	numbered := make([]uint32, len(v.acls))
	var lists [][]wire.ACL
	stack := []*znode{v.root}
	order := make([]*znode, 0, v.nodeCount)
	size := 4 + 1 + 1 + 8 + 4 + 4 + 8 + 4 + len(v.sessions)*12
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		order = append(order, n)
		size += nodeBytesMin + len(n.name) + len(n.data)
		if numbered[n.acl] == 0 {
			lists = append(lists, v.acls[n.acl])
			numbered[n.acl] = uint32(len(lists)) // number + 1; 0 = not yet numbered
			size += aclBytes(lists[len(lists)-1])
		}
		stack = n.children.appendReversed(stack)
	}
	b := make([]byte, 0, size)
	b = append(b, snapshotMagic[:]...)
	b = append(b, snapshotFormat)
	if v.extended {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(v.lastZxid))
	b = binary.BigEndian.AppendUint32(b, uint32(len(lists)))
	for _, acl := range lists {
		b = appendACL(b, acl)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(v.sessions)))
	for _, s := range v.sessions {
		b = binary.BigEndian.AppendUint64(b, uint64(s.id))
		b = binary.BigEndian.AppendUint32(b, uint32(s.timeoutMs))
	}
	for _, n := range order {
		b = appendString(b, n.name)
		b = appendData(b, n.data)
		for _, v := range [...]int64{n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime, n.owner} {
			b = binary.BigEndian.AppendUint64(b, uint64(v))
		}
		for _, v := range [...]int32{n.version, n.creates, n.aversion} {
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		}
		b = binary.BigEndian.AppendUint32(b, numbered[n.acl]-1)
		b = binary.BigEndian.AppendUint32(b, uint32(n.children.len()))
	}
	b = binary.BigEndian.AppendUint64(b, v.digest)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	if len(b) != size {
		panic(fmt.Sprintf("tree: invariant broken: snapshot of %d bytes, sized %d (%d nodes, %d ACL lists, %d sessions)",
			len(b), size, len(order), len(lists), len(v.sessions)))
	}
	return b
}

// aclBytes is the length of appendACL's encoding of acl.
func aclBytes(acl []wire.ACL) int {
	size := 4
	for _, a := range acl {
		size += 4 + 4 + len(a.ID.Scheme) + 4 + len(a.ID.ID)
	}
	return size
}

// nodeBytesMin is the smallest encoded node: empty name, null data, 6×8 + 5×4 bytes.
const nodeBytesMin = 4 + 4 + 6*8 + 5*4

// Restore rebuilds a tree from Snapshot bytes. cfg must match the settings the snapshot was
// taken with (DynamicConfig is ignored: /zookeeper/config's data and version are in the
// snapshot; its ConfigWritten mtime is not, so the restored tree reports the mtime a txn
// gave the node, 0 unless a super user wrote it, until the server calls ConfigWritten).
// Anything that is not a consistent snapshot — bad checksum, truncation, unsorted or invalid
// names, an ephemeral of an unknown session, a digest that does not match the content —
// gives an error wrapping ErrCorrupt, never a panic.
func Restore(cfg Config, b []byte) (*Tree, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: snapshot of %d bytes", ErrCorrupt, len(b))
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: snapshot checksum mismatch", ErrCorrupt)
	}
	d := decoder{b: body}
	if magic := d.take(4); d.err != nil || [4]byte(magic) != snapshotMagic || d.u8() != snapshotFormat {
		d.fail("not a tree snapshot")
		return nil, d.err
	}
	if ext := d.u8(); d.err == nil && (ext == 1) != cfg.ExtendedTypesEnabled {
		return nil, d.fail("snapshot taken with a different ExtendedTypesEnabled")
	}
	cfg.DynamicConfig = nil
	t := &Tree{cfg: cfg, acls: newACLTable(), sessions: make(map[int64]*session)}
	t.lastZxid = int64(d.u64())
	t.pending.init()
	t.pending.zxid = t.lastZxid

	nlists := d.count(4)
	lists := make([][]wire.ACL, 0, nlists)
	for i := 0; i < nlists && d.err == nil; i++ {
		// An empty list is legal state (checkACL allows everything on it), though Prepare
		// never produces one.
		lists = append(lists, d.acl())
	}
	nsessions := d.count(12)
	prev := int64(0)
	for i := 0; i < nsessions && d.err == nil; i++ {
		id, timeout := int64(d.u64()), int32(d.u32())
		if d.err != nil {
			break
		}
		if id == 0 || (i > 0 && id <= prev) {
			d.fail("sessions not sorted")
			break
		}
		prev = id
		t.addSession(id, timeout)
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := t.restoreNodes(&d, lists); err != nil {
		return nil, err
	}
	digest := d.u64()
	if d.err == nil && d.off != len(body) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	if digest != t.digest {
		return nil, fmt.Errorf("%w: snapshot digest %#x, content hashes to %#x", ErrCorrupt, digest, t.digest)
	}
	for _, path := range []string{"/zookeeper", "/zookeeper/quota", "/zookeeper/config"} {
		if t.lookup(path) == nil {
			return nil, fmt.Errorf("%w: system node %s missing", ErrCorrupt, path)
		}
	}
	t.configNode = t.lookup("/zookeeper/config")
	return t, nil
}

// restoreNodes reads the depth-first node list with an explicit stack (no recursion, so a
// deep tree cannot exhaust the goroutine stack).
func (t *Tree) restoreNodes(d *decoder, lists [][]wire.ACL) error {
	type open struct {
		n     *znode
		path  string
		left  int // children still to read
		total int
	}
	slots := make([]uint32, len(lists))
	for i, acl := range lists {
		slots[i] = t.acls.intern(acl)
	}
	var stack []open
	for first := true; first || len(stack) > 0; first = false {
		if d.err != nil {
			return d.err
		}
		if len(stack) > 0 && stack[len(stack)-1].left == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		if uint64(len(d.b)-d.off) < nodeBytesMin {
			return d.fail("truncated node list")
		}
		n := &znode{name: d.str(), data: d.data()}
		n.czxid, n.mzxid, n.pzxid = int64(d.u64()), int64(d.u64()), int64(d.u64())
		n.ctime, n.mtime, n.owner = int64(d.u64()), int64(d.u64()), int64(d.u64())
		n.version, n.creates, n.aversion = int32(d.u32()), int32(d.u32()), int32(d.u32())
		aclNumber, nchildren := d.u32(), d.count(nodeBytesMin)
		if d.err != nil {
			return d.err
		}
		if int(aclNumber) >= len(lists) {
			return d.fail("ACL number out of range")
		}
		n.acl = slots[aclNumber]
		t.acls.retain(n.acl)
		path := "/"
		if first {
			if n.name != "" {
				return d.fail("root has a name")
			}
			t.root = n
		} else {
			top := &stack[len(stack)-1]
			parent := top.n
			if strings.IndexByte(n.name, '/') >= 0 || !ValidPath("/"+n.name) {
				return d.fail("invalid node name")
			}
			if last := parent.children.last(); last != nil && last.name >= n.name {
				return d.fail("children not in name order")
			}
			parent.children.appendSorted(n)
			top.left--
			path = childPath(top.path, n.name)
		}
		t.nodeCount++
		t.dataBytes += nodeSizeBytes(path, n.data)
		switch ownerKind(n.owner, t.cfg.ExtendedTypesEnabled) {
		case kindEphemeral:
			s := t.sessions[n.owner]
			if s == nil {
				return d.fail("ephemeral owned by an unknown session")
			}
			if nchildren > 0 {
				return d.fail("ephemeral with children")
			}
			s.ephemerals[path] = struct{}{}
		case kindContainer, kindTTL:
			t.trackReapable(path, n.owner)
		}
		stack = append(stack, open{n: n, path: path, left: nchildren, total: nchildren})
	}
	// Digest after the structure is complete: a node's hash covers its child count.
	var walk []open
	walk = append(walk, open{n: t.root, path: "/"})
	for len(walk) > 0 {
		top := walk[len(walk)-1]
		walk = walk[:len(walk)-1]
		t.digest += t.nodeHash(top.path, top.n)
		for _, chunk := range top.n.children.chunks {
			for _, c := range chunk {
				walk = append(walk, open{n: c, path: childPath(top.path, c.name)})
			}
		}
	}
	for _, slot := range slots {
		t.acls.release(slot)
	}
	return nil
}
