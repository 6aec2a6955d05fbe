// Package osfs implements zab/storage's FS on a real directory of the host's file system.
//
// Every durability promise storage relies on is kept with an explicit system call: File.Sync
// is fdatasync(2) on Linux (fsync elsewhere), which also makes a grown file size durable, and
// SyncDir opens the directory and fsyncs it, which is what makes a create, rename or remove
// durable on Linux file systems (ext4 and XFS do not order directory entries with file data;
// see the "Files are hard" survey and the rename-without-fsync ext4 data loss of 2009).
package osfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zabkit/zabkit/zab/storage"
)

// FS is one directory. It is safe for concurrent use as far as the host file system is;
// storage itself uses one FS from one goroutine.
type FS struct {
	dir string
	// preallocateBytes is how much space Create reserves for a new file (0: none).
	preallocateBytes int64
}

var _ storage.FS = (*FS)(nil)

// Option changes how Open sets up an FS.
type Option func(*FS)

// WithPreallocation makes Create reserve sizeBytes of disk space for every new file without
// changing its size (fallocate with FALLOC_FL_KEEP_SIZE on Linux, a no-op elsewhere). An
// append that stays inside the reservation then needs no block allocation, so its fdatasync
// writes the data and the inode size but no allocation metadata: ZooKeeper's preAllocSize
// (64 MiB) serves the same purpose. The file size is left alone on purpose: storage's
// recovery reads a log up to the file's end, and zero padding would read as a torn tail.
func WithPreallocation(sizeBytes int64) Option {
	return func(f *FS) { f.preallocateBytes = max(sizeBytes, 0) }
}

// Open returns the FS of directory dir, creating it (and its parents) when missing. A
// directory it creates is made durable by an fsync of its parent.
func Open(dir string, opts ...Option) (*FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("osfs: %s: %w", dir, err)
	}
	f := &FS{dir: abs}
	for _, o := range opts {
		o(f)
	}
	info, err := os.Stat(abs)
	switch {
	case err == nil && !info.IsDir():
		return nil, fmt.Errorf("osfs: %s is not a directory", abs)
	case err == nil:
		return f, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("osfs: %w", err)
	}
	if err := mkdirDurable(abs); err != nil {
		return nil, err
	}
	return f, nil
}

// mkdirDurable creates dir and its missing parents, fsyncing the parent of each directory
// it creates, top down, so that the whole path survives a crash.
func mkdirDurable(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("osfs: %w", err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("osfs: %w", err)
		}
		if err := syncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}

// Dir returns the absolute path of the directory.
func (f *FS) Dir() string { return f.dir }

// path checks that name is a plain file name in the directory: storage names never contain
// a separator, and refusing them keeps a bad name from reaching outside the directory.
func (f *FS) path(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("osfs: bad file name %q", name)
	}
	return filepath.Join(f.dir, name), nil
}

// wrap turns the os package's not-exist error into one that also matches
// storage.ErrNotExist, keeping the original (with its path) in the chain.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("osfs: %w (%w)", storage.ErrNotExist, err)
	}
	return fmt.Errorf("osfs: %w", err)
}

// Create makes a new empty file, replacing one of the same name, open for appending.
func (f *FS) Create(name string) (storage.File, error) {
	p, err := f.path(name)
	if err != nil {
		return nil, err
	}
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, wrap(err)
	}
	if f.preallocateBytes > 0 {
		if err := preallocate(file, f.preallocateBytes); err != nil {
			file.Close()
			return nil, fmt.Errorf("osfs: preallocate %s: %w", p, err)
		}
	}
	return &File{f: file}, nil
}

// OpenAppend opens an existing file for appending at its end.
func (f *FS) OpenAppend(name string) (storage.File, error) {
	p, err := f.path(name)
	if err != nil {
		return nil, err
	}
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, wrap(err)
	}
	return &File{f: file}, nil
}

// ReadFile returns the whole current content of the named file.
func (f *FS) ReadFile(name string) ([]byte, error) {
	p, err := f.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	return b, wrap(err)
}

// List returns the names of the regular files in the directory, sorted. Subdirectories
// (a dataDir holds ZooKeeper's version-2 after a migration, say) are not files of the FS.
func (f *FS) List() ([]string, error) {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, wrap(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // ReadDir sorts already; the FS contract must not depend on it
	return names, nil
}

// Rename atomically replaces newName (if any) with oldName.
func (f *FS) Rename(oldName, newName string) error {
	op, err := f.path(oldName)
	if err != nil {
		return err
	}
	np, err := f.path(newName)
	if err != nil {
		return err
	}
	return wrap(os.Rename(op, np))
}

// Remove deletes the named file.
func (f *FS) Remove(name string) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	return wrap(os.Remove(p))
}

// SyncDir makes the directory's creates, renames and removes durable.
func (f *FS) SyncDir() error { return syncDir(f.dir) }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return wrap(err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("osfs: sync directory %s: %w", dir, err)
	}
	return nil
}

// File is an open file of an FS, written only at its end (O_APPEND).
type File struct {
	f *os.File
}

var _ storage.File = (*File)(nil)

// Write appends p to the file.
func (f *File) Write(p []byte) (int, error) {
	n, err := f.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("osfs: %w", err)
	}
	return n, nil
}

// Sync makes every byte written so far, and the file's size, durable.
func (f *File) Sync() error {
	if err := datasync(f.f); err != nil {
		return fmt.Errorf("osfs: sync %s: %w", f.f.Name(), err)
	}
	return nil
}

// Truncate cuts the file to sizeBytes; the cut is durable after Sync.
func (f *File) Truncate(sizeBytes int64) error {
	if err := f.f.Truncate(sizeBytes); err != nil {
		return fmt.Errorf("osfs: %w", err)
	}
	return nil
}

// Close releases the file; it does not sync.
func (f *File) Close() error {
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("osfs: %w", err)
	}
	return nil
}
