package tree

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
	"pgregory.net/rapid"
)

// refModel is a deliberately naive reference for the tree: a flat map from full path to node,
// children found by scanning every path, cversion kept as a plain counter of child creates
// and deletes (not derived from a create counter), and each request executed at once, in
// order, as if there were no pipeline. The tree, which prepares against outstanding changes
// and applies later, must produce exactly what this model produces.
type refModel struct {
	ext      bool
	nodes    map[string]*refNode
	sessions map[int64]bool
}

type refNode struct {
	data    []byte
	acl     []wire.ACL
	stat    wire.Stat // as a client sees it
	creates int32     // for sequential suffixes only
	kind    nodeKind
	owner   int64 // owning session of an ephemeral
	ttlMs   int64
}

func newRefModel(ext bool) *refModel {
	m := &refModel{ext: ext, nodes: map[string]*refNode{}, sessions: map[int64]bool{}}
	m.nodes["/"] = &refNode{data: []byte{}, acl: OpenACL, stat: wire.Stat{Cversion: -1, NumChildren: 1}}
	m.nodes["/zookeeper"] = &refNode{data: []byte{}, acl: OpenACL, stat: wire.Stat{Cversion: -2, NumChildren: 2}}
	m.nodes["/zookeeper/quota"] = &refNode{data: []byte{}, acl: OpenACL}
	m.nodes["/zookeeper/config"] = &refNode{data: []byte{}, acl: ReadACL, stat: wire.Stat{Aversion: -1}}
	return m
}

func (m *refModel) clone() *refModel {
	c := &refModel{ext: m.ext, nodes: map[string]*refNode{}, sessions: maps.Clone(m.sessions)}
	for p, n := range m.nodes {
		cp := *n
		c.nodes[p] = &cp
	}
	return c
}

func (m *refModel) children(path string) []string {
	var out []string
	prefix := path + "/"
	if path == "/" {
		prefix = "/"
	}
	for p := range m.nodes {
		if p != "/" && strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			out = append(out, p[len(prefix):])
		}
	}
	slices.Sort(out)
	return out
}

func refParent(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

type refCtx struct {
	session int64
	ids     []wire.Id
	zxid    int64
	timeMs  int64
}

// exec runs one request and returns the expected reply and events; a failed op leaves m as
// it was only when the caller discards m (multi does).
func (m *refModel) exec(c refCtx, typ wire.OpCode, body wire.Record) (wire.Err, wire.MultiResult, []Event) {
	live := m.sessions[c.session]
	switch typ {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		var path string
		var data []byte
		var acl []wire.ACL
		var flags wire.CreateMode
		ttl := int64(-1)
		if r, ok := body.(*wire.CreateTTLRequest); ok {
			path, data, acl, flags, ttl = r.Path, r.Data, r.ACL, r.Flags, r.TTLMs
		} else {
			r := body.(*wire.CreateRequest)
			path, data, acl, flags = r.Path, r.Data, r.ACL, r.Flags
		}
		if flags < 0 || flags > 6 {
			return wire.ErrBadArguments, wire.MultiResult{}, nil
		}
		isTTL := flags == 5 || flags == 6
		if isTTL && !m.ext {
			return wire.ErrUnimplemented, wire.MultiResult{}, nil
		}
		if isTTL && (ttl <= 0 || ttl >= 1<<40) || !isTTL && ttl >= 0 {
			return wire.ErrBadArguments, wire.MultiResult{}, nil
		}
		if !live {
			return wire.ErrSessionExpired, wire.MultiResult{}, nil
		}
		if !strings.Contains(path, "/") || strings.Contains(path, "\x00") {
			return wire.ErrBadArguments, wire.MultiResult{}, nil
		}
		fixed, err := refFixupACL(acl, c.ids)
		if err != wire.ErrOK {
			return err, wire.MultiResult{}, nil
		}
		parentPath := refParent(path)
		parent := m.nodes[parentPath]
		if parent == nil {
			return wire.ErrNoNode, wire.MultiResult{}, nil
		}
		if !refPermitted(parent.acl, wire.PermCreate, c.ids) {
			return wire.ErrNoAuth, wire.MultiResult{}, nil
		}
		if flags == 2 || flags == 3 || flags == 6 {
			path += fmt.Sprintf("%010d", parent.creates)
		}
		if !refValidPath(path) {
			return wire.ErrBadArguments, wire.MultiResult{}, nil
		}
		if m.nodes[path] != nil {
			return wire.ErrNodeExists, wire.MultiResult{}, nil
		}
		if parent.kind == kindEphemeral {
			return wire.ErrNoChildrenForEphemerals, wire.MultiResult{}, nil
		}
		if !isTTL && typ == wire.OpCreateTTL {
			return wire.ErrBadArguments, wire.MultiResult{}, nil // last: see prep.create
		}
		n := &refNode{data: data, acl: fixed, stat: wire.Stat{Czxid: c.zxid, Mzxid: c.zxid, Pzxid: c.zxid,
			Ctime: c.timeMs, Mtime: c.timeMs, DataLength: int32(len(data))}}
		switch {
		case typ == wire.OpCreateContainer:
			n.kind = kindContainer
		case isTTL:
			n.kind, n.ttlMs = kindTTL, ttl
		case flags == 1 || flags == 3:
			n.kind, n.owner = kindEphemeral, c.session
			n.stat.EphemeralOwner = c.session
		}
		m.nodes[path] = n
		parent.creates++
		parent.stat.Cversion++
		parent.stat.NumChildren++
		parent.stat.Pzxid = c.zxid
		events := []Event{{wire.EventNodeCreated, path, fixed}, {wire.EventNodeChildrenChanged, parentPath, parent.acl}}
		if typ == wire.OpCreate {
			return wire.ErrOK, wire.MultiResult{Type: wire.OpCreate, Body: &wire.CreateResponse{Path: path}}, events
		}
		return wire.ErrOK, wire.MultiResult{Type: wire.OpCreate2, Body: &wire.Create2Response{Path: path, Stat: n.stat}}, events
	case wire.OpDelete, wire.OpDeleteContainer:
		r := body.(*wire.DeleteRequest)
		if typ == wire.OpDelete && !live {
			return wire.ErrSessionExpired, wire.MultiResult{}, nil
		}
		if !strings.Contains(r.Path, "/") || strings.Contains(r.Path, "\x00") || refSystemPath(r.Path) {
			return wire.ErrBadArguments, wire.MultiResult{}, nil
		}
		parent := m.nodes[refParent(r.Path)]
		n := m.nodes[r.Path]
		if typ == wire.OpDeleteContainer {
			if n == nil {
				return wire.ErrNoNode, wire.MultiResult{}, nil
			}
			if n.stat.NumChildren > 0 {
				return wire.ErrNotEmpty, wire.MultiResult{}, nil
			}
			if n.kind != kindContainer && n.kind != kindTTL {
				return wire.ErrBadVersion, wire.MultiResult{}, nil
			}
		} else {
			if parent == nil {
				return wire.ErrNoNode, wire.MultiResult{}, nil
			}
			if !refPermitted(parent.acl, wire.PermDelete, c.ids) {
				return wire.ErrNoAuth, wire.MultiResult{}, nil
			}
			if n == nil {
				return wire.ErrNoNode, wire.MultiResult{}, nil
			}
			if r.Version != -1 && r.Version != n.stat.Version {
				return wire.ErrBadVersion, wire.MultiResult{}, nil
			}
			if n.stat.NumChildren > 0 {
				return wire.ErrNotEmpty, wire.MultiResult{}, nil
			}
		}
		return wire.ErrOK, wire.MultiResult{Type: wire.OpDelete}, m.remove(r.Path, c.zxid)
	case wire.OpSetData:
		r := body.(*wire.SetDataRequest)
		if !live {
			return wire.ErrSessionExpired, wire.MultiResult{}, nil
		}
		if !refValidPath(r.Path) {
			return wire.ErrBadArguments, wire.MultiResult{}, nil
		}
		n := m.nodes[r.Path]
		if n == nil {
			return wire.ErrNoNode, wire.MultiResult{}, nil
		}
		if !refPermitted(n.acl, wire.PermWrite, c.ids) {
			return wire.ErrNoAuth, wire.MultiResult{}, nil
		}
		if r.Version != -1 && r.Version != n.stat.Version {
			return wire.ErrBadVersion, wire.MultiResult{}, nil
		}
		n.data = r.Data
		n.stat.Version++
		if n.stat.Version == -1 {
			n.stat.Version = 0 // ZOOKEEPER-4743
		}
		n.stat.Mzxid, n.stat.Mtime, n.stat.DataLength = c.zxid, c.timeMs, int32(len(r.Data))
		return wire.ErrOK, wire.MultiResult{Type: wire.OpSetData, Body: &wire.SetDataResponse{Stat: n.stat}},
			[]Event{{wire.EventNodeDataChanged, r.Path, n.acl}}
	case wire.OpSetACL:
		r := body.(*wire.SetACLRequest)
		if !live {
			return wire.ErrSessionExpired, wire.MultiResult{}, nil
		}
		if !refValidPath(r.Path) {
			return wire.ErrBadArguments, wire.MultiResult{}, nil
		}
		fixed, err := refFixupACL(r.ACL, c.ids)
		if err != wire.ErrOK {
			return err, wire.MultiResult{}, nil
		}
		n := m.nodes[r.Path]
		if n == nil {
			return wire.ErrNoNode, wire.MultiResult{}, nil
		}
		if !refPermitted(n.acl, wire.PermAdmin, c.ids) {
			return wire.ErrNoAuth, wire.MultiResult{}, nil
		}
		if r.Version != -1 && r.Version != n.stat.Aversion {
			return wire.ErrBadVersion, wire.MultiResult{}, nil
		}
		n.acl = fixed
		n.stat.Aversion++
		if n.stat.Aversion == -1 {
			n.stat.Aversion = 0
		}
		return wire.ErrOK, wire.MultiResult{Type: wire.OpSetACL, Body: &wire.SetACLResponse{Stat: n.stat}}, nil
	case wire.OpCheck:
		r := body.(*wire.CheckVersionRequest)
		if !live {
			return wire.ErrSessionExpired, wire.MultiResult{}, nil
		}
		if !refValidPath(r.Path) {
			return wire.ErrBadArguments, wire.MultiResult{}, nil
		}
		n := m.nodes[r.Path]
		if n == nil {
			return wire.ErrNoNode, wire.MultiResult{}, nil
		}
		if !refPermitted(n.acl, wire.PermRead, c.ids) {
			return wire.ErrNoAuth, wire.MultiResult{}, nil
		}
		if r.Version != -1 && r.Version != n.stat.Version {
			return wire.ErrBadVersion, wire.MultiResult{}, nil
		}
		return wire.ErrOK, wire.MultiResult{Type: wire.OpCheck}, nil
	}
	panic(fmt.Sprintf("model: op %d", typ))
}

func (m *refModel) remove(path string, zxid int64) []Event {
	n := m.nodes[path]
	parentPath := refParent(path)
	parent := m.nodes[parentPath]
	delete(m.nodes, path)
	parent.stat.Cversion++
	parent.stat.NumChildren--
	parent.stat.Pzxid = zxid
	return []Event{{wire.EventNodeDeleted, path, n.acl}, {wire.EventNodeChildrenChanged, parentPath, parent.acl}}
}

// request executes a whole request on the model and returns the expected Applied.
func (m *refModel) request(c refCtx, typ wire.OpCode, body wire.Record, timeoutMs int32) (*refModel, Applied) {
	want := Applied{Zxid: c.zxid, SessionID: c.session, Cxid: int32(c.zxid), Type: typ}
	switch typ {
	case wire.OpCreateSession:
		if m.sessions[c.session] || c.session == 0 {
			want.Type, want.Err = wire.OpError, wire.ErrBadArguments
			return m, want
		}
		m.sessions[c.session] = true
		return m, want
	case wire.OpCloseSession:
		var mine []string
		for p, n := range m.nodes {
			if n.kind == kindEphemeral && n.owner == c.session {
				mine = append(mine, p)
			}
		}
		slices.SortFunc(mine, func(a, b string) int {
			return cmp.Or(cmp.Compare(m.nodes[a].stat.Czxid, m.nodes[b].stat.Czxid), strings.Compare(a, b))
		})
		mine = refCloseOrder(mine)
		for _, p := range mine {
			want.Events = append(want.Events, m.remove(p, c.zxid)...)
		}
		delete(m.sessions, c.session)
		return m, want
	case wire.OpMulti:
		ops := body.(*wire.MultiRequest).Ops
		scratch := m.clone()
		results := []wire.MultiResult{}
		var events []Event
		for i, op := range ops {
			typ, opBody, unmarshallable := refMultiOp(op.Type, op.Body)
			if unmarshallable {
				want.Type, want.Err = wire.OpError, wire.ErrMarshallingError
				return m, want
			}
			err, res, ev := scratch.exec(c, typ, opBody)
			if err != wire.ErrOK {
				results = make([]wire.MultiResult, len(ops))
				for j := range results {
					code := wire.ErrOK
					if j == i {
						code = err
					} else if j > i {
						code = wire.ErrRuntimeInconsistency
					}
					results[j] = wire.MultiResult{Type: wire.OpError, Err: code}
				}
				want.Body = &wire.MultiResponse{Results: results}
				return m, want
			}
			results = append(results, res)
			events = append(events, ev...)
		}
		want.Body, want.Events = &wire.MultiResponse{Results: results}, events
		return scratch, want
	}
	scratch := m.clone()
	err, res, ev := scratch.exec(c, typ, body)
	if err != wire.ErrOK {
		want.Type, want.Err = wire.OpError, err
		return m, want
	}
	want.Body, want.Events = res.Body, ev
	return scratch, want
}

// requireSameState compares every node, ACL, child list and session of tree and model.
func requireSameState(t require.TestingT, tr *Tree, m *refModel, when string) {
	super := []wire.Id{{Scheme: "super"}}
	require.Equal(t, len(m.nodes), tr.NodeCount(), "%s: node count", when)
	paths := slices.Sorted(maps.Keys(m.nodes))
	for _, p := range paths {
		n := m.nodes[p]
		got, err := tr.GetData(p, super)
		require.Equal(t, wire.ErrOK, err, "%s: getData %s", when, p)
		require.Equal(t, n.stat, got.Stat, "%s: Stat of %s", when, p)
		require.Equal(t, n.data == nil, got.Data == nil, "%s: null data of %s", when, p)
		require.Equal(t, string(n.data), string(got.Data), "%s: data of %s", when, p)
		acl, _ := tr.GetACL(p, super)
		require.Equal(t, n.acl, acl.ACL, "%s: ACL of %s", when, p)
		kids, _ := tr.GetChildren(p, super)
		require.Equal(t, m.children(p), nilIfEmpty(kids.Children), "%s: children of %s", when, p)
	}
	var sessions []int64
	for id := range m.sessions {
		sessions = append(sessions, id)
	}
	slices.Sort(sessions)
	require.Equal(t, sessions, nilIfEmpty(tr.Sessions()), "%s: sessions", when)
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Generators of requests over a small namespace so that collisions are common.
var (
	namesGen = rapid.SampledFrom([]string{"a", "b", "c"})
	idsGen   = rapid.SampledFrom([][]wire.Id{
		{{Scheme: "ip", ID: "10.0.0.1"}},
		aliceIDs,
		bobIDs,
		{{Scheme: "ip", ID: "10.0.0.3"}, {Scheme: "super"}},
	})
	aclGen = rapid.SampledFrom([][]wire.ACL{
		OpenACL, OpenACL, OpenACL, ReadACL, CreatorAllACL, aliceAll,
		{{Perms: wire.PermCreate | wire.PermDelete | wire.PermRead, ID: wire.Id{Scheme: "ip", ID: "10.0.0.0/24"}}},
		{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "nobody"}}},
		nil,
	})
	dataGen = rapid.OneOf(rapid.Just[[]byte](nil), rapid.SliceOfN(rapid.Byte(), 0, 4))
)

func pathGen(m *refModel) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		// Mostly existing paths or their children; sometimes odd ones.
		switch rapid.IntRange(0, 9).Draw(t, "pathKind") {
		case 0:
			return rapid.SampledFrom([]string{"/", "/zookeeper", "/zookeeper/config", "", "a", "/a/", "//a", "/a/./b", "/a\x00", "/a/..", "/a\x7f", "/\u0085", "/\U0001F600", "/\xff", "/a b"}).Draw(t, "oddPath")
		case 1, 2:
			depth := rapid.IntRange(1, 3).Draw(t, "depth")
			p := ""
			for i := 0; i < depth; i++ {
				p += "/" + namesGen.Draw(t, "name")
			}
			return p
		default:
			var existing []string
			for _, p := range slices.Sorted(maps.Keys(m.nodes)) {
				if p == "/" || !refSystemPath(p) {
					existing = append(existing, p)
				}
			}
			p := rapid.SampledFrom(existing).Draw(t, "existing")
			if p == "/" || rapid.IntRange(0, 2).Draw(t, "child") == 0 {
				return childPath(p, namesGen.Draw(t, "name"))
			}
			return p
		}
	})
}

func versionGen(m *refModel, path string) *rapid.Generator[int32] {
	v := int32(0)
	if n := m.nodes[path]; n != nil {
		v = n.stat.Version
	}
	return rapid.SampledFrom([]int32{-1, v, v, v + 1})
}

func writeOpGen(m *refModel, ext bool, inMulti bool) *rapid.Generator[wire.MultiOp] {
	return rapid.Custom(func(t *rapid.T) wire.MultiOp {
		kinds := []string{"create", "create", "delete", "setData", "check"}
		if !inMulti {
			kinds = append(kinds, "setACL", "deleteContainer")
		}
		path := pathGen(m).Draw(t, "path")
		switch rapid.SampledFrom(kinds).Draw(t, "op") {
		case "create":
			typ := rapid.SampledFrom([]wire.OpCode{wire.OpCreate, wire.OpCreate, wire.OpCreate2, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL}).Draw(t, "createType")
			flags := rapid.SampledFrom([]wire.CreateMode{0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, -1, 7}).Draw(t, "flags")
			if typ == wire.OpCreateContainer && rapid.IntRange(0, 3).Draw(t, "containerFlags") > 0 {
				flags = wire.ModeContainer
			}
			if typ == wire.OpCreateTTL {
				flags = rapid.SampledFrom([]wire.CreateMode{5, 5, 6, 6, 0}).Draw(t, "ttlFlags")
				ttl := rapid.SampledFrom([]int64{-1, 0, 1, 1000, 1 << 40}).Draw(t, "ttl")
				return wire.MultiOp{Type: typ, Body: &wire.CreateTTLRequest{Path: path, Data: dataGen.Draw(t, "data"), ACL: aclGen.Draw(t, "acl"), Flags: flags, TTLMs: ttl}}
			}
			return wire.MultiOp{Type: typ, Body: &wire.CreateRequest{Path: path, Data: dataGen.Draw(t, "data"), ACL: aclGen.Draw(t, "acl"), Flags: flags}}
		case "delete":
			return wire.MultiOp{Type: wire.OpDelete, Body: &wire.DeleteRequest{Path: path, Version: versionGen(m, path).Draw(t, "version")}}
		case "deleteContainer":
			return wire.MultiOp{Type: wire.OpDeleteContainer, Body: &wire.DeleteRequest{Path: path, Version: -1}}
		case "setData":
			return wire.MultiOp{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: path, Data: dataGen.Draw(t, "data"), Version: versionGen(m, path).Draw(t, "version")}}
		case "setACL":
			av := int32(0)
			if n := m.nodes[path]; n != nil {
				av = n.stat.Aversion
			}
			return wire.MultiOp{Type: wire.OpSetACL, Body: &wire.SetACLRequest{Path: path, ACL: aclGen.Draw(t, "acl"), Version: rapid.SampledFrom([]int32{-1, av, av + 1}).Draw(t, "aversion")}}
		default:
			return wire.MultiOp{Type: wire.OpCheck, Body: &wire.CheckVersionRequest{Path: path, Version: versionGen(m, path).Draw(t, "version")}}
		}
	})
}

// pipelined is a prepared txn waiting for commit, with what the model expects of it.
type pipelined struct {
	zxid   int64
	bytes  []byte
	want   Applied
	req    wire.Record
	before *refModel // model state before this txn (for Reset)
	after  *refModel // model state after it
}

type treeMachine struct {
	tree     *Tree
	follower *Tree // applies the same txn bytes without ever preparing
	model    *refModel
	ext      bool
	zxid     int64
	now      int64
	queue    []pipelined

	watches    *Watches   // this server's watch tables
	refWatches []refWatch // the naive watch model
}

func (s *treeMachine) prepare(t *rapid.T, session int64, ids []wire.Id, typ wire.OpCode, body wire.Record) {
	s.zxid += int64(rapid.IntRange(1, 3).Draw(t, "zxidStep"))
	s.now += int64(rapid.IntRange(0, 5000).Draw(t, "clockStep"))
	req := Request{SessionID: session, Cxid: int32(s.zxid), Zxid: s.zxid, TimeMs: s.now, Auth: ids, Type: typ, Body: body, TimeoutMs: 4000}
	before := s.model
	after, want := s.model.clone().request(refCtx{session: session, ids: ids, zxid: s.zxid, timeMs: s.now}, typ, body, req.TimeoutMs)
	txn := s.tree.Prepare(req)
	s.model = after
	s.queue = append(s.queue, pipelined{req: body, zxid: s.zxid, bytes: txn.Marshal(), want: want, before: before, after: after})
}

// session mostly picks a live session (of the model, which runs ahead of the tree).
func (s *treeMachine) session(t *rapid.T) int64 {
	live := slices.Sorted(maps.Keys(s.model.sessions))
	if len(live) > 0 && rapid.IntRange(0, 9).Draw(t, "pickLive") > 0 {
		return rapid.SampledFrom(live).Draw(t, "liveSession")
	}
	return rapid.Int64Range(1, 3).Draw(t, "session")
}

func (s *treeMachine) Write(t *rapid.T) {
	op := writeOpGen(s.model, s.ext, false).Draw(t, "write")
	s.prepare(t, s.session(t), idsGen.Draw(t, "ids"), op.Type, op.Body)
}

func (s *treeMachine) Multi(t *rapid.T) {
	ops := rapid.SliceOfN(writeOpGen(s.model, s.ext, true), 0, 4).Draw(t, "ops")
	s.prepare(t, s.session(t), idsGen.Draw(t, "ids"), wire.OpMulti, &wire.MultiRequest{Ops: ops})
}

func (s *treeMachine) OpenSession(t *rapid.T) {
	s.prepare(t, rapid.Int64Range(1, 3).Draw(t, "newSession"), nil, wire.OpCreateSession, nil)
}

func (s *treeMachine) CloseSession(t *rapid.T) {
	if rapid.IntRange(0, 2).Draw(t, "closeNow") > 0 {
		t.Skip("close sessions less often than other actions")
	}
	s.prepare(t, s.session(t), nil, wire.OpCloseSession, nil)
}

// Commit applies the oldest prepared txn, as every replica does on COMMIT, and checks the
// reply, the events and the whole state against the model.
func (s *treeMachine) Commit(t *rapid.T) {
	if len(s.queue) == 0 {
		t.Skip("nothing prepared")
	}
	for n := rapid.IntRange(1, len(s.queue)).Draw(t, "commits"); n > 0; n-- {
		s.commitOne(t)
	}
}

func (s *treeMachine) commitOne(t *rapid.T) {
	p := s.queue[0]
	s.queue = s.queue[1:]
	txn, err := UnmarshalTxn(p.bytes)
	require.NoError(t, err)
	got := s.tree.Apply(p.zxid, txn)
	followerTxn, err := UnmarshalTxn(p.bytes)
	require.NoError(t, err)
	followed := s.follower.Apply(p.zxid, followerTxn)
	require.Equal(t, got, followed, "a follower applying the same bytes replies the same at zxid %#x", p.zxid)
	require.Equal(t, s.tree.Digest(), s.follower.Digest(), "replica digests after zxid %#x", p.zxid)
	require.Equal(t, p.want.Type, got.Type, "reply type at zxid %#x", p.zxid)
	require.Equal(t, p.want.Err, got.Err, "reply err at zxid %#x", p.zxid)
	require.Equal(t, p.want.Body, got.Body, "reply body at zxid %#x", p.zxid)
	require.Equal(t, p.want.Events, nilIfEmpty(got.Events), "events at zxid %#x", p.zxid)
	requireSameState(t, s.tree, p.after, fmt.Sprintf("after applying zxid %#x", p.zxid))
	require.NoError(t, s.tree.Verify(), "incrementally kept state after zxid %#x", p.zxid)
	s.expectNotifications(t, got)
}

// LoseLeadership drops every prepared txn, as a leader that lost its quorum does.
func (s *treeMachine) LoseLeadership(t *rapid.T) {
	if len(s.queue) == 0 || rapid.IntRange(0, 9).Draw(t, "loseNow") > 0 {
		t.Skip("nothing prepared, or keep leading this time")
	}
	s.model = s.queue[0].before
	s.queue = nil
	s.tree.Reset()
}

func (s *treeMachine) Check(t *rapid.T) {
	if len(s.queue) > 0 {
		return
	}
	require.Equal(t, 0, s.tree.Outstanding(), "no outstanding change once everything is applied")
	snap := s.tree.Snapshot()
	require.Equal(t, snap, s.follower.Snapshot(), "leader and follower snapshots are byte-identical")
	restored, err := Restore(s.tree.Config(), snap)
	require.NoError(t, err)
	require.Equal(t, s.tree.Digest(), restored.Digest(), "restored digest")
	require.Equal(t, snap, restored.Snapshot(), "snapshot of a restored tree")
	requireSameState(t, restored, s.model, "restored tree")
}

// actions weighs writes over session churn and leadership loss, so that trees grow.
func (s *treeMachine) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"write1": s.Write, "write2": s.Write, "write3": s.Write, "write4": s.Write,
		"multi1": s.Multi, "multi2": s.Multi,
		"openSession":    s.OpenSession,
		"closeSession":   s.CloseSession,
		"commit1":        s.Commit,
		"commit2":        s.Commit,
		"loseLeadership": s.LoseLeadership,
		"watch1":         s.Watch,
		"watch2":         s.Watch,
		"unwatchAll":     s.UnwatchAll,
		"":               s.Check,
	}
}

// newTreeMachine starts with session 1 open and committed.
func newTreeMachine(t *rapid.T, ext bool) *treeMachine {
	cfg := Config{ExtendedTypesEnabled: ext}
	s := &treeMachine{tree: New(cfg), follower: New(cfg), model: newRefModel(ext), ext: ext, now: 1_700_000_000_000,
		watches: NewWatches()}
	s.prepare(t, 1, nil, wire.OpCreateSession, nil)
	s.Commit(t)
	return s
}

func TestTreeMatchesModel(t *testing.T) {
	for _, ext := range []bool{false, true} {
		t.Run(fmt.Sprintf("extendedTypes=%v", ext), func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				s := newTreeMachine(t, ext)
				t.Repeat(s.actions())
			})
		})
	}
}
