package vdisk

import "fmt"

// EventKind names a disk event for the simulator's trace.
type EventKind int

const (
	EventCreate EventKind = iota + 1
	EventWrite
	EventTruncate
	EventSync
	EventSyncDir
	EventRename
	EventRemove
	// EventCrash: Bytes is the number of unsynced bytes the crash lost, over all files.
	EventCrash
	// EventTear: the last unsynced write of File survived torn; Bytes of it survived.
	EventTear
	// EventKeepUnsynced: a crash kept Bytes of File's unsynced data (Pebble's crash clone).
	EventKeepUnsynced
	// EventCorrupt: a bit flipped in File's synced content at Offset.
	EventCorrupt
	EventWriteError
	EventSyncError
)

var eventKindNames = [...]string{
	EventCreate:       "create",
	EventWrite:        "write",
	EventTruncate:     "truncate",
	EventSync:         "sync",
	EventSyncDir:      "syncdir",
	EventRename:       "rename",
	EventRemove:       "remove",
	EventCrash:        "crash",
	EventTear:         "tear",
	EventKeepUnsynced: "keep-unsynced",
	EventCorrupt:      "corrupt",
	EventWriteError:   "write-error",
	EventSyncError:    "sync-error",
}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one disk event, reported to the observer as it happens.
type Event struct {
	Kind EventKind
	File string // empty for SyncDir and Crash
	To   string // the new name, for Rename
	// Bytes: written (Write), made durable (Sync), new size (Truncate), lost (Crash),
	// surviving (Tear, KeepUnsynced).
	Bytes  int64
	Offset int64 // the flipped byte, for Corrupt
}

// String is the event as one trace line.
func (e Event) String() string {
	switch e.Kind {
	case EventRename:
		return fmt.Sprintf("disk %s %s -> %s", e.Kind, e.File, e.To)
	case EventCorrupt:
		return fmt.Sprintf("disk %s %s offset=%d", e.Kind, e.File, e.Offset)
	case EventSyncDir:
		return fmt.Sprintf("disk %s", e.Kind)
	case EventCreate, EventRemove:
		return fmt.Sprintf("disk %s %s", e.Kind, e.File)
	case EventCrash:
		return fmt.Sprintf("disk %s lost=%d", e.Kind, e.Bytes)
	}
	return fmt.Sprintf("disk %s %s bytes=%d", e.Kind, e.File, e.Bytes)
}

// Stats counts what a disk did.
type Stats struct {
	Writes       int64
	BytesWritten int64
	Syncs        int64
	SyncDirs     int64
	Crashes      int64
	BytesLost    int64 // unsynced bytes dropped by crashes
	Tears        int64
	Corruptions  int64
	WriteErrors  int64
	SyncErrors   int64
}
