package tree

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
)

// Config holds the settings every replica must share: they change what txns do, so two
// replicas with different settings would diverge.
type Config struct {
	// ExtendedTypesEnabled allows TTL nodes (zookeeper.extendedTypesEnabled, default false:
	// TTL creates then fail with Unimplemented).
	ExtendedTypesEnabled bool
	// DynamicConfig is the data of /zookeeper/config (the ensemble membership text in a
	// quorum; nil for a standalone server). A non-nil value also gives the node version -1,
	// as a quorum peer's ZKDatabase.initConfigInZKDatabase writes it (setData with version
	// -1 and mzxid = the configuration's version, 0 for a static zoo.cfg).
	DynamicConfig []byte
}

// Tree is the replicated state: znodes, interned ACLs, sessions and the running digest,
// plus, on a leader, the outstanding changes of prepared but not yet applied txns.
type Tree struct {
	cfg       Config
	root      *znode
	acls      *aclTable
	sessions  map[int64]*session
	nodeCount int
	// dataBytes is ZooKeeper's approximate data size: the sum over nodes of path length plus
	// data length (DataTree.nodeDataSize). Derived, so neither digested nor snapshotted.
	dataBytes int64
	digest    uint64
	lastZxid  int64
	// reapable holds the paths of containers and TTL nodes (DataTree.containers and
	// DataTree.ttls): derived from the nodes, so neither digested nor snapshotted.
	reapable map[string]struct{}

	pending outstanding // leader-only; never part of the snapshot or digest

	// configNode is /zookeeper/config, which can never be deleted (isSystemPath).
	configNode *znode
	// configWrittenMs is when this server last wrote its configuration into configNode
	// (ConfigWritten): server-local, like Apache's, so neither digested nor snapshotted.
	configWrittenMs int64
	// owned is nil until the first Freeze; then it holds the nodes created or copied since
	// the last Freeze. Every other node may be shared with a View, so it is copied before
	// it changes, and so is each ancestor up to the root (view.go).
	owned map[*znode]struct{}
}

// session is a live session as replicated state (SessionTrackerImpl + DataTree.ephemerals).
type session struct {
	timeoutMs  int32
	ephemerals map[string]struct{}
}

// New returns the tree of a fresh server: the root, /zookeeper, /zookeeper/quota and
// /zookeeper/config with the Stats of zk-protocol.md §5.2 (all zxids and times 0; / reports
// cversion -1 and /zookeeper -2 because they were wired in without bumping create counters;
// /zookeeper/config is world READ with aversion -1, set by a setACL with version -1 at
// start-up).
func New(cfg Config) *Tree {
	t := &Tree{
		cfg:      cfg,
		acls:     newACLTable(),
		sessions: make(map[int64]*session),
	}
	t.pending.init()
	t.root = &znode{data: []byte{}, acl: t.acls.intern(OpenACL)}
	t.nodeCount = 1
	t.dataBytes = nodeSizeBytes("/", t.root.data)
	t.digest = t.nodeHash("/", t.root)
	t.insertSystemNode("/zookeeper", []byte{}, t.acls.intern(OpenACL), 0)
	t.insertSystemNode("/zookeeper/quota", []byte{}, t.acls.intern(OpenACL), 0)
	config := slices.Clone(cfg.DynamicConfig)
	configVersion := int32(0)
	if config == nil {
		config = []byte{}
	} else {
		configVersion = -1
	}
	t.configNode = t.insertSystemNode("/zookeeper/config", config, t.acls.intern(ReadACL), -1)
	t.setNodeData("/zookeeper/config", config, configVersion, 0, 0)
	return t
}

// ConfigWritten records that this server wrote its configuration into /zookeeper/config at
// timeMs: the node's Stat then reports that mtime (or a later one a txn gave it). A quorum
// peer of Apache ZooKeeper 3.8 does this with its own wall clock when it starts
// (QuorumPeerMain → ZKDatabase.initConfigInZKDatabase) and whenever it syncs with a leader
// as a learner (Learner.syncWithLeader), and a standalone server never, so the mtime is
// local to each server and is kept out of the digest (Apache's DigestCalculator skips the
// /zookeeper/ subtree) and out of the snapshot: replicas that applied the same txns still
// agree byte for byte.
func (t *Tree) ConfigWritten(timeMs int64) { t.configWrittenMs = timeMs }

// stat is n's Stat as a client sees it.
func (t *Tree) stat(n *znode) wire.Stat {
	s := n.stat(t.cfg.ExtendedTypesEnabled)
	if n == t.configNode {
		s.Mtime = max(s.Mtime, t.configWrittenMs)
	}
	return s
}

// insertSystemNode links a node without touching the parent's counters or zxids, as the
// DataTree constructor does.
func (t *Tree) insertSystemNode(path string, data []byte, acl uint32, aversion int32) *znode {
	parentPath, name, _ := splitPath(path)
	parent := t.mustLookup(parentPath)
	n := &znode{name: name, data: data, acl: acl, aversion: aversion}
	t.digest -= t.nodeHash(parentPath, parent)
	_, chunk, i := parent.children.find(name)
	parent.children.insert(chunk, i, n)
	t.digest += t.nodeHash(parentPath, parent)
	t.digest += t.nodeHash(path, n)
	t.nodeCount++
	t.dataBytes += nodeSizeBytes(path, data)
	return n
}

// Config returns the settings the tree was created with.
func (t *Tree) Config() Config { return t.cfg }

// LastZxid is the zxid of the last applied txn (0 for a fresh tree).
func (t *Tree) LastZxid() int64 { return t.lastZxid }

// ApproximateDataSize is what ZooKeeper's mntr reports as zk_approximate_data_size: the sum
// over every znode of its path length and data length, in bytes (DataTree.getNodeSize; Java
// counts the path in chars, so it differs for paths outside ASCII).
func (t *Tree) ApproximateDataSize() int64 { return t.dataBytes }

// EphemeralCount is the number of ephemeral znodes (mntr's zk_ephemerals_count).
func (t *Tree) EphemeralCount() int {
	total := 0
	for _, s := range t.sessions {
		total += len(s.ephemerals)
	}
	return total
}

func nodeSizeBytes(path string, data []byte) int64 { return int64(len(path) + len(data)) }

// NodeCount is the number of znodes, the root and system nodes included. (ZooKeeper's
// "Node count" in srvr/mntr is one more: its map holds the root under "" and "/".)
func (t *Tree) NodeCount() int { return t.nodeCount }

// lookup finds the node at path without validating it: a malformed path simply finds
// nothing, as DataTree.getNode does. "" names the root (DataTree maps "" to the root too).
func (t *Tree) lookup(path string) *znode { return t.walk(path, false) }

// walk finds the node at path one name at a time; owning replaces each node on the way by
// the tree's private copy (writable's copy-on-write after a Freeze), so lookup and writable
// share one walk.
func (t *Tree) walk(path string, owning bool) *znode {
	if path == "" || path == "/" {
		return t.root
	}
	if path[0] != '/' {
		return nil
	}
	n := t.root
	rest := path[1:]
	for depthMax := len(path); depthMax > 0; depthMax-- {
		name, tail, more := strings.Cut(rest, "/")
		c, chunk, i := n.children.find(name)
		if c == nil {
			return nil
		}
		if owning {
			if owned := t.own(c); owned != c {
				n.children.chunks[chunk][i] = owned
				c = owned
			}
		}
		if !more {
			return c
		}
		n, rest = c, tail
	}
	return nil
}

func (t *Tree) mustLookup(path string) *znode {
	n := t.lookup(path)
	if n == nil {
		panic(fmt.Sprintf("tree: invariant broken: node %q missing (last zxid %#x, %d nodes)",
			path, t.lastZxid, t.nodeCount))
	}
	return n
}

// createNode adds a node below an existing parent; the caller has validated everything and
// already holds one reference on aclSlot. It maintains the parent's create counter and pzxid,
// the owning session's ephemeral set and the digest.
func (t *Tree) createNode(path string, data []byte, aclSlot uint32, owner, zxid, timeMs int64) *znode {
	parentPath, name, ok := splitPath(path)
	parent := t.writable(parentPath)
	if !ok || parent == nil || name == "" {
		panic(fmt.Sprintf("tree: invariant broken: create %q at zxid %#x: no parent", path, zxid))
	}
	existing, chunk, i := parent.children.find(name)
	if existing != nil {
		panic(fmt.Sprintf("tree: invariant broken: create %q at zxid %#x: node exists", path, zxid))
	}
	n := &znode{
		name:  name,
		data:  data,
		czxid: zxid, mzxid: zxid, pzxid: zxid,
		ctime: timeMs, mtime: timeMs,
		owner: owner,
		acl:   aclSlot,
	}
	if t.owned != nil {
		t.owned[n] = struct{}{}
	}
	t.digest -= t.nodeHash(parentPath, parent)
	parent.children.insert(chunk, i, n)
	parent.creates++
	parent.pzxid = max(parent.pzxid, zxid)
	t.digest += t.nodeHash(parentPath, parent)
	t.digest += t.nodeHash(path, n)
	t.nodeCount++
	t.dataBytes += nodeSizeBytes(path, data)
	if ownerKind(owner, t.cfg.ExtendedTypesEnabled) == kindEphemeral {
		s := t.sessions[owner]
		if s == nil {
			panic(fmt.Sprintf("tree: invariant broken: ephemeral %q at zxid %#x owned by unknown session %#x",
				path, zxid, owner))
		}
		s.ephemerals[path] = struct{}{}
	}
	return n
}

// deleteNode removes a childless node. The parent's create counter is untouched (its
// reported cversion still rises because numChildren drops); pzxid moves forward only, as in
// DataTree.deleteNode.
func (t *Tree) deleteNode(path string, zxid int64) *znode {
	parentPath, name, ok := splitPath(path)
	parent := t.writable(parentPath)
	var n *znode
	var chunk, i int
	if ok && parent != nil {
		n, chunk, i = parent.children.find(name)
	}
	if n == nil || n.children.len() != 0 {
		panic(fmt.Sprintf("tree: invariant broken: delete %q at zxid %#x: missing or has children", path, zxid))
	}
	t.digest -= t.nodeHash(path, n)
	t.digest -= t.nodeHash(parentPath, parent)
	parent.children.remove(chunk, i)
	parent.pzxid = max(parent.pzxid, zxid)
	t.digest += t.nodeHash(parentPath, parent)
	t.nodeCount--
	t.dataBytes -= nodeSizeBytes(path, n.data)
	delete(t.owned, n) // no longer the tree's: the set would keep it alive until the next Freeze
	t.acls.release(n.acl)
	if ownerKind(n.owner, t.cfg.ExtendedTypesEnabled) == kindEphemeral {
		if s := t.sessions[n.owner]; s != nil {
			delete(s.ephemerals, path)
		}
	}
	return n
}

// setNodeData changes the data of the node at path and returns the node (a copy, when the
// old one is shared with a View).
func (t *Tree) setNodeData(path string, data []byte, version int32, zxid, timeMs int64) *znode {
	n := t.mustWritable(path)
	t.digest -= t.nodeHash(path, n)
	t.dataBytes += int64(len(data)) - int64(len(n.data))
	n.data = data
	n.version = version
	n.mzxid = zxid
	n.mtime = timeMs
	t.digest += t.nodeHash(path, n)
	return n
}

// setNodeACL changes the ACL of the node at path and returns the node (see setNodeData).
func (t *Tree) setNodeACL(path string, aclSlot uint32, aversion int32) *znode {
	n := t.mustWritable(path)
	t.digest -= t.nodeHash(path, n)
	t.acls.release(n.acl)
	n.acl = aclSlot
	n.aversion = aversion
	t.digest += t.nodeHash(path, n)
	return n
}

func (t *Tree) addSession(id int64, timeoutMs int32) {
	if _, ok := t.sessions[id]; ok {
		panic(fmt.Sprintf("tree: invariant broken: session %#x created twice", id))
	}
	t.sessions[id] = &session{timeoutMs: timeoutMs, ephemerals: make(map[string]struct{})}
	t.digest += sessionHash(id, timeoutMs)
}

// sortedEphemerals lists a session's ephemerals in byte order: the order close/expiry deletes
// them, so every replica fires the same events in the same order.
func (s *session) sortedEphemerals() []string {
	paths := make([]string, 0, len(s.ephemerals))
	for p := range s.ephemerals {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

// Sessions lists the live sessions' ids in increasing order.
func (t *Tree) Sessions() []int64 {
	ids := make([]int64, 0, len(t.sessions))
	for id := range t.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// SessionTimeoutMs returns a live session's negotiated timeout.
func (t *Tree) SessionTimeoutMs(id int64) (int32, bool) {
	s, ok := t.sessions[id]
	if !ok {
		return 0, false
	}
	return s.timeoutMs, true
}
