package zk

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab/wire"
)

// addAuth is in the history as ZooKeeper answers it: Type OpAuth, the reserved xid
// XidAuth, zxid 0, the reply's err. It moves neither the session's last zxid nor the reply
// that places the next watch event (the Java client's readResponse takes neither from it).
// The checks skip a zxid-0 reply in the session order, and do not skip one whose zxid is a
// server state: an auth answered at zxid 0x1 after the session saw a later zxid fails.
func TestAddAuthIsRecorded(t *testing.T) {
	o := Quiet(4)
	o.OutDir = t.TempDir()
	r := Run(o)
	require.False(t, r.Failed(), "quiet seed 4 must pass with its addAuths recorded:\n%v", r)
	h := r.History
	ok, after := 0, -1
	for i, op := range h.Ops {
		if op.Type != wire.OpAuth {
			continue
		}
		require.Equal(t, wire.XidAuth, op.Xid, "quiet seed 4: %v: addAuth keeps the Java client's reserved xid", op)
		require.Falsef(t, op.Unknown, "quiet seed 4: %v: a fault-free run answers every addAuth", op)
		require.Zero(t, op.Zxid, "quiet seed 4: %v: ZooKeeper answers addAuth with zxid 0", op)
		if op.Err == wire.ErrOK {
			ok++
			if after == -1 && i > 0 && lastZxidOf(h, op.Session, i) > 0 {
				after = i // an auth after a reply that set the session's zxid
			}
		}
	}
	require.Equal(t, r.Stats.Auths, ok, "quiet seed 4: every addAuth answered OK is in the history")
	require.NotEqual(t, -1, after, "quiet seed 4: no addAuth after a reply with a zxid: the mutation below has nothing to bite")
	afterAuth := 0
	for _, e := range h.Events {
		if lastReplyBefore(h, e).Type == wire.OpAuth {
			afterAuth++
		}
		require.NotEqual(t, wire.XidAuth, e.AfterXid, "quiet seed 4: %v is placed after an addAuth reply, which is outside the session's order", e)
	}
	require.Positive(t, afterAuth, "quiet seed 4: no watch event arrived right after an addAuth reply: the placement check above has nothing to bite")

	mutated := *h
	mutated.Ops = slices.Clone(h.Ops)
	mutated.Ops[after].Zxid = 1 // a server state below the session's earlier reply
	rep := checker.Check(&mutated, checker.Config{Tree: treeConfig})
	// With its zxid a server state, the auth joins the session's order at its xid (-4,
	// before every other): its reply is out of FIFO order, and its zxid goes back.
	require.NotEmpty(t, rep.Failed(), "quiet seed 4: %v answered at zxid 0x1 after the session saw %#x must fail",
		mutated.Ops[after], lastZxidOf(h, h.Ops[after].Session, after))
	require.Subset(t, []string{checker.CheckSessionFIFO, checker.CheckSessionZxid}, rep.Failed(),
		"quiet seed 4: %v answered at zxid 0x1: only the session order checks may fail\n%v", mutated.Ops[after], rep.String())
}

// lastReplyBefore is the session's last reply before event e arrived (a zero Op if none).
func lastReplyBefore(h *checker.History, e checker.WatchEvent) checker.Op {
	var last checker.Op
	for _, op := range h.Ops {
		if op.Session == e.Session && !op.Unknown && op.Return <= e.Time && op.Return >= last.Return {
			last = op
		}
	}
	return last
}

// lastZxidOf is the highest zxid of the replies of session before op index i.
func lastZxidOf(h *checker.History, session int64, i int) int64 {
	z := int64(0)
	for _, op := range h.Ops[:i] {
		if op.Session == session && !op.Unknown && op.Return < h.Ops[i].Call {
			z = max(z, op.Zxid)
		}
	}
	return z
}

// getACL's ACL, getAllChildrenNumber's count and multiRead's sub-results (getData's data
// and stat, getChildren's children) reach the history, and the checker compares them with
// the tree at the reply's zxid: each one changed fails ReadAtZxid. The recorder before
// left them nil, which the checker reads as "not recorded" and skips.
func TestReadReplyFieldsAreRecordedAndChecked(t *testing.T) {
	o := Quiet(1)
	o.OutDir = t.TempDir()
	r := Run(o)
	require.False(t, r.Failed(), "quiet seed 1:\n%v", r)
	h := r.History
	first := map[string]int{} // what was recorded -> the first op index that shows it
	note := func(what string, i int) {
		if _, ok := first[what]; !ok {
			first[what] = i
		}
	}
	for i, op := range h.Ops {
		if op.Unknown || op.Err != wire.ErrOK {
			continue
		}
		switch op.Type {
		case wire.OpGetACL:
			require.Equal(t, openACL, op.Reply.ACL, "quiet seed 1: %v: getACL's ACL (every znode has the open ACL)", op)
			note("acl", i)
		case wire.OpGetAllChildrenNumber:
			require.NotNil(t, op.Reply.AllChildrenNumber, "quiet seed 1: %v: getAllChildrenNumber's count", op)
			note("count", i)
		case wire.OpMultiRead:
			require.Len(t, op.Reply.Results, len(op.Ops), "quiet seed 1: %v: one result per read", op)
			for j, res := range op.Reply.Results {
				if res.Err != wire.ErrOK {
					continue
				}
				switch op.Ops[j].Type {
				case wire.OpGetData:
					require.NotNil(t, res.Data, "quiet seed 1: %v: result %d's data", op, j)
					require.NotNil(t, res.Stat, "quiet seed 1: %v: result %d's stat", op, j)
					note("multiRead data", i)
				case wire.OpGetChildren:
					require.NotNil(t, res.Children, "quiet seed 1: %v: result %d's children", op, j)
					note("multiRead children", i)
				}
			}
		}
	}
	for _, tc := range []struct {
		what   string
		mutate func(rep *checker.Reply)
	}{
		{"acl", func(rep *checker.Reply) {
			rep.ACL = []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
		}},
		{"count", func(rep *checker.Reply) {
			n := *rep.AllChildrenNumber + 1
			rep.AllChildrenNumber = &n
		}},
		{"multiRead data", func(rep *checker.Reply) {
			rep.Results = slices.Clone(rep.Results)
			for j := range rep.Results {
				if rep.Results[j].Data != nil {
					rep.Results[j].Data = []byte("not what the tree held")
					return
				}
			}
		}},
		{"multiRead children", func(rep *checker.Reply) {
			rep.Results = slices.Clone(rep.Results)
			for j := range rep.Results {
				if rep.Results[j].Children != nil {
					rep.Results[j].Children = append(slices.Clone(rep.Results[j].Children), "never-created")
					return
				}
			}
		}},
	} {
		i, ok := first[tc.what]
		require.True(t, ok, "quiet seed 1: no successful reply records the %s: the workload must exercise it", tc.what)
		mutated := *h
		mutated.Ops = slices.Clone(h.Ops)
		tc.mutate(&mutated.Ops[i].Reply)
		rep := checker.Check(&mutated, checker.Config{Tree: treeConfig})
		require.Equal(t, []string{checker.CheckReadState}, rep.Failed(),
			"quiet seed 1: %v with its %s changed must fail ReadAtZxid alone\n%v", mutated.Ops[i], tc.what, rep.String())
	}
}

// removeWatches drops the client's own watches as the Java client does (ZooKeeper 3.8.0
// ZKWatchManager.removeWatcher): the standard ones of the type, and the persistent and
// recursive ones only for Any; of a Data or Children removal, the persistent watch stays
// in the table, to be re-armed whole by setWatches2.
func TestRemoveWatchesDropsTheClientsWatches(t *testing.T) {
	const path = "/t0"
	all := func() watchTable {
		t := newWatchTable()
		for _, m := range []map[string]bool{t.data, t.exist, t.child, t.persistent, t.recursive} {
			m[path], m["/t1"] = true, true
		}
		return t
	}
	for _, tc := range []struct {
		typ                                     wire.WatcherType
		data, exist, child, persistent, recurse bool // still held on path
	}{
		{wire.WatcherData, false, false, true, true, true},
		{wire.WatcherChildren, true, true, false, true, true},
		{wire.WatcherAny, false, false, false, false, false},
	} {
		cl := &client{c: &Cluster{}, watches: all()}
		cl.arm(checker.Request{Type: wire.OpRemoveWatches, Path: path, WatchType: tc.typ}, wire.ErrOK)
		w := cl.watches
		got := []bool{w.data[path], w.exist[path], w.child[path], w.persistent[path], w.recursive[path]}
		require.Equal(t, []bool{tc.data, tc.exist, tc.child, tc.persistent, tc.recurse}, got,
			"removeWatches(%q, type %d): held data, exist, child, persistent, recursive", path, tc.typ)
		require.True(t, w.data["/t1"] && w.exist["/t1"] && w.child["/t1"] && w.persistent["/t1"] && w.recursive["/t1"],
			"removeWatches(%q, type %d) must leave another path's watches alone: %+v", path, tc.typ, w)

		cl = &client{c: &Cluster{}, watches: all()}
		cl.arm(checker.Request{Type: wire.OpRemoveWatches, Path: path, WatchType: tc.typ}, wire.ErrNoWatcher)
		require.Equal(t, all(), cl.watches, "a removeWatches answered NoWatcher removes nothing")
	}
}

// A client that kept a persistent watch removeWatches(Any) removed registers it again with
// the setWatches2 of its next reconnect; the server then fires events for it, which the
// checker, holding no such watch, rejects. Swarm seed 26 is the first of seeds 1-60 that
// shows it (34 the next); without the defect it passes.
func TestKeptPersistentWatchIsCaught(t *testing.T) {
	o := Swarm(26, DefaultFaultPhase)
	o.OutDir = t.TempDir()
	r := Run(o)
	require.False(t, r.Failed(), "swarm seed 26 without the defect must pass:\n%v", r)
	o.bug = bugKeepPersistentOnRemoveAny
	r = Run(o)
	require.True(t, r.Failed(), "swarm seed 26 with %v must fail:\n%v", o.bug, r)
	require.Equal(t, FailCheck, r.Failure.Kind, "swarm seed 26 with %v: %v", o.bug, r)
	require.Equal(t, checker.CheckWatchOneShot, r.Report.Failed()[0], "swarm seed 26 with %v: the first failed check\n%v", o.bug, r.Report.String())
}
