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

// BenchmarkSnapshotStall measures the periodic snapshot's cost to request processing: the
// member serializes its whole tree inside the Handle step that crosses snapCount
// (maybeSaveSnapshot calls tree.Snapshot on the node goroutine), so every client and peer
// input waits that long. ZooKeeper serializes a fuzzy snapshot on another thread instead;
// this design cannot without a tree that can be read while it changes (zab/tree owns that).
// Compare a change with the same command on the parent commit in the same run: the figures
// move with the machine's load.
// One op is one snapshot step; bytes/op is the snapshot's size. Tree sizes: 10k and 100k
// nodes of 128 bytes, or ZABKIT_SNAPSHOT_BENCH_NODES (e.g. 500000).
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
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			n := snapshotBenchNode(b, nodes)
			var size int
			b.ResetTimer()
			for b.Loop() {
				n.out = nil
				n.snap.due = nil
				n.snap.count = n.snap.threshold
				n.maybeSaveSnapshot()
				if n.snap.due == nil && len(n.out) == 0 {
					b.Fatal("no snapshot was taken")
				}
				if n.snap.due != nil {
					size = len(n.snap.due.Data)
				} else {
					size = len(n.out[0].(SaveSnapshot).Data)
				}
			}
			b.ReportMetric(float64(size), "bytes/op")
		})
	}
}

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
