package storage

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCorrupt is wrapped by every error that reports damaged durable data that recovery
// refuses to repair on its own (see CorruptionError).
var ErrCorrupt = errors.New("corrupt data")

// CorruptionError reports damage in the middle of the log: an invalid record followed by a
// valid one. A torn write can only damage the end of the log, so this is a disk that lost or
// flipped bits under synced (possibly committed and acknowledged) transactions. Cutting the
// log there would silently drop them, which is the data loss TigerBeetle's and ZooKeeper's
// storage reviews warn about; recovery stops instead and the operator (or a future
// protocol-aware repair from peers) decides.
type CorruptionError struct {
	File        string // the file holding the first invalid byte
	OffsetBytes int64  // where the invalid record or header starts
	Reason      string
	// NextValidFile and NextValidOffsetBytes locate the valid record found after the damage.
	NextValidFile        string
	NextValidOffsetBytes int64
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("storage: log corrupt in the middle: %s at %s offset %d, but a valid record follows at %s offset %d",
		e.Reason, e.File, e.OffsetBytes, e.NextValidFile, e.NextValidOffsetBytes)
}

func (e *CorruptionError) Unwrap() error { return ErrCorrupt }

// Cut is one piece of a torn or corrupt log tail that recovery removed. Nothing in a cut was
// ever returned to the caller: its bytes did not verify.
type Cut struct {
	File        string
	OffsetBytes int64 // where the cut starts in File
	BytesCut    int64 // bytes removed from File (the whole file when OffsetBytes is 0 and it was removed)
	Reason      string
	// LastGoodZxid is the last valid zxid before the cut (0 when none).
	LastGoodZxid uint64
	// FileRemoved says the whole file was removed (an empty or headerless last segment).
	FileRemoved bool
}

func (c Cut) String() string {
	if c.FileRemoved {
		return fmt.Sprintf("removed %s (%d bytes): %s; last good zxid %#x", c.File, c.BytesCut, c.Reason, c.LastGoodZxid)
	}
	return fmt.Sprintf("cut %s at offset %d (%d bytes): %s; last good zxid %#x", c.File, c.OffsetBytes, c.BytesCut, c.Reason, c.LastGoodZxid)
}

// SkippedSnapshot is a snapshot file that did not verify and was passed over for an older one.
// Recover removes it once the older snapshot and the log are shown to hold everything it did.
type SkippedSnapshot struct {
	File   string
	Reason string
}

// Report says everything recovery changed or ignored on disk. The host must log it: a
// non-empty report after a clean shutdown means the disk lost data.
type Report struct {
	Cuts             []Cut
	SkippedSnapshots []SkippedSnapshot
	// RemovedTempFiles are half-written snapshot, epoch or rewritten log segment files from
	// an interrupted atomic write (never renamed into place, so never part of the durable
	// state).
	RemovedTempFiles []string
}

// Empty reports whether recovery found the disk exactly as it was last synced.
func (r Report) Empty() bool {
	return len(r.Cuts) == 0 && len(r.SkippedSnapshots) == 0 && len(r.RemovedTempFiles) == 0
}

// BytesCut is the total number of log bytes removed by the cuts.
func (r Report) BytesCut() int64 {
	var n int64
	for _, c := range r.Cuts {
		n += c.BytesCut
	}
	return n
}

func (r Report) String() string {
	if r.Empty() {
		return "clean"
	}
	var parts []string
	for _, c := range r.Cuts {
		parts = append(parts, c.String())
	}
	for _, s := range r.SkippedSnapshots {
		parts = append(parts, fmt.Sprintf("skipped snapshot %s: %s", s.File, s.Reason))
	}
	for _, f := range r.RemovedTempFiles {
		parts = append(parts, "removed temporary file "+f)
	}
	return strings.Join(parts, "; ")
}
