package tree

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
)

// Request is a write request as the leader receives it.
type Request struct {
	SessionID int64
	Cxid      int32
	// Zxid is the zxid the leader will propose the resulting txn under; it must grow from
	// one Prepare to the next.
	Zxid int64
	// TimeMs is the leader's wall clock in ms: ctime/mtime of what the txn creates or changes.
	TimeMs int64
	// Auth holds the ids of the requesting connection (ip:<address> first, then every id
	// added by auth packets).
	Auth []wire.Id
	Type wire.OpCode
	// Body is the request record: *wire.CreateRequest (create, create2, createContainer),
	// *wire.CreateTTLRequest, *wire.DeleteRequest (delete; also deleteContainer, whose
	// Version is ignored), *wire.SetDataRequest, *wire.SetACLRequest,
	// *wire.MultiRequest; nil for createSession and closeSession.
	Body wire.Record
	// TimeoutMs is the negotiated timeout of a createSession.
	TimeoutMs int32
}

// Prepare turns a write request into the txn the leader proposes, checking it against the
// applied tree plus every outstanding change, with ZooKeeper's checks in ZooKeeper's order
// (PrepRequestProcessor, zk-protocol.md §4.5). A request that fails becomes an OpError txn
// carrying the code (a failed multi becomes a multi of error results, §10.3); either way the
// txn must be proposed at req.Zxid, and its changes are outstanding until applied.
func (t *Tree) Prepare(req Request) Txn {
	if req.Zxid <= t.pending.zxid || req.Zxid <= t.lastZxid {
		panic(fmt.Sprintf("tree: Prepare at zxid %#x after prepared %#x / applied %#x",
			req.Zxid, t.pending.zxid, t.lastZxid))
	}
	t.pending.zxid = req.Zxid
	p := prep{t: t, req: &req, scratch: make(map[string]nodeState)}
	txn := Txn{Type: req.Type, SessionID: req.SessionID, Cxid: req.Cxid, TimeMs: req.TimeMs}
	var err wire.Err
	switch req.Type {
	case wire.OpCreateSession:
		err = p.createSession()
		txn.TimeoutMs = req.TimeoutMs
	case wire.OpCloseSession:
		p.closeSession()
	case wire.OpMulti:
		body, ok := req.Body.(*wire.MultiRequest)
		if !ok {
			err = wire.ErrMarshallingError
			break
		}
		txn.Ops, err = p.multi(body.Ops)
	default:
		var sub Txn
		sub, err = p.op(req.Type, req.Body)
		if err == wire.ErrOK {
			sub.SessionID, sub.Cxid, sub.TimeMs = txn.SessionID, txn.Cxid, txn.TimeMs
			txn = sub
		}
	}
	if err != wire.ErrOK {
		return Txn{Type: wire.OpError, SessionID: req.SessionID, Cxid: req.Cxid, TimeMs: req.TimeMs, Err: err}
	}
	p.commit()
	return txn
}

// prep is one Prepare call: changes go to scratch first so a failing multi leaves nothing
// behind (PrepRequestProcessor.rollbackPendingChanges).
type prep struct {
	t       *Tree
	req     *Request
	scratch map[string]nodeState
	order   []string // scratch keys in first-change order
	closing bool
	opened  bool
}

func (p *prep) get(path string) nodeState {
	if s, ok := p.scratch[path]; ok {
		return s
	}
	if c, ok := p.t.pending.nodes[path]; ok {
		return c.state
	}
	n := p.t.lookup(path)
	if n == nil {
		return nodeState{}
	}
	return nodeState{
		exists:      true,
		owner:       n.owner,
		version:     n.version,
		aversion:    n.aversion,
		creates:     n.creates,
		numChildren: int32(n.children.len()),
		acl:         p.t.acls.get(n.acl),
	}
}

func (p *prep) put(path string, s nodeState) {
	if _, ok := p.scratch[path]; !ok {
		p.order = append(p.order, path)
	}
	p.scratch[path] = s
}

func (p *prep) commit() {
	o := &p.t.pending
	zxid := p.req.Zxid
	for _, path := range p.order {
		o.nodes[path] = change{zxid: zxid, state: p.scratch[path]}
		o.record(zxid, logEntry{path: path, what: entryNode})
	}
	if p.closing {
		o.closing[p.req.SessionID] = zxid
		o.record(zxid, logEntry{session: p.req.SessionID, what: entryClosing})
	}
	if p.opened {
		delete(o.closing, p.req.SessionID) // an id reused after its close was prepared
		o.opened[p.req.SessionID] = zxid
		o.record(zxid, logEntry{session: p.req.SessionID, what: entryOpened})
	}
}

// sessionLive is SessionTracker.checkSession: a session that is unknown, or whose close or
// expiry is already prepared, gets SessionExpired (ZOOKEEPER-1208: nothing may be ordered
// after a session's close).
func (p *prep) sessionLive() wire.Err {
	id := p.req.SessionID
	if p.closing {
		return wire.ErrSessionExpired
	}
	if _, ok := p.t.pending.closing[id]; ok {
		return wire.ErrSessionExpired
	}
	if _, ok := p.t.sessions[id]; ok {
		return wire.ErrOK
	}
	if _, ok := p.t.pending.opened[id]; ok {
		return wire.ErrOK
	}
	return wire.ErrSessionExpired
}

func (p *prep) createSession() wire.Err {
	id := p.req.SessionID
	_, applied := p.t.sessions[id]
	_, prepared := p.t.pending.opened[id]
	_, closing := p.t.pending.closing[id]
	if id == 0 || (applied || prepared) && !closing || p.req.TimeoutMs <= 0 {
		// The caller allocates unique, non-zero ids and negotiates a positive timeout.
		return wire.ErrBadArguments
	}
	p.opened = true
	return wire.ErrOK
}

// closeSession prepares the deletion of every ephemeral the session will own once the
// outstanding changes apply (PrepRequestProcessor's closeSession case), and marks it closing.
// Closing an unknown session is not an error: expiry and an explicit close can race.
func (p *prep) closeSession() {
	id := p.req.SessionID
	candidates := make(map[string]struct{})
	if s := p.t.sessions[id]; s != nil {
		for path := range s.ephemerals {
			candidates[path] = struct{}{}
		}
	}
	for path, c := range p.t.pending.nodes {
		if c.state.owner == id {
			candidates[path] = struct{}{}
		}
	}
	paths := make([]string, 0, len(candidates))
	for path := range candidates {
		if s := p.get(path); s.exists && s.owner == id {
			paths = append(paths, path)
		}
	}
	slices.Sort(paths)
	for _, path := range paths {
		parentPath, _, _ := splitPath(path)
		parent := p.get(parentPath)
		parent.numChildren--
		p.put(parentPath, parent)
		p.put(path, nodeState{})
	}
	p.closing = true
}

// multi prepares each op against the state left by the ops before it. On the first failure
// nothing is kept and the results are ok / the code / RuntimeInconsistency (§10.3).
func (p *prep) multi(ops []wire.MultiOp) ([]Txn, wire.Err) {
	subs := make([]Txn, 0, len(ops))
	for i, op := range ops {
		switch op.Type {
		case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL,
			wire.OpDelete, wire.OpSetData, wire.OpCheck:
		default:
			// Read ops or anything else cannot be in a write multi (MultiOperationRecord).
			return nil, wire.ErrMarshallingError
		}
		if MultiOpUnmarshallable(op.Type, op.Body) {
			return nil, wire.ErrMarshallingError
		}
		typ, body := MultiCreateOp(op.Type, op.Body)
		sub, err := p.op(typ, body)
		if err == wire.ErrOK {
			subs = append(subs, sub)
			continue
		}
		clear(p.scratch)
		p.order = p.order[:0]
		failed := make([]Txn, len(ops))
		for j := range failed {
			code := wire.ErrOK
			switch {
			case j == i:
				code = err
			case j > i:
				code = wire.ErrRuntimeInconsistency
			}
			failed[j] = Txn{Type: wire.OpError, Err: code}
		}
		return failed, wire.ErrOK
	}
	return subs, wire.ErrOK
}

// op prepares one create/delete/setData/setACL/check/deleteContainer.
func (p *prep) op(typ wire.OpCode, body wire.Record) (Txn, wire.Err) {
	switch typ {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer:
		if r, ok := body.(*wire.CreateRequest); ok {
			return p.create(typ, r.Path, r.Data, r.ACL, r.Flags, -1)
		}
	case wire.OpCreateTTL:
		if r, ok := body.(*wire.CreateTTLRequest); ok {
			return p.create(typ, r.Path, r.Data, r.ACL, r.Flags, r.TTLMs)
		}
	case wire.OpDelete:
		if r, ok := body.(*wire.DeleteRequest); ok {
			return p.delete(r.Path, r.Version)
		}
	case wire.OpDeleteContainer:
		if r, ok := body.(*wire.DeleteRequest); ok {
			return p.deleteContainer(r.Path)
		}
	case wire.OpSetData:
		if r, ok := body.(*wire.SetDataRequest); ok {
			return p.setData(r.Path, r.Data, r.Version)
		}
	case wire.OpSetACL:
		if r, ok := body.(*wire.SetACLRequest); ok {
			return p.setACL(r.Path, r.ACL, r.Version)
		}
	case wire.OpCheck:
		if r, ok := body.(*wire.CheckVersionRequest); ok {
			return p.check(r.Path, r.Version)
		}
	default:
		return Txn{}, wire.ErrUnimplemented
	}
	return Txn{}, wire.ErrMarshallingError
}

// create is PrepRequestProcessor.pRequest2TxnCreate; the numbered steps are §4.5's.
func (p *prep) create(typ wire.OpCode, path string, data []byte, acl []wire.ACL,
	flags wire.CreateMode, ttlMs int64) (Txn, wire.Err) {
	// 1-2. Mode and TTL (CreateMode.fromFlag, validateCreateRequest, EphemeralType.validateTTL).
	// Inside a multi too an unknown mode is this op's BadArguments, not a MarshallingError of
	// the request: Apache 3.8.0's MultiOperationRecord decodes it (Op.create falls back to
	// PERSISTENT) and only pRequest2TxnCreate's fromFlag refuses it.
	if flags < wire.ModePersistent || flags > wire.ModePersistentSequentialWithTTL {
		return Txn{}, wire.ErrBadArguments
	}
	isTTL := flags == wire.ModePersistentWithTTL || flags == wire.ModePersistentSequentialWithTTL
	if isTTL && !p.t.cfg.ExtendedTypesEnabled {
		return Txn{}, wire.ErrUnimplemented
	}
	if isTTL && (ttlMs <= 0 || ttlMs > ttlMaxMs) {
		return Txn{}, wire.ErrBadArguments
	}
	if !isTTL && ttlMs >= 0 {
		// EphemeralType.validateTTL: a TTL with a mode that has none (only createTTL
		// carries one; the other creates pass -1).
		return Txn{}, wire.ErrBadArguments
	}
	if err := p.sessionLive(); err != wire.ErrOK {
		return Txn{}, err
	}
	// 3. validatePathForCreate: a slash and no NUL.
	if strings.IndexByte(path, 0) >= 0 || strings.IndexByte(path, '/') < 0 {
		return Txn{}, wire.ErrBadArguments
	}
	parentPath, _, _ := splitPath(path)
	// 4. ACL fix-up.
	fixed, err := fixupACL(acl, p.req.Auth)
	if err != wire.ErrOK {
		return Txn{}, err
	}
	// 5-6. Parent and its CREATE permission.
	parent := p.get(parentPath)
	if !parent.exists {
		return Txn{}, wire.ErrNoNode
	}
	if !Permitted(parent.acl, wire.PermCreate, p.req.Auth) {
		return Txn{}, wire.ErrNoAuth
	}
	// 7. Sequential suffix from the parent's raw create counter.
	sequential := flags == wire.ModePersistentSequential || flags == wire.ModeEphemeralSequential ||
		flags == wire.ModePersistentSequentialWithTTL
	if sequential {
		path += fmt.Sprintf("%010d", parent.creates)
	}
	// 8-10. Final path, existence, ephemeral parent.
	if !ValidPath(path) {
		return Txn{}, wire.ErrBadArguments
	}
	if p.get(path).exists {
		return Txn{}, wire.ErrNodeExists
	}
	if ownerKind(parent.owner, p.t.cfg.ExtendedTypesEnabled) == kindEphemeral {
		return Txn{}, wire.ErrNoChildrenForEphemerals
	}
	if !isTTL && typ == wire.OpCreateTTL {
		// A createTTL with a mode that has no TTL and a negative ttl passes every check
		// above; Apache ZooKeeper 3.8.0 then builds a TTL txn that cannot be applied and
		// closes the connection without a reply. zabd refuses it here instead
		// (conformance/README.md, "Known differences").
		return Txn{}, wire.ErrBadArguments
	}
	// The applied txn type decides the node kind, as in DataTree.processTxn: opcode 19 is
	// always a container, and opcode 1/15 with flag 4 a plain persistent node (§4.5 quirk).
	var owner int64
	switch {
	case typ == wire.OpCreateContainer:
		owner = containerOwner
	case isTTL:
		owner = ttlOwner(ttlMs)
	case flags == wire.ModeEphemeral || flags == wire.ModeEphemeralSequential:
		owner = p.req.SessionID
	}
	parent.creates++
	parent.numChildren++
	p.put(parentPath, parent)
	p.put(path, nodeState{exists: true, owner: owner, acl: fixed})
	return Txn{Type: typ, Path: path, Data: data, ACL: fixed, Owner: owner}, wire.ErrOK
}

// getParentPathAndValidate: delete and deleteContainer need a slash, no NUL, and not a
// system node.
func deletablePath(path string) (string, bool) {
	parentPath, _, ok := splitPath(path)
	if !ok || strings.IndexByte(path, 0) >= 0 || isSystemPath(path) {
		return "", false
	}
	return parentPath, true
}

func (p *prep) delete(path string, version int32) (Txn, wire.Err) {
	if err := p.sessionLive(); err != wire.ErrOK {
		return Txn{}, err
	}
	parentPath, ok := deletablePath(path)
	if !ok {
		return Txn{}, wire.ErrBadArguments
	}
	parent := p.get(parentPath)
	if !parent.exists {
		return Txn{}, wire.ErrNoNode
	}
	if !Permitted(parent.acl, wire.PermDelete, p.req.Auth) {
		return Txn{}, wire.ErrNoAuth
	}
	node := p.get(path)
	if !node.exists {
		return Txn{}, wire.ErrNoNode
	}
	if version != -1 && version != node.version {
		return Txn{}, wire.ErrBadVersion
	}
	if node.numChildren > 0 {
		return Txn{}, wire.ErrNotEmpty
	}
	parent.numChildren--
	p.put(parentPath, parent)
	p.put(path, nodeState{})
	return Txn{Type: wire.OpDelete, Path: path}, wire.ErrOK
}

// deleteContainer is the leader's own reaping of an empty container or expired TTL node
// (ContainerManager). ZooKeeper only refuses session ephemerals here (BadVersion); zabkit
// also refuses persistent nodes, so a reap racing with a delete and re-create of the path
// as a persistent node cannot remove it.
func (p *prep) deleteContainer(path string) (Txn, wire.Err) {
	parentPath, ok := deletablePath(path)
	if !ok {
		return Txn{}, wire.ErrBadArguments
	}
	node := p.get(path)
	if !node.exists {
		return Txn{}, wire.ErrNoNode
	}
	if node.numChildren > 0 {
		return Txn{}, wire.ErrNotEmpty
	}
	if k := ownerKind(node.owner, p.t.cfg.ExtendedTypesEnabled); k != kindContainer && k != kindTTL {
		return Txn{}, wire.ErrBadVersion
	}
	parent := p.get(parentPath)
	parent.numChildren--
	p.put(parentPath, parent)
	p.put(path, nodeState{})
	return Txn{Type: wire.OpDeleteContainer, Path: path}, wire.ErrOK
}

// existing checks, in ZooKeeper's precedence, what setData and check both require: a live
// session, a valid path, an existing node, and perm on it.
func (p *prep) existing(path string, perm wire.Perms) (nodeState, wire.Err) {
	if err := p.sessionLive(); err != wire.ErrOK {
		return nodeState{}, err
	}
	if !ValidPath(path) {
		return nodeState{}, wire.ErrBadArguments
	}
	node := p.get(path)
	if !node.exists {
		return nodeState{}, wire.ErrNoNode
	}
	if !Permitted(node.acl, perm, p.req.Auth) {
		return nodeState{}, wire.ErrNoAuth
	}
	return node, wire.ErrOK
}

func (p *prep) setData(path string, data []byte, version int32) (Txn, wire.Err) {
	node, err := p.existing(path, wire.PermWrite)
	if err != wire.ErrOK {
		return Txn{}, err
	}
	if version != -1 && version != node.version {
		return Txn{}, wire.ErrBadVersion
	}
	node.version = nextVersion(node.version)
	p.put(path, node)
	return Txn{Type: wire.OpSetData, Path: path, Data: data, Version: node.version}, wire.ErrOK
}

func (p *prep) setACL(path string, acl []wire.ACL, version int32) (Txn, wire.Err) {
	if err := p.sessionLive(); err != wire.ErrOK {
		return Txn{}, err
	}
	if !ValidPath(path) {
		return Txn{}, wire.ErrBadArguments
	}
	fixed, err := fixupACL(acl, p.req.Auth)
	if err != wire.ErrOK {
		return Txn{}, err
	}
	node := p.get(path)
	if !node.exists {
		return Txn{}, wire.ErrNoNode
	}
	if !Permitted(node.acl, wire.PermAdmin, p.req.Auth) {
		return Txn{}, wire.ErrNoAuth
	}
	if version != -1 && version != node.aversion {
		return Txn{}, wire.ErrBadVersion
	}
	node.aversion = nextVersion(node.aversion)
	node.acl = fixed
	p.put(path, node)
	return Txn{Type: wire.OpSetACL, Path: path, ACL: fixed, Version: node.aversion}, wire.ErrOK
}

func (p *prep) check(path string, version int32) (Txn, wire.Err) {
	node, err := p.existing(path, wire.PermRead)
	if err != wire.ErrOK {
		return Txn{}, err
	}
	if version != -1 && version != node.version {
		return Txn{}, wire.ErrBadVersion
	}
	return Txn{Type: wire.OpCheck, Path: path, Version: version}, wire.ErrOK
}

// nextVersion is the version after v, as PrepRequestProcessor.checkAndIncVersion computes it:
// int32 arithmetic wraps, but -1 is skipped (ZOOKEEPER-4743), since a client can never ask
// for version -1 ("any version") explicitly.
func nextVersion(v int32) int32 {
	if v+1 == -1 {
		return 0
	}
	return v + 1
}

// MultiCreateOp gives a create sub-op of a multi the op code Apache ZooKeeper 3.8.0 gives it:
// its MultiOperationRecord rebuilds every create with Op.create, whose op code follows the
// create mode rather than the request. A container mode makes createContainer (19), a TTL mode
// of a createTTL sub-op stays createTTL (21), anything else becomes a plain create (1): a
// create2 (15) sub-op then answers with a path-only result (ZOOKEEPER-4026, fixed in 3.8.1), a
// createContainer sub-op without the container flag makes a persistent node, and a createTTL
// sub-op whose flags are not a TTL mode loses its TTL. A create, create2 or createContainer
// sub-op with a TTL mode keeps its type (see MultiOpUnmarshallable). Other sub-ops are
// returned as they are.
func MultiCreateOp(typ wire.OpCode, body wire.Record) (wire.OpCode, wire.Record) {
	byMode := func(flags wire.CreateMode) wire.OpCode {
		if flags == wire.ModeContainer {
			return wire.OpCreateContainer
		}
		return wire.OpCreate
	}
	switch r := body.(type) {
	case *wire.CreateTTLRequest:
		if typ == wire.OpCreateTTL && !isTTLMode(r.Flags) {
			return byMode(r.Flags), &wire.CreateRequest{Path: r.Path, Data: r.Data, ACL: r.ACL, Flags: r.Flags}
		}
	case *wire.CreateRequest:
		if (typ == wire.OpCreate || typ == wire.OpCreate2 || typ == wire.OpCreateContainer) && !isTTLMode(r.Flags) {
			return byMode(r.Flags), r
		}
	}
	return typ, body
}

func isTTLMode(flags wire.CreateMode) bool {
	return flags == wire.ModePersistentWithTTL || flags == wire.ModePersistentSequentialWithTTL
}

// MultiOpUnmarshallable reports a create, create2 or createContainer sub-op with a TTL mode:
// Apache ZooKeeper 3.8.0's Op.create turns it into a createTTL op that carries a plain
// CreateRequest, PrepRequestProcessor's cast to CreateTTLRequest throws, and the whole multi
// fails with MarshallingError (no results) — when no earlier sub-op failed first.
func MultiOpUnmarshallable(typ wire.OpCode, body wire.Record) bool {
	r, ok := body.(*wire.CreateRequest)
	return ok && isTTLMode(r.Flags) && (typ == wire.OpCreate || typ == wire.OpCreate2 || typ == wire.OpCreateContainer)
}
