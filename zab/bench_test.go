package zab

import (
	"testing"
	"time"
	"unsafe"
)

// BenchmarkCommit3Nodes measures the core in the harness: a 3-voter ensemble with no faults
// and a client window of 64 txns. It reports committed txns per wall-clock second and the
// events (messages sent + persists issued) the ensemble spent per committed txn. Each
// iteration is one txn committed by the leader. "checked" runs the ZAB invariant checker on
// every event as the tests do; "core" measures the peers and the harness alone.
func BenchmarkCommit3Nodes(b *testing.B) {
	b.Run("checked", func(b *testing.B) { benchmarkCommit(b, false) })
	b.Run("core", func(b *testing.B) { benchmarkCommit(b, true) })
}

func benchmarkCommit(b *testing.B, noCheck bool) {
	opt := defaultOptions(3, 0)
	opt.proposeEveryMillis, opt.windowTxns = 1, 64
	c := newCluster(b, 1, opt)
	c.noTrace, c.noCheck = true, noCheck
	c.awaitProgress(50)
	l := c.leader()
	if l == nil {
		b.Fatal("no leader after the first commit")
	}
	startCommitted := l.peer.Committed().Counter()
	startMessages, startPersists := c.stats.messages, c.stats.persists
	b.ResetTimer()
	start := time.Now()
	for int(l.peer.Committed().Counter()-startCommitted) < b.N {
		if !c.step(c.now + 1000) {
			b.Fatal("the ensemble went idle")
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	n := float64(l.peer.Committed().Counter() - startCommitted)
	b.ReportMetric(n/elapsed.Seconds(), "txns/s")
	b.ReportMetric(float64(c.stats.messages-startMessages+c.stats.persists-startPersists)/n, "events/txn")
	b.ReportMetric(float64(c.stats.messages-startMessages)/n, "msgs/txn")
}

// BenchmarkRetainedLog commits b.N txns on 3 voters whose host snapshots every 10000 txns
// (zab/node's setup; DiffTxnsMax 500, txns of about 7 bytes), and
// reports the most the leader held in memory at any step: retained txns, their data bytes,
// and those plus the Txn headers. They stay flat however large b.N grows (compare
// -benchtime=200000x with 1000000x).
func BenchmarkRetainedLog(b *testing.B) {
	opt := defaultOptions(3, 0)
	opt.proposeEveryMillis, opt.windowTxns = 1, 64
	opt.diffTxnsMax, opt.hostSnapshotEveryTxns = 500, 10_000
	c := newCluster(b, 1, opt)
	c.noTrace, c.noCheck = true, true
	c.awaitProgress(50)
	l := c.leader()
	if l == nil {
		b.Fatal("no leader after the first commit")
	}
	start := l.peer.Committed().Counter()
	b.ResetTimer()
	txns, bytes := 0, 0
	for int(l.peer.Committed().Counter()-start) < b.N {
		if !c.step(c.now + 1000) {
			b.Fatal("the ensemble went idle")
		}
		t, d := l.peer.Retained()
		txns, bytes = max(txns, t), max(bytes, d)
	}
	b.StopTimer()
	b.ReportMetric(float64(txns), "peak-retained-txns")
	b.ReportMetric(float64(bytes), "peak-retained-data-bytes")
	b.ReportMetric(float64(txns*int(unsafe.Sizeof(Txn{}))+bytes), "peak-retained-bytes")
}
