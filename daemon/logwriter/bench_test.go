package logwriter

import (
	"testing"
	"time"

	"github.com/zabkit/zabkit/zab/storage"
)

// BenchmarkGroupCommit writes b.N 100-byte records twice on the same disk, side by side:
// through the Writer, each record submitted as its own batch as fast as the queue takes
// them (the node's pattern under load), and with one Append and one fsync per record (what
// a server without group commit does). It reports both rates and their ratio.
//
//	go test ./daemon/logwriter -run X -bench GroupCommit -benchtime 2000x
func BenchmarkGroupCommit(b *testing.B) {
	data := make([]byte, 100)

	groupDir, eachDir := b.TempDir(), b.TempDir()
	group := newStore(b, groupDir, nil)
	defer group.Close()
	each := newStore(b, eachDir, nil)
	defer each.Close()

	b.ResetTimer()
	start := time.Now()
	w := New(group, Config{})
	for i := 1; i <= b.N; i++ {
		if err := w.Submit(Batch{ID: uint64(i), Entries: []storage.Entry{{Zxid: 1<<32 | uint64(i), Data: data}}}); err != nil {
			b.Fatal(err)
		}
	}
	for done := false; !done; {
		select {
		case id := <-w.Durable():
			done = id == uint64(b.N)
		case <-w.Failed():
			b.Fatal(w.Err())
		case <-time.After(time.Minute):
			b.Fatal("group commit did not finish within a minute")
		}
	}
	groupElapsed := time.Since(start)
	syncs := w.Syncs()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}

	start = time.Now()
	for i := 1; i <= b.N; i++ {
		if err := each.Append([]storage.Entry{{Zxid: 1<<32 | uint64(i), Data: data}}); err != nil {
			b.Fatal(err)
		}
		if _, err := each.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	eachElapsed := time.Since(start)

	groupRate := float64(b.N) / groupElapsed.Seconds()
	eachRate := float64(b.N) / eachElapsed.Seconds()
	b.ReportMetric(groupRate, "group-records/s")
	b.ReportMetric(eachRate, "fsync-each-records/s")
	b.ReportMetric(groupRate/eachRate, "ratio")
	b.ReportMetric(float64(b.N)/float64(syncs), "records/fsync")
}
