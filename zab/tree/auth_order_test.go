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
