package storage

import (
	"fmt"
	"testing"
)

// discardFS keeps no bytes: it measures the log's own cost (encoding, checksums, segment
// bookkeeping) without any file system behind it.
type discardFS struct{ bytes, syncs int64 }

type discardFile struct{ fs *discardFS }

func (f discardFile) Write(p []byte) (int, error) { f.fs.bytes += int64(len(p)); return len(p), nil }
func (f discardFile) Sync() error                 { f.fs.syncs++; return nil }
func (f discardFile) Truncate(int64) error        { return nil }
func (f discardFile) Close() error                { return nil }

func (d *discardFS) Create(string) (File, error)     { return discardFile{d}, nil }
func (d *discardFS) OpenAppend(string) (File, error) { return discardFile{d}, nil }
func (d *discardFS) ReadFile(string) ([]byte, error) { return nil, ErrNotExist }
func (d *discardFS) List() ([]string, error)         { return nil, nil }
func (d *discardFS) Rename(string, string) error     { return nil }
func (d *discardFS) Remove(string) error             { return nil }
func (d *discardFS) SyncDir() error                  { return nil }

// BenchmarkLogAppend appends 100-byte txns with one Sync per batch of N (group commit) and
// reports entries per second. Run: go test ./zab/storage -run X -bench LogAppend
func BenchmarkLogAppend(b *testing.B) {
	for _, perSync := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("entriesPerSync=%d", perSync), func(b *testing.B) {
			fs := &discardFS{}
			l, _, err := OpenLog(fs, LogConfig{})
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, 100)
			batch := make([]Entry, perSync)
			z := uint64(1) << 32
			b.SetBytes(int64(100 * perSync))
			b.ResetTimer()
			for b.Loop() {
				for i := range batch {
					z++
					batch[i] = Entry{Zxid: z, Data: data}
				}
				if err := l.Append(batch); err != nil {
					b.Fatal(err)
				}
				if _, err := l.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*perSync)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
