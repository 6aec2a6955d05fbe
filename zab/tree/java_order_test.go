package tree

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zabkit/zabkit/zab/wire"
)

func TestSortAuthIDsFollowsJavaHashSetOrder(t *testing.T) {
	ip := wire.Id{Scheme: "ip", ID: "127.0.0.1"}
	bob := wire.Id{Scheme: "digest", ID: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}
	alice := wire.Id{Scheme: "digest", ID: "alice:V55/p2T0OpjQ+low3NVAH4aLvm0="}
	ids := []wire.Id{ip, bob, alice}
	SortAuthIDs(ids)
	// What Apache ZooKeeper 3.8.0's whoAmI answered after auth bob:secret, auth alice:pw.
	assert.Equal(t, []wire.Id{bob, ip, alice}, ids, "buckets 3, 12 and 13 of a 16-bucket table")

	assert.Equal(t, uint32(0x59c3b57d), javaStringHash("127.0.0.1"), "\"127.0.0.1\".hashCode(), 1505998205 in Java")
	assert.Equal(t, uint32(0), javaStringHash(""), "\"\".hashCode()")
}

// TestJavaCloseOrderIsApaches: the NodeDeleted order Apache ZooKeeper 3.8.0 gave when a
// session owning these ephemerals (created in the order listed) closed, as observed by the
// conformance harness.
func TestJavaCloseOrderIsApaches(t *testing.T) {
	cases := []struct {
		created, want []string
	}{
		{[]string{"/ordtest0/0000000000", "/ordtest0/a/0000000001", "/ordtest0/a/s-0000000002"},
			[]string{"/ordtest0/a/0000000001", "/ordtest0/0000000000", "/ordtest0/a/s-0000000002"}},
		{[]string{"/ordtest1/e1", "/ordtest1/e2", "/ordtest1/e3", "/ordtest1/e4", "/ordtest1/e5", "/ordtest1/x", "/ordtest1/y"},
			[]string{"/ordtest1/e2", "/ordtest1/e1", "/ordtest1/e5", "/ordtest1/e4", "/ordtest1/e3", "/ordtest1/x", "/ordtest1/y"}},
		{[]string{"/ordtest2/q", "/ordtest2/p"}, []string{"/ordtest2/p", "/ordtest2/q"}},
		{nil, nil},
	}
	for _, tc := range cases {
		czxid := map[string]int64{}
		for i, p := range tc.created {
			czxid[p] = int64(i + 1)
		}
		got := JavaCloseOrder(tc.created, func(p string) int64 { return czxid[p] })
		assert.Equal(t, tc.want, got, "close order of %v", tc.created)
	}
}
