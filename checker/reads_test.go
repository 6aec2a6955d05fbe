package checker

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// workload is a correct history touching every check: two clients writing, reading,
// syncing, watching, a multi, an ephemeral whose session expires.
func workload() (*fakeZK, map[string]int) {
	f := newFakeZK()
	a, b := f.connect(0), f.connect(1)
	at := map[string]int{}
	at["createA"] = f.do(a, create("/a", "a0"))
	at["watchB"] = f.do(b, getData("/a", true))
	at["setA"] = f.do(a, setData("/a", "a1", 0))
	at["readOwn"] = f.do(a, getData("/a", false))
	at["existsWatch"] = f.do(b, exists("/b", true))
	at["createB"] = f.do(a, create("/b", "b0"))
	at["childWatch"] = f.do(b, children("/", true))
	at["eph"] = f.do(b, createMode("/e", "e0", wire.ModeEphemeral))
	at["multi"] = f.do(a, multi(setData("/a", "a2", 1), checkVersion("/b", 0), create("/c", "c0")))
	at["failedMulti"] = f.do(a, multi(setData("/a", "a3", -1), del("/b", 7)))
	at["sync"] = f.do(b, syncOp("/"))
	at["syncRead"] = f.do(b, getData("/a", false))
	at["badVersion"] = f.do(a, setData("/b", "b1", 5))
	at["children"] = f.do(a, children("/", false))
	at["seq"] = f.do(a, createMode("/s-", "s", wire.ModePersistentSequential))
	f.expire(b)
	at["afterExpiry"] = f.do(a, exists("/e", false))
	return f, at
}

func TestWorkloadPasses(t *testing.T) {
	f, _ := workload()
	r := requireOK(t, &f.h)
	require.Equal(t, 3, r.Partitions, "partitions: /a+/b+/c tied by the multis, /e, the sequential node")
	require.NotEmpty(t, f.h.Events, "the workload's watches fired")
}

// Each mutation breaks one guarantee of a correct history; the named check must catch it.
func TestReadMutationsFail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		break_ func(h *History, at map[string]int)
	}{
		{"stale data for the reply zxid", CheckReadState, func(h *History, at map[string]int) {
			h.Ops[at["readOwn"]].Reply.Data = []byte("a0")
		}},
		{"wrong stat version", CheckReadState, func(h *History, at map[string]int) {
			st := *h.Ops[at["readOwn"]].Reply.Stat
			st.Version = 7
			h.Ops[at["readOwn"]].Reply.Stat = &st
		}},
		{"missing child", CheckReadState, func(h *History, at map[string]int) {
			o := &h.Ops[at["children"]]
			o.Reply.Children = o.Reply.Children[1:]
		}},
		{"NoNode for an existing node", CheckReadState, func(h *History, at map[string]int) {
			o := &h.Ops[at["readOwn"]]
			o.Err, o.Reply = wire.ErrNoNode, Reply{}
		}},
		{"ephemeral still seen after expiry", CheckReadState, func(h *History, at map[string]int) {
			o := &h.Ops[at["afterExpiry"]]
			st := wire.Stat{}
			o.Err, o.Reply.Stat = wire.ErrOK, &st
		}},
		{"replies out of request order", CheckSessionFIFO, func(h *History, at map[string]int) {
			a, b := &h.Ops[at["createA"]], &h.Ops[at["setA"]]
			a.Return, b.Return = b.Return, a.Return
		}},
		{"zxid goes backwards", CheckSessionZxid, func(h *History, at map[string]int) {
			o := &h.Ops[at["existsWatch"]] // session b, a read
			o.Zxid = h.Ops[at["watchB"]].Zxid - 1
		}},
		{"read misses own write", CheckReadOwnWrite, func(h *History, at map[string]int) {
			// The read reports an older zxid (and, consistently, the older data).
			o := &h.Ops[at["readOwn"]]
			o.Zxid = h.Ops[at["createA"]].Zxid
			o.Reply = h.Ops[at["watchB"]].Reply
		}},
		{"acknowledged write lost", CheckLostWrite, func(h *History, at map[string]int) {
			cut := h.Ops[at["setA"]].Zxid
			for i, c := range h.Committed {
				if c.Zxid == cut {
					h.Committed[i].Txn.Cxid = 999 // no longer that request's txn
				}
			}
		}},
		{"write reply zxid is not its txn's", CheckWriteReply, func(h *History, at map[string]int) {
			h.Ops[at["setA"]].Zxid++
		}},
		{"created path differs", CheckWriteReply, func(h *History, at map[string]int) {
			h.Ops[at["seq"]].Reply.Path = "/s-0000000099"
		}},
		{"multi result differs", CheckWriteReply, func(h *History, at map[string]int) {
			h.Ops[at["failedMulti"]].Reply.Results[1].Err = wire.ErrNoNode
		}},
		{"multi reply for a txn that is no multi", CheckWriteReply, func(h *History, at map[string]int) {
			o := &h.Ops[at["setA"]]
			o.Type, o.Reply = wire.OpMulti, Reply{Results: []Result{{}}}
		}},
		{"multi reply with a result missing", CheckWriteReply, func(h *History, at map[string]int) {
			o := &h.Ops[at["multi"]]
			o.Reply.Results = o.Reply.Results[:2]
		}},
		{"multi sub-result's path differs", CheckWriteReply, func(h *History, at map[string]int) {
			o := &h.Ops[at["multi"]]
			o.Reply.Results = append([]Result(nil), o.Reply.Results...)
			o.Reply.Results[2].Path = "/d"
		}},
		{"committed order goes backwards", CheckCommittedOrder, func(h *History, at map[string]int) {
			h.Committed[3], h.Committed[4] = h.Committed[4], h.Committed[3]
		}},
		{"committed txn cannot apply", CheckCommittedOrder, func(h *History, at map[string]int) {
			h.Committed = append(h.Committed[:2:2], h.Committed[3:]...) // drops the create of /a
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, at := workload()
			h := f.h.clone()
			tc.break_(h, at)
			requireViolation(t, h, tc.check)
		})
	}
}
