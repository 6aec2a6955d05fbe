package tree

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/zabkit/zabkit/zab/wire"
)

// benchWriter drives the leader path: Prepare then Apply, one txn at a time.
type benchWriter struct {
	tree *Tree
	zxid int64
}

func newBenchWriter() *benchWriter {
	w := &benchWriter{tree: New(Config{})}
	w.do(Request{SessionID: 1, Type: wire.OpCreateSession, TimeoutMs: 30000})
	return w
}

func (w *benchWriter) do(req Request) Applied {
	w.zxid++
	req.Zxid, req.TimeMs = w.zxid, 1_700_000_000_000+w.zxid
	if req.SessionID == 0 {
		req.SessionID = 1
	}
	return w.tree.Apply(w.zxid, w.tree.Prepare(req))
}

// benchPath spreads nodes over 1000 parents so that no children slice gets huge.
func benchPath(i int) (parent, path string) {
	parent = fmt.Sprintf("/p%03d", i%1000)
	return parent, fmt.Sprintf("%s/n%07d", parent, i)
}

func (w *benchWriter) createParents() {
	for i := 0; i < 1000; i++ {
		parent, _ := benchPath(i)
		w.do(Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: parent, ACL: OpenACL}})
	}
}

var payload128 = make([]byte, 128)

// BenchmarkApply measures committed txns per second through Prepare and Apply on one
// replica (no encoding, no watches).
func BenchmarkApply(b *testing.B) {
	b.Run("create", func(b *testing.B) {
		w := newBenchWriter()
		w.createParents()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, path := benchPath(i)
			if got := w.do(Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: path, Data: payload128, ACL: OpenACL}}); got.Err != 0 {
				b.Fatalf("create %s: %d", path, got.Err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txns/s")
	})
	b.Run("setData", func(b *testing.B) {
		w := newBenchWriter()
		w.createParents()
		for i := 0; i < 10000; i++ {
			_, path := benchPath(i)
			w.do(Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: path, Data: payload128, ACL: OpenACL}})
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, path := benchPath(i % 10000)
			if got := w.do(Request{Type: wire.OpSetData, Body: &wire.SetDataRequest{Path: path, Data: payload128, Version: -1}}); got.Err != 0 {
				b.Fatalf("setData %s: %d", path, got.Err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txns/s")
	})
	b.Run("delete", func(b *testing.B) {
		w := newBenchWriter()
		w.createParents()
		for i := 0; i < b.N; i++ {
			_, path := benchPath(i)
			w.do(Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: path, Data: payload128, ACL: OpenACL}})
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, path := benchPath(i)
			if got := w.do(Request{Type: wire.OpDelete, Body: &wire.DeleteRequest{Path: path, Version: -1}}); got.Err != 0 {
				b.Fatalf("delete %s: %d", path, got.Err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txns/s")
	})
}

// BenchmarkFlatQueue is the queue recipe on one parent holding 100,000 children: append a
// sequential node, remove the oldest. Children are a sorted slice, so removing the head
// moves the whole slice: this measures that cost.
func BenchmarkFlatQueue(b *testing.B) {
	const depth = 100_000
	w := newBenchWriter()
	w.do(Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/q", ACL: OpenACL}})
	for i := 0; i < depth; i++ {
		w.do(Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/q/item-", Data: payload128, ACL: OpenACL, Flags: wire.ModePersistentSequential}})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.do(Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: "/q/item-", Data: payload128, ACL: OpenACL, Flags: wire.ModePersistentSequential}})
		head := fmt.Sprintf("/q/item-%010d", i)
		if got := w.do(Request{Type: wire.OpDelete, Body: &wire.DeleteRequest{Path: head, Version: -1}}); got.Err != 0 {
			b.Fatalf("delete %s: %d", head, got.Err)
		}
	}
	b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "txns/s")
}

// BenchmarkFixupLargeACL prepares a create whose ACL has 87,000 distinct entries, the most a
// 1 MiB frame holds: fixupACL must stay linear (ZooKeeper's duplicate scan is quadratic and
// took 7.6 s on the node loop here).
func BenchmarkFixupLargeACL(b *testing.B) {
	acl := largeACL(87000)
	for i := 0; i < b.N; i++ {
		if _, err := fixupACL(acl, nil); err != wire.ErrOK {
			b.Fatalf("fixupACL of %d entries: %d", len(acl), err)
		}
	}
}

// BenchmarkMarshalTxn measures the txn encoding zab replicates (a create of 128 bytes).
func BenchmarkMarshalTxn(b *testing.B) {
	x := Txn{Type: wire.OpCreate, SessionID: 1, Path: "/p001/n0000001", Data: payload128, ACL: OpenACL}
	for i := 0; i < b.N; i++ {
		if _, err := UnmarshalTxn(x.Marshal()); err != nil {
			b.Fatal(err)
		}
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryPerZnode builds a tree of 1,000,000 znodes with 128 bytes of data each
// (1000 parents × 1000 children, applied through Prepare/Apply) and reports live heap bytes
// per znode after GC, and the overhead beyond the node's data and name. Run it with
// -benchtime=1x: each iteration builds the whole tree.
func BenchmarkMemoryPerZnode(b *testing.B) {
	const nodes = 1_000_000
	for i := 0; i < b.N; i++ {
		before := heapInUse()
		w := newBenchWriter()
		w.createParents()
		nameBytes := 0
		for j := 0; j < nodes; j++ {
			_, path := benchPath(j)
			w.do(Request{Type: wire.OpCreate, Body: &wire.CreateRequest{Path: path, Data: payload128, ACL: OpenACL}})
			nameBytes += len(path) - len("/p000/")
		}
		after := heapInUse()
		total := float64(after - before)
		b.ReportMetric(total/nodes, "heapB/znode")
		b.ReportMetric((total-float64(nodes*len(payload128)+nameBytes))/nodes, "overheadB/znode")
		if w.tree.NodeCount() != nodes+1000+4 {
			b.Fatalf("tree has %d nodes", w.tree.NodeCount())
		}
		runtime.KeepAlive(w)
	}
}
