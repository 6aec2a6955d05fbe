package osfs

import (
	"errors"
	"os"
	"syscall"
)

// datasync is fdatasync(2): it writes the file's data and the metadata needed to read it
// back (its size), skipping timestamps, which is all a log needs and cheaper than fsync.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// fallocKeepSize is FALLOC_FL_KEEP_SIZE from linux/falloc.h.
const fallocKeepSize = 0x1

// preallocate reserves sizeBytes of blocks for f without changing its size. A file system
// that cannot (EOPNOTSUPP: tmpfs before 5.x, some network file systems) just goes without.
func preallocate(f *os.File, sizeBytes int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), fallocKeepSize, 0, sizeBytes)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
			return nil
		}
		return err
	}
}
