//go:build !linux

package osfs

import "os"

// datasync is fsync: fdatasync is Linux-specific. (On macOS a durable flush needs
// F_FULLFSYNC; zabd's production target is Linux.)
func datasync(f *os.File) error { return f.Sync() }

// preallocate is a no-op where fallocate does not exist.
func preallocate(*os.File, int64) error { return nil }
