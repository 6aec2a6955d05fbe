package checker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// Hand-made concurrent histories for the porcupine model. Times are virtual ticks; the
// session of client c is 0x100+c and its ops get xids in the order written.

type linHist struct {
	h    History
	xids map[int]int32
}

func (l *linHist) op(client int, call, ret int64, q Request, err wire.Err, reply Reply) *linHist {
	if l.xids == nil {
		l.xids = map[int]int32{}
	}
	l.xids[client]++
	l.h.Ops = append(l.h.Ops, Op{Client: client, Session: int64(0x100 + client), Xid: l.xids[client],
		Call: call, Return: ret, Request: q, Err: err, Reply: reply})
	return l
}

func (l *linHist) unknown(client int, call int64, q Request) *linHist {
	l.op(client, call, 0, q, 0, Reply{})
	l.h.Ops[len(l.h.Ops)-1].Unknown = true
	return l
}

func data(d string, version int32) Reply {
	return Reply{Data: []byte(d), Stat: &wire.Stat{Version: version}}
}

func checkLin(t *testing.T, l *linHist, timeout time.Duration) Report {
	t.Helper()
	var r Report
	CheckLinearizability(&l.h, Config{PartitionTimeout: timeout, VisualizationDir: t.TempDir()}, &r)
	return r
}

func TestLinearizableHistoriesPass(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    *linHist
	}{
		{"concurrent sets, sync+read sees the later", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 6, setData("/k", "v1", -1), 0, Reply{}).
			op(2, 3, 5, setData("/k", "v2", -1), 0, Reply{}).
			op(0, 7, 8, syncOp("/"), 0, Reply{}).
			op(0, 8, 9, getData("/k", false), 0, data("v1", 2))},
		{"a read overlapping a set may see either", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 10, setData("/k", "v1", -1), 0, Reply{}).
			op(2, 3, 4, syncOp("/"), 0, Reply{}).
			op(2, 4, 5, getData("/k", false), 0, data("v0", 0)).
			op(3, 3, 4, syncOp("/"), 0, Reply{}).
			op(3, 4, 5, getData("/k", false), 0, data("v1", 1))},
		{"version-checked sets: one wins", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 6, setData("/k", "a", 0), 0, Reply{}).
			op(2, 3, 5, setData("/k", "b", 0), wire.ErrBadVersion, Reply{})},
		{"unknown write later observed", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			unknown(1, 2, setData("/k", "lost?", -1)).
			op(2, 10, 11, syncOp("/"), 0, Reply{}).
			op(2, 11, 12, getData("/k", false), 0, data("lost?", 1))},
		{"unknown write never observed", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			unknown(1, 2, setData("/k", "lost", -1)).
			op(2, 10, 11, syncOp("/"), 0, Reply{}).
			op(2, 11, 12, getData("/k", false), 0, data("v0", 0))},
		{"failed creates and deletes agree with existence", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 3, create("/k", "again"), wire.ErrNodeExists, Reply{}).
			op(1, 4, 5, del("/k", 3), wire.ErrBadVersion, Reply{}).
			op(1, 6, 7, del("/k", 0), 0, Reply{}).
			op(1, 8, 9, del("/k", -1), wire.ErrNoNode, Reply{}).
			op(0, 10, 11, create("/k/child", ""), wire.ErrNoNode, Reply{})},
		{"multi is atomic", new(linHist).
			op(0, 0, 1, multi(create("/a", "a"), create("/b", "b")), 0,
				Reply{Results: []Result{{Path: "/a"}, {Path: "/b"}}}).
			op(1, 2, 3, multi(setData("/a", "a1", 0), setData("/b", "b1", 5)), 0,
				Reply{Results: []Result{{}, {Err: wire.ErrBadVersion}}}).
			op(2, 4, 5, syncOp("/"), 0, Reply{}).
			op(2, 5, 6, getData("/a", false), 0, data("a", 0))},
		{"an ephemeral goes with its session", new(linHist).
			op(1, 0, 1, createMode("/e", "e", wire.ModeEphemeral), 0, Reply{Path: "/e"}).
			op(1, 2, 3, Request{Type: wire.OpCloseSession}, 0, Reply{}).
			op(0, 4, 5, syncOp("/"), 0, Reply{}).
			op(0, 5, 6, exists("/e", false), wire.ErrNoNode, Reply{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkLin(t, tc.l, 5*time.Second)
			require.True(t, r.OK(), "expected linearizable, got %s", r.String())
		})
	}
}

func TestNonLinearizableHistoriesFail(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    *linHist
	}{
		{"stale sync+read", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 3, setData("/k", "v1", -1), 0, Reply{}).
			op(2, 4, 5, syncOp("/"), 0, Reply{}).
			op(2, 5, 6, getData("/k", false), 0, data("v0", 0))},
		{"lost update: both version-checked sets succeed", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 6, setData("/k", "a", 0), 0, Reply{}).
			op(2, 3, 5, setData("/k", "b", 0), 0, Reply{})},
		{"created twice", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 3, create("/k", "v1"), 0, Reply{Path: "/k"})},
		{"NodeExists for a node never created", new(linHist).
			op(1, 2, 3, create("/k", "v1"), wire.ErrNodeExists, Reply{})},
		{"unknown write observed, then gone", new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			unknown(1, 2, setData("/k", "maybe", -1)).
			op(2, 10, 11, syncOp("/"), 0, Reply{}).
			op(2, 11, 12, getData("/k", false), 0, data("maybe", 1)).
			op(2, 13, 14, syncOp("/"), 0, Reply{}).
			op(2, 14, 15, getData("/k", false), 0, data("v0", 0))},
		{"multi half applied", new(linHist).
			op(0, 0, 1, multi(create("/a", "a"), create("/b", "b")), 0,
				Reply{Results: []Result{{Path: "/a"}, {Path: "/b"}}}).
			op(2, 4, 5, syncOp("/"), 0, Reply{}).
			op(2, 5, 6, exists("/b", false), wire.ErrNoNode, Reply{})},
		{"failed multi took effect", new(linHist).
			op(0, 0, 1, create("/a", "a"), 0, Reply{Path: "/a"}).
			op(1, 2, 3, multi(setData("/a", "a1", 0), del("/zz", -1)), 0,
				Reply{Results: []Result{{}, {Err: wire.ErrNoNode}}}).
			op(2, 4, 5, syncOp("/"), 0, Reply{}).
			op(2, 5, 6, getData("/a", false), 0, data("a1", 1))},
		{"ephemeral outlives its closed session", new(linHist).
			op(1, 0, 1, createMode("/e", "e", wire.ModeEphemeral), 0, Reply{Path: "/e"}).
			op(1, 2, 3, Request{Type: wire.OpCloseSession}, 0, Reply{}).
			op(0, 4, 5, syncOp("/"), 0, Reply{}).
			op(0, 5, 6, exists("/e", false), 0, Reply{Stat: &wire.Stat{}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkLin(t, tc.l, 5*time.Second)
			require.Equal(t, []string{CheckLinearizable}, r.Failed(), "expected not linearizable: %s", r.String())
			require.Len(t, r.Visualizations, 1, "the failing partition's visualization is written")
			html, err := os.ReadFile(r.Visualizations[0])
			require.NoError(t, err)
			require.Contains(t, string(html), "<html", "visualization %s is porcupine's HTML", r.Visualizations[0])
			require.Contains(t, r.String(), r.Visualizations[0], "the report names the visualization file")
		})
	}
}

// A visualization that cannot be written does not hide the violation: the report says why.
func TestUnwritableVisualizationIsReported(t *testing.T) {
	l := new(linHist).
		op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
		op(1, 2, 3, create("/k", "v1"), 0, Reply{Path: "/k"})
	var r Report
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	CheckLinearizability(&l.h, Config{PartitionTimeout: 5 * time.Second, VisualizationDir: missing}, &r)
	require.Equal(t, []string{CheckLinearizable}, r.Failed(), "created twice is not linearizable: %s", r.String())
	require.Empty(t, r.Visualizations, "no file was written")
	require.Contains(t, r.Violations[0].Detail, "visualization not written", "the report says the visualization is missing")
}

// A partition porcupine cannot decide in time is a failure, not a pass.
func TestUndecidedPartitionFails(t *testing.T) {
	h := syntheticHistory(1, 3000, 10, 0.05, 7)
	var r Report
	CheckLinearizability(h, Config{PartitionTimeout: time.Nanosecond, VisualizationDir: t.TempDir()}, &r)
	require.Equal(t, []string{CheckLinearizable}, r.Failed(), "a timed-out check must fail: %s", r.String())
	require.True(t, strings.Contains(r.Violations[0].Detail, "too hard"), r.Violations[0].Detail)
}

func TestWriteZxidOrder(t *testing.T) {
	base := func() *linHist {
		l := new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 3, setData("/k", "v1", -1), 0, Reply{}).
			op(2, 4, 5, syncOp("/"), 0, Reply{}).
			op(2, 5, 6, getData("/k", false), 0, data("v1", 1))
		for i, z := range []int64{1, 2, 2, 2} {
			l.h.Ops[i].Zxid = 1<<32 | z
		}
		return l
	}
	var r Report
	CheckWriteZxidOrder(&base().h, &r)
	require.True(t, r.OK(), r.String())

	l := base()
	l.h.Ops[1].Zxid = l.h.Ops[0].Zxid // acknowledged after the create, same zxid
	r = Report{}
	CheckWriteZxidOrder(&l.h, &r)
	require.Equal(t, []string{CheckWriteOrder}, r.Failed(), r.String())

	l = base()
	l.h.Ops[3].Zxid = l.h.Ops[0].Zxid // the sync+read is behind the set acknowledged before the sync
	r = Report{}
	CheckWriteZxidOrder(&l.h, &r)
	require.Equal(t, []string{CheckSyncRead}, r.Failed(), r.String())
}

// The committed order settles what clients never heard: an unknown write that never
// committed is dropped, and a session's end is over by the first reply past its
// closeSession's zxid.
func TestCommittedOrderSettlesUnknowns(t *testing.T) {
	closeAt := int64(1<<32 | 3)
	l := new(linHist).
		op(1, 0, 1, createMode("/e", "e", wire.ModeEphemeral), 0, Reply{Path: "/e"}).
		op(0, 2, 3, create("/k", "v0"), 0, Reply{Path: "/k"}).
		unknown(2, 4, setData("/k", "never", -1)).
		op(0, 10, 11, exists("/other", false), wire.ErrNoNode, Reply{}). // a reply past the close
		op(0, 12, 13, syncOp("/"), 0, Reply{}).
		op(0, 13, 14, getData("/k", false), 0, data("v0", 0))
	for i, z := range []int64{1, 2, 0, 3, 3, 3} {
		l.h.Ops[i].Zxid = 1<<32 | z
	}
	l.h.Committed = []CommittedTxn{
		{Zxid: 1<<32 | 1, Txn: tree.Txn{Type: wire.OpCreate, SessionID: 0x101, Cxid: 1, Path: "/e"}},
		{Zxid: 1<<32 | 2, Txn: tree.Txn{Type: wire.OpCreate, SessionID: 0x100, Cxid: 1, Path: "/k"}},
		{Zxid: closeAt, Txn: tree.Txn{Type: wire.OpCloseSession, SessionID: 0x101}},
	}
	ok := checkLin(t, l, 5*time.Second)
	require.True(t, ok.OK(), ok.String())
	var settled []porcupine.Operation
	for _, p := range linPartitions(&l.h) {
		settled = append(settled, p.ops...)
	}
	require.Len(t, settled, 4, "the unknown set never committed: dropped; the session end is added")

	// Seen after the first reply past the close: the ephemeral should be gone by then.
	l.op(0, 20, 21, syncOp("/"), 0, Reply{}).op(0, 21, 22, exists("/e", false), 0, Reply{Stat: &wire.Stat{}})
	bad := checkLin(t, l, 5*time.Second)
	require.Equal(t, []string{CheckLinearizable}, bad.Failed(), bad.String())
}

// A client told its session expired learns it before the closeSession commits (the
// leader's tracker answers "expired" first; sim/zk's TestExpiredMayPrecedeTheCommittedClose
// shows it), so its ephemerals may still be read after the Expired: only the answered
// closeSession and the first reply at or past the close's zxid bound their deletion. A
// read that still sees them past that reply is a real violation.
func TestExpiredDoesNotBoundTheSessionEnd(t *testing.T) {
	closeAt := int64(1<<32 | 3)
	base := func() *linHist {
		l := new(linHist).
			op(1, 0, 1, createMode("/e", "e", wire.ModeEphemeral), 0, Reply{Path: "/e"}).
			op(0, 2, 3, create("/k", "v0"), 0, Reply{Path: "/k"}).
			// Session 0x101 is told "expired" at 4; its close commits later.
			op(0, 6, 7, syncOp("/"), 0, Reply{}).
			op(0, 7, 8, exists("/e", false), 0, Reply{Stat: &wire.Stat{}}). // still there
			op(2, 10, 11, exists("/other", false), wire.ErrNoNode, Reply{}) // first reply past the close
		for i, z := range []int64{1, 2, 2, 2, 3} {
			l.h.Ops[i].Zxid = 1<<32 | z
		}
		l.h.Sessions = []SessionEvent{{Client: 1, Session: 0x101, Kind: SessionExpired, Time: 4}}
		l.h.Committed = []CommittedTxn{
			{Zxid: 1<<32 | 1, Txn: tree.Txn{Type: wire.OpCreate, SessionID: 0x101, Cxid: 1, Path: "/e"}},
			{Zxid: 1<<32 | 2, Txn: tree.Txn{Type: wire.OpCreate, SessionID: 0x100, Cxid: 1, Path: "/k"}},
			{Zxid: closeAt, Txn: tree.Txn{Type: wire.OpCloseSession, SessionID: 0x101}},
		}
		return l
	}
	ok := checkLin(t, base(), 5*time.Second)
	require.True(t, ok.OK(), "an ephemeral read after its client's Expired but before the close commits is legal: %s", ok.String())

	l := base()
	l.op(0, 20, 21, syncOp("/"), 0, Reply{}).op(0, 21, 22, exists("/e", false), 0, Reply{Stat: &wire.Stat{}})
	bad := checkLin(t, l, 5*time.Second)
	require.Equal(t, []string{CheckLinearizable}, bad.Failed(),
		"the ephemeral is read after the first reply past its session's close: expected a violation, got %s", bad.String())

	// Without a committed order the expired session's end floats: reading the ephemeral
	// late is legal, but not seeing it gone and then back.
	l = base()
	l.h.Committed = nil
	ok = checkLin(t, l, 5*time.Second)
	require.True(t, ok.OK(), "no committed order: the end of an expired session may come late: %s", ok.String())
	l.op(0, 20, 21, syncOp("/"), 0, Reply{}).op(0, 21, 22, exists("/e", false), wire.ErrNoNode, Reply{}).
		op(0, 30, 31, syncOp("/"), 0, Reply{}).op(0, 31, 32, exists("/e", false), 0, Reply{Stat: &wire.Stat{}})
	bad = checkLin(t, l, 5*time.Second)
	require.Equal(t, []string{CheckLinearizable}, bad.Failed(),
		"the ephemeral is gone, then back: expected a violation, got %s", bad.String())
}

// The leader reaps an expired TTL node (a committed deleteContainer no client asked for): a
// sync+read after the first reply past the reap must not see it, and may before.
func TestReapedNodesLeaveTheModel(t *testing.T) {
	reapAt := int64(1<<32 | 2)
	base := func() *linHist {
		l := new(linHist).
			op(0, 0, 1, Request{Type: wire.OpCreateTTL, Path: "/t", Data: []byte("t"), Mode: wire.ModePersistentWithTTL},
				0, Reply{Path: "/t"}).
			op(1, 2, 3, syncOp("/"), 0, Reply{}).
			op(1, 3, 4, exists("/t", false), 0, Reply{Stat: &wire.Stat{}}).  // before the reap's reply bound
			op(2, 10, 11, exists("/other", false), wire.ErrNoNode, Reply{}). // first reply past the reap
			op(1, 12, 13, syncOp("/"), 0, Reply{}).
			op(1, 13, 14, exists("/t", false), wire.ErrNoNode, Reply{})
		for i, z := range []int64{1, 1, 1, 2, 2, 2} {
			l.h.Ops[i].Zxid = 1<<32 | z
		}
		l.h.Committed = []CommittedTxn{
			{Zxid: 1<<32 | 1, Txn: tree.Txn{Type: wire.OpCreateTTL, SessionID: 0x100, Cxid: 1, Path: "/t"}},
			{Zxid: reapAt, Txn: tree.Txn{Type: wire.OpDeleteContainer, Path: "/t"}},
		}
		return l
	}
	ok := checkLin(t, base(), 5*time.Second)
	require.True(t, ok.OK(), "a reaped TTL node is gone for a sync+read after the reap: %s", ok.String())

	l := base()
	l.h.Ops[5].Err, l.h.Ops[5].Reply = wire.ErrOK, Reply{Stat: &wire.Stat{}}
	bad := checkLin(t, l, 5*time.Second)
	require.Equal(t, []string{CheckLinearizable}, bad.Failed(),
		"the TTL node is read after the first reply past its reap: expected a violation, got %s", bad.String())
}
