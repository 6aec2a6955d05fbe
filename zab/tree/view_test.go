package tree

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// TestViewIsFrozen applies the same random writes to two trees, one of which is frozen every
// few dozen txns. Each View must keep returning the snapshot bytes its tree had at the Freeze
// however many writes follow (copy-on-write never writes a node a View holds), and the frozen
// tree must stay byte-for-byte and digest-equal to the tree that was never frozen.
// Reproduce one seed: go test ./zab/tree -run TestViewIsFrozen -v
func TestViewIsFrozen(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			members := []byte("server.1=a:1:2:participant;c:3\nversion=0")
			frozen := newHarness(t, Config{DynamicConfig: members})
			plain := newHarness(t, Config{DynamicConfig: members})
			rng := rand.New(rand.NewPCG(seed, 7))
			type frozenAt struct {
				view  *View
				bytes []byte
				txn   int
			}
			var views []frozenAt
			both := func(do func(h *harness) Applied) {
				a, b := do(frozen), do(plain)
				require.Equal(t, b.Err, a.Err, "seed %d: the frozen tree answers as the plain one", seed)
			}
			for id := int64(1); id <= 4; id++ {
				frozen.openSession(id)
				plain.openSession(id)
			}
			dirs := []string{"/a", "/b", "/big", "/zookeeper/quota"}
			acls := [][]wire.ACL{OpenACL, ReadACL, {{Perms: wire.PermAll, ID: wire.Id{Scheme: "ip", ID: "10.0.0.9"}}}}
			for txn := 0; txn < 1500; txn++ {
				if txn%40 == 0 {
					views = append(views, frozenAt{view: frozen.tree.Freeze(), bytes: frozen.tree.Snapshot(), txn: txn})
				}
				session := int64(rng.IntN(4) + 1)
				dir := dirs[rng.IntN(len(dirs))]
				path := fmt.Sprintf("%s/n%d", dir, rng.IntN(40))
				if dir == "/big" {
					path = fmt.Sprintf("/big/n%04d", rng.IntN(1200)) // past chunkMax: chunks split and merge
				}
				switch op := rng.IntN(10); {
				case op < 4:
					mode := []wire.CreateMode{wire.ModePersistent, wire.ModeEphemeral, wire.ModePersistentSequential}[rng.IntN(3)]
					// Open ACLs, so that later writes are allowed; setACL varies them.
					for _, p := range []string{dir, path} {
						both(func(h *harness) Applied {
							return h.write(session, nil, wire.OpCreate, &wire.CreateRequest{Path: p, Data: []byte(p), ACL: OpenACL, Flags: mode})
						})
					}
				case op < 6:
					data := make([]byte, rng.IntN(64))
					both(func(h *harness) Applied {
						return h.write(session, nil, wire.OpSetData, &wire.SetDataRequest{Path: path, Data: data, Version: -1})
					})
				case op < 7:
					acl := acls[rng.IntN(len(acls))]
					both(func(h *harness) Applied {
						return h.write(session, nil, wire.OpSetACL, &wire.SetACLRequest{Path: path, ACL: acl, Version: -1})
					})
				case op < 9:
					both(func(h *harness) Applied {
						return h.write(session, nil, wire.OpDelete, &wire.DeleteRequest{Path: path, Version: -1})
					})
				default:
					both(func(h *harness) Applied { return h.closeSession(session) })
					frozen.openSession(session)
					plain.openSession(session)
				}
				require.Equal(t, plain.tree.Digest(), frozen.tree.Digest(), "seed %d txn %d: digests of the frozen and the plain tree", seed, txn)
			}
			require.Equal(t, plain.tree.Snapshot(), frozen.tree.Snapshot(), "seed %d: snapshots of the frozen and the plain tree", seed)
			for _, v := range views {
				require.Equal(t, v.bytes, v.view.Snapshot(), "seed %d: the View frozen at txn %d must still give the snapshot of that moment", seed, v.txn)
				restored, err := Restore(Config{DynamicConfig: members}, v.view.Snapshot())
				require.NoError(t, err, "seed %d: restore the View frozen at txn %d", seed, v.txn)
				require.Equal(t, v.view.LastZxid(), restored.LastZxid(), "seed %d: the View's zxid", seed)
			}
		})
	}
}
