package checker

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// stateReadsWorkload: the reads beyond exists/getData/getChildren, each answered from the
// tree at its reply zxid, between writes that change what they answer: getACL, a count of
// descendants, a session's ephemerals, a multiRead with a failing sub-read.
func stateReadsWorkload() (*fakeZK, map[string]int) {
	f := newFakeZK()
	a, b := f.connect(0), f.connect(1)
	at := map[string]int{}
	f.do(a, create("/m", "m0"))
	f.do(a, create("/m/c1", ""))
	f.do(a, createMode("/m/c2", "", wire.ModeEphemeral))
	f.do(a, create("/m/c1/d", ""))
	f.do(a, createMode("/mx", "", wire.ModeEphemeral)) // matches the plain prefix "/m" too
	at["acl"] = f.do(b, Request{Type: wire.OpGetACL, Path: "/m"})
	at["count"] = f.do(b, Request{Type: wire.OpGetAllChildrenNumber, Path: "/m"})
	at["ephemerals"] = f.do(a, Request{Type: wire.OpGetEphemerals, Path: "/m"})
	at["multiRead"] = f.do(b, Request{Type: wire.OpMultiRead,
		Ops: []Request{getData("/m", false), children("/m", false), getData("/nope", false)}})
	f.do(a, setData("/m", "m1", -1))
	f.do(a, del("/m/c1/d", -1))
	at["after"] = f.do(b, Request{Type: wire.OpGetAllChildrenNumber, Path: "/m"})
	return f, at
}

func TestStateReadsPass(t *testing.T) {
	f, at := stateReadsWorkload()
	requireOK(t, &f.h)
	h := &f.h
	require.Equal(t, int32(3), *h.Ops[at["count"]].Reply.AllChildrenNumber, "/m/c1, /m/c2, /m/c1/d")
	require.Equal(t, int32(2), *h.Ops[at["after"]].Reply.AllChildrenNumber, "after the delete of /m/c1/d")
	require.ElementsMatch(t, []string{"/m/c2", "/mx"}, h.Ops[at["ephemerals"]].Reply.Children)
	m := h.Ops[at["multiRead"]].Reply.Results
	require.Len(t, m, 3)
	require.Equal(t, []wire.Err{wire.ErrOK, wire.ErrOK, wire.ErrNoNode}, []wire.Err{m[0].Err, m[1].Err, m[2].Err})
	require.NotNil(t, h.Ops[at["acl"]].Reply.ACL)
	// A recorder that leaves out the ACL, the count or the sub-results' data (sim/zk today)
	// is not judged on them.
	lean := h.clone()
	lean.Ops[at["acl"]].Reply.ACL = nil
	lean.Ops[at["count"]].Reply.AllChildrenNumber = nil
	lean.Ops[at["multiRead"]].Reply.Results = []Result{{}, {}, {Err: wire.ErrNoNode}}
	requireOK(t, lean)
}

// Each mutation gives one of these reads an answer the tree at its reply zxid does not
// give: ReadAtZxid must catch it (audit of issue 5: they were only checked for session
// order before).
func TestStateReadMutationsFail(t *testing.T) {
	stale := func(h *History, at map[string]int, key string) {
		// Answered at the zxid of the last write, by a server that still answers from
		// before it: the reply zxid claims a state its answer is not.
		h.Ops[at[key]].Zxid = h.Ops[at["after"]].Zxid
	}
	for _, tc := range []struct {
		name   string
		break_ func(h *History, at map[string]int)
	}{
		{"getACL: wrong stat", func(h *History, at map[string]int) {
			st := *h.Ops[at["acl"]].Reply.Stat
			st.Version = 4
			h.Ops[at["acl"]].Reply.Stat = &st
		}},
		{"getACL: wrong acl", func(h *History, at map[string]int) {
			acl := []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
			h.Ops[at["acl"]].Reply.ACL = acl
		}},
		{"getACL: NoNode for a znode there", func(h *History, at map[string]int) {
			h.Ops[at["acl"]].Err, h.Ops[at["acl"]].Reply = wire.ErrNoNode, Reply{}
		}},
		{"getACL: stat of a later state", func(h *History, at map[string]int) { stale(h, at, "acl") }},
		{"getAllChildrenNumber: one too many", func(h *History, at map[string]int) {
			n := *h.Ops[at["count"]].Reply.AllChildrenNumber + 1
			h.Ops[at["count"]].Reply.AllChildrenNumber = &n
		}},
		{"getAllChildrenNumber: count of an earlier state", func(h *History, at map[string]int) { stale(h, at, "count") }},
		{"getEphemerals: one left out", func(h *History, at map[string]int) {
			h.Ops[at["ephemerals"]].Reply.Children = []string{"/mx"}
		}},
		{"getEphemerals: another session's", func(h *History, at map[string]int) {
			h.Ops[at["ephemerals"]].Session = h.Ops[at["acl"]].Session // b owns none
			h.Ops[at["ephemerals"]].Xid = 100
		}},
		{"getEphemerals: a persistent znode listed", func(h *History, at map[string]int) {
			h.Ops[at["ephemerals"]].Reply.Children = []string{"/m/c2", "/mx", "/m/c1"}
		}},
		{"multiRead: sub-read data differs", func(h *History, at map[string]int) {
			h.Ops[at["multiRead"]].Reply.Results[0].Data = []byte("m1")
		}},
		{"multiRead: sub-read children differ", func(h *History, at map[string]int) {
			h.Ops[at["multiRead"]].Reply.Results[1].Children = []string{"c1"}
		}},
		{"multiRead: a failing sub-read reported OK", func(h *History, at map[string]int) {
			h.Ops[at["multiRead"]].Reply.Results[2].Err = wire.ErrOK
		}},
		{"multiRead: a result missing", func(h *History, at map[string]int) {
			h.Ops[at["multiRead"]].Reply.Results = h.Ops[at["multiRead"]].Reply.Results[:2]
		}},
		{"multiRead: answers of an earlier state", func(h *History, at map[string]int) { stale(h, at, "multiRead") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, at := stateReadsWorkload()
			h := f.h.clone()
			for _, k := range []string{"acl", "multiRead", "ephemerals"} {
				h.Ops[at[k]].Reply = cloneReply(h.Ops[at[k]].Reply)
			}
			tc.break_(h, at)
			requireViolation(t, h, CheckReadState)
		})
	}
}

// cloneReply copies the slices a mutation may change in place.
func cloneReply(r Reply) Reply {
	r.Results = append([]Result(nil), r.Results...)
	r.Children = append([]string(nil), r.Children...)
	r.ACL = append([]wire.ACL(nil), r.ACL...)
	return r
}
