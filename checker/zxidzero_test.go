package checker

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// answeredAtOnce records a request ZooKeeper answers outside its pipeline with zxid 0
// (ZooKeeperServer.processPacket for addAuth): called at call, answered at ret.
func (f *fakeZK) answeredAtOnce(session int64, xid int32, q Request, err wire.Err, call, ret int64) int {
	c := f.clients[session]
	f.h.Ops = append(f.h.Ops, Op{Client: c.client, Session: session, Xid: xid, Call: call, Return: ret,
		Request: q, Err: err, Zxid: 0})
	return len(f.h.Ops) - 1
}

// zxidZeroWorkload: session a authenticates twice with the Java client's reserved xid, b
// once with an ordinary xid (go-zookeeper's) after a read, one of a's auths answered while its getData
// is still pending (processPacket answers auth at once), and a write the eager ACL check
// refuses at zxid 0. Every other reply is past zxid 0.
func zxidZeroWorkload() (f *fakeZK, at map[string]int) {
	f = newFakeZK()
	a, b := f.connect(0), f.connect(1)
	at = map[string]int{}
	f.do(a, create("/x", "x0"))
	at["authA1"] = f.answeredAtOnce(a, wire.XidAuth, Request{Type: wire.OpAuth}, wire.ErrOK, f.now, f.now+1)
	f.now += 2
	at["read"] = f.do(a, getData("/x", true))
	read := f.h.Ops[at["read"]]
	// The second auth is sent after the getData and answered before it.
	at["authA2"] = f.answeredAtOnce(a, wire.XidAuth, Request{Type: wire.OpAuth}, wire.ErrAuthFailed, read.Call, read.Call)
	f.do(b, exists("/x", false))
	f.clients[b].xid++
	at["authB"] = f.answeredAtOnce(b, f.clients[b].xid, Request{Type: wire.OpAuth}, wire.ErrOK, f.now, f.now+1)
	f.now += 2
	f.clients[b].xid++
	at["refused"] = f.answeredAtOnce(b, f.clients[b].xid, setData("/x", "no", -1), wire.ErrNoAuth, f.now, f.now+1)
	f.now += 2
	f.do(b, setData("/x", "x1", -1)) // fires a's watch
	at["last"] = f.do(a, exists("/x", false))
	return f, at
}

// A reply ZooKeeper sends with zxid 0 (addAuth, SASL, a write refused by the eager ACL
// check) is no server state: the session order checks skip it, so a recorder can keep
// addAuth in the history (audit of issue 5: sim/zk left it out because they did not).
func TestZxidZeroRepliesPass(t *testing.T) {
	f, at := zxidZeroWorkload()
	requireOK(t, &f.h)
	for _, k := range []string{"authA1", "authA2", "authB", "refused"} {
		o := f.h.Ops[at[k]]
		require.Zero(t, o.Zxid, "%s: %v", k, o)
		require.True(t, zxidZero(&o), "%s is a zxid-0 reply: %v", k, o)
	}
	require.Len(t, f.h.Events, 1, "a's data watch fired once: %v", f.h.Events)
}

func TestZxidZeroMutationsFail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		break_ func(h *History, at map[string]int)
	}{
		{"an auth reply with a zxid that goes back", CheckSessionZxid, func(h *History, at map[string]int) {
			h.Ops[at["authB"]].Zxid = 1 // non-zero: a server state, below b's exists
		}},
		// Only the zxid-0 replies ZooKeeper sends are exempt: a read at zxid 0 is checked
		// (here it misses a's own create).
		{"a read at zxid 0", CheckReadOwnWrite, func(h *History, at map[string]int) {
			h.Ops[at["last"]].Zxid = 0
		}},
		{"a write refused for another reason at zxid 0", CheckSessionZxid, func(h *History, at map[string]int) {
			h.Ops[at["refused"]].Err = wire.ErrBadVersion
			h.Ops[at["refused"]].Version = 5
		}},
		// With a server zxid, the reserved xid -4 orders the auth before a's create: its
		// later reply is out of request order.
		{"an auth reply with a server zxid is ordered like any reply", CheckSessionFIFO, func(h *History, at map[string]int) {
			h.Ops[at["authA2"]].Zxid = h.Ops[at["read"]].Zxid
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, at := zxidZeroWorkload()
			h := f.h.clone()
			tc.break_(h, at)
			requireViolation(t, h, tc.check)
		})
	}
}
