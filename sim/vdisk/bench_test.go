package vdisk_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab/storage"
)

// BenchmarkStoreAppendOnVdisk measures the txn log on the virtual disk, as the simulator
// runs it: 100-byte txns, one Sync per batch of N (group commit). The disk is replaced
// every 100k entries (outside the timer) so memory stays flat.
// Run: go test ./sim/vdisk -run X -bench StoreAppend
func BenchmarkStoreAppendOnVdisk(b *testing.B) {
	for _, perSync := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("entriesPerSync=%d", perSync), func(b *testing.B) {
			fresh := func() *storage.Store {
				d := vdisk.New(rand.New(rand.NewPCG(1, 2)))
				s, _, err := storage.Recover(d, d, storage.Config{})
				if err != nil {
					b.Fatal(err)
				}
				return s
			}
			s := fresh()
			data := make([]byte, 100)
			batch := make([]storage.Entry, perSync)
			z, written := uint64(1)<<32, 0
			b.SetBytes(int64(100 * perSync))
			for b.Loop() {
				if written >= 100_000 {
					b.StopTimer()
					s, z, written = fresh(), uint64(1)<<32, 0
					b.StartTimer()
				}
				for i := range batch {
					z++
					batch[i] = storage.Entry{Zxid: z, Data: data}
				}
				if err := s.Append(batch); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Sync(); err != nil {
					b.Fatal(err)
				}
				written += perSync
			}
			b.ReportMetric(float64(b.N*perSync)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
