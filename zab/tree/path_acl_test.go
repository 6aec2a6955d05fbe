package tree

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

func TestValidPath(t *testing.T) {
	valid := []string{"/", "/a", "/a/b", "/...", "/.a", "/a.", "/a b", "/é", "/\u00a0", "/\ufeff", "/a-0000000001"}
	invalid := []string{"", "a", "//", "/a/", "/a//b", "/.", "/..", "/a/./b", "/a/../b", "/a\x00", "/\x01", "/\x1f",
		"/\x7f", "/\u0085", "/\u009f", "/\ud7ff\ue000", "/\uf8ff", "/\ufff0", "/\uffff", "/\U0001F600", "/\xff"}
	for _, p := range valid {
		assert.True(t, ValidPath(p), "%q is a valid path", p)
	}
	for _, p := range invalid {
		assert.False(t, ValidPath(p), "%q is not a valid path", p)
	}
}

func TestSplitPath(t *testing.T) {
	for _, c := range []struct{ path, parent, name string }{
		{"/", "/", ""}, {"/a", "/", "a"}, {"/a/b", "/a", "b"}, {"/a/", "/a", ""}, {"//a", "/", "a"},
	} {
		parent, name, ok := splitPath(c.path)
		assert.True(t, ok)
		assert.Equal(t, c.parent, parent, "parent of %q", c.path)
		assert.Equal(t, c.name, name, "name of %q", c.path)
	}
	_, _, ok := splitPath("a")
	assert.False(t, ok)
}

func TestDigestIDs(t *testing.T) {
	// Values from zk-protocol.md §9.3 (SHA-1, standard base64 with padding).
	assert.Equal(t, "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=", DigestID("user:password"))
	assert.Equal(t, "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=", DigestID("super:admin"))
	assert.Equal(t, "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=", DigestID("bob:secret"))
	assert.Equal(t, []wire.Id{{Scheme: "digest", ID: DigestID("bob:secret")}}, DigestAuth([]byte("bob:secret"), ""))
	assert.Equal(t, []wire.Id{{Scheme: "digest", ID: "super:xQJmxLMiHGwaqBvst5y6rkB6HQs="}, {Scheme: "super", ID: ""}},
		DigestAuth([]byte("super:admin"), "super:xQJmxLMiHGwaqBvst5y6rkB6HQs="), "the super digest adds the super id")
}

func TestPermitted(t *testing.T) {
	world := func(p wire.Perms) []wire.ACL {
		return []wire.ACL{{Perms: p, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
	}
	ip := func(spec string) []wire.ACL {
		return []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "ip", ID: spec}}}
	}
	from := func(addr string) []wire.Id { return []wire.Id{{Scheme: "ip", ID: addr}} }
	cases := []struct {
		name string
		acl  []wire.ACL
		perm wire.Perms
		ids  []wire.Id
		want bool
	}{
		{"empty ACL allows all", nil, wire.PermAdmin, nil, true},
		{"world grants its bits", world(wire.PermRead), wire.PermRead, nil, true},
		{"world lacks other bits", world(wire.PermRead), wire.PermWrite, nil, false},
		{"getACL asks READ or ADMIN", world(wire.PermAdmin), wire.PermRead | wire.PermAdmin, nil, true},
		{"super bypasses", world(0), wire.PermAll, []wire.Id{{Scheme: "super"}}, true},
		{"digest equality", aliceAll, wire.PermWrite, aliceIDs, true},
		{"other digest", aliceAll, wire.PermWrite, bobIDs, false},
		{"ip exact", ip("10.0.0.1"), wire.PermRead, from("10.0.0.1"), true},
		{"ip other", ip("10.0.0.1"), wire.PermRead, from("10.0.0.2"), false},
		{"ip /24", ip("10.0.0.0/24"), wire.PermRead, from("10.0.0.77"), true},
		{"ip /24 outside", ip("10.0.0.0/24"), wire.PermRead, from("10.0.1.77"), false},
		{"ip /0", ip("1.2.3.4/0"), wire.PermRead, from("200.1.1.1"), true},
		{"ip /12", ip("172.16.0.0/12"), wire.PermRead, from("172.31.255.1"), true},
		{"ip /12 outside", ip("172.16.0.0/12"), wire.PermRead, from("172.32.0.1"), false},
		{"ipv6 client never matches", ip("0.0.0.0/0"), wire.PermRead, from("::1"), false},
		{"scheme must match", ip("10.0.0.1"), wire.PermRead, []wire.Id{{Scheme: "digest", ID: "10.0.0.1"}}, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Permitted(c.acl, c.perm, c.ids), c.name)
	}
}

func TestFixupACL(t *testing.T) {
	anyone := wire.ACL{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}
	got, err := fixupACL([]wire.ACL{anyone, anyone, {Perms: 5, ID: wire.Id{Scheme: "auth"}}},
		[]wire.Id{{Scheme: "ip", ID: "1.2.3.4"}, aliceID, {Scheme: "super"}})
	assert.Equal(t, wire.ErrOK, err)
	assert.Equal(t, []wire.ACL{anyone, {Perms: 5, ID: aliceID}}, got,
		"duplicates dropped, auth expanded to digest ids only (zk-protocol.md §9.4)")
	for _, bad := range []wire.ACL{
		{Perms: 1, ID: wire.Id{Scheme: "world", ID: "everyone"}},
		{Perms: 1, ID: wire.Id{Scheme: "digest", ID: "nocolon"}},
		{Perms: 1, ID: wire.Id{Scheme: "digest", ID: "a:b:c"}},
		{Perms: 1, ID: wire.Id{Scheme: "digest", ID: "user:"}},
		{Perms: 1, ID: wire.Id{Scheme: "ip", ID: "10.0.0"}},
		{Perms: 1, ID: wire.Id{Scheme: "ip", ID: "10.0.0.256"}},
		{Perms: 1, ID: wire.Id{Scheme: "ip", ID: "::1"}},
		{Perms: 1, ID: wire.Id{Scheme: "sasl", ID: "x"}},
		{Perms: 1, ID: wire.Id{Scheme: "", ID: ""}},
	} {
		_, err := fixupACL([]wire.ACL{bad}, aliceIDs)
		assert.Equal(t, wire.ErrInvalidACL, err, "%+v is an invalid ACL", bad)
	}
	_, err = fixupACL([]wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "digest", ID: ":hash"}}}, nil)
	assert.Equal(t, wire.ErrOK, err, "Java's split keeps a leading empty part: \":hash\" has two parts")
}

// TestReapableBoundary pins ContainerManager.getCandidates' strict comparisons: a TTL node is
// a candidate once more than its TTL has passed since mtime (elapsed > ttl), a never-used
// container once more than neverUsedMs has passed since creation; at equality, not yet.
func TestReapableBoundary(t *testing.T) {
	h := newHarness(t, Config{ExtendedTypesEnabled: true})
	h.openSession(1)
	ttl := h.write(1, nil, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/ttl", ACL: OpenACL, Flags: wire.ModePersistentWithTTL, TTLMs: 5000})
	require.Equal(t, wire.ErrOK, ttl.Err)
	ttlMtime := h.stat("/ttl").Mtime
	got := h.write(1, nil, wire.OpCreateContainer, &wire.CreateRequest{Path: "/never", ACL: OpenACL, Flags: wire.ModeContainer})
	require.Equal(t, wire.ErrOK, got.Err)
	containerMtime := h.stat("/never").Mtime
	cases := []struct {
		name        string
		path        string
		nowMs       int64
		neverUsedMs int64
		want        bool
	}{
		{"TTL node, elapsed = ttl", "/ttl", ttlMtime + 5000, 0, false},
		{"TTL node, elapsed = ttl + 1", "/ttl", ttlMtime + 5001, 0, true},
		{"never-used container, elapsed = neverUsedMs", "/never", containerMtime + 7000, 7000, false},
		{"never-used container, elapsed = neverUsedMs + 1", "/never", containerMtime + 7001, 7000, true},
	}
	for _, tc := range cases {
		got := h.tree.Reapable(tc.nowMs, tc.neverUsedMs, 100)
		assert.Equal(t, tc.want, slices.Contains(got, tc.path), "%s: Reapable(%d, %d, 100) = %q", tc.name, tc.nowMs, tc.neverUsedMs, got)
	}
}

// TestFixupACLDropsDuplicatesOfALargeList: a create frame can carry ~87k ACL entries; the
// duplicates go, the first occurrence of each stays, in request order, whatever the size
// (BenchmarkFixupLargeACL times it).
func TestFixupACLDropsDuplicatesOfALargeList(t *testing.T) {
	distinct := largeACL(20000)
	acl := append(append([]wire.ACL{}, distinct...), distinct[:1000]...) // repeats at the end
	acl = append(acl[:10:10], append(distinct[5:8:8], acl[10:]...)...)   // and inside
	got, err := fixupACL(acl, nil)
	assert.Equal(t, wire.ErrOK, err)
	assert.Equal(t, distinct, got, "fixupACL of %d entries keeps the %d distinct ones, each at its first place", len(acl), len(distinct))
}

// largeACL is n distinct world:anyone entries (the permission bits differ), as the audit's
// 87k-entry create sent them.
func largeACL(n int) []wire.ACL {
	acl := make([]wire.ACL, n)
	for i := range acl {
		acl[i] = wire.ACL{Perms: wire.Perms(i), ID: wire.Id{Scheme: "world", ID: "anyone"}}
	}
	return acl
}

func TestReapable(t *testing.T) {
	h := newHarness(t, Config{ExtendedTypesEnabled: true})
	h.openSession(1)
	for _, p := range []string{"/used", "/never", "/busy"} {
		got := h.write(1, nil, wire.OpCreateContainer, &wire.CreateRequest{Path: p, ACL: OpenACL, Flags: wire.ModeContainer})
		assert.Equal(t, wire.ErrOK, got.Err)
	}
	h.mustCreate(1, "/used/x", wire.ModePersistent)
	h.write(1, nil, wire.OpDelete, &wire.DeleteRequest{Path: "/used/x", Version: -1})
	h.mustCreate(1, "/busy/x", wire.ModePersistent)
	ttl := h.write(1, nil, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/ttl", ACL: OpenACL, Flags: wire.ModePersistentWithTTL, TTLMs: 5000})
	assert.Equal(t, wire.ErrOK, ttl.Err)
	assert.Equal(t, int64(0), h.stat("/ttl").EphemeralOwner, "TTL nodes report ephemeralOwner 0")
	created := h.now

	assert.Equal(t, []string{"/used"}, h.tree.Reapable(created, 0, 100), "only a container that had a child and lost it")
	assert.Equal(t, []string{"/never", "/ttl", "/used"}, h.tree.Reapable(created+1_000_000, 1000, 100),
		"never-used containers after neverUsedMs, TTL nodes after their TTL")
	assert.Equal(t, []string{"/never"}, h.tree.Reapable(created+1_000_000, 1000, 1), "at most limit")

	got := h.write(0, nil, wire.OpDeleteContainer, &wire.DeleteRequest{Path: "/used", Version: -1})
	assert.Equal(t, wire.ErrOK, got.Err)
	assert.Equal(t, wire.EventNodeDeleted, got.Events[0].Type, "reaping is an ordinary delete for watches")
	for path, want := range map[string]wire.Err{"/busy": wire.ErrNotEmpty, "/busy/x": wire.ErrBadVersion, "/gone": wire.ErrNoNode, "/zookeeper": wire.ErrBadArguments} {
		got := h.write(0, nil, wire.OpDeleteContainer, &wire.DeleteRequest{Path: path, Version: -1})
		assert.Equal(t, want, got.Err, "deleteContainer %s", path)
	}
}
