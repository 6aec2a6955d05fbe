package tree

import (
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
)

// Reads are answered from the applied tree by the server the client is connected to
// (FinalRequestProcessor). Paths are not validated: a malformed path is simply not found.
// Registering the watch a read asks for is the caller's job (Watches.AfterRead).

// Read dispatches a read request: exists, getData, getChildren, getChildren2, getACL,
// getAllChildrenNumber, getEphemerals and multiRead. session is the caller's session (for
// getEphemerals), ids its connection's auth ids. The body is nil whenever err is not ErrOK.
func (t *Tree) Read(typ wire.OpCode, body wire.Record, session int64, ids []wire.Id) (wire.Record, wire.Err) {
	resp, err := t.read(typ, body, session, ids)
	if err != wire.ErrOK {
		return nil, err // not a typed nil pointer
	}
	return resp, err
}

func (t *Tree) read(typ wire.OpCode, body wire.Record, session int64, ids []wire.Id) (wire.Record, wire.Err) {
	switch r := body.(type) {
	case *wire.ExistsRequest:
		if typ == wire.OpExists {
			return t.Exists(r.Path, ids)
		}
	case *wire.GetDataRequest:
		if typ == wire.OpGetData {
			return t.GetData(r.Path, ids)
		}
	case *wire.GetChildrenRequest:
		if typ == wire.OpGetChildren {
			return t.GetChildren(r.Path, ids)
		}
	case *wire.GetChildren2Request:
		if typ == wire.OpGetChildren2 {
			return t.GetChildren2(r.Path, ids)
		}
	case *wire.GetACLRequest:
		if typ == wire.OpGetACL {
			return t.GetACL(r.Path, ids)
		}
	case *wire.GetAllChildrenNumberRequest:
		if typ == wire.OpGetAllChildrenNumber {
			return t.GetAllChildrenNumber(r.Path, ids)
		}
	case *wire.GetEphemeralsRequest:
		if typ == wire.OpGetEphemerals {
			return t.GetEphemerals(session, r.PrefixPath), wire.ErrOK
		}
	case *wire.MultiRequest:
		if typ == wire.OpMultiRead {
			return t.MultiRead(r.Ops, ids)
		}
	}
	return nil, wire.ErrMarshallingError
}

// readable finds path and checks perm on it: NoNode before NoAuth.
func (t *Tree) readable(path string, perm wire.Perms, ids []wire.Id) (*znode, wire.Err) {
	n := t.lookup(path)
	if n == nil {
		return nil, wire.ErrNoNode
	}
	if !Permitted(t.acls.get(n.acl), perm, ids) {
		return nil, wire.ErrNoAuth
	}
	return n, wire.ErrOK
}

// Exists answers exists: a NUL in the path is BadArguments, a missing node NoNode. It checks
// no permission: Apache ZooKeeper 3.8.0, the reference (conformance/README.md), answers any
// caller with the Stat; the READ check of ZOOKEEPER-2590 arrived in 3.8.4. ids is kept so
// the read signatures stay alike.
func (t *Tree) Exists(path string, ids []wire.Id) (*wire.ExistsResponse, wire.Err) {
	if strings.IndexByte(path, 0) >= 0 {
		return nil, wire.ErrBadArguments
	}
	n := t.lookup(path)
	if n == nil {
		return nil, wire.ErrNoNode
	}
	return &wire.ExistsResponse{Stat: t.stat(n)}, wire.ErrOK
}

// GetData answers getData; null data stays nil (a -1 buffer on the wire).
func (t *Tree) GetData(path string, ids []wire.Id) (*wire.GetDataResponse, wire.Err) {
	n, err := t.readable(path, wire.PermRead, ids)
	if err != wire.ErrOK {
		return nil, err
	}
	return &wire.GetDataResponse{Data: n.data, Stat: t.stat(n)}, wire.ErrOK
}

func (n *znode) childNames() []string { return n.children.names() }

// GetChildren answers getChildren with the children's names in byte order.
func (t *Tree) GetChildren(path string, ids []wire.Id) (*wire.GetChildrenResponse, wire.Err) {
	n, err := t.readable(path, wire.PermRead, ids)
	if err != wire.ErrOK {
		return nil, err
	}
	return &wire.GetChildrenResponse{Children: n.childNames()}, wire.ErrOK
}

// GetChildren2 answers getChildren2: names plus the node's own Stat.
func (t *Tree) GetChildren2(path string, ids []wire.Id) (*wire.GetChildren2Response, wire.Err) {
	n, err := t.readable(path, wire.PermRead, ids)
	if err != wire.ErrOK {
		return nil, err
	}
	return &wire.GetChildren2Response{Children: n.childNames(), Stat: t.stat(n)}, wire.ErrOK
}

// GetACL answers getACL: READ or ADMIN suffices, and without ADMIN digest ids are masked.
func (t *Tree) GetACL(path string, ids []wire.Id) (*wire.GetACLResponse, wire.Err) {
	n, err := t.readable(path, wire.PermRead|wire.PermAdmin, ids)
	if err != wire.ErrOK {
		return nil, err
	}
	acl := t.acls.get(n.acl)
	if Permitted(acl, wire.PermAdmin, ids) {
		acl = cloneACL(acl)
	} else {
		acl = maskDigests(acl)
	}
	return &wire.GetACLResponse{ACL: acl, Stat: t.stat(n)}, wire.ErrOK
}

// GetAllChildrenNumber counts every descendant of path, the node itself excluded.
func (t *Tree) GetAllChildrenNumber(path string, ids []wire.Id) (*wire.GetAllChildrenNumberResponse, wire.Err) {
	n, err := t.readable(path, wire.PermRead, ids)
	if err != wire.ErrOK {
		return nil, err
	}
	if n == t.root {
		return &wire.GetAllChildrenNumberResponse{TotalNumber: int32(t.nodeCount - 1)}, wire.ErrOK
	}
	total := 0
	stack := []*znode{n}
	for len(stack) > 0 && total <= t.nodeCount {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		total += top.children.len()
		stack = top.children.appendTo(stack)
	}
	return &wire.GetAllChildrenNumberResponse{TotalNumber: int32(total)}, wire.ErrOK
}

// GetEphemerals lists the session's own ephemerals, full paths in byte order. A prefix that
// is empty, blank or "/" selects all; otherwise it is a plain string prefix ("/a" also
// matches "/ab"), as in ZooKeeper.
func (t *Tree) GetEphemerals(session int64, prefix string) *wire.GetEphemeralsResponse {
	out := []string{}
	s := t.sessions[session]
	if s == nil {
		return &wire.GetEphemeralsResponse{Ephemerals: out}
	}
	all := strings.TrimSpace(prefix) == "" || prefix == "/"
	for _, path := range s.sortedEphemerals() {
		if all || strings.HasPrefix(path, prefix) {
			out = append(out, path)
		}
	}
	return &wire.GetEphemeralsResponse{Ephemerals: out}
}

// MultiRead runs getChildren / getData ops independently against this one state (§10.4):
// a failing op reports its code in its slot, the others succeed. Any other op type makes
// the request undecodable (MarshallingError).
func (t *Tree) MultiRead(ops []wire.MultiOp, ids []wire.Id) (*wire.MultiResponse, wire.Err) {
	results := make([]wire.MultiResult, 0, len(ops))
	for _, op := range ops {
		var body wire.Record
		var err wire.Err
		switch r := op.Body.(type) {
		case *wire.GetChildrenRequest:
			if op.Type != wire.OpGetChildren {
				return nil, wire.ErrMarshallingError
			}
			var resp *wire.GetChildrenResponse
			resp, err = t.GetChildren(r.Path, ids)
			body = resp
		case *wire.GetDataRequest:
			if op.Type != wire.OpGetData {
				return nil, wire.ErrMarshallingError
			}
			var resp *wire.GetDataResponse
			resp, err = t.GetData(r.Path, ids)
			body = resp
		default:
			return nil, wire.ErrMarshallingError
		}
		if err != wire.ErrOK {
			results = append(results, wire.MultiResult{Type: wire.OpError, Err: err})
			continue
		}
		results = append(results, wire.MultiResult{Type: op.Type, Body: body})
	}
	return &wire.MultiResponse{Results: results}, wire.ErrOK
}
