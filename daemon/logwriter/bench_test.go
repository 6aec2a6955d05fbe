package logwriter

import (
	"fmt"
	"testing"
	"time"

	"github.com/zabkit/zabkit/daemon/osfs"
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

// BenchmarkAdoptSnapshot measures what a periodic snapshot costs the writer goroutine, and
// so the group commit, now that the Store adopts it (storage.Store.AdoptSnapshot): finding
// its zxid in the log (one segment read), reading the new file back to check it, and the
// retention, which reads every retained snapshot to verify it (3 kept). The write itself
// runs on the snapshot goroutine and is not timed. The log holds 10 MB of 1 KiB txns in
// one segment, on a real directory.
//
//	go test ./daemon/logwriter -run X -bench AdoptSnapshot -benchtime 20x
func BenchmarkAdoptSnapshot(b *testing.B) {
	for _, sizeBytes := range []int{1 << 20, 32 << 20} {
		b.Run(fmt.Sprintf("snapshot=%dMiB", sizeBytes>>20), func(b *testing.B) {
			dir := b.TempDir()
			fsys, err := osfs.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			store, _, err := storage.Recover(fsys, fsys, storage.Config{SnapshotRetainCount: 3})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			txn := make([]byte, 1024)
			var zxid uint64 = 1 << 32
			appendSynced := func(n int) {
				batch := make([]storage.Entry, n)
				for i := range batch {
					zxid++
					batch[i] = storage.Entry{Zxid: zxid, Data: txn}
				}
				if err := store.Append(batch); err != nil {
					b.Fatal(err)
				}
				if _, err := store.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			appendSynced(10000)
			state := make([]byte, sizeBytes)
			b.SetBytes(int64(sizeBytes))
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				appendSynced(1)
				if err := storage.WriteSnapshot(fsys, zxid, state); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := store.AdoptSnapshot(zxid); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
