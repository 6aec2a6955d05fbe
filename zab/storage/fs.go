// Package storage holds zabkit's durable formats: the transaction log, snapshots and the
// epoch files, with the checksums and recovery rules that keep a torn or corrupt disk from
// ever being applied.
//
// Storage never touches the operating system itself. Everything goes through FS, which the
// simulator implements with a virtual disk that loses unsynced writes, tears the last one
// and flips bits, and which the daemon implements with real files and fsync. So the code
// that recovers a production data directory is the code the simulator tortures.
package storage

import "errors"

// ErrNotExist is returned (possibly wrapped) by FS methods when a named file does not exist.
var ErrNotExist = errors.New("file does not exist")

// FS is one flat directory of files (a dataDir or a dataLogDir). Names contain no '/'.
//
// Durability follows the rules of a POSIX file system with no extra guarantees, which is
// what both hosts model:
//   - bytes written to a File are durable only after File.Sync returns nil;
//   - Create, Rename and Remove are durable only after SyncDir returns nil;
//   - after a crash, an unsynced write may be lost entirely or torn at any byte.
type FS interface {
	// Create makes a new empty file, replacing one of the same name, open for appending.
	Create(name string) (File, error)
	// OpenAppend opens an existing file for appending at its end.
	OpenAppend(name string) (File, error)
	// ReadFile returns the whole current content of the named file.
	ReadFile(name string) ([]byte, error)
	// List returns the names of all files in the directory, sorted.
	List() ([]string, error)
	// Rename atomically replaces newName (if any) with oldName.
	Rename(oldName, newName string) error
	// Remove deletes the named file.
	Remove(name string) error
	// SyncDir makes the directory's creates, renames and removes durable.
	SyncDir() error
}

// File is an open file that is written only at its end.
type File interface {
	// Write appends p to the file.
	Write(p []byte) (int, error)
	// Sync makes every byte written so far durable.
	Sync() error
	// Truncate cuts the file to sizeBytes; like a write, the cut is durable only after Sync.
	Truncate(sizeBytes int64) error
	// Close releases the file; it does not sync.
	Close() error
}
