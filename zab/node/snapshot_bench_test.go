package node

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// BenchmarkSnapshotStall measures the periodic snapshot's cost to request processing. The
// Handle step that crosses snapCount freezes the tree (maybeSaveSnapshot calls tree.Freeze
// on the node goroutine), and every client and peer input waits for that step only: the
// host serializes the View elsewhere (the daemon on its snapshot goroutine), as ZooKeeper
// serializes its snapshot on a thread of its own. step is that Handle step; serialize is
// View.Snapshot, what the step cost when it serialized the tree itself, in the same run.
// One op is one snapshot; bytes/op is the snapshot's size. Tree sizes: 10k and 100k nodes
// of 128 bytes, or ZABKIT_SNAPSHOT_BENCH_NODES (e.g. 500000). The figures move with the
// machine's load: compare the two in one run.
func BenchmarkSnapshotStall(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if s := os.Getenv("ZABKIT_SNAPSHOT_BENCH_NODES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("ZABKIT_SNAPSHOT_BENCH_NODES=%q: want a positive node count", s)
		}
		sizes = []int{n}
	}
	for _, nodes := range sizes {
		n := snapshotBenchNode(b, nodes)
		b.Run(fmt.Sprintf("nodes=%d/step", nodes), func(b *testing.B) {
			for b.Loop() {
				if snapshotStep(b, n).View == nil {
					b.Fatal("the snapshot step emitted no view")
				}
			}
		})
		// The copy-on-write cost lands on the writes after the step: the first change of a
		// znode copies it and its ancestors with their child-pointer lists (here 1000 under
		// the root, nodes/1000 under each parent). step+write is the step and then one
		// setData; write is the same setData on a znode already copied since the Freeze.
		path := fmt.Sprintf("/p%03d/n%07d", (nodes-1)%1000, nodes-1)
		b.Run(fmt.Sprintf("nodes=%d/step+write", nodes), func(b *testing.B) {
			for b.Loop() {
				snapshotStep(b, n)
				benchSetData(b, n, path)
			}
		})
		b.Run(fmt.Sprintf("nodes=%d/write", nodes), func(b *testing.B) {
			for b.Loop() {
				benchSetData(b, n, path)
			}
		})
		b.Run(fmt.Sprintf("nodes=%d/serialize", nodes), func(b *testing.B) {
			view := snapshotStep(b, n).View
			var size int
			for b.Loop() {
				size = len(view.Snapshot())
			}
			b.ReportMetric(float64(size), "bytes/op")
		})
	}
}

// snapshotStep runs maybeSaveSnapshot as the Handle step that crosses snapCount does, with
// the log durable, and returns the SaveSnapshot it emits.
func snapshotStep(b *testing.B, n *Node) SaveSnapshot {
	n.out = nil
	n.snap.due = nil
	n.snap.count = n.snap.threshold
	n.maybeSaveSnapshot()
	if len(n.out) != 1 {
		b.Fatalf("the snapshot step emitted %d outputs, want one SaveSnapshot (durable %v, applied %v)",
			len(n.out), n.snap.durable, n.lastApplied)
	}
	return n.out[0].(SaveSnapshot)
}

// benchSetData applies a setData of 128 bytes at path to n's tree as the next txn, with the
// log durable up to it.
func benchSetData(b *testing.B, n *Node, path string) {
	zxid := n.tree.LastZxid() + 1
	req := tree.Request{Type: wire.OpSetData, Zxid: zxid, TimeMs: 1_700_000_000_000 + zxid, SessionID: 1,
		Body: &wire.SetDataRequest{Path: path, Data: benchData, Version: -1}}
	if r := n.tree.Apply(zxid, n.tree.Prepare(req)); r.Err != wire.ErrOK {
		b.Fatalf("setData %s at %#x failed: %v", path, zxid, r.Err)
	}
	n.lastApplied = zab.Zxid(zxid)
	n.snap.durable = n.lastApplied
}

var benchData = make([]byte, 128)

// snapshotBenchNode is a standalone member whose tree holds nodes znodes of 128 bytes under
// 1000 parents, applied straight to the tree (the leader's Prepare then Apply).
func snapshotBenchNode(b *testing.B, nodes int) *Node {
	b.Helper()
	n, err := New(Config{ID: 1, Voters: []zab.PeerID{1}, TickMillis: 100, InitLimitTicks: 10, SyncLimitTicks: 5,
		Rand: testRand{rand.New(rand.NewPCG(1, 2))}}, Recovered{})
	if err != nil {
		b.Fatalf("node: %v", err)
	}
	zxid := int64(0)
	apply := func(req tree.Request) {
		zxid++
		req.Zxid, req.TimeMs, req.SessionID = zxid, 1_700_000_000_000+zxid, 1
		if r := n.tree.Apply(zxid, n.tree.Prepare(req)); r.Err != wire.ErrOK {
			b.Fatalf("txn %d (%v) failed: %v", zxid, req.Type, r.Err)
		}
	}
	apply(tree.Request{Type: wire.OpCreateSession, TimeoutMs: 30000})
	data := make([]byte, 128)
	for i := range 1000 {
		apply(tree.Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: fmt.Sprintf("/p%03d", i), ACL: tree.OpenACL}})
	}
	for i := range nodes {
		apply(tree.Request{Type: wire.OpCreate, Body: &wire.CreateRequest{
			Path: fmt.Sprintf("/p%03d/n%07d", i%1000, i), Data: data, ACL: tree.OpenACL}})
	}
	n.lastApplied = zab.Zxid(zxid)
	n.snap.durable = n.lastApplied // the log covers it: the step emits the snapshot at once
	return n
}
