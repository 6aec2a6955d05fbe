package storage

import (
	"fmt"
	"strings"
)

// tempSuffix marks a file being written by writeFileAtomic. Such a file is never part of
// the durable state: it only becomes visible under its real name by a rename after its
// bytes are synced.
const tempSuffix = ".tmp"

// writeFileAtomic replaces name with data so that after a crash the file holds either its
// old content or all of data, never a mix: write a temporary file, fsync it, rename it over
// name, fsync the directory. Skipping the first fsync is the classic bug (ext4's delayed
// allocation made renamed files come back empty after a crash); skipping the last makes the
// rename itself undurable.
func writeFileAtomic(fs FS, name string, data []byte) error {
	tmp := name + tempSuffix
	f, err := fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("storage: create %s: %w", tmp, err)
	}
	n, err := f.Write(data)
	if err == nil && n != len(data) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(data))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storage: write %s: %w", tmp, err)
	}
	if err := fs.Rename(tmp, name); err != nil {
		return fmt.Errorf("storage: rename %s to %s: %w", tmp, name, err)
	}
	if err := fs.SyncDir(); err != nil {
		return fmt.Errorf("storage: sync directory after writing %s: %w", name, err)
	}
	return nil
}

// removeTempFiles removes the leftovers of interrupted atomic writes and returns their names.
func removeTempFiles(fs FS) ([]string, error) {
	names, err := fs.List()
	if err != nil {
		return nil, fmt.Errorf("storage: list directory: %w", err)
	}
	var removed []string
	for _, name := range names {
		if !strings.HasSuffix(name, tempSuffix) {
			continue
		}
		if err := fs.Remove(name); err != nil {
			return removed, fmt.Errorf("storage: remove %s: %w", name, err)
		}
		removed = append(removed, name)
	}
	if len(removed) > 0 {
		if err := fs.SyncDir(); err != nil {
			return removed, fmt.Errorf("storage: sync directory: %w", err)
		}
	}
	return removed, nil
}
