package node

import (
	"testing"

	"github.com/zabkit/zabkit/zab/wire"
)

// Wall time per client operation through the in-test world (node, codec, disk and network
// simulation included), one operation at a time.

func benchOps(b *testing.B, members int, op func(c *client, i int) wire.Reply) {
	w := newWorld(b, 1, worldOptions{members: members})
	leader := w.stable()
	target := leader
	if f := w.follower(); f != nil {
		target = f
	}
	c := w.session(target.id)
	c.do(wire.OpCreate, createReq("/b", "", wire.ModePersistent))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if r := op(c, i); r.Header.Err != wire.ErrOK {
			b.Fatalf("op %d failed: %d", i, r.Header.Err)
		}
		c.received = c.received[:0]
	}
}

func setData(c *client, _ int) wire.Reply {
	return c.do(wire.OpSetData, &wire.SetDataRequest{Path: "/b", Data: []byte("0123456789"), Version: -1})
}

func getData(c *client, _ int) wire.Reply {
	return c.do(wire.OpGetData, &wire.GetDataRequest{Path: "/b"})
}

func BenchmarkStandaloneSetData(b *testing.B)              { benchOps(b, 1, setData) }
func BenchmarkStandaloneGetData(b *testing.B)              { benchOps(b, 1, getData) }
func BenchmarkThreeMembersSetDataViaFollower(b *testing.B) { benchOps(b, 3, setData) }
func BenchmarkThreeMembersGetDataOnFollower(b *testing.B)  { benchOps(b, 3, getData) }
