package tree

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

var (
	aliceID  = wire.Id{Scheme: "digest", ID: DigestID("alice:pw")}
	aliceIDs = []wire.Id{{Scheme: "ip", ID: "10.0.0.1"}, aliceID}
	bobIDs   = []wire.Id{{Scheme: "ip", ID: "10.0.0.2"}, {Scheme: "digest", ID: DigestID("bob:pw")}}
	aliceAll = []wire.ACL{{Perms: wire.PermAll, ID: aliceID}}
)

func perms(p wire.Perms) []wire.ACL { return []wire.ACL{{Perms: p, ID: aliceID}} }

// errorFixture: session 1 (alice) owns /eph; /p is persistent with child /p/c; /locked grants
// alice only READ|ADMIN; /noread grants alice only WRITE|CREATE|DELETE; session 9 is closed.
func errorFixture(t *testing.T, cfg Config) *harness {
	h := newHarness(t, cfg)
	h.openSession(1)
	h.openSession(9)
	for _, c := range []struct {
		path string
		acl  []wire.ACL
		mode wire.CreateMode
	}{
		{"/p", OpenACL, wire.ModePersistent},
		{"/p/c", OpenACL, wire.ModePersistent},
		{"/eph", OpenACL, wire.ModeEphemeral},
		{"/locked", perms(wire.PermRead | wire.PermAdmin), wire.ModePersistent},
		{"/noread", perms(wire.PermWrite | wire.PermCreate | wire.PermDelete), wire.ModePersistent},
		{"/noread/x", OpenACL, wire.ModePersistent},
	} {
		got := h.write(1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: c.path, Data: []byte("d"), ACL: c.acl, Flags: c.mode})
		require.Equal(t, wire.ErrOK, got.Err, "fixture create %s", c.path)
	}
	h.closeSession(9)
	return h
}

func TestWriteErrors(t *testing.T) {
	create := func(path string, mode wire.CreateMode) *wire.CreateRequest {
		return &wire.CreateRequest{Path: path, ACL: OpenACL, Flags: mode}
	}
	cases := []struct {
		name    string
		session int64
		ids     []wire.Id
		typ     wire.OpCode
		body    wire.Record
		ext     bool
		want    wire.Err
	}{
		// create: flags, TTL gate, path shape, ACL, parent, permission, final path, existence, ephemeral parent.
		{"create bad flags", 1, aliceIDs, wire.OpCreate, create("/x", 7), false, wire.ErrBadArguments},
		{"create bad flags beats bad path", 1, aliceIDs, wire.OpCreate, create("x", -1), false, wire.ErrBadArguments},
		{"ttl mode disabled", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/t", ACL: OpenACL, Flags: wire.ModePersistentWithTTL, TTLMs: 10}, false, wire.ErrUnimplemented},
		{"ttl disabled beats missing parent", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/no/t", ACL: OpenACL, Flags: wire.ModePersistentWithTTL, TTLMs: 10}, false, wire.ErrUnimplemented},
		{"ttl zero", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/t", ACL: OpenACL, Flags: wire.ModePersistentWithTTL, TTLMs: 0}, true, wire.ErrBadArguments},
		{"ttl too large", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/t", ACL: OpenACL, Flags: wire.ModePersistentWithTTL, TTLMs: 1 << 40}, true, wire.ErrBadArguments},
		{"createTTL with non-TTL mode", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/t", ACL: OpenACL, Flags: wire.ModePersistent, TTLMs: 10}, true, wire.ErrBadArguments},
		{"createTTL with a TTL and a non-TTL mode beats the ACL", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/t", Flags: wire.ModePersistent, TTLMs: 10}, true, wire.ErrBadArguments},
		{"createTTL with a negative TTL and a non-TTL mode: the ACL first (3.8.0)", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/t", Flags: wire.ModeEphemeral, TTLMs: -5}, true, wire.ErrInvalidACL},
		{"createTTL with a negative TTL and a non-TTL mode: the parent first", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/no/t", ACL: OpenACL, Flags: wire.ModePersistent, TTLMs: -5}, true, wire.ErrNoNode},
		{"createTTL with a negative TTL and a non-TTL mode, otherwise valid", 1, aliceIDs, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/t", ACL: OpenACL, Flags: wire.ModePersistent, TTLMs: -5}, true, wire.ErrBadArguments},
		{"create with TTL mode", 1, aliceIDs, wire.OpCreate, create("/t", wire.ModePersistentWithTTL), true, wire.ErrBadArguments},
		{"create closed session", 9, nil, wire.OpCreate, create("/x", 0), false, wire.ErrSessionExpired},
		{"create unknown session", 77, nil, wire.OpCreate, create("/x", 0), false, wire.ErrSessionExpired},
		{"create no slash", 1, aliceIDs, wire.OpCreate, create("x", 0), false, wire.ErrBadArguments},
		{"create NUL", 1, aliceIDs, wire.OpCreate, create("/x\x00", 0), false, wire.ErrBadArguments},
		{"create empty ACL", 1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/x"}, false, wire.ErrInvalidACL},
		{"create invalid ACL beats missing parent", 1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/no/x", ACL: []wire.ACL{{Perms: 31, ID: wire.Id{Scheme: "world", ID: "someone"}}}}, false, wire.ErrInvalidACL},
		{"create auth ACL without digest id", 1, []wire.Id{{Scheme: "ip", ID: "1.2.3.4"}}, wire.OpCreate, &wire.CreateRequest{Path: "/x", ACL: CreatorAllACL}, false, wire.ErrInvalidACL},
		{"create unknown scheme", 1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/x", ACL: []wire.ACL{{Perms: 31, ID: wire.Id{Scheme: "super", ID: "x"}}}}, false, wire.ErrInvalidACL},
		{"create bad digest id", 1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/x", ACL: []wire.ACL{{Perms: 31, ID: wire.Id{Scheme: "digest", ID: "user:"}}}}, false, wire.ErrInvalidACL},
		{"create bad ip id", 1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/x", ACL: []wire.ACL{{Perms: 31, ID: wire.Id{Scheme: "ip", ID: "1.2.3.4/33"}}}}, false, wire.ErrInvalidACL},
		{"create missing parent", 1, aliceIDs, wire.OpCreate, create("/no/x", 0), false, wire.ErrNoNode},
		{"create missing parent beats bad final path", 1, aliceIDs, wire.OpCreate, create("/no/x/", 0), false, wire.ErrNoNode},
		{"create no CREATE on parent", 1, aliceIDs, wire.OpCreate, create("/locked/x", 0), false, wire.ErrNoAuth},
		{"create no CREATE beats exists", 1, bobIDs, wire.OpCreate, create("/noread/x", 0), false, wire.ErrNoAuth},
		{"create trailing slash", 1, aliceIDs, wire.OpCreate, create("/p/", 0), false, wire.ErrBadArguments},
		{"create dot component", 1, aliceIDs, wire.OpCreate, create("/p/./x", 0), false, wire.ErrNoNode},
		{"create dot name", 1, aliceIDs, wire.OpCreate, create("/p/..", 0), false, wire.ErrBadArguments},
		{"create control char", 1, aliceIDs, wire.OpCreate, create("/p/\x01", 0), false, wire.ErrBadArguments},
		{"create emoji", 1, aliceIDs, wire.OpCreate, create("/p/\U0001F600", 0), false, wire.ErrBadArguments},
		{"create existing", 1, aliceIDs, wire.OpCreate, create("/p", 0), false, wire.ErrNodeExists},
		{"create root", 1, aliceIDs, wire.OpCreate, create("/", 0), false, wire.ErrNodeExists},
		{"create under ephemeral", 1, aliceIDs, wire.OpCreate, create("/eph/x", 0), false, wire.ErrNoChildrenForEphemerals},
		{"create existing beats ephemeral parent", 1, aliceIDs, wire.OpCreate, create("/eph", 0), false, wire.ErrNodeExists},

		// delete: shape/system, parent, DELETE on parent, node, version, children.
		{"delete root", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/", Version: -1}, false, wire.ErrBadArguments},
		{"delete /zookeeper", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/zookeeper", Version: -1}, false, wire.ErrBadArguments},
		{"delete /zookeeper/quota", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/zookeeper/quota", Version: -1}, false, wire.ErrBadArguments},
		{"delete /zookeeper/config", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/zookeeper/config", Version: -1}, false, wire.ErrBadArguments},
		{"delete no slash", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "p", Version: -1}, false, wire.ErrBadArguments},
		{"delete closed session", 9, nil, wire.OpDelete, &wire.DeleteRequest{Path: "/", Version: -1}, false, wire.ErrSessionExpired},
		{"delete missing parent", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/no/x", Version: -1}, false, wire.ErrNoNode},
		{"delete no DELETE on parent", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/locked/x", Version: -1}, false, wire.ErrNoAuth},
		{"delete missing node", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/nope", Version: -1}, false, wire.ErrNoNode},
		{"delete trailing slash is just missing", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/p/", Version: -1}, false, wire.ErrNoNode},
		{"delete bad version", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/p/c", Version: 3}, false, wire.ErrBadVersion},
		{"delete bad version beats not empty", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/p", Version: 3}, false, wire.ErrBadVersion},
		{"delete not empty", 1, aliceIDs, wire.OpDelete, &wire.DeleteRequest{Path: "/p", Version: 0}, false, wire.ErrNotEmpty},

		// setData: session, path, node, WRITE, version.
		{"setData closed session", 9, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/p", Version: -1}, false, wire.ErrSessionExpired},
		{"setData bad path", 1, aliceIDs, wire.OpSetData, &wire.SetDataRequest{Path: "/p/", Version: -1}, false, wire.ErrBadArguments},
		{"setData missing", 1, aliceIDs, wire.OpSetData, &wire.SetDataRequest{Path: "/nope", Version: -1}, false, wire.ErrNoNode},
		{"setData no WRITE", 1, aliceIDs, wire.OpSetData, &wire.SetDataRequest{Path: "/locked", Version: -1}, false, wire.ErrNoAuth},
		{"setData no WRITE for anyone else", 1, bobIDs, wire.OpSetData, &wire.SetDataRequest{Path: "/noread", Version: 9}, false, wire.ErrNoAuth},
		{"setData bad version", 1, aliceIDs, wire.OpSetData, &wire.SetDataRequest{Path: "/p", Version: 1}, false, wire.ErrBadVersion},
		{"setData /zookeeper/config", 1, aliceIDs, wire.OpSetData, &wire.SetDataRequest{Path: "/zookeeper/config", Version: -1}, false, wire.ErrNoAuth},

		// setACL: session, path, ACL fix-up, node, ADMIN, aversion.
		{"setACL bad path", 1, aliceIDs, wire.OpSetACL, &wire.SetACLRequest{Path: "//p", ACL: OpenACL, Version: -1}, false, wire.ErrBadArguments},
		{"setACL invalid ACL beats missing", 1, aliceIDs, wire.OpSetACL, &wire.SetACLRequest{Path: "/nope", Version: -1}, false, wire.ErrInvalidACL},
		{"setACL missing", 1, aliceIDs, wire.OpSetACL, &wire.SetACLRequest{Path: "/nope", ACL: OpenACL, Version: -1}, false, wire.ErrNoNode},
		{"setACL no ADMIN", 1, aliceIDs, wire.OpSetACL, &wire.SetACLRequest{Path: "/noread", ACL: OpenACL, Version: -1}, false, wire.ErrNoAuth},
		{"setACL bad aversion", 1, aliceIDs, wire.OpSetACL, &wire.SetACLRequest{Path: "/locked", ACL: OpenACL, Version: 2}, false, wire.ErrBadVersion},
		{"setACL config aversion is -1", 1, []wire.Id{{Scheme: "super"}}, wire.OpSetACL, &wire.SetACLRequest{Path: "/zookeeper/config", ACL: ReadACL, Version: 0}, false, wire.ErrBadVersion},

		// check (standalone check still accepted by 3.8.4).
		{"check bad path", 1, aliceIDs, wire.OpCheck, &wire.CheckVersionRequest{Path: "/p/", Version: -1}, false, wire.ErrBadArguments},
		{"check missing", 1, aliceIDs, wire.OpCheck, &wire.CheckVersionRequest{Path: "/nope", Version: -1}, false, wire.ErrNoNode},
		{"check no READ", 1, aliceIDs, wire.OpCheck, &wire.CheckVersionRequest{Path: "/noread", Version: -1}, false, wire.ErrNoAuth},
		{"check bad version", 1, aliceIDs, wire.OpCheck, &wire.CheckVersionRequest{Path: "/p", Version: 5}, false, wire.ErrBadVersion},

		// request shapes the node should never send.
		{"unknown write op", 1, aliceIDs, wire.OpSync, &wire.SyncRequest{Path: "/"}, false, wire.ErrUnimplemented},
		{"body of the wrong type", 1, aliceIDs, wire.OpCreate, &wire.DeleteRequest{Path: "/"}, false, wire.ErrMarshallingError},
		{"multi with a read op", 1, aliceIDs, wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{{Type: wire.OpGetData, Body: &wire.GetDataRequest{Path: "/"}}}}, false, wire.ErrMarshallingError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := errorFixture(t, Config{ExtendedTypesEnabled: c.ext})
			before := h.tree.Digest()
			got := h.write(c.session, c.ids, c.typ, c.body)
			assert.Equal(t, wire.OpError, got.Type, "a failed write becomes an error txn")
			assert.Equal(t, c.want, got.Err, "%s: expected %d, got %d", c.name, c.want, got.Err)
			assert.Nil(t, got.Body)
			assert.Empty(t, got.Events, "a failed write fires nothing")
			assert.Equal(t, before, h.tree.Digest(), "a failed write changes nothing")
			assert.Equal(t, 0, h.tree.Outstanding(), "outstanding changes drop once applied")
		})
	}
}

func TestMultiFailureResults(t *testing.T) {
	h := errorFixture(t, Config{})
	got := h.write(1, aliceIDs, wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/x", ACL: OpenACL}},
		{Type: wire.OpDelete, Body: &wire.DeleteRequest{Path: "/missing", Version: -1}},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/p", Version: -1}},
	}})
	assert.Equal(t, wire.ErrOK, got.Err, "a failed multi has header err 0 (zk-protocol.md §10.3)")
	assert.Equal(t, wire.OpMulti, got.Type)
	assert.Equal(t, &wire.MultiResponse{Results: []wire.MultiResult{
		{Type: wire.OpError, Err: wire.ErrOK},
		{Type: wire.OpError, Err: wire.ErrNoNode},
		{Type: wire.OpError, Err: wire.ErrRuntimeInconsistency},
	}}, got.Body)
	assert.Empty(t, got.Events)
	_, err := h.tree.Exists("/x", nil)
	assert.Equal(t, wire.ErrNoNode, err, "the create of a failed multi is rolled back")

	ok := h.write(1, aliceIDs, wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/x", ACL: OpenACL}},
		{Type: wire.OpCreate2, Body: &wire.CreateRequest{Path: "/x/y-", ACL: OpenACL, Flags: wire.ModePersistentSequential}},
		{Type: wire.OpCheck, Body: &wire.CheckVersionRequest{Path: "/x", Version: 0}},
		{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/x", Data: []byte("v"), Version: 0}},
		{Type: wire.OpDelete, Body: &wire.DeleteRequest{Path: "/x/y-0000000000", Version: 0}},
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/x/y-", ACL: OpenACL, Flags: wire.ModePersistentSequential}},
	}})
	require.Equal(t, wire.ErrOK, ok.Err)
	res := ok.Body.(*wire.MultiResponse).Results
	require.Len(t, res, 6)
	assert.Equal(t, wire.MultiResult{Type: wire.OpCreate, Body: &wire.CreateResponse{Path: "/x"}}, res[0], "create (1) answers with a type-1 result")
	assert.Equal(t, wire.MultiResult{Type: wire.OpCreate, Body: &wire.CreateResponse{Path: "/x/y-0000000000"}}, res[1],
		"create2 (15) answers with a type-1 result too, path only: Apache 3.8.0 (ZOOKEEPER-4026 changed it in 3.8.1)")
	assert.Equal(t, wire.MultiResult{Type: wire.OpCheck}, res[2])
	assert.Equal(t, int32(1), res[3].Body.(*wire.SetDataResponse).Stat.Version)
	assert.Equal(t, wire.MultiResult{Type: wire.OpDelete}, res[4])
	assert.Equal(t, &wire.CreateResponse{Path: "/x/y-0000000001"}, res[5].Body, "sequential counters advance per op")

	empty := h.write(1, aliceIDs, wire.OpMulti, &wire.MultiRequest{})
	assert.Equal(t, &wire.MultiResponse{Results: []wire.MultiResult{}}, empty.Body, "an empty multi has an empty result list")
}

func TestReadErrors(t *testing.T) {
	h := errorFixture(t, Config{})
	tr := h.tree
	cases := []struct {
		name string
		typ  wire.OpCode
		body wire.Record
		ids  []wire.Id
		want wire.Err
	}{
		{"exists NUL", wire.OpExists, &wire.ExistsRequest{Path: "/p\x00"}, aliceIDs, wire.ErrBadArguments},
		{"exists missing", wire.OpExists, &wire.ExistsRequest{Path: "/nope"}, aliceIDs, wire.ErrNoNode},
		{"exists needs no READ (3.8.0; ZOOKEEPER-2590 added it in 3.8.4)", wire.OpExists, &wire.ExistsRequest{Path: "/noread"}, aliceIDs, wire.ErrOK},
		{"exists malformed path", wire.OpExists, &wire.ExistsRequest{Path: "/p/"}, aliceIDs, wire.ErrNoNode},
		{"getData missing", wire.OpGetData, &wire.GetDataRequest{Path: "/nope"}, aliceIDs, wire.ErrNoNode},
		{"getData no READ", wire.OpGetData, &wire.GetDataRequest{Path: "/noread"}, aliceIDs, wire.ErrNoAuth},
		{"getData super bypasses", wire.OpGetData, &wire.GetDataRequest{Path: "/noread"}, []wire.Id{{Scheme: "super"}}, wire.ErrOK},
		{"getChildren no READ", wire.OpGetChildren, &wire.GetChildrenRequest{Path: "/noread"}, bobIDs, wire.ErrNoAuth},
		{"getChildren2 missing", wire.OpGetChildren2, &wire.GetChildren2Request{Path: "/nope"}, bobIDs, wire.ErrNoNode},
		{"getACL neither READ nor ADMIN", wire.OpGetACL, &wire.GetACLRequest{Path: "/noread"}, aliceIDs, wire.ErrNoAuth},
		{"getACL READ suffices", wire.OpGetACL, &wire.GetACLRequest{Path: "/locked"}, aliceIDs, wire.ErrOK},
		{"getAllChildrenNumber no READ", wire.OpGetAllChildrenNumber, &wire.GetAllChildrenNumberRequest{Path: "/noread"}, aliceIDs, wire.ErrNoAuth},
		{"wrong body", wire.OpGetData, &wire.ExistsRequest{Path: "/"}, aliceIDs, wire.ErrMarshallingError},
	}
	for _, c := range cases {
		resp, err := tr.Read(c.typ, c.body, 1, c.ids)
		assert.Equal(t, c.want, err, c.name)
		if c.want != wire.ErrOK {
			assert.Nil(t, resp, "%s: no body with an error", c.name)
		}
	}
	acl, err := tr.GetACL("/locked", bobIDs)
	assert.Equal(t, wire.ErrNoAuth, err)
	assert.Nil(t, acl)
	acl, err = tr.GetACL("/noread", []wire.Id{{Scheme: "digest", ID: DigestID("carol:pw")}})
	assert.Equal(t, wire.ErrNoAuth, err)
	assert.Nil(t, acl)

	// Without ADMIN, digests are masked.
	h.write(1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/r", ACL: []wire.ACL{
		{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}, {Perms: wire.PermAll, ID: aliceID}}})
	masked, err := tr.GetACL("/r", bobIDs)
	require.Equal(t, wire.ErrOK, err)
	assert.Equal(t, "alice:x", masked.ACL[1].ID.ID, "digest ids are masked without ADMIN")
	full, _ := tr.GetACL("/r", aliceIDs)
	assert.Equal(t, aliceID.ID, full.ACL[1].ID.ID)

	multi, err := tr.MultiRead([]wire.MultiOp{
		{Type: wire.OpGetData, Body: &wire.GetDataRequest{Path: "/p"}},
		{Type: wire.OpGetChildren, Body: &wire.GetChildrenRequest{Path: "/nope"}},
		{Type: wire.OpGetChildren, Body: &wire.GetChildrenRequest{Path: "/p"}},
	}, aliceIDs)
	require.Equal(t, wire.ErrOK, err)
	assert.Equal(t, []wire.MultiResult{
		{Type: wire.OpGetData, Body: &wire.GetDataResponse{Data: []byte("d"), Stat: h.stat("/p")}},
		{Type: wire.OpError, Err: wire.ErrNoNode},
		{Type: wire.OpGetChildren, Body: &wire.GetChildrenResponse{Children: []string{"c"}}},
	}, multi.Results, "multiRead ops fail independently")
}

func TestGetEphemeralsPrefix(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(5)
	h.openSession(6)
	for _, p := range []string{"/a", "/ab", "/b"} {
		h.mustCreate(5, p, wire.ModeEphemeral)
	}
	h.mustCreate(6, "/a2", wire.ModeEphemeral)
	for prefix, want := range map[string][]string{
		"": {"/a", "/ab", "/b"}, " ": {"/a", "/ab", "/b"}, "/": {"/a", "/ab", "/b"},
		"/a": {"/a", "/ab"}, "/c": {},
	} {
		got := h.tree.GetEphemerals(5, prefix)
		assert.Equal(t, want, got.Ephemerals, fmt.Sprintf("getEphemerals(%q)", prefix))
	}
}

// TestMultiCreateOpFollowsTheMode pins Apache ZooKeeper 3.8.0's multi: a create sub-op's op
// code comes from its create mode (MultiOperationRecord → Op.create), which decides its
// result type — create (1) answers with the path, createContainer and createTTL with a Stat.
func TestMultiCreateOpFollowsTheMode(t *testing.T) {
	create := func(flags wire.CreateMode) *wire.CreateRequest {
		return &wire.CreateRequest{Path: "/m", ACL: OpenACL, Flags: flags}
	}
	ttl := func(flags wire.CreateMode) *wire.CreateTTLRequest {
		return &wire.CreateTTLRequest{Path: "/m", ACL: OpenACL, Flags: flags, TTLMs: 5000}
	}
	cases := []struct {
		name     string
		typ      wire.OpCode
		body     wire.Record
		wantType wire.OpCode
		wantBody wire.Record
	}{
		{"create2, persistent → create", wire.OpCreate2, create(wire.ModePersistent), wire.OpCreate, create(wire.ModePersistent)},
		{"create2, ephemeral sequential → create", wire.OpCreate2, create(wire.ModeEphemeralSequential), wire.OpCreate, create(wire.ModeEphemeralSequential)},
		{"create, container mode → createContainer", wire.OpCreate, create(wire.ModeContainer), wire.OpCreateContainer, create(wire.ModeContainer)},
		{"createContainer, persistent → create", wire.OpCreateContainer, create(wire.ModePersistent), wire.OpCreate, create(wire.ModePersistent)},
		{"createContainer stays", wire.OpCreateContainer, create(wire.ModeContainer), wire.OpCreateContainer, create(wire.ModeContainer)},
		{"createTTL with a TTL mode stays", wire.OpCreateTTL, ttl(wire.ModePersistentWithTTL), wire.OpCreateTTL, ttl(wire.ModePersistentWithTTL)},
		{"createTTL, persistent → create, TTL dropped", wire.OpCreateTTL, ttl(wire.ModePersistent), wire.OpCreate, create(wire.ModePersistent)},
		{"createTTL, invalid mode → create (fails on the mode)", wire.OpCreateTTL, ttl(7), wire.OpCreate, create(7)},
		{"create with a TTL mode keeps its type", wire.OpCreate, create(wire.ModePersistentWithTTL), wire.OpCreate, create(wire.ModePersistentWithTTL)},
		{"delete untouched", wire.OpDelete, &wire.DeleteRequest{Path: "/m", Version: -1}, wire.OpDelete, &wire.DeleteRequest{Path: "/m", Version: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			typ, body := MultiCreateOp(tc.typ, tc.body)
			assert.Equal(t, tc.wantType, typ)
			assert.Equal(t, tc.wantBody, body)
		})
	}

	h := errorFixture(t, Config{ExtendedTypesEnabled: true})
	res := h.write(1, aliceIDs, wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
		{Type: wire.OpCreateContainer, Body: &wire.CreateRequest{Path: "/plain", ACL: OpenACL}},
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/box", ACL: OpenACL, Flags: wire.ModeContainer}},
		{Type: wire.OpCreateTTL, Body: &wire.CreateTTLRequest{Path: "/nottl", ACL: OpenACL, TTLMs: 5000}},
	}}).Body.(*wire.MultiResponse).Results
	require.Len(t, res, 3)
	assert.Equal(t, wire.MultiResult{Type: wire.OpCreate, Body: &wire.CreateResponse{Path: "/plain"}}, res[0])
	assert.Equal(t, wire.OpCreate2, res[1].Type, "a container sub-op answers with a create2 result")
	assert.Equal(t, int64(0), h.stat("/plain").EphemeralOwner, "createContainer without the flag made a persistent node")
	assert.Equal(t, wire.MultiResult{Type: wire.OpCreate, Body: &wire.CreateResponse{Path: "/nottl"}}, res[2])

	// A create sub-op with a TTL mode fails the whole multi with MarshallingError, unless an
	// earlier sub-op failed first.
	for _, typ := range []wire.OpCode{wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer} {
		bad := h.write(1, aliceIDs, wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
			{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/first", ACL: OpenACL}},
			{Type: typ, Body: &wire.CreateRequest{Path: "/t", ACL: OpenACL, Flags: wire.ModePersistentWithTTL}},
		}})
		assert.Equal(t, wire.ErrMarshallingError, bad.Err, "op %d with a TTL mode in a multi", typ)
		assert.Nil(t, bad.Body)
	}
	_, err := h.tree.Exists("/first", nil)
	assert.Equal(t, wire.ErrNoNode, err, "nothing of the unmarshallable multi applied")
	failedFirst := h.write(1, aliceIDs, wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
		{Type: wire.OpDelete, Body: &wire.DeleteRequest{Path: "/missing", Version: -1}},
		{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/t", ACL: OpenACL, Flags: wire.ModePersistentWithTTL}},
	}})
	assert.Equal(t, wire.ErrOK, failedFirst.Err, "an earlier failure stops the multi before the TTL create is looked at")
	assert.Equal(t, []wire.MultiResult{{Type: wire.OpError, Err: wire.ErrNoNode}, {Type: wire.OpError, Err: wire.ErrRuntimeInconsistency}},
		failedFirst.Body.(*wire.MultiResponse).Results)
}

// TestCreateSessionArguments: the caller allocates a unique non-zero id and negotiates a
// positive timeout (ZooKeeperServer.processConnectRequest clamps it to [min, max] session
// timeout, both positive), so anything else reaching the tree is a caller bug answered with
// BadArguments rather than a session that expires at once.
func TestCreateSessionArguments(t *testing.T) {
	cases := []struct {
		name      string
		id        int64
		timeoutMs int32
		want      wire.Err
	}{
		{"positive timeout", 5, 1, wire.ErrOK},
		{"zero timeout", 5, 0, wire.ErrBadArguments},
		{"negative timeout", 5, -1, wire.ErrBadArguments},
		{"zero id", 0, 30000, wire.ErrBadArguments},
		{"id already open", 1, 30000, wire.ErrBadArguments},
	}
	for _, tc := range cases {
		h := newHarness(t, Config{})
		h.openSession(1)
		req := h.request(tc.id, nil, wire.OpCreateSession, nil)
		req.TimeoutMs = tc.timeoutMs
		got := h.applyBytes(req.Zxid, h.tree.Prepare(req))
		assert.Equal(t, tc.want, got.Err, "%s: createSession id %d timeout %d ms", tc.name, tc.id, tc.timeoutMs)
	}
}

// TestMultiInvalidCreateFlagFailsTheOp pins what Apache ZooKeeper 3.8.0 does with a create
// sub-op whose flags are no create mode (zk-protocol.md §6.1 and §10.1 say the whole request
// fails with MarshallingError; 3.8.0 does not):
//   - MultiOperationRecord.deserialize builds the op with Op.create(path, data, acl, flags[,
//     ttl]), which maps the flags with CreateMode.fromFlag(flags, PERSISTENT): an unknown
//     value falls back to PERSISTENT, so the body decodes and the op becomes a plain create
//     (opcode 1) whatever its header said, createTTL included;
//   - PrepRequestProcessor's multi case runs pRequest2TxnCreate for it, whose
//     CreateMode.fromFlag(flags) throws BadArgumentsException, a KeeperException: that op's
//     result is BadArguments, the ops before it report 0 and the ones after
//     RuntimeInconsistency, the header err is 0, and nothing is applied.
func TestMultiInvalidCreateFlagFailsTheOp(t *testing.T) {
	bodies := map[wire.OpCode]func(flags wire.CreateMode) wire.Record{
		wire.OpCreate:  func(f wire.CreateMode) wire.Record { return &wire.CreateRequest{Path: "/bad", ACL: OpenACL, Flags: f} },
		wire.OpCreate2: func(f wire.CreateMode) wire.Record { return &wire.CreateRequest{Path: "/bad", ACL: OpenACL, Flags: f} },
		wire.OpCreateContainer: func(f wire.CreateMode) wire.Record {
			return &wire.CreateRequest{Path: "/bad", ACL: OpenACL, Flags: f}
		},
		wire.OpCreateTTL: func(f wire.CreateMode) wire.Record {
			return &wire.CreateTTLRequest{Path: "/bad", ACL: OpenACL, Flags: f, TTLMs: 5000}
		},
	}
	for _, typ := range []wire.OpCode{wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL} {
		for _, flags := range []wire.CreateMode{7, -1, 1 << 20} {
			h := errorFixture(t, Config{ExtendedTypesEnabled: true})
			got := h.write(1, aliceIDs, wire.OpMulti, &wire.MultiRequest{Ops: []wire.MultiOp{
				{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/first", ACL: OpenACL}},
				{Type: typ, Body: bodies[typ](flags)},
				{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: "/p", Version: -1}},
			}})
			what := fmt.Sprintf("multi [create /first, op %d with flags %d, setData /p]", typ, flags)
			assert.Equal(t, wire.ErrOK, got.Err, "%s: header err", what)
			assert.Equal(t, &wire.MultiResponse{Results: []wire.MultiResult{
				{Type: wire.OpError, Err: wire.ErrOK},
				{Type: wire.OpError, Err: wire.ErrBadArguments},
				{Type: wire.OpError, Err: wire.ErrRuntimeInconsistency},
			}}, got.Body, "%s: results", what)
			_, err := h.tree.Exists("/first", nil)
			assert.Equal(t, wire.ErrNoNode, err, "%s: nothing applied", what)
		}
	}
}
