package osfs

import (
	"fmt"
	"testing"

	"github.com/zabkit/zabkit/zab/storage"
)

// BenchmarkAppendSync appends one 100-byte txn and fsyncs it, per op, through storage on
// real files, with and without preallocation, to show what preallocation buys on this disk.
//
//	go test ./daemon/osfs -run X -bench AppendSync
func BenchmarkAppendSync(b *testing.B) {
	for _, prealloc := range []int64{0, 64 << 20} {
		b.Run(fmt.Sprintf("prealloc=%dMiB", prealloc>>20), func(b *testing.B) {
			fsys, err := Open(b.TempDir(), WithPreallocation(prealloc))
			if err != nil {
				b.Fatal(err)
			}
			store, _, err := storage.Recover(fsys, fsys, storage.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			data := make([]byte, 100)
			z := uint64(1) << 32
			for b.Loop() {
				z++
				if err := store.Append([]storage.Entry{{Zxid: z, Data: data}}); err != nil {
					b.Fatal(err)
				}
				if _, err := store.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "syncs/s")
		})
	}
}
